"""Rows of fact_run_registry: one per step per run, written as each step finishes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

import helpers
from helpers import db

REGISTRY_KEY = ("run_id", "step")


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


def write_records(db_path: Path, records: list[StepRecord], wait_seconds: float = 0.0) -> int:
    """Append the records (idempotent on run_id + step); opens and closes its own connection,
    waiting up to `wait_seconds` for another process to let go of the database."""
    frame = pd.DataFrame([asdict(r) for r in records])
    con = db.connect(db_path, wait_seconds=wait_seconds)
    try:
        return db.insert_new_rows(con, "fact_run_registry", frame, REGISTRY_KEY)
    finally:
        con.close()


def parameters_json(parameters: dict) -> str:
    return json.dumps(parameters, sort_keys=True, default=str)
