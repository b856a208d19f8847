"""Vendor players -> NHL player_id: folded names, aliases, boxscore initials, the team rules,
and never a merge of two same-named players."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from helpers.nhl.identity import (
    ALIAS_NAME,
    AMBIGUOUS,
    EXACT_NAME,
    INITIAL_NAME,
    NO_GAME,
    NO_SUCH_PLAYER,
    PLAYER_MAP_COLUMNS,
    TEAM_MISMATCH,
    UNMAPPED,
    fold_name,
    map_players,
    split_team_hint,
)

GAMES = pd.DataFrame({
    "game_id": [1, 2, 3],
    "home_team": ["CAR", "NJD", "SJS"],
    "away_team": ["NYI", "CAR", "BOS"],
})
EVENT_MAP = pd.DataFrame({
    "source_vendor": ["PLAYNOW", "PLAYNOW", "PLAYNOW", "PLAYNOW"],
    "event_id_vendor": ["car-nyi", "car-njd", "sjs-bos", "lost"],
    "game_id": pd.array([1, 2, 3, None], dtype="Int64"),
})
ROSTER = pd.DataFrame([
    (10, "S. Aho", "CAR"), (11, "S. Aho", "NYI"),          # boxscore names, as in dim_players
    (20, "Tomáš Hertl", "SJS"), (21, "Jérémy Beaulieu", "SJS"),
    (22, "Matthew Beckett", "BOS"), (23, "Arseny Gritsenko", "BOS"),
    (30, "J. Staal", "CAR"), (31, "J. Hughes", "NJD"),
    (40, "Nick Smith", "NJD"),                              # full name known
    (50, "O. Kase", "SJS"), (51, "O. Ekman-Larsson", "BOS"),
    (60, "D. Pastrnak", "BOS"),
], columns=["player_id", "name", "team"])


def vendor(*rows: tuple) -> pd.DataFrame:
    """(name, player_team, event) rows of one vendor; the key is the row's index."""
    return pd.DataFrame([("PLAYNOW", f"k{i}", name, team, None, event)
                         for i, (name, team, event) in enumerate(rows)],
                        columns=["source_vendor", "player_key_vendor", "player_name_raw",
                                 "player_team", "player_id_vendor", "event_id_vendor"])


def run(*rows: tuple) -> pd.DataFrame:
    return map_players(vendor(*rows), ROSTER, EVENT_MAP, GAMES)


def values(column: pd.Series) -> list:
    """The column as plain values, NULL (NaN, NA, None) as None."""
    return [None if pd.isna(x) else x for x in column]


def test_output_shape_one_row_per_input_in_order() -> None:
    got = run(("Tomas Hertl", None, "sjs-bos"), ("Nobody Here", None, "sjs-bos"))
    assert tuple(got.columns) == PLAYER_MAP_COLUMNS
    assert list(got["player_key_vendor"]) == ["k0", "k1"]
    assert str(got["player_id"].dtype) == "Int64"
    assert got["player_id"].iloc[0] == 20 and pd.isna(got["player_id"].iloc[1])


def test_accents_case_and_mangled_accents_match_exactly() -> None:
    got = run(("TOMAS HERTL", None, "sjs-bos"),
              ("Tomáš Hertl", None, "sjs-bos"),
              ("JÃ©rÃ©my Beaulieu", None, "sjs-bos"),           # UTF-8 read as Latin-1
              ("jeremy beaulieu", None, "sjs-bos"))
    assert list(got["player_id"]) == [20, 20, 21, 21]
    assert set(got["method"]) == {EXACT_NAME} and got["confidence"].eq(1.0).all()
    assert got["reason"].isna().all()


def test_nicknames_and_spelling_pairs_match_by_alias() -> None:
    got = run(("Matt Beckett", None, "sjs-bos"), ("Arseni Gritsenko", None, "sjs-bos"))
    assert list(got["player_id"]) == [22, 23]
    assert set(got["method"]) == {ALIAS_NAME} and got["confidence"].eq(0.95).all()


