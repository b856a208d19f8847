"""What a step notebook needs before it does its work: `step_context()`; and what the
report notebook needs: `report_context()`.

Run by the driver, a notebook gets the run's paths and `offline_demo=False`. Opened by hand
with its default parameters (`offline_demo=True`), it runs offline on a temporary home that
lives as long as the kernel: a fresh database seeded by running the earlier steps'
functions in-process against an in-process demo emulator whose clock is the notebook's
`as_of` (see `helpers.demo.offline`). Offline, a real `db_path` or `ops_home` is refused, so
demo data can never land in a real database.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from helpers.core import db
from helpers.core.clock import parse_as_of, parse_slate_date
from helpers.core.errors import UsageError
from helpers.core.settings import Settings, load_settings
from helpers.core.steps import step_named


@dataclass(frozen=True)
class StepContext:
    step: str
    settings: Settings
    slate_date: date
    as_of: datetime  # naive UTC: the run's "now"
    run_id: str
    offline_demo: bool

    @property
    def db_path(self) -> Path:
        return self.settings.paths.db_path

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """The ops database, waiting up to RUN_LOCK_WAIT_SECONDS for another process to let
        go of it, as the driver does."""
        return db.connect(self.db_path, read_only=read_only,
                          wait_seconds=self.settings.run.lock_wait_seconds)


def step_context(step: str, *, slate_date: str, as_of: str, run_id: str, db_path: str,
                 ops_home: str, offline_demo: bool) -> StepContext:
    """The context of step `step` from the notebook's parameters."""
    step_named(step)  # a typo in a notebook fails here, not later
    settings = load_settings()
    moment = parse_as_of(as_of)
    if offline_demo:
        if db_path or ops_home:
            raise UsageError(
                f"offline_demo=True runs on a temporary home with simulated data and never "
                f"writes to db_path={db_path!r} / ops_home={ops_home!r}; set "
                f"offline_demo=False to work on a real database")
        from helpers.demo.offline import offline_settings  # the demo world only offline

        settings = offline_settings(settings, step, moment)
    else:
        paths = settings.paths
        home = Path(ops_home).resolve() if ops_home else paths.ops_home
        database = Path(db_path).resolve() if db_path else paths.db_path
        settings = dataclasses.replace(
            settings, paths=dataclasses.replace(paths, ops_home=home, db_path=database))
    return StepContext(step=step, settings=settings, slate_date=parse_slate_date(slate_date),
                       as_of=moment, run_id=run_id, offline_demo=offline_demo)


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
        from helpers.demo.offline import offline_settings  # the demo world only offline

        settings = offline_settings(settings, None, parse_as_of(as_of))
    else:
        database = Path(db_path).resolve() if db_path else settings.paths.db_path
        if not database.exists():
            raise UsageError(f"no database at {database}: nothing to report on")
        settings = dataclasses.replace(
            settings, paths=dataclasses.replace(settings.paths, db_path=database))
    return ReportContext(settings=settings, slate_date=parse_slate_date(slate_date),
                         offline_demo=offline_demo)
