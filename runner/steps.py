"""The five steps of the daily run, their fixed order, and how flags choose them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.settings import STEP_FLAGS


@dataclass(frozen=True)
class Step:
    order: int
    name: str          # registry name, e.g. "odds_ingestion"
    notebook: str      # file name, e.g. "01_odds_ingest.ipynb"
    env_var: str       # gating env var, e.g. "RUN_ODDS_INGESTION"

    @property
    def cli_flag(self) -> str:
        return "--run-" + self.name.replace("_", "-")

    @property
    def stem(self) -> str:
        return Path(self.notebook).stem


_NOTEBOOK_FILES = {
    "odds_ingestion": "01_odds_ingest.ipynb",
    "production": "02_production_snapshot.ipynb",
    "ev": "03_ev_report.ipynb",
    "outcomes": "04_outcomes.ipynb",
    "diagnostics": "05_diagnostics.ipynb",
}

STEPS: tuple[Step, ...] = tuple(
    Step(order=i, name=name, notebook=_NOTEBOOK_FILES[name], env_var=var)
    for i, (name, var) in enumerate(STEP_FLAGS, start=1)
)


def resolve_enabled(cli: Mapping[str, bool], env_overrides: Mapping[str, bool]) -> dict[str, bool]:
    """Which steps run: CLI flags (or --all), then any env var that is set wins."""
    return {step.name: env_overrides.get(step.name, cli.get(step.name, False)) for step in STEPS}