def test_boxscore_names_match_on_initial_and_last_name() -> None:
    got = run(("Ondřej Kaše", None, "sjs-bos"),              # roster 'O. Kase' (ASCII)
              ("Oliver Ekman-Larsson", None, "sjs-bos"),
              ("David Pastrňák", None, "sjs-bos"),
              ("Jordan Staal", None, "car-njd"))
    assert list(got["player_id"]) == [50, 51, 60, 30]
    assert set(got["method"]) == {INITIAL_NAME} and got["confidence"].eq(0.9).all()


def test_a_full_name_known_player_is_not_matched_by_initial() -> None:
    got = run(("Noah Smith", None, "car-njd"), ("Nicholas Smith", None, "car-njd"))
    assert values(got["reason"]) == [NO_SUCH_PLAYER, None]
    assert got["player_id"].iloc[1] == 40 and got["method"].iloc[1] == ALIAS_NAME


def test_two_sebastian_ahos_are_separated_by_team_never_merged() -> None:
    got = run(("Sebastian Aho (CAR)", None, "car-nyi"),      # suffix hint
              ("Sebastian Aho (NYI)", None, "car-nyi"),
              ("Sebastian Aho", "NYI", "car-nyi"),             # vendor team column
              ("Sebastian Aho", None, "car-nyi"),              # both in the game: no guess
              ("Sebastian Aho", None, "car-njd"))              # only CAR's Aho plays here
    assert values(got["player_id"]) == [10, 11, 11, None, 10]
    assert values(got["reason"]) == [None, None, None, AMBIGUOUS, None]
    assert got["method"].iloc[3] == UNMAPPED and pd.isna(got["confidence"].iloc[3])


def test_team_mismatch_when_the_player_or_the_hint_is_outside_the_game() -> None:
    got = run(("Jack Hughes", None, "sjs-bos"),               # NJD player, SJS-BOS game
              ("Sebastian Aho (TOR)", None, "car-nyi"),        # hint outside the game
              ("Jordan Staal", "NJD", "car-njd"),              # hint in game, player is CAR
              ("Jordan Staal (NJ)", None, "car-njd"))          # vendor code alias -> NJD
    assert list(got["reason"]) == [TEAM_MISMATCH] * 4
    assert got["player_id"].isna().all() and set(got["method"]) == {UNMAPPED}


def test_no_such_player_and_no_game() -> None:
    got = run(("Wayne Gretzky", None, "car-nyi"),
              ("Cher", None, "car-nyi"),                       # one token: no match
              ("Sebastian Aho (CAR)", None, "lost"),           # event unmapped
              ("Sebastian Aho (CAR)", None, "never-seen"),     # event not in the map
              (None, None, "car-nyi"))
    assert list(got["reason"]) == [NO_SUCH_PLAYER, NO_SUCH_PLAYER, NO_GAME, NO_GAME,
                                   NO_SUCH_PLAYER]
    assert got["player_id"].isna().all()


def test_name_helpers() -> None:
    assert split_team_hint("Sebastian Aho (CAR)") == ("Sebastian Aho", "CAR")
    assert split_team_hint("Adam Fox (NYR) ") == ("Adam Fox", "NYR")
    assert split_team_hint("John Doe (Jr)") == ("John Doe (Jr)", None)  # unknown suffix
    assert fold_name("JÃ©rÃ©my  O'Brien") == "jeremy o brien"
    assert fold_name("Åberg") == "aberg"                        # a real Å is not mojibake


