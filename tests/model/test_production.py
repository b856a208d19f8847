"""Step 2 end to end in-process against the demo emulator: warehouse, identity, snapshot."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import requests

from helpers.core import db
from helpers.core.models import PRODUCTION_MODEL
from helpers.core.slate import Slate
from helpers.model.production import run_production
from helpers.model.snapshot import SNAPSHOT_KEY
from helpers.nhl.warehouse import refresh_stats
from helpers.odds.capture import capture

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

SLATE = date(2025, 12, 1)
MORNING = datetime(2025, 12, 1, 15, 0)


def snapshot_rows(con, run_id: str, version: str = PRODUCTION_MODEL) -> pd.DataFrame:
    return con.execute("SELECT * EXCLUDE (snapshot_id, run_id) FROM fact_prob_snapshot "
                       "WHERE run_id = ? AND model_version = ? "
                       "ORDER BY game_id, player_id, market_type, line",
                       [run_id, version]).df()


def test_snapshot_prices_every_mapped_line_and_later_games_change_nothing(warm_home) -> None:
    emulator, home = warm_home  # the morning's capture and the season's stats
    settings = emulator.settings(home, MODEL_CHALLENGERS="eb-season")
    con = db.connect(settings.paths.db_path)
    result = run_production(con, settings, Slate(SLATE, MORNING), "r1")
    assert result.status == "success", result.summary()
    rows = snapshot_rows(con, "r1")
    # the challenger's snapshot sits beside production's, on the same props
    challenger = snapshot_rows(con, "r1", "eb-season")
    key = ["game_id", "player_id", "market_type", "line"]
    pd.testing.assert_frame_equal(challenger[key], rows[key])
    assert (challenger["mu"] != rows["mu"]).mean() > 0.9
    assert con.execute("SELECT count(DISTINCT snapshot_id) FROM fact_prob_snapshot WHERE "
                       "run_id = 'r1'").fetchone()[0] == 2
    assert len(rows) == len(result.snapshot.rows) > 1000
    assert not rows.duplicated([k for k in SNAPSHOT_KEY if k != "snapshot_id"]).any()
    assert set(rows["game_id"]) == set(result.slate_games["game_id"])
    # every priced (game, player, market, line) the vendors offered is in the snapshot
    mapped = result.player_map["player_id"].notna()
    assert mapped.mean() > 0.95
    total = (rows["p_over"] + rows["p_under"] + rows["p_push"] - 1).abs().max()
    assert total < 1e-9
    # a rerun of the same run adds nothing
    again = run_production(con, settings, Slate(SLATE, MORNING), "r1")
    assert len(snapshot_rows(con, "r1")) == len(rows) and again.refresh.games_loaded == 0
    assert len(snapshot_rows(con, "r1", "eb-season")) == len(challenger)

    # No leakage: fill the warehouse with the next days' games, then snapshot the same
    # slate again: every number is the same, byte for byte.
    later = datetime(2025, 12, 5, 15, 0)
    emulator.set_clock(later)
    loaded = refresh_stats(con, settings, date(2025, 12, 5), later)
    assert loaded.games_loaded > 10
    emulator.set_clock(MORNING)
    run_production(con, settings, Slate(SLATE, MORNING), "r2")
    pd.testing.assert_frame_equal(snapshot_rows(con, "r2"), rows)
    pd.testing.assert_frame_equal(snapshot_rows(con, "r2", "eb-season"), challenger)
    con.close()


def test_a_failing_stats_source_is_partial_and_says_how_stale(warm_world,
                                                              tmp_path: Path) -> None:
    emulator, _ = warm_world  # its emulator, with an empty warehouse
    emulator.set_clock(MORNING)
    settings = emulator.settings(tmp_path)
    con = db.connect(settings.paths.db_path)
    capture(con, settings, MORNING, run_id="r0")
    requests.post(f"{emulator.base_url}/_emulator/faults",
                  json={"route": "nhl_boxscore", "kind": "status", "status": 403},
                  timeout=5).raise_for_status()
    try:
        result = run_production(con, settings, Slate(SLATE, MORNING), "r1")
    finally:
        requests.delete(f"{emulator.base_url}/_emulator/faults", timeout=5)
    assert result.status == "partial"
    assert "stats source failed" in result.summary() and "403" in result.summary()
    assert "stats through nothing" in result.summary()
    con.close()


def test_an_off_day_is_a_success_that_says_no_games(tmp_path: Path) -> None:
    """The day before the demo season: the schedule has no game, so there is nothing to map
    or price, and that is no incident. The slate's game count is stored, so that the steps
    after it can tell an off day from a day production never saw."""
    from helpers.demo.server import Emulator
    from helpers.model.read import games_scheduled

    off_day, morning = date(2025, 10, 31), datetime(2025, 10, 31, 15, 0)
    with Emulator(season_start=date(2025, 11, 1), days=10) as emu:
        emu.set_clock(morning)
        settings = emu.settings(tmp_path)
        con = db.connect(settings.paths.db_path)
        assert games_scheduled(con, off_day) is None  # production has not looked yet
        capture(con, settings, morning, run_id="r0")  # the boards show the next day's games
        result = run_production(con, settings, Slate(off_day, morning), "r1")
        assert result.status == "success", result.summary()
        assert result.summary().startswith(f"no games on {off_day}: nothing to map or price")
        assert games_scheduled(con, off_day) == 0
        first_day = date(2025, 11, 1)
        run_production(con, settings, Slate(first_day, morning), "r2")
        assert games_scheduled(con, first_day) == len(
            con.execute("SELECT * FROM dim_scheduled_games WHERE slate_date = ?",
                        [first_day]).fetchall()) > 0
        con.close()


def test_vendor_events_on_a_day_the_schedule_has_none_are_partial(warm_home) -> None:
    """The vendors list games the schedule does not have (here a schedule whose season starts
    the day after the slate): not an off day to wave through, since the slate's bets would
    quietly go unpriced."""
    from helpers.demo.server import Emulator

    _, home = warm_home  # the morning's capture of the slate's games
    with Emulator(season_start=date(2025, 12, 2), days=10) as other:
        other.set_clock(MORNING)
        settings = other.settings(home)
        con = db.connect(settings.paths.db_path)
        result = run_production(con, settings, Slate(SLATE, MORNING), "r1")
        con.close()
    assert result.status == "partial"
    assert f"no games on {SLATE}" in result.summary()
    assert f"vendor events start on {SLATE}" in result.summary()
