"""End-to-end tests of `python -m runner daily` with small notebooks and real kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import nbformat
import pytest

from runner.daily import exit_code
from runner.steps import STEPS
from tests.runner.nbfactory import write_step_notebooks

pytestmark = pytest.mark.slow

CLEARED = ("RUN_ODDS_INGESTION", "RUN_PRODUCTION", "RUN_EV", "RUN_OUTCOMES", "RUN_DIAGNOSTICS",
           "FAIL_FAST", "DAILY_STEP_TIMEOUT_SECONDS", "DAILY_STEP_WALL_CLOCK_SECONDS",
           "OPS_DB_PATH")


def _env(home: Path, notebooks: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["OPS_HOME"] = str(home)
    if notebooks is not None:
        env["OPS_NOTEBOOK_DIR"] = str(notebooks)
    env.update(extra)
    return env


def run_daily(home: Path, *args: str, notebooks: Path | None = None,
              **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", "daily", *args], cwd=home,
                          env=_env(home, notebooks, **env), capture_output=True, text=True,
                          timeout=240)


def registry_rows(home: Path) -> list[dict]:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        cur = con.execute("SELECT * FROM fact_run_registry ORDER BY started_ts_utc, run_id, "
                          "step_order")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def registry(home: Path) -> dict[str, dict]:
    """The step rows (not the run's own row), by step name."""
    return {r["step"]: r for r in registry_rows(home) if r["step"] != "run"}


def run_row(home: Path) -> dict:
    (row,) = [r for r in registry_rows(home) if r["step"] == "run"]
    return row


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_all_steps_pass_and_are_registered(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {})
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--all", "--date", "2025-12-01", "--as-of", "2025-12-01T15:00:00Z",
                     notebooks=nbs)
    assert proc.returncode == 0, proc.stderr
    rows = registry(home)
    assert list(rows) == [*(step.name for step in STEPS), "report"]  # the render: its own row
    assert [rows[s]["status"] for s in rows] == ["success"] * 6
    assert rows["report"]["notebook_path"] == "outputs/monitoring/executed/report_2025-12-01.ipynb"
    first = rows["odds_ingestion"]
    assert str(first["slate_date"]) == "2025-12-01"
    assert first["duration_s"] > 0 and first["code_version"]
    params = json.loads(first["parameters_json"])
    assert params["run_id"] == first["run_id"] and params["slate_date"] == "2025-12-01"
    executed = home / first["notebook_path"]
    assert executed.parent.parent.name == "2025-12-01"
    assert executed.name == "01_odds_ingest.ipynb"
    out = nbformat.read(str(executed), as_version=4)
    # papermill injected the run's parameters and the cell printed them
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in out.cells)
    assert first["run_id"] in json.dumps(out.cells[-1].outputs)
    assert "[1/5] odds_ingestion: success" in proc.stderr
    run = run_row(home)
    assert run["run_id"] == first["run_id"] and run["status"] == "success"
    assert run["step_order"] == 0 and run["error_summary"] == "5 success"
    assert run["started_ts_utc"] <= first["started_ts_utc"]
    assert run["finished_ts_utc"] >= rows["diagnostics"]["finished_ts_utc"]
    # diagnostics was on: the reports were rendered once the run's rows were final
    report = home / "outputs" / "monitoring" / "daily_report_2025-12-01.md"
    assert report.read_text().strip() == "# Daily report 2025-12-01"
    assert f"daily report: {report}" in proc.stderr


