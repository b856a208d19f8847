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
from helpers.ev.read import newest_ev_runs_sql
from tests.conftest import WARM_MORNING, WARM_SLATE
from tests.runner.report_tables import table_with

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
    # fail-fast: diagnostics never starts; the rerun must run it too
    failed = daily({**env, "FORCE_VENDOR_FAILURE": "ALL"}, "--run-odds-ingestion",
                   "--run-diagnostics", "--fail-fast")
    assert failed.returncode == 1, failed.stderr[-2000:]
    run_id = registry(home).query("step == 'run'")["run_id"].iloc[-1]

    listed = runner(env, "runs")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith(run_id))
    assert "✗ · · · ·" in line and "failed" in line and "every vendor failed" in line
    as_json = json.loads(runner(env, "runs", "--json", "--status", "failed").stdout)
    assert [r["run_id"] for r in as_json] == [run_id] and as_json[0]["steps"] == "✗ · · · ·"
    assert as_json[0]["repaired_by"] is None

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

    # the emulator's world is at the morning: the rerun says so with --as-of, as `daily` would
    rerun = runner(env, "rerun", run_id, "--as-of", WARM_MORNING.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"rerun of {run_id}: odds_ingestion, diagnostics for slate" in rerun.stderr
    rows = registry(home)
    again = rows[rows["rerun_of"] == run_id]
    assert set(again["step"]) == {"run", "odds_ingestion", "production", "ev", "outcomes",
                                  "diagnostics", "report"}
    ran = again.set_index("step")["status"]
    assert ran["odds_ingestion"] == ran["diagnostics"] == "success"
    assert ran["production"] == ran["ev"] == ran["outcomes"] == "skipped"
    assert (again["as_of_ts_utc"] == pd.Timestamp(WARM_MORNING)).all()
    new_id = again["run_id"].iloc[0]
    as_json = json.loads(runner(env, "runs", "--json").stdout)
    assert {r["run_id"]: r["repaired_by"] for r in as_json}[run_id] == new_id
    quiet = runner(env, "runs", "--status", "needs-attention", "--check")
    assert quiet.returncode == 0 and quiet.stdout.strip() == "no runs", quiet.stdout
    shown = runner(env, "show", "latest-failed").stdout
    assert f"repaired by run {new_id}" in shown and "Nothing: run" in shown
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
                         (["rerun", new_id], "has no unfinished step"),
                         (["rerun", run_id], f"was already repaired by run {new_id}"),
                         (["rerun", run_id, "--step", "odds_ingestion", "--as-of", "now"],
                          "slate 2025-12-01 is over")):
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
    # after the cell that priced the slate and committed its rows: the step still fails
    nb.cells.insert(at + 2, nbformat.v4.new_code_cell("raise RuntimeError('injected failure')"))
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
    # the failed step's rows are in the table, for the audit, and count for nothing
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM fact_ev_candidates").fetchone()[0] > 1000
        assert con.execute(newest_ev_runs_sql()).fetchall() == []
        assert con.execute("SELECT count(*) FROM fact_ev_summary_daily").fetchone()[0] == 0
    finally:
        con.close()

    rerun = runner(env, "rerun", "latest-failed")  # ev, and diagnostics which reads it
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "ev, diagnostics for slate" in rerun.stderr
    rows = registry(home)
    last = rows[rows["rerun_of"].notna()].set_index("step")
    assert last.loc["ev", "status"] == "success" and last.loc["production", "status"] == "skipped"
    assert last.loc["diagnostics", "status"] == "success"
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


ALERT = re.compile(r"<!-- alert-recipe -->\s*```bash\n(.+?)\n```", re.S)


