"""A temporary home for a step notebook opened with its default parameters.

The home (a temporary folder with a fresh database) and an in-process emulator live as long
as the kernel; both are removed at exit. The database is seeded by running, in-process, the
functions of every step before the notebook's own, in order, at the notebook's `as_of`: so
a later step's notebook has the data it reads, and "Run all" works offline. A step whose
seeding function is not built yet cannot be run offline (StepNotImplementedError).
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from helpers.core import db
from helpers.core.clock import et_date
from helpers.core.errors import StepNotImplementedError
from helpers.core.settings import Settings
from helpers.core.steps import STEPS, steps_before

SEED_RUN = "offline-seed"


def _with_db(settings: Settings, work: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
    con = db.connect(settings.paths.db_path)
    try:
        work(con)
    finally:
        con.close()


def _seed_odds(settings: Settings, as_of: datetime) -> None:
    from helpers.odds.capture import capture

    _with_db(settings, lambda con: capture(con, settings, as_of, run_id=SEED_RUN))


def _seed_production(settings: Settings, as_of: datetime) -> None:
    from helpers.model.production import run_production

    _with_db(settings, lambda con: run_production(con, settings, et_date(as_of), as_of, SEED_RUN))


def _seed_ev(settings: Settings, as_of: datetime) -> None:
    from helpers.ev.step import run_ev

    _with_db(settings, lambda con: run_ev(con, settings, et_date(as_of), as_of, SEED_RUN))


def _seed_outcomes(settings: Settings, as_of: datetime) -> None:
    from helpers.grading.step import run_outcomes

    _with_db(settings, lambda con: run_outcomes(con, settings, et_date(as_of), as_of, SEED_RUN))


def _seed_diagnostics(settings: Settings, as_of: datetime) -> None:
    from helpers.evidence.step import run_diagnostics

    _with_db(settings,
             lambda con: run_diagnostics(con, settings, et_date(as_of), as_of, SEED_RUN))


# step name -> the function that does its work offline. Each step adds itself when it lands.
SEEDERS: dict[str, Callable[[Settings, datetime], None]] = {
    "odds_ingestion": _seed_odds,
    "production": _seed_production,
    "ev": _seed_ev,
    "outcomes": _seed_outcomes,
    "diagnostics": _seed_diagnostics,
}


def offline_settings(settings: Settings, step: str | None, as_of: datetime) -> Settings:
    """`settings` pointed at a new temporary home and an emulator at `as_of`, seeded by the
    steps before `step` (every step when `step` is None: the report notebook)."""
    from helpers.demo.server import Emulator

    emulator = Emulator().start()
    atexit.register(emulator.stop)
    emulator.set_clock(as_of)
    home = Path(tempfile.mkdtemp(prefix="ops-offline-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    urls = dict.fromkeys(settings.vendors.base_urls, emulator.base_url)
    settings = dataclasses.replace(
        settings,
        paths=dataclasses.replace(settings.paths, ops_home=home,
                                  db_path=home / "data" / "ops.duckdb"),
        vendors=dataclasses.replace(settings.vendors, base_urls=urls))
    for earlier in (steps_before(step) if step is not None else STEPS):
        seed = SEEDERS.get(earlier.name)
        if seed is None:
            raise StepNotImplementedError(
                f"{step} cannot run offline yet: step {earlier.name} has no offline seeding")
        seed(settings, as_of)
    return settings
