"""What a step notebook needs: `step_context()` before it does its work, `show()` and
`show_markdown()` to display what it did, `report_step_status()` at the end; and what the
report notebook needs: `report_context()`.

Run by the driver, a notebook gets the run's paths and `offline_demo=False`. Opened by hand
with its default parameters (`offline_demo=True`), it runs offline on a temporary home that
lives as long as the kernel: a fresh database seeded by running the earlier steps'
functions in-process against an in-process demo emulator whose clock is the notebook's
`as_of` (see `helpers.harness.offline`). Offline, a real `db_path` or `ops_home` is refused, so
demo data can never land in a real database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from helpers.core import db
from helpers.core.clock import parse_as_of, parse_slate_date
from helpers.core.errors import UsageError
from helpers.core.settings import Settings, load_settings
from helpers.core.slate import Slate
from helpers.core.step_status import report_step_status
from helpers.core.steps import run_step, step_named
from helpers.evidence.markdown import MAX_ROWS, Formatter, md_table, pct, show_markdown, signed_pct

__all__ = ["COLUMN_FORMATS", "ReportContext", "StepContext", "report_context",
           "report_step_status", "show", "show_markdown", "step_context"]


@dataclass(frozen=True)
class StepContext:
    step: str
    settings: Settings
    slate: Slate      # the slate date and the run's "now" (as_of, naive UTC)
    run_id: str
    offline_demo: bool

    @property
    def slate_date(self) -> date:
        return self.slate.date

    @property
    def as_of(self) -> datetime:
        return self.slate.as_of

    def run(self, con: duckdb.DuckDBPyConnection) -> Any:
        """Do the step's work: the function the step registry names, on this run's slate.
        The offline seeding, the fault matrix and the benchmarks call it the same way."""
        return run_step(self.step, con, self.settings, self.slate, self.run_id)

    @property
    def db_path(self) -> Path:
        return self.settings.paths.db_path

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """The ops database, waiting up to RUN_LOCK_WAIT_SECONDS for another process to let
        go of it, as the driver does. `with ctx.connect() as con:` closes it at the end of
        the block, so the database is held only while the step works."""
        return db.connect(self.db_path, read_only=read_only,
                          wait_seconds=self.settings.run.lock_wait_seconds)


def step_context(step: str, *, slate_date: str, as_of: str, run_id: str, db_path: str,
                 ops_home: str, offline_demo: bool) -> StepContext:
    """The context of step `step` from the notebook's parameters."""
    step_named(step)  # a typo in a notebook fails here, not later
    settings = load_settings()
    slate = Slate.from_parameters(slate_date, as_of)
    if offline_demo:
        if db_path or ops_home:
            raise UsageError(
                f"offline_demo=True runs on a temporary home with simulated data and never "
                f"writes to db_path={db_path!r} / ops_home={ops_home!r}; set "
                f"offline_demo=False to work on a real database")
        from helpers.harness.offline import offline_settings  # the demo world only offline

        settings = offline_settings(settings, step, slate.as_of)
    else:
        paths = settings.paths
        home = Path(ops_home).resolve() if ops_home else paths.ops_home
        database = Path(db_path).resolve() if db_path else paths.db_path
        settings = dataclasses.replace(
            settings, paths=dataclasses.replace(paths, ops_home=home, db_path=database))
    return StepContext(step=step, settings=settings, slate=slate, run_id=run_id,
                       offline_demo=offline_demo)


@dataclass(frozen=True)
class ReportContext:
    settings: Settings
    slate_date: date
    offline_demo: bool

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The ops database, read-only: a report never writes."""
        return db.connect(self.settings.paths.db_path, read_only=True,
                          wait_seconds=self.settings.run.lock_wait_seconds)


def report_context(*, slate_date: str, as_of: str, db_path: str,
                   offline_demo: bool) -> ReportContext:
    """The report notebook's context. Offline (the notebook's defaults) it reads a temporary
    database seeded by running all five steps at `as_of`; otherwise `db_path`, which must
    exist."""
    settings = load_settings()
    if offline_demo:
        if db_path:
            raise UsageError(f"offline_demo=True reports on a temporary demo database, not "
                             f"db_path={db_path!r}; set offline_demo=False to read it")
        from helpers.harness.offline import offline_settings  # the demo world only offline

        settings = offline_settings(settings, None, parse_as_of(as_of))
    else:
        database = Path(db_path).resolve() if db_path else settings.paths.db_path
        if not database.exists():
            raise UsageError(f"no database at {database}: nothing to report on")
        settings = dataclasses.replace(
            settings, paths=dataclasses.replace(settings.paths, db_path=database))
    return ReportContext(settings=settings, slate_date=parse_slate_date(slate_date),
                         offline_demo=offline_demo)


def _decimals(places: int) -> Formatter:
    return lambda value: f"{value:.{places}f}"


def _day(value: date) -> str:
    return f"{value:%Y-%m-%d}"


# How the step notebooks show a column, by its name, as the reports do: probabilities, rates,
# shares and stakes in percent (`55.3 %`); EV, ROI and CLV signed (`+9.3 %`); log losses and
# scores with the four decimals their differences need; slate dates as days. Any other
# column shows as `markdown.md_table` shows a value (floats to three decimals, times to the
# minute).
COLUMN_FORMATS: dict[str, Formatter] = {
    **dict.fromkeys(("slate_date", "first_slate", "last_slate"), _day),
    **dict.fromkeys(("p_model", "p_consensus", "p_price", "p_push", "p_implied", "p_fair",
                     "p_over", "rate", "mapped_rate", "hit_rate", "top5", "top10", "top20",
                     "stake", "stake_fraction", "kelly_fraction", "mean_abs_rel_diff",
                     "max_abs_rel_diff"), pct),
    **dict.fromkeys(("ev", "ev_model", "ev_market", "ev_mean", "ev_p50", "ev_p90", "ev_max",
                     "roi", "clv", "clv_prob"), signed_pct),
    **dict.fromkeys(("log_loss", "baseline_log_loss", "improvement", "brier", "ece", "auc",
                     "log_loss_in_sample", "log_loss_model_in_sample",
                     "log_loss_consensus_in_sample", "log_loss_prev_slate",
                     "log_loss_consensus_prev_slate"), _decimals(4)),
}


def show(frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None, *,
         by: str | None = None, max_rows: int = MAX_ROWS) -> None:
    """Display `frame` as the reports show a table: Markdown, each column formatted by its
    name (`COLUMN_FORMATS`, then `formats`), at most `max_rows` rows and a line saying how
    many more there are. With `by`, one table per value of that column under its name
    (e.g. one per market): a table of every book and market is then shown whole, not cut."""
    formats = {**COLUMN_FORMATS, **(formats or {})}
    if by is None or frame.empty:
        show_markdown(md_table(frame, formats, max_rows))
        return
    for value, part in frame.groupby(by, sort=True):
        show_markdown(f"**{value}**\n\n{md_table(part.drop(columns=by), formats, max_rows)}")
