"""Parquet copies of the evidence, the EV and the graded bets: history an analyst, a notebook
or another engine reads without opening the database (DuckDB has one writer, and a reader
holding the file can block a run).

Layout (hive): `outputs/parquet/<table>/slate_date=YYYY-MM-DD/data.parquet`, one file per
table and slate holding every row of that slate (every EV run, every registry row), the
`slate_date` column in the path only. SQL over the copies equals SQL over the tables.

- **When**: at the end of every run of the driver (and of a Dagster run), for the slates the
  run could have changed: its own and the `OUTCOMES_LOOKBACK_DAYS` before it, which grading
  revisits. `runner export --since D` rebuilds every slate from D on.
- **Atomic per partition**: each file is written beside its final name as
  `.data.parquet.tmp-<pid>` (a name no `*.parquet` glob reads), flushed to disk, then renamed
  over `data.parquet`. A reader sees the old file or the new one, never a mix; a kill leaves
  the old one and a temporary file, which the next export of that table removes.
- A slate with no rows in a table gets an empty file (with the columns), so that a rerun that
  removed rows replaces them too.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import duckdb

from helpers.core import db
from helpers.core.settings import Settings, redact
from runner.registry import StepRecord, write_records
from runner.worker import one_line

EXPORTED = ("fact_run_registry", "fact_odds_coverage_daily", "fact_mapping_quality_daily",
            "fact_ev_summary_daily", "fact_forecast_accuracy_daily", "fact_calibration_daily",
            "fact_market_comparison_daily", "fact_anomaly_checks", "fact_ev_candidates",
            "fact_bet_results")
FILE = "data.parquet"
TEMPORARY = f".{FILE}.tmp-"  # + pid; `remove_leftovers` globs the same name


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


def export_slates(settings: Settings, slates: list[date]) -> ExportSummary:
    """Write (replace) the partitions of `slates` for every exported table."""
    root = parquet_root(settings)
    t0 = time.monotonic()
    rows = 0
    con = db.connect(settings.paths.db_path, read_only=True,
                     wait_seconds=settings.run.lock_wait_seconds)
    try:
        for table in EXPORTED:
            remove_leftovers(root / table)
            for slate in slates:
                rows += write_partition(con, table, slate, partition_file(root, table, slate))
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
    count = con.execute(f"SELECT count(*) FROM {table} WHERE slate_date = $slate",
                        {"slate": slate}).fetchone()[0]
    con.execute(f"COPY ({query}) TO '{_quoted(temporary)}' (FORMAT parquet)", {"slate": slate})
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


def newest_slate(settings: Settings) -> date | None:
    con = db.connect(settings.paths.db_path, read_only=True,
                     wait_seconds=settings.run.lock_wait_seconds)
    try:
        union = " UNION ALL ".join(f"SELECT max(slate_date) AS d FROM {t}" for t in EXPORTED)
        return con.execute(f"SELECT max(d) FROM ({union})").fetchone()[0]
    finally:
        con.close()


def export_after_run(settings: Settings, run_record: StepRecord,
                     err: TextIO = sys.stderr) -> bool:
    """The run's slates into Parquet. A failure is printed and recorded on the run's row
    (failed, with the reason), as a failed render is; returns whether the export succeeded."""
    slates = slates_after_run(settings, run_record.slate_date)
    try:
        summary = export_slates(settings, slates)
    except (duckdb.Error, OSError) as exc:
        reason = redact(one_line(str(exc)), settings.secret_values())
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