def test_failure_timeout_dead_kernel_and_partial_are_classified(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "partial",
                                                 "production": "raise",
                                                 "ev": "sleep",
                                                 "outcomes": "kill"})
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--all", "--step-timeout-seconds", "3", notebooks=nbs)
    assert proc.returncode == 1, proc.stderr
    rows = registry(home)
    assert rows["odds_ingestion"]["status"] == "partial"
    assert "UNABATED failed" in rows["odds_ingestion"]["error_summary"]

    failed = rows["production"]
    assert failed["status"] == "failed" and failed["error_type"] == "ValueError"
    assert "boom: bad thing happened" in failed["error_summary"]
    saved = nbformat.read(str(home / failed["notebook_path"]), as_version=4)
    assert "papermill-error-cell-tag" in saved.cells[0].metadata.get("tags", [])  # red banner

    timed_out = rows["ev"]
    assert timed_out["status"] == "timeout" and timed_out["error_type"] == "CellTimeoutError"
    assert timed_out["duration_s"] < 40

    dead = rows["outcomes"]
    assert dead["status"] == "failed" and dead["error_type"] == "DeadKernelError"
    dead_nb = nbformat.read(str(home / dead["notebook_path"]), as_version=4)
    assert "ops-failure-banner" in dead_nb.cells[0].metadata.get("tags", [])

    assert rows["diagnostics"]["status"] == "success"  # no fail-fast: the run went on


def test_partial_only_exits_3(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "partial"})
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--run-odds-ingestion", notebooks=nbs)
    assert proc.returncode == 3, proc.stderr
    rows = registry(home)
    assert rows["odds_ingestion"]["status"] == "partial"
    assert all(rows[s]["status"] == "skipped" for s in ("production", "ev", "outcomes",
                                                        "diagnostics"))


def test_fail_fast_skips_the_rest_and_env_beats_flags(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"production": "raise"})
    home = tmp_path / "home"
    home.mkdir()
    # --all on the CLI, but RUN_EV=0 in the env turns EV off; FAIL_FAST=1 from the env.
    proc = run_daily(home, "--all", notebooks=nbs, RUN_EV="0", FAIL_FAST="yes")
    assert proc.returncode == 1, proc.stderr
    rows = registry(home)
    assert rows["odds_ingestion"]["status"] == "success"
    assert rows["production"]["status"] == "failed"
    assert rows["ev"]["status"] == "skipped" and "not enabled" in rows["ev"]["error_summary"]
    for name in ("outcomes", "diagnostics"):
        assert rows[name]["status"] == "skipped"
        assert "fail-fast" in rows[name]["error_summary"]
        assert rows[name]["started_ts_utc"] is None
    # the console says what happened: the steps fail-fast stopped, not the one the plan
    # already showed as off
    assert "outcomes: skipped - fail-fast" in proc.stderr
    assert "ev: skipped" not in proc.stderr
    # the outcomes step's worker had warmed up during production: it was stopped, and no
    # worker or kernel of this run outlives it
    assert not processes_mentioning(str(nbs))


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if entry.name.isdigit() and text in cmdline:
            found.append(cmdline)
    return found


def test_steps_run_on_warm_kernels_that_show_nothing_of_their_warm_up(tmp_path: Path) -> None:
    """Each step's worker started its kernel and ran the notebook's imports before the
    step; the executed notebook does not show it: the first cell is still In [1]. Nor does
    the step's log: these steps log nothing, so their logs are empty - no warning of the
    kernel's transport, no zmq context left to the garbage collector, no traceback - and
    each kernel's private socket folder is gone with it."""
    nbs = write_step_notebooks(tmp_path / "nb", {}, default="zen")
    home = tmp_path / "home"
    home.mkdir()
    scratch = tmp_path / "tmp"  # where the kernels' socket folders go (tempfile honours it)
    scratch.mkdir()
    proc = run_daily(home, "--all", notebooks=nbs, TMPDIR=str(scratch))
    assert proc.returncode == 0, proc.stderr
    notebooks = sorted(home.glob("outputs/runs/*/*/0*.ipynb"))
    assert len(notebooks) == 5
    for path in notebooks:
        code = [c for c in nbformat.read(str(path), as_version=4).cells
                if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), path
        zen = code[-1]
        assert zen.source == "import this" and zen.outputs == [], (path, zen.outputs)
    logs = sorted(home.glob("outputs/runs/*/*/0*.log"))
    assert len(logs) == 5
    assert {log.name: log.read_text() for log in logs} == {log.name: "" for log in logs}
    assert list(scratch.iterdir()) == []
    assert not processes_mentioning(str(nbs))


