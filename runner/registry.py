"""Rows of fact_run_registry: one per run (step 'run', order 0) and one per step.

A run is visible from its start: its 'run' row is written with status 'running' before the
first step, and each step's row is written 'running' before the step starts. A run that
renders the reports has a last row, step 'report' (order 6), written 'running' before the
render: the run's own row is final by then (the reports show it), so without it a run
killed while rendering would read as a success. Each row moves
once, from 'running' to its final status. Rows a dead process left 'running' are marked
'interrupted' by the next process that takes the run lock: holding the lock proves that no
run that wrote them is alive.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

import helpers
from helpers.core import db
from helpers.core.clock import utcnow

REGISTRY_KEY = ("run_id", "step")
RUN_STEP, RUN_STEP_ORDER = "run", 0
REPORT_STEP, REPORT_STEP_ORDER = "report", 6


@dataclass
class StepRecord:
    run_id: str
    slate_date: date
    as_of_ts_utc: datetime
    step: str
    step_order: int
    status: str
    started_ts_utc: datetime | None = None
    finished_ts_utc: datetime | None = None
    duration_s: float | None = None
    error_type: str | None = None
    error_summary: str | None = None
    notebook_path: str | None = None
    parameters_json: str | None = None
    code_version: str | None = None
    rerun_of: str | None = None  # the run this one repeats (`runner rerun`)


def code_version() -> str:
    """Package version plus the git commit of the checkout, when there is one."""
    repo = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, text=True,
                             capture_output=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=repo, text=True, capture_output=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return helpers.__version__
    return f"{helpers.__version__}+{sha}{'.dirty' if dirty.strip() else ''}"


def write_records(db_path: Path, records: list[StepRecord], wait_seconds: float = 0.0) -> None:
    """Write the records, replacing the earlier row of the same (run_id, step) - the
    'running' row a record finishes. Opens and closes its own connection, waiting up to
    `wait_seconds` for another process to let go of the database."""
    con = db.connect(db_path, wait_seconds=wait_seconds)
    try:
        upsert_records(con, records)
    finally:
        con.close()


def upsert_records(con: duckdb.DuckDBPyConnection, records: list[StepRecord]) -> None:
    db.upsert_rows(con, "fact_run_registry", pd.DataFrame([asdict(r) for r in records]))


def mark_interrupted(con: duckdb.DuckDBPyConnection, found_by: str) -> list[tuple[str, str]]:
    """Mark every row still 'running' as 'interrupted', and the run row of each run they
    belong to (a run killed while rendering had its own row final already); return the
    (run_id, step) of the rows found running. Call only while holding the run lock."""
    now = utcnow()
    summary = ("the process running this ended before it finished (killed, crashed or the "
               "machine stopped); found by run ")
    found = con.execute(
        "UPDATE fact_run_registry SET status = 'interrupted', finished_ts_utc = ?, "
        "error_type = 'Interrupted', error_summary = ? || ? "
        "WHERE status = 'running' RETURNING run_id, step", [now, summary, found_by]).fetchall()
    runs = sorted({run_id for run_id, _ in found})
    if runs:
        con.execute(
            "UPDATE fact_run_registry SET status = 'interrupted', error_type = 'Interrupted', "
            "error_summary = coalesce(error_summary || '; ', '') || 'then ' || ? || ? "
            "WHERE step = ? AND status <> 'interrupted' AND list_contains(?, run_id)",
            [summary, found_by, RUN_STEP, runs]).fetchall()
    return found


def slates_interrupted_by(con: duckdb.DuckDBPyConnection, found_by: str) -> list[date]:
    """The slates of the rows `mark_interrupted(con, found_by)` marked (its summary names
    the run that found them): for a caller that marked them in an earlier process."""
    return [day for (day,) in con.execute(
        "SELECT DISTINCT slate_date FROM fact_run_registry WHERE status = 'interrupted' "
        "AND ends_with(error_summary, 'found by run ' || ?) ORDER BY 1", [found_by]).fetchall()]


def slates_of_runs(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> list[date]:
    """The slates of the runs `run_ids` (those `mark_interrupted` changed: their Parquet
    copies must be written again)."""
    if not run_ids:
        return []
    return [day for (day,) in con.execute(
        "SELECT DISTINCT slate_date FROM fact_run_registry WHERE list_contains(?, run_id) "
        "ORDER BY 1", [run_ids]).fetchall()]


def parameters_json(parameters: dict) -> str:
    return json.dumps(parameters, sort_keys=True, default=str)
