"""A temporary home for a step notebook opened with its default parameters.

The home (a temporary folder with a fresh database) and an in-process emulator live as long
as the kernel; both are removed at exit. The database is seeded by running, in-process, the
function the step registry names for every step before the notebook's own, in order, at the
notebook's `as_of`: so a later step's notebook has the data it reads, and "Run all" works
offline.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from helpers.core import db
from helpers.core.settings import Settings
from helpers.core.slate import Slate
from helpers.core.steps import STEPS, Step, run_step, steps_before

SEED_RUN = "offline-seed"


def seed(settings: Settings, step: Step, as_of: datetime) -> None:
    """Do `step`'s work in-process at `as_of`, as its notebook would, on `settings`' database."""
    con = db.connect(settings.paths.db_path)
    try:
        run_step(step.name, con, settings, Slate.at(as_of), SEED_RUN)
    finally:
        con.close()


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
        seed(settings, earlier, as_of)
    return settings