def test_hard_wall_clock_limit_kills_a_step(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "slow_cells"})
    home = tmp_path / "home"
    home.mkdir()
    started = time.monotonic()
    proc = run_daily(home, "--run-odds-ingestion", notebooks=nbs,
                     DAILY_STEP_TIMEOUT_SECONDS="5", DAILY_STEP_WALL_CLOCK_SECONDS="4")
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 60
    row = registry(home)["odds_ingestion"]
    assert row["status"] == "timeout" and row["error_type"] == "WallClockTimeout"


@pytest.mark.parametrize("args", [["--dry-run", "--all"], []])
def test_dry_run_and_all_off_write_nothing(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    before = tree(home)
    proc = run_daily(home, *args)
    assert proc.returncode == 0, proc.stderr
    assert "nothing executed, nothing written" in proc.stderr
    assert "1 odds_ingestion" in proc.stderr
    assert tree(home) == before == []


PAST_SLATE_NOTE = ("note: slate 2020-01-02 is before today's ET date {today}: ingestion "
                   "captures the vendors' present board as of now, not that slate's; past "
                   "boards: python -m runner backfill-unabated")


@pytest.mark.parametrize(("args", "noted"), [
    (["--run-odds-ingestion", "--date", "2020-01-02"], True),
    (["--all", "--date", "2020-01-02"], True),
    # an as-of given: the user chose the capture time (the capture checks it against the
    # vendors' clocks)
    (["--all", "--date", "2020-01-02", "--as-of", "2020-01-02T15:00:00Z"], False),
    (["--run-ev", "--date", "2020-01-02"], False),  # no capture
    (["--run-odds-ingestion", "--date", "2099-01-02"], False),  # not a past slate
    (["--run-odds-ingestion"], False),  # today's slate
])
def test_a_past_slate_without_an_as_of_is_noted_before_the_plan(
        tmp_path: Path, args: list[str], noted: bool) -> None:
    from helpers.core.clock import et_date, utcnow

    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--dry-run", *args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    notes = [line for line in lines if line.startswith("note:")]
    if noted:
        assert notes == [PAST_SLATE_NOTE.format(today=et_date(utcnow()))]
        assert lines[0] == notes[0] and lines[1].startswith("daily plan: slate 2020-01-02")
    else:
        assert notes == []
    assert "nothing executed, nothing written" in proc.stderr
    assert tree(home) == []


@pytest.mark.parametrize(("args", "env", "needle"), [
    (["--all"], {"RUN_EV": "maybe"}, "RUN_EV='maybe'"),
    (["--all"], {"DAILY_STEP_TIMEOUT_SECONDS": "-1"}, "DAILY_STEP_TIMEOUT_SECONDS"),
    (["--all"], {"VENDORS": "PLAYNOW,NOPE"}, "VENDORS"),
    (["--all", "--date", "2025-13-40"], {}, "--date"),
    (["--all", "--as-of", "yesterday"], {}, "--as-of"),
    (["--all", "--step-timeout-seconds", "0"], {}, "--step-timeout-seconds"),
    (["--bogus"], {}, "unrecognized arguments"),
    (["--all"], {"VENDORS": ","}, "VENDORS"),
    (["--all"], {"DAILY_STEP_TIMEOUT_SECONDS": "inf"}, "DAILY_STEP_TIMEOUT_SECONDS"),
    (["--all"], {"DAILY_STEP_TIMEOUT_SECONDS": "nan"}, "DAILY_STEP_TIMEOUT_SECONDS"),
    (["--all"], {"DAILY_STEP_TIMEOUT_SECONDS": "1e12"}, "DAILY_STEP_TIMEOUT_SECONDS"),
    (["--all", "--step-timeout-seconds", "inf"], {}, "--step-timeout-seconds"),
    (["--all"], {"HTTP_MAX_ATTEMPTS": "inf"}, "HTTP_MAX_ATTEMPTS"),
    (["--all"], {"PLAYNOW_COOKIE": "SECRETMARKER123\r"}, "PLAYNOW_COOKIE"),
    (["--all"], {"PLAYNOW_COOKIE": "SECRETMARKER123\n"}, "PLAYNOW_COOKIE"),
])
def test_bad_usage_exits_2_naming_the_problem_and_writes_nothing(
        tmp_path: Path, args: list[str], env: dict[str, str], needle: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, *args, **env)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "SECRETMARKER" not in proc.stderr
    assert tree(home) == []


def test_renormalize_names_since_in_its_date_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "runner", "renormalize", "--vendor", "UNABATED",
                           "--since", "garbage"], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: --since 'garbage' is not a date in the form "
                                   "YYYY-MM-DD")


