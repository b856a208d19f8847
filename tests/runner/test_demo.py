"""`runner demo` and `runner emulator` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import requests

pytestmark = pytest.mark.slow


def test_demo_runs_the_daily_driver_day_by_day(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    proc = subprocess.run([sys.executable, "-m", "runner", "demo", "--days", "2",
                           "--start-date", "2025-10-28", "--home", str(home)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Database {home / 'data' / 'ops.duckdb'}" in proc.stderr
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        runs = con.execute(
            "SELECT slate_date, as_of_ts_utc, status FROM fact_run_registry "
            "WHERE step = 'odds_ingestion' ORDER BY as_of_ts_utc").fetchall()
        assert [(str(d), str(t), s) for d, t, s in runs] == [
            # three weeks into the season: a short first stats refresh keeps the test quick
            ("2025-10-28", "2025-10-28 14:00:00", "success"),   # 10:00 EDT morning run
            ("2025-10-28", "2025-10-28 21:30:00", "success"),   # 17:30 EDT pre-game capture
            ("2025-10-29", "2025-10-29 14:00:00", "success"),
            ("2025-10-29", "2025-10-29 21:30:00", "success"),
        ]
        production = con.execute(
            "SELECT slate_date, status FROM fact_run_registry WHERE step = 'production' "
            "ORDER BY as_of_ts_utc").fetchall()
        # the morning runs produce a snapshot; the pre-game captures skip the step
        assert [(str(d), s) for d, s in production] == [
            ("2025-10-28", "success"), ("2025-10-28", "skipped"),
            ("2025-10-29", "success"), ("2025-10-29", "skipped")]
        snapshots = con.execute("SELECT slate_date, count(*) FROM fact_prob_snapshot "
                                "GROUP BY 1 ORDER BY 1").fetchall()
        assert [str(d) for d, _ in snapshots] == ["2025-10-28", "2025-10-29"]
        assert all(n > 1000 for _, n in snapshots)
        # the demo runs the challenger beside production
        versions = {v for (v,) in con.execute(
            "SELECT DISTINCT model_version FROM fact_prob_snapshot").fetchall()}
        assert versions == {"p10-nhlapi", "eb-season"}
        # EV in the morning runs, against production only, with eligible bets
        ev = con.execute(
            "SELECT r.slate_date, r.status, count(c.run_id), sum(c.is_eligible::INT), "
            "count(DISTINCT c.snapshot_id) FROM fact_run_registry r LEFT JOIN "
            "fact_ev_candidates c USING (run_id) WHERE r.step = 'ev' GROUP BY ALL "
            "ORDER BY r.slate_date, r.status DESC").fetchall()
        assert [(str(d), s) for d, s, *_ in ev] == [
            ("2025-10-28", "success"), ("2025-10-28", "skipped"),
            ("2025-10-29", "success"), ("2025-10-29", "skipped")]
        for _, status, rows, eligible, snapshot_ids in ev:
            if status == "success":
                assert rows > 1000 and eligible > 10 and snapshot_ids == 1
        assert {s for (s,) in con.execute("SELECT DISTINCT snapshot_id FROM "
                                          "fact_ev_candidates").fetchall()} <= {
            s for (s,) in con.execute("SELECT DISTINCT snapshot_id FROM fact_prob_snapshot "
                                      "WHERE model_version = 'p10-nhlapi'").fetchall()}
        # the second morning grades the first slate (its pre-game capture is the close)
        outcomes = con.execute(
            "SELECT slate_date, status FROM fact_run_registry WHERE step = 'outcomes' "
            "ORDER BY as_of_ts_utc").fetchall()
        assert [(str(d), s) for d, s in outcomes] == [
            ("2025-10-28", "success"), ("2025-10-28", "skipped"),
            ("2025-10-29", "success"), ("2025-10-29", "skipped")]
        graded = con.execute(
            "SELECT slate_date, count(*), count(closing_odds_decimal), "
            "count(*) FILTER (WHERE closing_capture_ts_utc = TIMESTAMP '2025-10-28 21:30:00') "
            "FROM fact_bet_results GROUP BY 1").fetchall()
        assert len(graded) == 1 and str(graded[0][0]) == "2025-10-28"
        assert graded[0][1] > 1000 and graded[0][3] > 0.9 * graded[0][2] > 0
        per_vendor = dict(con.execute(
            "SELECT source_vendor, count(DISTINCT capture_ts_utc) FROM fact_prop_odds "
            "GROUP BY 1").fetchall())
        assert per_vendor == {"PLAYNOW": 4, "UNABATED": 4, "ODDSSHARK": 4}
    finally:
        con.close()
    assert len(list((home / "outputs" / "runs").glob("*/*/01_odds_ingest.ipynb"))) == 4
    production = sorted((home / "outputs" / "runs").glob("*/*/02_production_snapshot.ipynb"))
    assert len(production) == 2  # the morning runs (the pre-game captures skip the step)
    text = "\n".join(p.read_text() for p in production)
    for needle in ("p10-nhlapi", "rate60", "m_goalie", "ODDSSHARK", "eb-season",
                   "mean_abs_rel_diff", "stats through 2025-10-2"):
        assert needle in text, needle
    for day in ("2025-10-28", "2025-10-29"):
        assert (home / "outputs" / "ev" / f"best_bets_{day}.md").exists()
        assert (home / "outputs" / "ev" / f"ev_candidates_{day}.csv").exists()


def test_demo_rejects_a_start_before_the_season(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "runner", "demo", "--start-date", "2025-01-01",
                           "--home", str(tmp_path / "d")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "--start-date" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_emulator_command_serves_on_loopback_until_stopped() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "runner", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_emulator/clock", timeout=10).json()["now"]
        assert requests.get(f"{url}/nhl/odds/player-props", timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
