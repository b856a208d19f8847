"""The steps of the daily run, declared once: order, name, notebook, gating variable.

Settings read the gating variables from here, the CLI builds its flags from here, the demo
runs the steps marked `in_demo`, and the driver runs them in this order. Adding a step is one
line here plus its notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Step:
    order: int
    name: str       # registry name, e.g. "odds_ingestion"
    notebook: str   # file in notebooks/, e.g. "01_odds_ingest.ipynb"
    in_demo: bool   # `runner demo` runs it: its capability has landed
    # The earlier steps whose tables this step reads: a rerun of one of them reruns this too.
    reads: tuple[str, ...] = ()

    @property
    def env_var(self) -> str:
        return "RUN_" + self.name.upper()

    @property
    def cli_flag(self) -> str:
        return "--run-" + self.name.replace("_", "-")

    @property
    def stem(self) -> str:
        return Path(self.notebook).stem


STEPS: tuple[Step, ...] = (
    Step(1, "odds_ingestion", "01_odds_ingest.ipynb", in_demo=True),
    # maps the slate's vendor events and players, and snapshots every mapped line
    Step(2, "production", "02_production_snapshot.ipynb", in_demo=True,
         reads=("odds_ingestion",)),
    Step(3, "ev", "03_ev_report.ipynb", in_demo=True, reads=("odds_ingestion", "production")),
    # grades the EV bets, takes closing lines from the odds, scores the snapshots
    Step(4, "outcomes", "04_outcomes.ipynb", in_demo=True,
         reads=("odds_ingestion", "production", "ev")),
    Step(5, "diagnostics", "05_diagnostics.ipynb", in_demo=True,
         reads=("odds_ingestion", "production", "ev", "outcomes")),
)


def step_named(name: str) -> Step:
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"no step {name!r}; steps: {', '.join(s.name for s in STEPS)}")


def readers_of(names: set[str] | list[str]) -> tuple[str, ...]:
    """The steps that read, directly or through another step, what `names` write; in step
    order, `names` not included."""
    found = set(names)
    for step in STEPS:  # in order: a step's inputs are all earlier steps
        if found & set(step.reads):
            found.add(step.name)
    return tuple(s.name for s in STEPS if s.name in found and s.name not in names)


def steps_before(name: str) -> tuple[Step, ...]:
    order = step_named(name).order
    return tuple(s for s in STEPS if s.order < order)
