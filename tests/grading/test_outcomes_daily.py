"""`runner daily --run-outcomes` end to end against a local HTTP server (pytest-httpserver)
serving two real api-web boxscores: a final one, and a LIVE copy of a final one. The final
game is graded; the live one produces no outcome and is listed as pending."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from helpers.core import db

pytestmark = pytest.mark.slow  # a real papermill kernel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nhl_api"
FINAL_ID, LIVE_ID = 2024020448, 2024020449
SLATE = date(2024, 12, 10)
PLAYERS = (8478427, 8476906, 8479316)  # S. Aho, S. Gostisbehere, L. Kunin


def boxscores() -> tuple[bytes, bytes]:
    final = (FIXTURES / "boxscore_2024020448_SJS_at_CAR_2024-12-10_final.json").read_bytes()
    live = json.loads(final)
    live.update(id=LIVE_ID, gameState="LIVE")  # the same game, still being played
    return final, json.dumps(live).encode()


def seed_snapshot(home: Path) -> None:
    """A snapshot of both games, as the production step would have written it."""
    rows = [{"snapshot_id": "r0:p10-nhlapi", "snapshot_ts_utc": datetime(2024, 12, 10, 15),
             "slate_date": SLATE, "game_id": game, "player_id": player, "market_type": "SOG",
             "line": 1.5, "p_over": 0.6, "p_under": 0.4, "p_push": 0.0, "mu": 2.0,
             "distribution": "negbin", "alpha": 0.35, "games_used": 30,
             "multipliers_json": "{}", "model_version": "p10-nhlapi", "run_id": "r0"}
            for game in (FINAL_ID, LIVE_ID) for player in PLAYERS]
    con = db.connect(home / "data" / "ops.duckdb")
    db.insert_new_rows(con, "fact_prob_snapshot", pd.DataFrame(rows),
                       ("snapshot_id", "game_id", "player_id", "market_type", "line"))
    con.close()


def test_daily_outcomes_grades_the_final_game_and_leaves_the_live_one_pending(
        tmp_path: Path, httpserver: HTTPServer) -> None:
    final, live = boxscores()
    httpserver.expect_request(f"/v1/gamecenter/{FINAL_ID}/boxscore").respond_with_data(
        final, content_type="application/json")
    httpserver.expect_request(f"/v1/gamecenter/{LIVE_ID}/boxscore").respond_with_data(
        live, content_type="application/json")
    home = tmp_path / "home"
    home.mkdir()
    seed_snapshot(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    env.update(OPS_HOME=str(home), NHL_API_BASE_URL=httpserver.url_for("").rstrip("/"),
               HTTP_BACKOFF_SECONDS="0", OUTCOMES_LOOKBACK_DAYS="1")
    proc = subprocess.run([sys.executable, "-m", "runner", "daily", "--run-outcomes",
                           "--date", "2024-12-11", "--as-of", "2024-12-11T15:00:00Z"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=300)
    # pending is right for it, silence is not: at 10:00 ET the next morning a game of the
    # slate before cannot still be live, so the step is partial (exit 3) and says so
    assert proc.returncode == 3, proc.stderr[-3000:]

    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        outcomes = con.execute("SELECT game_id, player_id, actual FROM fact_prop_outcomes "
                               "ORDER BY player_id").fetchall()
        stored = con.execute("SELECT game_id, state FROM dim_games").fetchall()
        step = con.execute("SELECT status, error_summary FROM fact_run_registry "
                           "WHERE step = 'outcomes'").fetchall()
    finally:
        con.close()
    # SOG read off the final payload by hand: Gostisbehere 3, Aho 2, Kunin 2
    assert outcomes == [(FINAL_ID, 8476906, 3), (FINAL_ID, 8478427, 2), (FINAL_ID, 8479316, 2)]
    assert stored == [(FINAL_ID, "OFF")]  # the live copy is never stored as final
    assert step[0][0] == "partial" and "1 games of earlier slates still not final" in step[0][1]
    notebook = next((home / "outputs" / "runs").glob("*/*/04_outcomes.ipynb")).read_text()
    assert f"{LIVE_ID} LIVE" in notebook  # listed as pending, with its state
    assert "1 of 2 games final and graded" in notebook
