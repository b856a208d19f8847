"""The stats warehouse refresh against the demo emulator over loopback: raw first,
incremental, capped, never a live game as final."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from helpers.core import db, rawstore
from helpers.core.settings import Settings, load_settings
from helpers.demo.server import Emulator
from helpers.nhl.warehouse import refresh_stats

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

SEASON_START = date(2025, 11, 20)
SLATE = date(2025, 11, 27)
AS_OF = datetime(2025, 11, 27, 15, 0)  # 10:00 ET: the slate's games have not started


# conftest's `emulator`: this world, starting at AS_OF
EMULATOR_WORLD = {"season_start": SEASON_START, "days": 14}
EMULATOR_CLOCK = AS_OF


def settings_for(emulator: Emulator, home: Path) -> Settings:
    return load_settings({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                          "NHL_API_BASE_URL": emulator.base_url})


def truth_final_games(emulator: Emulator, before: date) -> set[int]:
    league = emulator.league
    return {g.game_id for d in range(league.days)
            for g in league.games_on(league.season_start + timedelta(days=d))
            if g.slate_date < before}


def test_first_refresh_loads_the_season_raw_first_and_a_second_adds_nothing(
        emulator: Emulator, tmp_path: Path) -> None:
    settings = settings_for(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    report = refresh_stats(con, settings, SLATE, AS_OF, run_id="r1")
    assert report.error is None and report.status == "success", report.summary()
    expected = truth_final_games(emulator, SLATE)
    stored = {r[0] for r in con.execute("SELECT game_id FROM dim_games").fetchall()}
    assert stored == expected and report.games_loaded == len(expected) > 10
    assert report.stats_through == SLATE - timedelta(days=1)
    # every stored game traces to a saved boxscore whose bytes match its hash
    payloads = con.execute("SELECT path, payload_hash FROM raw_payloads WHERE vendor = "
                           "'NHL_API'").fetchall()
    assert len(payloads) == len(expected)
    for path, digest in payloads:
        assert rawstore.sha256_hex((tmp_path / path).read_bytes()) == digest
    skaters = con.execute("SELECT count(*), count(DISTINCT game_id) FROM fact_skater_games"
                          ).fetchall()[0]
    assert skaters[1] == len(expected) and skaters[0] >= 30 * len(expected)
    assert con.execute("SELECT count(*) FROM fact_vendor_fetch_log WHERE vendor = 'NHL_API'"
                       ).fetchall()[0][0] == report.requests

    again = refresh_stats(con, settings, SLATE, AS_OF, run_id="r2")
    assert again.games_loaded == 0 and again.error is None
    assert again.requests <= 2  # the last stored day's week, nothing else
    con.close()


def test_the_request_cap_stops_cleanly_and_the_next_refresh_resumes(
        emulator: Emulator, tmp_path: Path) -> None:
    settings = settings_for(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    capped = refresh_stats(con, settings, SLATE, AS_OF, max_requests=6)
    assert capped.stopped_at_cap and capped.status == "partial"
    assert capped.requests == 6 and capped.games_pending > 0
    assert "request cap" in capped.summary()
    rest = refresh_stats(con, settings, SLATE, AS_OF)
    stored = {r[0] for r in con.execute("SELECT game_id FROM dim_games").fetchall()}
    assert stored == truth_final_games(emulator, SLATE) and rest.status == "success"
    con.close()


def test_a_failing_source_is_partial_and_says_how_stale(emulator: Emulator,
                                                        tmp_path: Path) -> None:
    settings = settings_for(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    refresh_stats(con, settings, SLATE - timedelta(days=2), AS_OF)
    requests.post(f"{emulator.base_url}/_emulator/faults",
                  json={"route": "nhl_boxscore", "kind": "status", "status": 503},
                  timeout=5).raise_for_status()
    try:
        report = refresh_stats(con, settings, SLATE, AS_OF)
    finally:
        requests.delete(f"{emulator.base_url}/_emulator/faults", timeout=5)
    assert report.status == "partial" and "503" in report.error
    assert report.stats_through == SLATE - timedelta(days=3)
    assert "stats through 2025-11-24" in report.summary()
    con.close()


def test_a_live_game_is_never_stored_as_final(emulator: Emulator, tmp_path: Path) -> None:
    settings = settings_for(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    evening = datetime(2025, 11, 27, 1, 30)  # 20:30 ET on the 26th: that slate is live
    emulator.set_clock(evening)
    try:
        refresh_stats(con, settings, SLATE, evening)
    finally:
        emulator.set_clock(AS_OF)
    states = {r[0] for r in con.execute("SELECT DISTINCT state FROM dim_games").fetchall()}
    assert states <= {"OFF", "FINAL"}
    last_day = con.execute("SELECT count(*) FROM dim_games WHERE slate_date = DATE "
                           "'2025-11-26'").fetchall()[0][0]
    assert last_day < len([g for g in emulator.league.games_on(date(2025, 11, 26))])
    con.close()
