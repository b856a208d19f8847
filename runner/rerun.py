"""`python -m runner rerun RUN`: finish what a run left unfinished, as a new run whose
registry rows carry `rerun_of` (the only kind of run that repairs another).

Which steps: `runs.rerun_steps`. Which as-of: the run's own, so that the rerun prices and
grades the slate as the run would have, except when ingestion runs again outside the demo.
A capture is always of the vendors' present board, so it is filed under the time it is
taken (`now`), never under the run's past as-of; and a slate whose ET day is over cannot be
captured at all (its board is gone: `backfill-unabated` reads an archive). In a demo home the
demo world is served again with its clock at the run's as-of: there "the present" is the
run's time, and the rerun sees the world the run saw.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from helpers.core.clock import et_date, parse_as_of, utcnow
from helpers.core.errors import UsageError
from helpers.core.settings import Settings, load_settings
from helpers.core.slate import Slate
from helpers.core.steps import STEPS
from runner.daily import DailyOptions, wall_clock_seconds
from runner.demo import demo_home_world, served_again

if TYPE_CHECKING:
    import duckdb

INGESTION = "odds_ingestion"
# An ingestion rerun this soon after the run's as-of captures the board as it was then, near
# enough; later, the board has moved and the capture takes the time it is taken.
SAME_CAPTURE_WINDOW = timedelta(minutes=10)


def rerun_as_of(original: datetime, slate: date, steps: list[str], requested: str | None,
                in_demo: bool, now: datetime) -> tuple[datetime, str | None]:
    """The rerun's as-of and, when it is not the run's own, the line that says why."""
    if requested is not None:
        as_of = now if requested.strip().lower() == "now" else parse_as_of(requested)
        note = None if as_of == original else f"as of {as_of:%Y-%m-%dT%H:%M:%S}Z as asked"
    elif INGESTION not in steps or in_demo or now - original <= SAME_CAPTURE_WINDOW:
        return original, None
    else:
        as_of = now
        note = (f"ingestion captures the vendors' present board, so the rerun is as of now "
                f"({as_of:%Y-%m-%dT%H:%M:%S}Z), not the run's {original:%Y-%m-%dT%H:%M:%S}Z")
    if INGESTION in steps and et_date(as_of) > slate and not in_demo:
        raise UsageError(f"slate {slate} is over: its board can no longer be captured (vendors "
                         f"serve today's); past boards come from `python -m runner "
                         f"backfill-unabated`, and `--step` without odds_ingestion reruns the "
                         f"rest on what was captured")
    return as_of, note


def plan_rerun(con: duckdb.DuckDBPyConnection, settings: Settings, ref: str,
               named: list[str], only: bool, requested_as_of: str | None
               ) -> tuple[DailyOptions, str]:
    """The rerun's options (read from the registry) and the line that announces it."""
    from runner.runs import rerun_steps, resolve_run

    run_id = resolve_run(con, settings.paths.db_path, ref)
    steps = rerun_steps(con, settings.paths.db_path, run_id, named, only)
    slate, original_as_of, recorded = con.execute(
        "SELECT slate_date, as_of_ts_utc, parameters_json FROM fact_run_registry "
        "WHERE run_id = ? AND step = 'run'", [run_id]).fetchall()[0]
    in_demo = demo_home_world(settings.paths.ops_home) is not None
    as_of, note = rerun_as_of(original_as_of, slate, steps, requested_as_of, in_demo, utcnow())
    original = json.loads(recorded or "{}")
    timeout = float(original.get("step_timeout_seconds", settings.run.step_timeout_seconds))
    wall_clock = wall_clock_seconds(settings, timeout)
    what = ", ".join(steps) if steps else "the reports only (every step had finished)"
    line = (f"rerun of {run_id}: {what} for slate {slate}, as of "
            f"{as_of:%Y-%m-%dT%H:%M:%S}Z" + (f" ({note})" if note else ""))
    options = DailyOptions(
        slate=Slate(slate, as_of), enabled={s.name: s.name in steps for s in STEPS},
        fail_fast=bool(original.get("fail_fast", False)), step_timeout_seconds=timeout,
        wall_clock_seconds=wall_clock, rerun_of=run_id)
    return options, line


def run_rerun(options: DailyOptions, settings: Settings, err: TextIO = sys.stderr) -> int:
    """Run the planned rerun through the daily driver; in a demo home, against its world."""
    from runner.daily import run_daily

    world = demo_home_world(settings.paths.ops_home)
    if world is None:
        return run_daily(options, settings, err)
    print(f"rerun of {options.rerun_of}: {settings.paths.ops_home} is a demo home: serving "
          f"its world again, clock at {options.as_of:%Y-%m-%dT%H:%M}Z", file=err)
    with served_again(settings.paths.ops_home, world, options.as_of):
        return run_daily(options, load_settings(), err)
