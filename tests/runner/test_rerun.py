"""The on-call path end to end on the warm demo world: a failed run is listed by `runner runs`,
explained by `runner show`, run again by `runner rerun` once fixed, and the report counts
the failure as repaired. Bad references get exit 2 and one line; a run whose process died
shows as interrupted, naming the step it died in."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest

from helpers.core import db
from tests.conftest import WARM_MORNING, WARM_SLATE

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_env(home: Path, emu, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": emu.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}, **extra})
    return env


def runner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=env["OPS_HOME"],
                          env=env, capture_output=True, text=True, timeout=600)


def daily(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return runner(env, "daily", *flags, "--date", WARM_SLATE.isoformat(),
                  "--as-of", WARM_MORNING.strftime("%Y-%m-%dT%H:%M:%SZ"))


def registry(home: Path) -> pd.DataFrame:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        return con.execute("SELECT * FROM fact_run_registry ORDER BY started_ts_utc").df()
    finally:
        con.close()


def test_a_failed_ingestion_is_listed_shown_rerun_and_repaired(warm_home) -> None:
    emu, home = warm_home
    env = run_env(home, emu)
    failed = daily({**env, "FORCE_VENDOR_FAILURE": "ALL"}, "--run-odds-ingestion",
                   "--run-diagnostics")
    assert failed.returncode == 1, failed.stderr[-2000:]
    run_id = registry(home).query("step == 'run'")["run_id"].iloc[-1]

    listed = runner(env, "runs")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith(run_id))
    assert "✗ · · · ✓" in line and "failed" in line and "every vendor failed" in line
    as_json = json.loads(runner(env, "runs", "--json", "--status", "failed").stdout)
    assert [r["run_id"] for r in as_json] == [run_id] and as_json[0]["steps"] == "✗ · · · ✓"

    shown = runner(env, "show", "latest-failed")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert f"run {run_id}: failed" in text and "[✗] odds_ingestion: failed" in text
    assert "failing cell" in text and "VendorError: every vendor failed" in text
    assert "vendor fetches (this run):" in text and "forced failure" in text
    assert f"python -m runner rerun {run_id} --step odds_ingestion" in text
    assert "01_odds_ingest.ipynb" in text and "01_odds_ingest.spec.json" in text
    detail = json.loads(runner(env, "show", run_id[:17], "--json").stdout)
    ingestion = detail["steps"][0]
    assert ingestion["failing_cell"]["ename"] == "VendorError"
    assert {v["vendor"] for v in detail["vendor_fetches"]} >= {"PLAYNOW", "UNABATED"}
    assert Path(ingestion["notebook"]).exists() and Path(ingestion["worker_log"]).exists()

    rerun = runner(env, "rerun", run_id, "--step", "odds_ingestion")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = registry(home)
    again = rows[rows["rerun_of"] == run_id]
    assert set(again["step"]) == {"run", "odds_ingestion", "production", "ev", "outcomes",
                                  "diagnostics", "report"}
    assert again.set_index("step").loc["odds_ingestion", "status"] == "success"
    assert (again["as_of_ts_utc"] == pd.Timestamp(WARM_MORNING)).all()
    new_id = again["run_id"].iloc[0]
    # the rerun renders the reports: the failure is there, and repaired
    report = (home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md").read_text()
    attention = report.split("## Needs attention")[1].split("## Runs")[0]
    assert "**odds_ingestion failed**" in attention
    assert f"Repaired by run `{new_id}`" in attention
    assert f"(rerun of {run_id})" in runner(env, "runs").stdout

    # bad input: one line, exit 2, nothing written
    for args, needle in ((["show", "nope"], "no run 'nope'"),
                         (["show", "2"], "is ambiguous"),
                         (["rerun", "nope"], "no run 'nope'"),
                         (["rerun", run_id, "--step", "nosuch"], "invalid choice"),
                         (["runs", "--days", "0"], "at least 1"),
                         (["rerun", new_id], "has no failed step")):
        bad = runner(env, *args)
        assert bad.returncode == 2 and needle in bad.stderr, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert len(registry(home)) == len(rows)


def test_a_later_step_that_failed_is_rerun_with_the_original_as_of(warm_home) -> None:
    emu, home = warm_home
    env = run_env(home, emu)
    broken = home / "broken-notebooks"
    shutil.copytree(NOTEBOOKS, broken)
    nb = nbformat.read(str(broken / "03_ev_report.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell("raise RuntimeError('injected failure')"))
    nbformat.write(nb, str(broken / "03_ev_report.ipynb"))
    first = daily({**env, "OPS_NOTEBOOK_DIR": str(broken)}, "--run-production", "--run-ev",
                  "--run-diagnostics")
    assert first.returncode == 1, first.stderr[-2000:]
    listed = runner(env, "runs").stdout
    assert "· ✓ ✗ · ✓" in listed
    shown = runner(env, "show", "latest-failed").stdout
    assert re.search(r"\[✗\] ev: failed in [0-9.]+ s - RuntimeError", shown)
    assert "raise RuntimeError('injected failure')" in shown  # the failing cell's source
    assert "RuntimeError: injected failure" in shown

    rerun = runner(env, "rerun", "latest-failed")  # the failed step only: ev
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = registry(home)
    last = rows[rows["rerun_of"].notna()].set_index("step")
    assert last.loc["ev", "status"] == "success" and last.loc["production", "status"] == "skipped"
    assert last.loc["run", "as_of_ts_utc"] == pd.Timestamp(WARM_MORNING)
    report = (home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md").read_text()
    assert f"Repaired by run `{last.loc['run', 'run_id']}`" in report


def test_show_names_the_step_a_killed_run_died_in(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "data" / "ops.duckdb")
    start = datetime(2025, 12, 1, 15, 0)
    rows = [{"run_id": "20251201T150000Z-dead01", "slate_date": start.date(),
             "as_of_ts_utc": start, "step": step, "step_order": order, "status": status,
             "started_ts_utc": start + timedelta(seconds=order)}
            for step, order, status in (("run", 0, "running"), ("odds_ingestion", 1, "success"),
                                        ("production", 2, "running"))]
    db.upsert_rows(con, "fact_run_registry", pd.DataFrame(rows))
    con.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "RUN_"))}
    env["OPS_HOME"] = str(tmp_path)
    shown = runner(env, "show", "latest")
    assert shown.returncode == 0, shown.stderr
    assert "run 20251201T150000Z-dead01: interrupted" in shown.stdout
    assert "interrupted: its process ended during step production" in shown.stdout
    assert "[✗] production: interrupted" in shown.stdout
    assert "python -m runner rerun 20251201T150000Z-dead01" in shown.stdout
