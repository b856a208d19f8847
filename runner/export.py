"""Parquet copies of the evidence, the EV and the graded bets: history an analyst, a notebook
or another engine reads without opening the database (DuckDB has one writer, and a reader
holding the file can block a run).

Layout (hive): `outputs/parquet/<table>/slate_date=YYYY-MM-DD/data.parquet`, one file per
table and slate holding every row of that slate (every EV run, every registry row), the
`slate_date` column in the path only. SQL over the copies equals SQL over the tables.

- **When**: at the end of every run of the driver that ran anything (and of a Dagster run),
  under the run lock, whatever its steps: a run's registry rows change even when no step
  writes evidence, and four slates take well under a second. The slates are the ones the run
  could have changed: its own, the `OUTCOMES_LOOKBACK_DAYS` before it (grading rewrites their
  bets, diagnostics their accuracy and calibration rows) and those of earlier runs whose
  rows it marked interrupted. `runner export --since D` rebuilds every slate from D (or the
  oldest slate the database or the copies hold, if later) through the newest.
- **Atomic per partition**: each file is written beside its final name as
  `.data.parquet.tmp-<pid>` (a name no `*.parquet` glob reads), flushed to disk, then renamed
  over `data.parquet`. A reader sees the old file or the new one, never a mix; a kill leaves
  the old one and a temporary file, which the next export of that table removes.
- A slate with no rows in a table gets an empty file (with the columns), so that a rerun that
  removed rows replaces them too.
- **Failure**: a run whose export fails says so in one line, its registry row turns `failed`
  (`; parquet export failed: ...`) and it exits 1; the copies of its slates stay as they were.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import duckdb

from helpers.core import db
from helpers.core.errors import OpsError
from helpers.core.settings import Settings, redact
from runner.registry import StepRecord, write_records
from runner.worker import one_line

EXPORTED = ("fact_run_registry", "fact_odds_coverage_daily", "fact_mapping_quality_daily",
            "fact_ev_summary_daily", "fact_forecast_accuracy_daily", "fact_calibration_daily",
            "fact_market_comparison_daily", "fact_anomaly_checks", "fact_ev_candidates",
            "fact_bet_results")
FILE = "data.parquet"
TEMPORARY = f".{FILE}.tmp-"  # + pid; `remove_leftovers` globs the same name
PARTITION = "slate_date="


@dataclass(frozen=True)
class ExportSummary:
    root: Path
    tables: int
    slates: int
    rows: int
    seconds: float

    def line(self) -> str:
        return (f"parquet: {self.tables} tables x {self.slates} slates, {self.rows:,} rows -> "
                f"{self.root} ({self.seconds:.1f} s)")


def parquet_root(settings: Settings) -> Path:
    return settings.paths.outputs_dir / "parquet"


def partition_file(root: Path, table: str, slate: date) -> Path:
    return root / table / f"slate_date={slate.isoformat()}" / FILE


def slates_after_run(settings: Settings, slate: date) -> list[date]:
    """The slates a run of `slate` may have changed: its own and the ones grading revisits."""
    lookback = settings.outcomes.lookback_days
    return [slate - timedelta(days=k) for k in range(lookback, -1, -1)]


def export_slates(settings: Settings, slates: Iterable[date],
                  progress: Callable[[str], None] | None = None) -> ExportSummary:
    """Write (replace) the partitions of `slates` for every exported table; `progress` gets
    a line per table. Opens its own read-only connection: call it holding the run lock."""
    root = parquet_root(settings)
    slates = sorted(set(slates))
    t0 = time.monotonic()
    rows = 0
    con = db.connect(settings.paths.db_path, read_only=True,
                     wait_seconds=settings.run.lock_wait_seconds)
    try:
        for table in EXPORTED:
            started = time.monotonic()
            remove_leftovers(root / table)
            written = sum(write_partition(con, table, slate, partition_file(root, table, slate))
                          for slate in slates)
            rows += written
            if progress is not None:
                progress(f"{table}: {len(slates)} slates, {written:,} rows "
                         f"({time.monotonic() - started:.1f} s)")
    finally:
        con.close()
    return ExportSummary(root=root, tables=len(EXPORTED), slates=len(slates), rows=rows,
                         seconds=time.monotonic() - t0)


def write_partition(con: duckdb.DuckDBPyConnection, table: str, slate: date,
                    target: Path) -> int:
    """One slate's rows of `table` into `target`, atomically; returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{TEMPORARY}{os.getpid()}")
    query = f"SELECT * EXCLUDE (slate_date) FROM {table} WHERE slate_date = $slate"
    (count,) = con.execute(f"COPY ({query}) TO '{_quoted(temporary)}' (FORMAT parquet)",
                           {"slate": slate}).fetchone()  # COPY returns the rows it wrote
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    temporary.replace(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return int(count)


def remove_leftovers(table_dir: Path) -> int:
    """Temporary files a killed export left in a table's partitions; call holding the lock."""
    leftovers = list(table_dir.glob("*/.data.parquet.tmp-*")) if table_dir.exists() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)


def slates_since(settings: Settings, since: date) -> list[date]:
    """The slates `runner export --since` rebuilds: every day from `since` through the newest
    slate, where the known slates are those of the database's exported tables and those the
    copies already have (a copy of a slate the database no longer holds is rewritten empty).
    Starts at the oldest known slate when that is later than `since`: an early date does not
    write empty files for years without a slate."""
    con = db.connect(settings.paths.db_path, read_only=True,
                     wait_seconds=settings.run.lock_wait_seconds)
    try:
        union = " UNION ALL ".join(f"SELECT min(slate_date) AS lo, max(slate_date) AS hi "
                                   f"FROM {t}" for t in EXPORTED)
        lo, hi = con.execute(f"SELECT min(lo), max(hi) FROM ({union})").fetchone()
    finally:
        con.close()
    known = [d for d in (lo, hi, *copied_slates(parquet_root(settings))) if d is not None]
    known = [d for d in known if d >= since]
    if not known:
        return []
    first, last = max(since, min(known)), max(known)
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def copied_slates(root: Path) -> set[date]:
    """The slates some table's copies have a partition folder for."""
    found = set()
    for folder in root.glob("*/slate_date=*") if root.exists() else []:
        try:
            found.add(date.fromisoformat(folder.name.removeprefix(PARTITION)))
        except ValueError:
            continue  # not a folder this module wrote
    return found


def export_after_run(settings: Settings, run_record: StepRecord,
                     err: TextIO = sys.stderr, also: Iterable[date] = ()) -> bool:
    """The run's slates (`slates_after_run`, and `also`: the slates of runs it marked
    interrupted) into Parquet. A failure is printed and recorded on the run's row (failed,
    with the reason), as a failed render is; returns whether the export succeeded."""
    slates = sorted({*slates_after_run(settings, run_record.slate_date), *also})
    try:
        summary = export_slates(settings, slates)
    except (duckdb.Error, OSError, OpsError) as exc:  # OpsError: the database is busy
        reason = redact(f"{type(exc).__name__}: {one_line(str(exc))}",
                        settings.secret_values())
        print(f"run {run_record.run_id}: parquet export failed - {reason}", file=err)
        run_record.status, run_record.error_type = "failed", "ParquetExportError"
        run_record.error_summary = f"{run_record.error_summary}; parquet export failed: {reason}"
        write_records(settings.paths.db_path, [run_record],
                      wait_seconds=settings.run.lock_wait_seconds)
        return False
    print(f"run {run_record.run_id}: {summary.line()}", file=err)
    return True


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