@pytest.mark.slow
def test_demo_vendor_players_map_to_the_truth(tmp_path) -> None:
    """Capture the 2025-12-01 morning odds, load the stats through Nov 30, build the roster
    from the warehouse (team of each player's latest game) and compare with the truth."""
    import requests

    from helpers.core import db
    from helpers.core.settings import load_settings
    from helpers.demo.server import Emulator
    from helpers.nhl import api
    from helpers.nhl.identity import map_events
    from helpers.nhl.warehouse import refresh_stats
    from helpers.odds.capture import capture

    slate, morning = date(2025, 12, 1), datetime(2025, 12, 1, 15, 0)
    with Emulator(season_start=date(2025, 11, 1), days=40) as emu:
        emu.set_clock(morning)
        settings = load_settings({"OPS_HOME": str(tmp_path),
                                  **{f"{v}_BASE_URL": emu.base_url for v in
                                     ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
        con = db.connect(settings.paths.db_path)
        capture(con, settings, morning)
        report = refresh_stats(con, settings, slate, morning)
        assert report.error is None and not report.stopped_at_cap
        client = api.open_client(settings)
        games = api.parse_schedule(api.fetch_schedule(client, slate))
        client.close()
        truth = requests.get(emu.base_url + "/_emulator/truth/players", timeout=30).json()
        vendor_events = con.execute(
            "SELECT source_vendor, event_id_vendor, any_value(home_team) AS home_team, "
            "any_value(away_team) AS away_team, any_value(event_start_ts_utc) AS "
            "event_start_ts_utc FROM fact_prop_odds GROUP BY ALL").df()
        vendor_players = con.execute(
            "SELECT source_vendor, coalesce(player_id_vendor, player_name_raw || '|' || "
            "coalesce(player_team, '')) AS player_key_vendor, event_id_vendor, "
            "any_value(player_name_raw) AS player_name_raw, any_value(player_team) AS "
            "player_team, any_value(player_id_vendor) AS player_id_vendor "
            "FROM fact_prop_odds GROUP BY ALL").df()
        roster = con.execute(
            "SELECT p.player_id, p.name, t.team FROM dim_players p JOIN ("
            " SELECT player_id, arg_max(team, start_ts_utc) AS team FROM ("
            "  SELECT player_id, team, game_id FROM fact_skater_games UNION ALL"
            "  SELECT player_id, team, game_id FROM fact_goalie_games)"
            " JOIN dim_games USING (game_id) WHERE slate_date < ? GROUP BY player_id) t"
            " USING (player_id)", [slate]).df()
        con.close()

    event_map = map_events(vendor_events, games)
    got = map_players(vendor_players, roster, event_map, games)
    assert len(got) == len(vendor_players)
    rows = (got.merge(vendor_players, on=["source_vendor", "player_key_vendor"])
            .merge(event_map[["source_vendor", "event_id_vendor", "game_id"]],
                   on=["source_vendor", "event_id_vendor"]))
    assert len(rows) == len(got)  # keys unique per vendor on one slate

    def team_on(player: dict) -> str:
        return [h["team"] for h in player["team_history"] if h["from"] <= slate.isoformat()][-1]

    by_name: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for p in truth["players"]:
        for v, shown in p["vendor_names"].items():
            by_name.setdefault((v, shown), []).append((p["player_id"], team_on(p)))
    teams_of = {int(g.game_id): {g.home_team, g.away_team} for g in games.itertuples()}
    wrong, share = [], {}
    for r in rows.itertuples():
        name, hint = split_team_hint(r.player_name_raw)
        hint = r.player_team if isinstance(r.player_team, str) else hint
        true_ids = [pid for pid, team in by_name.get((r.source_vendor, name), [])
                    if team in teams_of[int(r.game_id)] and hint in (None, team)]
        assert len(true_ids) == 1, (r.source_vendor, r.player_name_raw)  # truth is unique
        if not pd.isna(r.player_id) and int(r.player_id) != true_ids[0]:
            wrong.append((r.source_vendor, r.player_name_raw, r.player_id, true_ids))
    assert not wrong, wrong
    for v, part in got.groupby("source_vendor"):
        share[v] = part["player_id"].notna().mean()
    print("mapped share per vendor:", share, "unmapped reasons:",
          got["reason"].value_counts().to_dict())
    assert set(share) == {"PLAYNOW", "UNABATED", "ODDSSHARK"}
    # Misses are honest: players who never played before the slate (no roster row) and two
    # 'A. Morozov' on one team that a boxscore name cannot tell apart.
    assert all(s >= 0.98 for s in share.values()), share
    assert set(got["reason"].dropna()) <= {NO_SUCH_PLAYER, TEAM_MISMATCH, AMBIGUOUS}
