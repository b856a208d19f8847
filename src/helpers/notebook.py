"""What a step notebook needs before it does its work: settings, paths and its "now".

Run by the driver, a notebook gets real paths and `offline_demo=False`. Opened by hand with
its default parameters, it runs offline: a temporary OPS_HOME and database, and the vendors
served by an in-process demo emulator whose clock is the notebook's `as_of`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from helpers.clock import parse_as_of
from helpers.settings import Settings, load_settings


@dataclass(frozen=True)
class StepContext:
    settings: Settings
    db_path: Path
    as_of: datetime  # naive UTC
    offline_demo: bool


@contextlib.contextmanager
def step_context(*, db_path: str, ops_home: str, as_of: str,
                 offline_demo: bool) -> Iterator[StepContext]:
    settings = load_settings()
    moment = parse_as_of(as_of)
    with contextlib.ExitStack() as stack:
        if offline_demo:
            from helpers.demo.server import Emulator

            emulator = stack.enter_context(Emulator())
            emulator.set_clock(moment)
            temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ops-offline-")))
            home = Path(ops_home).resolve() if ops_home else temp
            urls = dict.fromkeys(settings.base_urls, emulator.base_url)
            settings = dataclasses.replace(settings, ops_home=home, base_urls=urls)
            database = Path(db_path).resolve() if db_path else temp / "ops.duckdb"
        else:
            home = Path(ops_home).resolve() if ops_home else settings.ops_home
            settings = dataclasses.replace(settings, ops_home=home)
            database = Path(db_path).resolve() if db_path else settings.db_path
        settings = dataclasses.replace(settings, db_path=database)
        yield StepContext(settings=settings, db_path=database, as_of=moment,
                          offline_demo=offline_demo)
