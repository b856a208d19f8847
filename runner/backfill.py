"""`python -m runner backfill-unabated`: saved Unabated snapshots into the odds tables,
under the run lock, recorded in the registry as step 'backfill' (`helpers.odds.backfill`
does the work). Exit 0 when every snapshot of the range is in, 3 when a cap stopped it or a
snapshot failed (run it again to go on), 2 for bad usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb
import requests

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.paths import check_run_paths
from helpers.core.settings import Settings
from helpers.odds.backfill import (
    Budget,
    CapReached,
    DirSource,
    UrlSource,
    backfill,
    days_between,
    dry_run_plan,
)
from runner.codes import EXIT_OK, EXIT_PARTIAL
from runner.daily import new_run_id
from runner.lock import RunLock
from runner.registry import StepRecord, mark_interrupted, parameters_json, upsert_records

STEP = "backfill"


@dataclass(frozen=True)
class BackfillOptions:
    start: date
    end: date
    source_dir: Path | None
    source_url: str | None
    max_requests: int | None
    max_elapsed_seconds: float | None
    dry_run: bool


def _source(options: BackfillOptions, settings: Settings) -> DirSource | UrlSource:
    if options.source_dir is not None:
        return DirSource(options.source_dir)
    session = requests.Session()
    return UrlSource(str(options.source_url), session, settings)


@contextmanager
def registered_backfill(settings: Settings, end: date, parameters: dict,
                        err: TextIO) -> Iterator[tuple[duckdb.DuckDBPyConnection, StepRecord]]:
    """The run lock, the database and a registry row (step 'backfill', 'running' from the
    start: a kill leaves it for the next run to mark interrupted). The caller sets the
    record's status and summary; it is written on the way out."""
    check_run_paths(settings.paths.db_path, settings.paths.outputs_dir)
    db.check_opens(settings.paths.db_path)  # a damaged file, before the lock file is made
    run_id = new_run_id(utcnow())
    wait = settings.run.lock_wait_seconds
    with RunLock(settings.paths.db_path, wait) as lock:
        lock.acquire(run_id)
        con = db.connect(settings.paths.db_path, wait_seconds=wait)
        try:
            mark_interrupted(con, run_id)
            record = StepRecord(run_id=run_id, slate_date=end, as_of_ts_utc=utcnow(),
                                step=STEP, step_order=0, status="running",
                                started_ts_utc=utcnow(),
                                parameters_json=parameters_json(parameters))
            upsert_records(con, [record])
            try:
                yield con, record
            except Exception as exc:  # recorded on the row, then raised on
                record.status, record.error_type = "failed", type(exc).__name__
                record.error_summary = str(exc)[:500]
                raise
            finally:
                record.finished_ts_utc = utcnow()
                record.duration_s = round((record.finished_ts_utc - record.started_ts_utc)
                                          .total_seconds(), 3)
                upsert_records(con, [record])
            print(f"backfill {run_id}: {record.error_summary}", file=err)
        finally:
            con.close()


def run_backfill(options: BackfillOptions, settings: Settings, err: TextIO = sys.stderr) -> int:
    days = days_between(options.start, options.end)
    source = _source(options, settings)
    budget = Budget(options.max_requests, options.max_elapsed_seconds)
    if options.dry_run:
        return _dry_run(options, settings, source, days, budget, err)
    parameters = {"kind": "unabated", "start": options.start, "end": options.end,
                  "source": source.label, "max_requests": options.max_requests,
                  "max_elapsed_seconds": options.max_elapsed_seconds}
    with registered_backfill(settings, options.end, parameters, err) as (con, record):
        print(f"backfill {record.run_id}: {len(days)} days from {source.label}", file=err)
        with _progress(len(days), err) as progress:
            result = backfill(con, settings, source, days, budget, record.run_id, progress)
        record.status, record.error_summary = result.status, result.summary()
    for failure in result.failed[:10]:
        print(f"  failed: {failure}", file=err)
    return EXIT_OK if result.status == "success" else EXIT_PARTIAL


@contextmanager
def _progress(days: int, err: TextIO) -> Iterator[Callable[[str], None]]:
    """A tqdm bar over the days on a terminal; plain lines, one a day, otherwise (a log
    file, a scheduler)."""
    if not err.isatty():
        yield lambda line: print(line, file=err, flush=True)
        return
    from tqdm import tqdm

    with tqdm(total=days, unit="day", file=err) as bar:
        def advance(line: str) -> None:
            bar.set_postfix_str(line.split(": ", 1)[0].removeprefix("backfill "))
            bar.update(1)

        yield advance


def run_backfill_stats(start: date, end: date, max_requests: int | None,
                       max_elapsed_seconds: float | None, settings: Settings,
                       err: TextIO = sys.stderr) -> int:
    """Final games of the slates start..end into the stats warehouse (`warehouse
    .backfill_stats`); the stored games are its checkpoint."""
    from helpers.nhl.warehouse import backfill_stats

    days_between(start, end)  # the same check of the range
    parameters = {"kind": "stats", "start": start, "end": end, "max_requests": max_requests,
                  "max_elapsed_seconds": max_elapsed_seconds}
    with registered_backfill(settings, end, parameters, err) as (con, record):
        print(f"backfill {record.run_id}: NHL games of {start} to {end}", file=err)
        report = backfill_stats(con, settings, start, end, utcnow(), record.run_id,
                                max_requests, max_elapsed_seconds)
        record.status, record.error_summary = report.status, report.summary()
    return EXIT_OK if report.status == "success" else EXIT_PARTIAL


def _dry_run(options: BackfillOptions, settings: Settings, source: DirSource | UrlSource,
             days: list[date], budget: Budget, err: TextIO) -> int:
    """The plan per day; opens the database read-only if it exists, writes nothing."""
    path = settings.paths.db_path
    con = db.connect(path, read_only=True) if path.exists() else None
    try:
        print(f"backfill dry run: {len(days)} days from {source.label} (nothing is written)",
              file=err)
        try:
            for day, found, done, left in dry_run_plan(con, source, days, budget):
                if found < 0:
                    print(f"  {day}: completed by an earlier backfill", file=err)
                else:
                    print(f"  {day}: {found} snapshots, {done} already ingested, {left} to "
                          f"fetch", file=err)
        except CapReached as exc:
            print(f"  stopped listing: {exc}", file=err)
    finally:
        if con is not None:
            con.close()
    return EXIT_OK
