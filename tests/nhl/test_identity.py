"""Vendor events -> NHL game_id: either orientation, a day's window, never a guess."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from helpers.nhl.identity import AMBIGUOUS, NO_GAME, NO_TEAMS, map_events

GAMES = pd.DataFrame({
    "game_id": [2025020101, 2025020102, 2025020150],
    "slate_date": [date(2025, 12, 1), date(2025, 12, 1), date(2025, 12, 3)],
    "home_team": ["NJD", "SEA", "CAR"],
    "away_team": ["CAR", "CGY", "NJD"],
})


def events(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source_vendor", "event_id_vendor", "home_team",
                                       "away_team", "event_start_ts_utc"])


def test_orientation_names_and_the_midnight_crossing() -> None:
    got = map_events(events(
        ("UNABATED", "e1", "NJD", "CAR", datetime(2025, 12, 2, 0, 0)),   # 19:00 ET Dec 1
        ("PLAYNOW", "p1", "Carolina Hurricanes", "New Jersey Devils",
         datetime(2025, 12, 2, 0, 0)),                                   # swapped, names
        ("ODDSSHARK", "o1", "SEA", "CGY", datetime(2025, 12, 2, 3, 0)),  # 22:00 ET Dec 1
    ), GAMES)
    assert list(got["game_id"]) == [2025020101, 2025020101, 2025020102]
    assert list(got["confidence"]) == [1.0, 0.9, 1.0]
    assert got["reason"].isna().all() and set(got["method"]) == {"teams_date"}


def test_unmapped_events_keep_their_reason() -> None:
    got = map_events(events(
        ("UNABATED", "far", "NJD", "CAR", datetime(2025, 12, 6, 0, 0)),   # no game near
        ("UNABATED", "odd", "NJD", "BOS", datetime(2025, 12, 2, 0, 0)),   # no such pairing
        ("UNABATED", "bad", None, "CAR", datetime(2025, 12, 2, 0, 0)),    # a team missing
        ("UNABATED", "mid", "CAR", "NJD", datetime(2025, 12, 3, 0, 0)),   # Dec 2 ET: 1 and 3
    ), GAMES)
    assert list(got["reason"]) == [NO_GAME, NO_GAME, NO_TEAMS, AMBIGUOUS]
    assert got["game_id"].isna().all() and set(got["method"]) == {"unmapped"}


@pytest.mark.slow
def test_every_demo_vendor_event_maps_to_its_game(tmp_path) -> None:
    from helpers.core import db
    from helpers.core.settings import load_settings
    from helpers.demo.server import Emulator
    from helpers.nhl import api
    from helpers.odds.capture import capture

    morning = datetime(2025, 12, 1, 15, 0)
    with Emulator() as emu:
        emu.set_clock(morning)
        settings = load_settings({"OPS_HOME": str(tmp_path),
                                  **{f"{v}_BASE_URL": emu.base_url for v in
                                     ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
        con = db.connect(settings.paths.db_path)
        capture(con, settings, morning)
        client = api.open_client(settings)
        games = api.parse_schedule(api.fetch_schedule(client, date(2025, 12, 1)))
        client.close()
        vendor_events = con.execute(
            "SELECT source_vendor, event_id_vendor, any_value(home_team) AS home_team, "
            "any_value(away_team) AS away_team, any_value(event_start_ts_utc) AS "
            "event_start_ts_utc FROM fact_prop_odds GROUP BY ALL").df()
        con.close()
    day_games = games[games["slate_date"] == date(2025, 12, 1)]
    got = map_events(vendor_events, games)
    assert got["reason"].isna().all(), got[got["reason"].notna()]
    for vendor, mapped in got.groupby("source_vendor"):
        assert set(day_games["game_id"]) <= set(mapped["game_id"]), vendor  # the whole slate
    merged = got.merge(vendor_events, on=["source_vendor", "event_id_vendor"]).merge(
        games, on="game_id", suffixes=("", "_nhl"))
    same_teams = merged.apply(lambda r: {r.home_team, r.away_team} ==
                              {r.home_team_nhl, r.away_team_nhl}, axis=1)
    start_day = (pd.to_datetime(merged["event_start_ts_utc"]).dt.tz_localize("UTC")
                 .dt.tz_convert("America/New_York").dt.date)
    assert same_teams.all() and (start_day == merged["slate_date"]).all()
    assert merged["confidence"].eq(1.0).all()
