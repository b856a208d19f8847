"""Which dates the reports are for: the daily report is for the date asked, the rolling report
always ends at the newest slate with runs, and a date with no run is refused.

Rendered by the real report notebook, through `runner report` and through the driver's own
render at the end of a run for an older slate (a rerun of a past day, a late backfill)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from helpers.core import db
from helpers.core.settings import DEFAULTS
from helpers.core.vendors import NHL_API, VENDORS
from runner.steps import STEPS
from tests.runner.nbfactory import write_notebook

pytestmark = pytest.mark.slow  # the report notebook, rendered for real

REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OLDER, NEWER = date(2025, 12, 1), date(2025, 12, 5)
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens: no step here may reach a vendor


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in set(DEFAULTS) and not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env["OPS_HOME"] = str(home)
    env.update({f"{name}_BASE_URL": CLOSED_PORT_URL for name in (*VENDORS, NHL_API)})
    env.update(extra)
    return env


def runner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=env["OPS_HOME"],
                          env=env, capture_output=True, text=True, timeout=300)


def register_run(path: Path, run_id: str, slate: date) -> None:
    """A finished run of `slate` in the registry, as the driver leaves one."""
    con = db.connect(path)
    try:
        at = datetime.combine(slate, datetime.min.time()).replace(hour=15)
        con.execute("INSERT INTO fact_run_registry (run_id, slate_date, as_of_ts_utc, step, "
                    "step_order, status, started_ts_utc, finished_ts_utc, error_summary) "
                    "VALUES (?, ?, ?, 'run', 0, 'success', ?, ?, '5 success')",
                    [run_id, slate, at, at, at])
    finally:
        con.close()


def reports_tree(monitoring: Path) -> dict[str, bytes]:
    return {str(p.relative_to(monitoring)): p.read_bytes()
            for p in sorted(monitoring.rglob("*")) if p.is_file()}


def title(path: Path) -> str:
    return path.read_text().splitlines()[0]


def test_report_for_an_older_date_keeps_the_rolling_report_at_the_newest_slate(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = home / "data" / "ops.duckdb"
    database.parent.mkdir(parents=True)
    register_run(database, "20251205T150000Z-newer0", NEWER)
    register_run(database, "20251201T150000Z-older0", OLDER)
    env = env_for(home)
    monitoring = home / "outputs" / "monitoring"

    newest = runner(env, "report")
    assert newest.returncode == 0, newest.stderr[-3000:]
    assert title(monitoring / "rolling_report.md") == f"# Rolling report to {NEWER}"

    older = runner(env, "report", "--date", OLDER.isoformat())
    assert older.returncode == 0, older.stderr[-3000:]
    assert title(monitoring / f"daily_report_{OLDER}.md") == f"# Daily report {OLDER}"
    assert title(monitoring / "rolling_report.md") == f"# Rolling report to {NEWER}"

    # between the two, and after the newest: no run, so nothing to report on
    before = reports_tree(monitoring)
    for day in ("2025-12-03", "2026-12-01"):
        refused = runner(env, "report", "--date", day)
        lines = [line for line in refused.stderr.splitlines() if line.strip()]
        assert refused.returncode == 2, refused.stderr[-3000:]
        assert len(lines) == 1 and "error" in lines[0] and day in lines[0], refused.stderr
        assert "no run" in lines[0] and str(database) in lines[0], lines[0]
        assert not (monitoring / f"daily_report_{day}.md").exists()
    assert reports_tree(monitoring) == before  # untouched, executed notebooks included


def test_a_run_for_an_older_slate_renders_its_day_and_the_rolling_report_to_the_newest(
        tmp_path: Path) -> None:
    """Out of order: the morning run of a newer slate, then a run of an older one (a rerun of
    a past day). The driver renders the older day's report, and the rolling report stays at
    the newest slate."""
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    for step in STEPS:
        write_notebook(notebooks / step.notebook, "pass")
    (notebooks / "report.ipynb").write_bytes((REPO_NOTEBOOKS / "report.ipynb").read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    env = env_for(home, OPS_NOTEBOOK_DIR=str(notebooks))
    monitoring = home / "outputs" / "monitoring"
    for slate in (NEWER, OLDER):
        proc = runner(env, "daily", "--run-odds-ingestion", "--run-diagnostics", "--date",
                      slate.isoformat(), "--as-of", f"{slate}T15:00:00Z")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert title(monitoring / f"daily_report_{slate}.md") == f"# Daily report {slate}"
        assert title(monitoring / "rolling_report.md") == f"# Rolling report to {NEWER}"
