"""Who may touch the database while something else does: a backfill during a daily run,
`runner report` during a run, an analyst's notebook holding the file. Each gets one clear
line (exit 2) or simply works; nothing is corrupted and nothing half-done is left behind.

DuckDB allows one writer process, or any number of readers. The run lock (a file lock beside
the database) keeps the writers - daily, rerun, the backfills - one at a time; `report` takes
no lock and reads.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.runner.nbfactory import write_step_notebooks
from tests.runner.test_daily import _env, registry_rows, tree

pytestmark = pytest.mark.slow

SLATE = "2025-12-01"
NOWHERE = "http://127.0.0.1:9"  # the backfill must stop before any request: nothing listens


def runner(home: Path, *args: str, notebooks: Path | None = None,
           **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=home,
                          env=_env(home, notebooks, RUN_LOCK_WAIT_SECONDS="1",
                                   NHL_API_BASE_URL=NOWHERE, UNABATED_BASE_URL=NOWHERE, **env),
                          capture_output=True, text=True, timeout=240)


def start_daily(home: Path, notebooks: Path) -> subprocess.Popen:
    """A daily run in the background, returned once it holds the run lock."""
    proc = subprocess.Popen([sys.executable, "-m", "runner", "daily", "--all", "--date", SLATE,
                             "--as-of", f"{SLATE}T15:00:00Z"], cwd=home,
                            env=_env(home, notebooks), stderr=subprocess.PIPE, text=True)
    wait_for_line(proc, "[1/5] odds_ingestion: running")
    return proc


def wait_for_line(proc: subprocess.Popen, text: str) -> None:
    """Read the background run's progress (stderr) until a line contains `text`."""
    assert proc.stderr is not None
    while True:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, f"the run ended before {text!r}"
        if text in line:
            return


def finish(proc: subprocess.Popen, home: Path) -> None:
    """The background run ends well and whole: nothing failed or left running."""
    stderr = proc.communicate(timeout=240)[1]
    assert proc.returncode == 0, stderr
    assert {r["status"] for r in registry_rows(home)} <= {"success", "skipped"}


def earlier_capture(home: Path, notebooks: Path) -> None:
    """An odds-only run before the one under test: a database, no reports yet."""
    first = runner(home, "daily", "--run-odds-ingestion", "--date", SLATE, "--as-of",
                   f"{SLATE}T14:00:00Z", notebooks=notebooks)
    assert first.returncode == 0, first.stderr


def last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.strip().splitlines()[-1]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.mark.parametrize("command", [
    ["backfill-stats", "--start", "2025-11-01", "--end", "2025-11-02"],
    ["backfill-unabated", "--start", "2025-11-01", "--end", "2025-11-02",
     "--source-url", NOWHERE + "/archive/unabated"],
], ids=["backfill-stats", "backfill-unabated"])
def test_a_backfill_during_a_daily_run_exits_2_naming_the_run(home: Path, tmp_path: Path,
                                                              command: list[str]) -> None:
    notebooks = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "hold"})
    daily = start_daily(home, notebooks)
    try:
        backfill = runner(home, *command)
    finally:
        finish(daily, home)
    assert backfill.returncode == 2, backfill.stderr
    line = last_line(backfill)
    assert "another daily run holds" in line and "try again when it finishes" in line, line
    assert "Traceback" not in backfill.stderr
    steps = {r["step"] for r in registry_rows(home)}
    assert "backfill" not in steps  # the backfill registered nothing


def test_report_during_a_run_between_database_writes_just_reads(home: Path,
                                                                tmp_path: Path) -> None:
    """The run holds its lock but no step has the file open: the report needs neither."""
    notebooks = write_step_notebooks(tmp_path / "nb", {"production": "hold"})
    earlier_capture(home, notebooks)
    daily_report = home / "outputs" / "monitoring" / f"daily_report_{SLATE}.md"
    assert not daily_report.exists()  # an odds-only run renders nothing
    daily = start_daily(home, notebooks)
    try:
        wait_for_line(daily, "[2/5] production: running")
        report = runner(home, "report", "--date", SLATE, notebooks=notebooks)
        # before the run's own render (after its last step): this is the report command's
        rendered_during_the_run = daily_report.exists()
    finally:
        finish(daily, home)
    assert report.returncode == 0, report.stderr
    assert rendered_during_the_run and f"daily report: {daily_report}" in report.stderr


def test_report_while_a_step_writes_exits_2_and_replaces_nothing(home: Path,
                                                                 tmp_path: Path) -> None:
    notebooks = write_step_notebooks(tmp_path / "nb", {"production": "hold_db"})
    earlier_capture(home, notebooks)
    rendered = runner(home, "report", "--date", SLATE, notebooks=notebooks)
    assert rendered.returncode == 0, rendered.stderr
    reports = home / "outputs" / "monitoring"
    before = {p.name: p.read_bytes() for p in reports.glob("*.md")}
    assert before, "the reports were rendered before the run"
    daily = start_daily(home, notebooks)
    try:
        wait_for_line(daily, "[2/5] production: running")
        time.sleep(3)  # the kernel has opened the database
        report = runner(home, "report", "--date", SLATE, notebooks=notebooks)
        during = {p.name: p.read_bytes() for p in reports.glob("*.md")}
    finally:
        finish(daily, home)
    assert report.returncode == 2, report.stderr
    line = last_line(report)
    assert "in use by another process" in line and "ops.duckdb" in line, line
    assert during == before  # nothing replaced by a report that could not read


def _hold(path: Path, read_only: bool, seconds: float) -> subprocess.Popen:
    """An analyst's notebook: another process with the database open."""
    code = (f"import time, duckdb; c = duckdb.connect({str(path)!r}, read_only={read_only}); "
            f"print('held', flush=True); time.sleep({seconds})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_an_analyst_reading_the_database(home: Path, tmp_path: Path) -> None:
    """An analyst's read-only connection: another reader (the report) works beside it; a
    writer (daily, a backfill) gets one line naming the holder and writes nothing."""
    notebooks = write_step_notebooks(tmp_path / "nb", {})
    earlier_capture(home, notebooks)
    database = home / "data" / "ops.duckdb"
    analyst = _hold(database, read_only=True, seconds=60)
    try:
        report = runner(home, "report", "--date", SLATE, notebooks=notebooks)
        before, data = tree(home), database.read_bytes()
        daily = runner(home, "daily", "--all", "--date", SLATE, notebooks=notebooks)
        backfill = runner(home, "backfill-stats", "--start", "2025-11-01", "--end",
                          "2025-11-02")
        after, data_after = tree(home), database.read_bytes()
    finally:
        analyst.kill()
        analyst.wait()
    assert report.returncode == 0, report.stderr
    for writer in (daily, backfill):
        assert writer.returncode == 2, writer.stderr
        line = last_line(writer)
        assert "in use by another process" in line and f"PID {analyst.pid}" in line, line
    assert data_after == data and after == before
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM fact_run_registry WHERE status NOT IN ('success', 'skipped')"
                           ).fetchall()[0][0] == 0
    finally:
        con.close()
