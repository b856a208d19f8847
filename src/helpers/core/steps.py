"""The steps of the daily run, declared once: order, name, notebook, the function that does
its work, gating variable.

Settings read the gating variables from here, the CLI builds its flags from here, the demo
runs the steps marked `in_demo`, the driver runs the notebooks in this order, and the
notebook, the offline seeding, the fault matrix and the benchmarks all call a step's work
the same way: `step.load()(con, settings, slate, run_id)`. Adding a step is one line here
plus its notebook.

The function is named as text ("module:function", as `core.vendors` names a vendor's
module) so that core imports no stage; `load()` imports it when a step runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Step:
    order: int
    name: str       # registry name, e.g. "odds_ingestion"
    notebook: str   # file in notebooks/, e.g. "01_odds_ingest.ipynb"
    # "module:function" of the step's work, called as function(con, settings, slate, run_id)
    function: str
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

    def load(self) -> Callable[..., Any]:
        """The step's function: (con, settings, slate, run_id) -> the step's result."""
        module, name = self.function.split(":")
        return getattr(importlib.import_module(module), name)


STEPS: tuple[Step, ...] = (
    Step(1, "odds_ingestion", "01_odds_ingest.ipynb", "helpers.odds.capture:run_odds_ingestion",
         in_demo=True),
    # maps the slate's vendor events and players, and snapshots every mapped line
    Step(2, "production", "02_production_snapshot.ipynb",
         "helpers.model.production:run_production", in_demo=True, reads=("odds_ingestion",)),
    Step(3, "ev", "03_ev_report.ipynb", "helpers.ev.step:run_ev", in_demo=True,
         reads=("odds_ingestion", "production")),
    # grades the EV bets, takes closing lines from the odds, scores the snapshots
    Step(4, "outcomes", "04_outcomes.ipynb", "helpers.grading.step:run_outcomes", in_demo=True,
         reads=("odds_ingestion", "production", "ev")),
    Step(5, "diagnostics", "05_diagnostics.ipynb", "helpers.evidence.step:run_diagnostics",
         in_demo=True, reads=("odds_ingestion", "production", "ev", "outcomes")),
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


def run_step(name: str, con: Any, settings: Any, slate: Any, run_id: str) -> Any:
    """Do step `name`'s work in this process, as its notebook does: the function the registry
    names, called with (con, settings, slate, run_id). Returns the step's result."""
    return step_named(name).load()(con, settings, slate, run_id)