def test_a_secret_in_an_error_reaches_no_registry_notebook_log_or_stderr(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "leak_secret"})
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--run-odds-ingestion", notebooks=nbs,
                     PLAYNOW_COOKIE="SECRETMARKER123")
    assert proc.returncode == 1, proc.stderr
    row = registry(home)["odds_ingestion"]
    assert row["error_type"] == "RuntimeError" and "bad header value '***'" in row["error_summary"]
    assert "SECRETMARKER" not in proc.stderr
    leaks = [p for p in home.rglob("*") if p.is_file() and b"SECRETMARKER" in p.read_bytes()]
    assert leaks == []
    executed = (home / row["notebook_path"]).read_text()
    assert "***" in executed  # the printed and raised values were redacted, not dropped
    # spec.json records every effective setting, the secret as ***, to reproduce the step
    spec = json.loads((home / row["notebook_path"]).with_suffix(".spec.json").read_text())
    assert spec["settings"]["PLAYNOW_COOKIE"] == "***"
    assert spec["settings"]["VENDORS"] == "PLAYNOW,UNABATED,ODDSSHARK"
    assert spec["settings"]["OPS_HOME"] == str(home)


def _readonly_command(paths: list[Path], argv: list[str]) -> list[str]:
    """`argv` run with `paths` read-only. chmod does not stop root, so as root the command
    runs in its own mount namespace with read-only bind mounts of the paths (they vanish
    with it); otherwise the paths are chmod'ed by the caller."""
    if os.geteuid() != 0:
        return argv
    mounts = " && ".join(f"mount --bind {p} {p} && mount -o remount,ro,bind {p}"
                         for p in paths)
    return ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", *argv]


def _run_readonly(home: Path, paths: list[Path], *args: str,
                  **env: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555)
    try:
        argv = _readonly_command(paths, [sys.executable, "-m", "runner", *args])
        return subprocess.run(argv, cwd=home.parent, env=_env(home, **env),
                              capture_output=True, text=True, timeout=120)
    finally:
        for path in paths:
            path.chmod(0o755)