def alert(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The alert line of docs/operations.md, run as written (with this interpreter, and
    `notify-on-call` standing for the hook: it prints a marker)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    line = ALERT.search(doc).group(1).strip()
    line = line.replace(".venv/bin/python", sys.executable)
    line = line.replace("notify-on-call", "echo ON-CALL-NOTIFIED")
    return subprocess.run(["bash", "-c", line], cwd=env["OPS_HOME"], env=env,
                          capture_output=True, text=True, timeout=120)


def newest_ev(home: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slate's bets (its newest committed EV run's eligible rows) and the EV summary
    evidence the report reads, without run ids."""
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        bets = con.execute(f"""
            SELECT book_id_vendor, source_vendor, game_id, player_id, market_type, line, side,
                   odds_decimal, round(p_price, 9) AS p_price, round(ev, 9) AS ev
            FROM fact_ev_candidates JOIN ({newest_ev_runs_sql()}) USING (slate_date, run_id)
            WHERE is_eligible ORDER BY ALL""").df()
        summary = con.execute("""
            SELECT * EXCLUDE (run_id, computed_ts_utc) FROM fact_ev_summary_daily
            WHERE run_id = (SELECT run_id FROM fact_ev_summary_daily
                            ORDER BY computed_ts_utc DESC LIMIT 1) ORDER BY ALL""").df()
    finally:
        con.close()
    return bets, summary


def test_an_outage_alerts_until_the_documented_repair_makes_the_slate_a_clean_days(
        warm_world, tmp_path: Path) -> None:
    """10:00 ET: PlayNow is down during the morning run. The alert fires; the README's repair
    (`rerun latest-failed` in a demo home: the world served again at the run's time) runs
    ingestion and every step after it; then the slate's bets, its EV evidence and its grading
    equal those of the same morning without the outage, counted once, the alert is quiet and
    the report says what was repaired by which run."""
    emu, template = warm_world
    at = WARM_MORNING.replace(hour=15, minute=30)
    emu.set_clock(at)
    homes = {}
    for name in ("clean", "outage"):
        homes[name] = tmp_path / name
        shutil.copytree(template, homes[name])
        (homes[name] / "demo.json").write_text(json.dumps({
            "seed": 2025, "season_start": "2025-11-01", "season_days": 40}))
    as_of = ["--date", WARM_SLATE.isoformat(), "--as-of", at.strftime("%Y-%m-%dT%H:%M:%SZ")]
    clean_env, env = run_env(homes["clean"], emu), run_env(homes["outage"], emu)
    clean = runner(clean_env, "daily", "--all", *as_of)
    assert clean.returncode == 0, clean.stderr[-2000:]
    down = runner({**env, "FORCE_VENDOR_FAILURE": "PLAYNOW"}, "daily", "--all", *as_of)
    assert down.returncode == 3, down.stderr[-2000:]
    morning = registry(homes["outage"]).query("step == 'run'")["run_id"].iloc[-1]

    fired = alert(env)
    assert "ON-CALL-NOTIFIED" in fired.stdout, fired
    assert morning in fired.stdout and "partial" in fired.stdout

    emu.set_clock(at + timedelta(hours=3))  # the wall clock moved on; the demo world did not
    repair = runner(env, "rerun", "latest-failed")
    assert repair.returncode == 0, repair.stderr[-3000:]
    assert (f"rerun of {morning}: odds_ingestion, production, ev, outcomes, diagnostics "
            f"for slate {WARM_SLATE}, as of {at:%Y-%m-%dT%H:%M:%S}Z") in repair.stderr
    assert "is a demo home: serving its world again" in repair.stderr
    fixed = registry(homes["outage"]).query(f"rerun_of == '{morning}'")
    assert set(fixed.query("step != 'run'")["status"]) == {"success"}
    rerun_id = fixed["run_id"].iloc[0]

    quiet = alert(env)
    assert quiet.returncode == 0 and "ON-CALL-NOTIFIED" not in quiet.stdout, quiet
    assert quiet.stdout.strip() == "no runs", quiet

    bets, summary = newest_ev(homes["outage"])
    clean_bets, clean_summary = newest_ev(homes["clean"])
    assert len(bets) > 100 and "PLAYNOW" in set(bets["source_vendor"])
    pd.testing.assert_frame_equal(bets, clean_bets)
    pd.testing.assert_frame_equal(summary, clean_summary)

    report = (homes["outage"] / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md")
    text = report.read_text()
    attention = text.split("## Needs attention")[1].split("## Runs")[0]
    assert f"**odds_ingestion partial** in run `{morning}`" in attention
    assert f"Repaired by run `{rerun_id}`" in attention
    funnel = table_with(text, "stage", "removed", "left")
    assert funnel.iloc[-1].tolist() == ["eligible", "", str(len(bets))]
    assert (homes["outage"] / "outputs" / "ev" / f"best_bets_{WARM_SLATE}.csv").read_bytes() \
        == (homes["clean"] / "outputs" / "ev" / f"best_bets_{WARM_SLATE}.csv").read_bytes()

    # the next morning grades the slate: its bets once, as many as the clean day's
    next_morning = ["--date", (WARM_SLATE + timedelta(days=1)).isoformat(), "--as-of",
                    (at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    emu.set_clock(at + timedelta(days=1))
    graded = {}
    for name, home_env in (("clean", clean_env), ("outage", env)):
        proc = runner(home_env, "daily", "--run-outcomes", *next_morning)
        assert proc.returncode == 0, proc.stderr[-2000:]
        con = duckdb.connect(str(homes[name] / "data" / "ops.duckdb"), read_only=True)
        graded[name] = con.execute(
            "SELECT count(*), count(DISTINCT candidate_run_id), sum(profit_units) "
            "FROM fact_bet_results WHERE slate_date = ? AND is_eligible",
            [WARM_SLATE]).fetchone()
        con.close()
    assert graded["outage"] == graded["clean"]
    assert graded["outage"][0] == len(bets) and graded["outage"][1] == 1


def test_a_rerun_of_ev_supersedes_the_run_it_repeats_in_the_files_and_the_report(
        warm_home) -> None:
    """The same as-of twice: the tie goes to the newer run, in the report as in the files."""
    emu, home = warm_home
    env = run_env(home, emu)
    strict = daily({**env, "EV_MIN_EDGE": "0.9"}, "--run-production", "--run-ev",
                   "--run-diagnostics")
    assert strict.returncode == 0, strict.stderr[-2000:]
    rerun = runner(env, "rerun", "latest", "--step", "ev")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "ev, diagnostics for slate" in rerun.stderr  # diagnostics reads what EV writes
    bets = pd.read_csv(home / "outputs" / "ev" / f"ev_candidates_{WARM_SLATE}.csv")
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        per_run = dict(con.execute("SELECT run_id, count(*) FILTER (WHERE is_eligible) "
                                   "FROM fact_ev_candidates GROUP BY run_id").fetchall())
        (newest,) = con.execute(f"SELECT run_id FROM ({newest_ev_runs_sql()})").fetchone()
    finally:
        con.close()
    assert len(per_run) == 2 and min(per_run.values()) < len(bets) == max(per_run.values())
    assert per_run[newest] == len(bets)
    text = (home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md").read_text()
    funnel = table_with(text, "stage", "removed", "left")
    assert funnel.iloc[-1].tolist() == ["eligible", "", str(len(bets))]


def test_a_run_killed_while_rendering_reads_interrupted_and_its_rerun_renders(warm_home) -> None:
    emu, home = warm_home
    env = run_env(home, emu)
    first = daily(env, "--run-diagnostics")
    assert first.returncode == 0, first.stderr[-2000:]
    run_id = registry(home).query("step == 'run'")["run_id"].iloc[-1]
    report = home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md"
    report.unlink()
    # what a kill during the render leaves: the run's row final, the render's row running
    con = duckdb.connect(str(home / "data" / "ops.duckdb"))
    con.execute("UPDATE fact_run_registry SET status = 'running', finished_ts_utc = NULL "
                "WHERE run_id = ? AND step = 'report'", [run_id])
    con.close()
    listed = json.loads(runner(env, "runs", "--json", "--status", "needs-attention").stdout)
    assert [(r["run_id"], r["status"]) for r in listed] == [(run_id, "interrupted")]
    shown = runner(env, "show", run_id).stdout
    assert f"run {run_id}: interrupted" in shown and "unfinished report" in shown
    assert "00:00:00" not in shown

    rerun = runner(env, "rerun", "latest-failed")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "the reports only" in rerun.stderr
    assert report.exists()
    again = registry(home).query(f"rerun_of == '{run_id}'").set_index("step")["status"]
    assert again["report"] == "success" and set(again.drop(["run", "report"])) == {"skipped"}
    assert runner(env, "runs", "--status", "needs-attention", "--check").returncode == 0