@pytest.mark.parametrize("case", ["empty_home", "home_with_database", "outputs_only"])
def test_a_read_only_home_or_outputs_exits_2_naming_the_path(tmp_path: Path, case: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    if case == "home_with_database":
        from helpers.core import db

        db.connect(home / "data" / "ops.duckdb").close()
    readonly = home
    if case == "outputs_only":
        readonly = home / "outputs"
        readonly.mkdir()
    before = tree(home)
    proc = _run_readonly(home, [readonly], "daily", "--run-odds-ingestion")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and str(readonly) in lines[-1]
    assert "Traceback" not in proc.stderr
    assert tree(home) == before  # no database created or migrated, no lock, no outputs


@pytest.mark.parametrize("command", [["daily", "--run-odds-ingestion"],
                                     ["renormalize", "--vendor", "UNABATED"]])
def test_a_db_path_that_is_not_duckdb_exits_2(tmp_path: Path, command: list[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    proc = run_daily_command(home, command, OPS_DB_PATH=str(bogus))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: OPS_DB_PATH {bogus} is not a DuckDB database file; point OPS_DB_PATH at a "
        "DuckDB file or at a path that does not exist yet")
    assert bogus.read_text() == "not a database" and tree(home) == []
    assert not list(tmp_path.glob("notes.txt.*"))  # no lock file beside it


def run_daily_command(home: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *command], cwd=home,
                          env=_env(home, **env), capture_output=True, text=True, timeout=120)


def test_second_concurrent_run_exits_2_and_db_stays_intact(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "hold"})
    home = tmp_path / "home"
    home.mkdir()
    first = subprocess.Popen([sys.executable, "-m", "runner", "daily", "--all"], cwd=home,
                             env=_env(home, nbs), stderr=subprocess.PIPE, text=True)
    holder = home / "data" / "ops.duckdb.runlock.holder"
    deadline = time.monotonic() + 60
    while not holder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert holder.exists(), "first run never took the lock"
    second = run_daily(home, "--all", notebooks=nbs, RUN_LOCK_WAIT_SECONDS="1")
    first_err = first.communicate(timeout=240)[1]
    assert second.returncode == 2
    assert "another daily run holds" in second.stderr
    first_run_id = json.loads(holder.read_text())["run_id"] if holder.exists() else None
    assert first_run_id is None  # released at the end
    assert first.returncode == 0, first_err
    rows = registry(home)
    assert [r["status"] for r in rows.values()] == ["success"] * 6  # five steps and the render
    assert len({r["run_id"] for r in rows.values()}) == 1
    assert rows["odds_ingestion"]["run_id"] in second.stderr  # the message names the holder


def _hold_database(path: Path, seconds: float) -> subprocess.Popen:
    """Another process with the DuckDB file open read-write (an analyst's notebook)."""
    code = (f"import time; from helpers.core import db; c = db.connect({str(path)!r}); "
            f"print('held', flush=True); time.sleep({seconds})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_database_held_by_another_process_exits_2_before_anything_runs(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {})
    home = tmp_path / "home"
    home.mkdir()
    holder = _hold_database(home / "data" / "ops.duckdb", 20)
    try:
        before = tree(home)
        proc = run_daily(home, "--all", notebooks=nbs, RUN_LOCK_WAIT_SECONDS="1")
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: database ") and "in use by another process" in last
    assert f"PID {holder.pid}" in last
    assert [p for p in tree(home) if p not in before] == ["data/ops.duckdb.runlock"]
    assert registry(home) == {}  # nothing was registered, nothing ran


def test_database_taken_mid_run_stops_the_run_with_exit_1(tmp_path: Path) -> None:
    nbs = write_step_notebooks(tmp_path / "nb", {"odds_ingestion": "grab_db"})
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(home, "--all", notebooks=nbs, RUN_LOCK_WAIT_SECONDS="1")
    assert proc.returncode == 1, proc.stderr
    assert "[1/5] odds_ingestion: success" in proc.stderr
    assert "stopped: its registry could not be written" in proc.stderr
    assert "[2/5]" not in proc.stderr  # nothing else ran against a database it cannot write
    time.sleep(8)  # the grabbing process lets go
    # The run and its step were registered as running before the step; the step's final row
    # could not be written, so they stay running until the next run marks them interrupted.
    assert {r["step"]: r["status"] for r in registry_rows(home)} == {
        "run": "running", "odds_ingestion": "running"}


def test_exit_code_rules() -> None:
    assert exit_code(["success", "success"]) == 0
    assert exit_code(["success", "partial"]) == 3
    assert exit_code(["partial", "timeout"]) == 1
    assert exit_code(["failed"]) == 1
    assert exit_code([]) == 0
