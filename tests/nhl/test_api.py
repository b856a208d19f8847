"""helpers.nhl.api: the parsers against the real api-web samples (tests/fixtures/nhl_api),
the frames against the live schema, drift, and the client against the demo emulator."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from helpers.core import db
from helpers.core.clock import et_date
from helpers.core.errors import SchemaDriftError
from helpers.core.http import FetchAttempt
from helpers.core.settings import Settings, load_settings
from helpers.nhl import api

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nhl_api"
BOXSCORES = sorted(FIXTURES.glob("boxscore_*_final.json"))
SCHEDULE = FIXTURES / "schedule_2025-09-29.json"
SIDES = (("awayTeam", False), ("homeTeam", True))
SKATER_KEYS = {"goals": "goals", "assists": "assists", "points": "points", "sog": "sog",
               "blocked_shots": "blockedShots", "hits": "hits",
               "power_play_goals": "powerPlayGoals", "shifts": "shifts", "position": "position"}
GOALIE_KEYS = {"shots_against": "shotsAgainst", "saves": "saves",
               "goals_against": "goalsAgainst", "starter": "starter"}


def load(path: Path) -> dict:
    return json.loads(path.read_bytes())


def dump(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def mmss(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def payload_players(payload: dict) -> Iterator[tuple[str, bool, str, dict]]:
    """(side, is_home, group, player) for every player of a boxscore payload."""
    for side, is_home in SIDES:
        for group in ("forwards", "defense", "goalies"):
            for player in payload["playerByGameStats"][side][group]:
                yield side, is_home, group, player


def row_of(frame: pd.DataFrame, player_id: int) -> dict:
    rows = frame[frame["player_id"] == player_id]
    assert len(rows) == 1, player_id
    return rows.iloc[0].to_dict()


# ---- TOI --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [
    ("16:58", 1018), ("00:00", 0), ("65:00", 3900), ("65:12", 3912), ("07:21", 441),
    ("120:05", 7205)])
def test_toi_is_minutes_and_seconds_and_minutes_can_exceed_59(text: str, seconds: int) -> None:
    assert api.toi_seconds(text) == seconds


@pytest.mark.parametrize("text", ["16:5", "16:60", "1658", "-1:00", "16:58:00", " 16:58", "",
                                  None, 1018, "aa:bb"])
def test_a_malformed_toi_is_refused(text: object) -> None:
    with pytest.raises(ValueError):
        api.toi_seconds(text)  # type: ignore[arg-type]


# ---- boxscores: every row equals the payload ------------------------------------------

@pytest.fixture(params=BOXSCORES, ids=lambda p: p.name.split("_")[1])
def boxscore_file(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_there_are_four_real_boxscores() -> None:
    assert len(BOXSCORES) == 4


def test_game_fields_equal_the_payload(boxscore_file: Path) -> None:
    payload = load(boxscore_file)
    box = api.parse_boxscore(boxscore_file.read_bytes())
    game = box.game
    assert game.game_id == payload["id"]
    assert game.season == payload["season"]
    assert game.game_type == payload["gameType"] == 2
    assert game.slate_date == date.fromisoformat(payload["gameDate"])
    assert game.home_team == payload["homeTeam"]["abbrev"]
    assert game.away_team == payload["awayTeam"]["abbrev"]
    assert (game.home_score, game.away_score) == (payload["homeTeam"]["score"],
                                                  payload["awayTeam"]["score"])
    assert game.state == payload["gameState"] == "OFF"
    assert box.is_final
    # gameDate is the ET date of the UTC start (every sample starts in the ET evening)
    assert et_date(game.start_ts_utc) == game.slate_date
    assert game.start_ts_utc.tzinfo is None


def test_row_counts_equal_the_players_in_the_payload(boxscore_file: Path) -> None:
    payload = load(boxscore_file)
    box = api.parse_boxscore(boxscore_file.read_bytes())
    groups = [g for _, _, g, _ in payload_players(payload)]
    assert len(box.skaters) == sum(g != "goalies" for g in groups) == 36
    assert len(box.goalies) == groups.count("goalies") == 4
    assert len(box.players) == len(groups)
    assert box.players["player_id"].is_unique


def test_every_skater_and_goalie_value_equals_the_payload(boxscore_file: Path) -> None:
    payload = load(boxscore_file)
    box = api.parse_boxscore(boxscore_file.read_bytes())
    teams = {side: payload[side]["abbrev"] for side, _ in SIDES}
    for side, is_home, group, player in payload_players(payload):
        frame = box.goalies if group == "goalies" else box.skaters
        keys = GOALIE_KEYS if group == "goalies" else SKATER_KEYS
        row = row_of(frame, player["playerId"])
        assert row["game_id"] == payload["id"]
        assert row["team"] == teams[side]
        assert row["opponent"] == teams["homeTeam" if side == "awayTeam" else "awayTeam"]
        assert row["is_home"] == is_home
        assert row["toi_seconds"] == mmss(player["toi"])
        assert {col: row[col] for col in keys} == {col: player[key]
                                                   for col, key in keys.items()}
        person = row_of(box.players, player["playerId"])
        assert person == {"player_id": player["playerId"], "name": player["name"]["default"],
                          "position": player["position"], "team": teams[side]}


def test_skater_goals_add_up_to_the_score_except_the_shootout_goal(boxscore_file: Path
                                                                    ) -> None:
    """A shootout win adds one goal to the team's score that no skater is credited with.
    Empty-net goals are the team's shots no goalie faced: the goalies' shots against fall
    short of the opponent's shots on goal by exactly the goals they were not charged with."""
    payload = load(boxscore_file)
    box = api.parse_boxscore(boxscore_file.read_bytes())
    shootout = payload["gameOutcome"]["lastPeriodType"] == "SO"
    for side, is_home in SIDES:
        opponent = payload["awayTeam" if is_home else "homeTeam"]
        score = payload[side]["score"]
        shootout_goal = int(shootout and score > opponent["score"])
        goals = box.skaters.loc[box.skaters["is_home"] == is_home, "goals"].sum()
        assert goals == score - shootout_goal
        goalies = box.goalies[box.goalies["is_home"] == is_home]
        opponent_goals = box.skaters.loc[box.skaters["is_home"] != is_home, "goals"].sum()
        empty_net_goals = opponent_goals - goalies["goals_against"].sum()
        assert empty_net_goals >= 0
        assert opponent["sog"] - goalies["shots_against"].sum() == empty_net_goals


def test_one_starter_per_team_and_the_unused_backup_has_zero_toi(boxscore_file: Path) -> None:
    box = api.parse_boxscore(boxscore_file.read_bytes())
    for is_home in (False, True):
        team = box.goalies[box.goalies["is_home"] == is_home]
        assert team["starter"].sum() == 1
        backup = team[~team["starter"]].iloc[0]
        assert backup["toi_seconds"] == 0
        assert (backup["shots_against"], backup["saves"], backup["goals_against"]) == (0, 0, 0)


def test_named_players_of_the_shootout_game() -> None:
    box = api.parse_boxscore((FIXTURES / "boxscore_2023020032_CAR_at_LAK_2023-10-14_final.json"
                              ).read_bytes())
    staal = row_of(box.skaters, 8473533)
    assert (staal["team"], staal["opponent"], staal["is_home"], staal["position"]) == \
        ("CAR", "LAK", False, "C")
    assert (staal["goals"], staal["hits"], staal["toi_seconds"], staal["shifts"]) == \
        (0, 3, 16 * 60 + 58, 29)
    kempe = row_of(box.skaters, 8477960)
    assert (kempe["team"], kempe["is_home"], kempe["assists"], kempe["points"],
            kempe["sog"], kempe["toi_seconds"]) == ("LAK", True, 1, 1, 3, 22 * 60 + 22)
    andersen = row_of(box.goalies, 8475883)  # overtime + shootout: 65 minutes
    assert (andersen["toi_seconds"], andersen["shots_against"], andersen["saves"],
            andersen["goals_against"], andersen["starter"]) == (3900, 30, 25, 5, True)
    raanta = row_of(box.goalies, 8477293)
    assert (raanta["toi_seconds"], raanta["starter"]) == (0, False)
    assert row_of(box.players, 8475883)["name"] == "F. Andersen"
    assert row_of(box.players, 8475883)["position"] == "G"


def test_a_localised_name_keeps_its_default() -> None:
    box = api.parse_boxscore((FIXTURES / "boxscore_2023020034_CAR_at_ANA_2023-10-15_final.json"
                              ).read_bytes())
    assert row_of(box.players, 8480843)["name"] == "L. Dostal"  # cs/sk: "L. Dostál"


def test_a_goalie_with_00_00_and_a_played_backup_are_both_read() -> None:
    """Every sample's backup shows 00:00; a copy where the backup came in shows his TOI."""
    payload = load(BOXSCORES[0])
    backup = payload["playerByGameStats"]["awayTeam"]["goalies"][1]
    assert backup["toi"] == "00:00"
    box = api.parse_boxscore(dump(payload))
    assert row_of(box.goalies, backup["playerId"])["toi_seconds"] == 0
    backup.update(toi="12:34", shotsAgainst=7, saves=6, goalsAgainst=1)
    box = api.parse_boxscore(dump(payload))
    row = row_of(box.goalies, backup["playerId"])
    assert (row["toi_seconds"], row["shots_against"], row["saves"], row["goals_against"],
            row["starter"]) == (754, 7, 6, 1, False)


# ---- game states ------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "final"), [
    ("FUT", False), ("PRE", False), ("LIVE", False), ("CRIT", False), ("OFF", True),
    ("FINAL", True)])
def test_only_off_and_final_are_final(state: str, final: bool) -> None:
    payload = load(BOXSCORES[1])
    payload["gameState"] = state
    box = api.parse_boxscore(dump(payload))
    assert box.is_final is final
    assert box.game.state == state
    assert len(box.skaters) == 36  # the rows are read whatever the state; using them is not


def test_a_live_copy_of_a_final_boxscore_is_not_final() -> None:
    payload = load(BOXSCORES[2])
    assert api.parse_boxscore(dump(payload)).is_final
    payload["gameState"] = "LIVE"
    assert not api.parse_boxscore(dump(payload)).is_final


def test_a_pregame_boxscore_has_no_scores_and_empty_frames_with_every_column() -> None:
    payload = load(BOXSCORES[3])
    payload["gameState"] = "FUT"
    del payload["playerByGameStats"], payload["awayTeam"]["score"], payload["homeTeam"]["score"]
    box = api.parse_boxscore(dump(payload))
    assert not box.is_final
    assert (box.game.home_score, box.game.away_score) == (None, None)
    assert tuple(box.skaters.columns) == api.SKATER_COLUMNS and box.skaters.empty
    assert tuple(box.goalies.columns) == api.GOALIE_COLUMNS and box.goalies.empty
    assert tuple(box.players.columns) == api.PLAYER_COLUMNS and box.players.empty


def test_schedule_state_is_read_beside_the_game_state() -> None:
    """api-web's gameScheduleState (OK, PPD postponed, SUSP suspended, CNCL cancelled, TBD)
    is a field of its own: a postponed game keeps gameState FUT, so only this key says it
    will not be played. Postponed and cancelled games are called off; the others are not."""
    payload = load(SCHEDULE)
    games = api.parse_schedule(dump(payload))
    assert set(games["schedule_state"]) == {"OK"}
    for i, state in enumerate(("PPD", "CNCL", "SUSP", "TBD")):
        payload["gameWeek"][0]["games"][i]["gameScheduleState"] = state
    games = api.parse_schedule(dump(payload)).set_index("game_id")
    first = [g["id"] for g in payload["gameWeek"][0]["games"][:5]]
    assert list(games.loc[first, "schedule_state"]) == ["PPD", "CNCL", "SUSP", "TBD", "OK"]
    assert list(api.called_off(games.loc[first, "schedule_state"])) == [
        True, True, False, False, False]

    box_payload = load(BOXSCORES[3])
    assert api.parse_boxscore(dump(box_payload)).game.schedule_state == "OK"
    box_payload["gameState"], box_payload["gameScheduleState"] = "FUT", "PPD"
    del box_payload["playerByGameStats"]
    del box_payload["awayTeam"]["score"], box_payload["homeTeam"]["score"]
    box = api.parse_boxscore(dump(box_payload))
    assert box.game.schedule_state == "PPD" and box.game.is_called_off
    assert not box.is_final and box.skaters.empty


def test_a_missing_schedule_state_is_drift() -> None:
    payload = load(BOXSCORES[3])
    del payload["gameScheduleState"]
    with pytest.raises(SchemaDriftError, match="gameScheduleState"):
        api.parse_boxscore(dump(payload))


def test_a_live_boxscore_without_player_stats_is_drift() -> None:
    payload = load(BOXSCORES[3])
    payload["gameState"] = "LIVE"
    del payload["playerByGameStats"]
    with pytest.raises(SchemaDriftError, match="playerByGameStats"):
        api.parse_boxscore(dump(payload))


# ---- schedule ---------------------------------------------------------------------------

def test_schedule_has_every_game_of_the_week_in_payload_order() -> None:
    payload = load(SCHEDULE)
    games = api.parse_schedule(SCHEDULE.read_bytes())
    expected_ids = [g["id"] for day in payload["gameWeek"] for g in day["games"]]
    assert len(games) == payload["numberOfGames"] == 42
    assert list(games["game_id"]) == expected_ids
    assert games["game_id"].is_unique
    assert games["game_id"].iloc[0] == 2025010061
    assert set(games["season"]) == {20252026}
    assert set(games["game_type"]) == {1}  # all preseason: kept, and recognisable as such
    per_day = games.groupby("slate_date").size().to_dict()
    assert per_day[date(2025, 9, 29)] == 6 and per_day[date(2025, 10, 4)] == 11
    assert date(2025, 10, 5) not in per_day  # a day of the week without games


def test_schedule_evening_game_is_on_its_et_date_not_the_utc_date() -> None:
    games = api.parse_schedule(SCHEDULE.read_bytes()).set_index("game_id")
    late = games.loc[2025010060]  # CGY at SEA, 22:00 ET
    assert (late["away_team"], late["home_team"]) == ("CGY", "SEA")
    assert late["start_ts_utc"] == pd.Timestamp(datetime(2025, 9, 30, 2, 0))
    assert late["slate_date"] == date(2025, 9, 29)
    for slate_date, start in zip(games["slate_date"], games["start_ts_utc"], strict=True):
        assert et_date(start.to_pydatetime()) == slate_date


def test_schedule_scores_only_once_the_game_started() -> None:
    games = api.parse_schedule(SCHEDULE.read_bytes()).set_index("game_id")
    final = games.loc[2025010061]
    assert (final["state"], final["away_team"], final["away_score"], final["home_team"],
            final["home_score"]) == ("FINAL", "CAR", 3, "FLA", 4)
    assert games.loc[2025010062, "state"] == "LIVE"
    assert games.loc[2025010062, ["away_score", "home_score"]].tolist() == [2, 1]
    future = games[games["state"] == "FUT"]
    assert len(future) == 42 - 1 - 3
    assert future["home_score"].isna().all() and future["away_score"].isna().all()


# ---- the frames are the live schema -----------------------------------------------------

def table_columns(con, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def test_frame_columns_equal_the_tables_in_order(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "x.duckdb")
    try:
        box = api.parse_boxscore(BOXSCORES[0].read_bytes())
        games = api.parse_schedule(SCHEDULE.read_bytes())
        assert table_columns(con, "dim_games") == [*games.columns, "updated_ts_utc"]
        assert table_columns(con, "dim_games") == [*api.games_frame([box.game]).columns,
                                                   "updated_ts_utc"]
        assert table_columns(con, "dim_players") == [*box.players.columns, "updated_ts_utc"]
        assert table_columns(con, "fact_skater_games") == list(box.skaters.columns)
        assert table_columns(con, "fact_goalie_games") == list(box.goalies.columns)
    finally:
        con.close()


def test_the_frames_insert_into_the_tables(tmp_path: Path) -> None:
    """The dtypes are the tables' too: the frames go in through the one writer as they are."""
    con = db.connect(tmp_path / "x.duckdb")
    stamp = datetime(2025, 10, 1, 12, 0)
    try:
        games = api.parse_schedule(SCHEDULE.read_bytes()).assign(updated_ts_utc=stamp)
        assert db.insert_new_rows(con, "dim_games", games, ["game_id"]) == 42
        for path in BOXSCORES:
            box = api.parse_boxscore(path.read_bytes())
            db.insert_new_rows(con, "fact_skater_games", box.skaters, ["game_id", "player_id"])
            db.insert_new_rows(con, "fact_goalie_games", box.goalies, ["game_id", "player_id"])
            db.insert_new_rows(con, "dim_players", box.players.assign(updated_ts_utc=stamp),
                               ["player_id"])
        assert con.execute("SELECT count(*) FROM fact_skater_games").fetchone()[0] == 4 * 36
        assert con.execute("SELECT toi_seconds, starter FROM fact_goalie_games "
                           "WHERE game_id = 2023020032 AND player_id = 8475883"
                           ).fetchone() == (3900, True)
        assert con.execute("SELECT slate_date, start_ts_utc, home_score FROM dim_games "
                           "WHERE game_id = 2025010060").fetchone() == \
            (date(2025, 9, 29), datetime(2025, 9, 30, 2, 0), None)
    finally:
        con.close()


# ---- drift ------------------------------------------------------------------------------

def rename(node: dict, old: str, new: str) -> None:
    node[new] = node.pop(old)


def skater(payload: dict, index: int = 3) -> dict:
    return payload["playerByGameStats"]["homeTeam"]["forwards"][index]


@pytest.mark.parametrize(("change", "key"), [
    (lambda p: rename(skater(p), "sog", "shots"), "sog"),
    (lambda p: rename(skater(p), "blockedShots", "blocks"), "blockedShots"),
    (lambda p: rename(p["playerByGameStats"]["awayTeam"]["goalies"][0], "toi", "timeOnIce"),
     "toi"),
    (lambda p: rename(p, "playerByGameStats", "playerStats"), "playerByGameStats"),
    (lambda p: rename(p, "gameState", "state"), "gameState"),
    (lambda p: rename(p["homeTeam"], "abbrev", "triCode"), "abbrev"),
    (lambda p: rename(skater(p), "name", "fullName"), "name"),
    (lambda p: skater(p).update(toi="17"), "toi"),
    (lambda p: skater(p).update(toi="17:75"), "toi"),
    (lambda p: skater(p).update(goals="1"), "goals"),
    (lambda p: skater(p).update(goals=True), "goals"),
    (lambda p: p["playerByGameStats"]["awayTeam"]["goalies"][1].update(starter="no"),
     "starter"),
    (lambda p: p.update(startTimeUTC="tonight"), "startTimeUTC"),
    (lambda p: p.update(gameDate="14/10/2023"), "gameDate"),
], ids=["sog", "blockedShots", "goalie-toi", "playerByGameStats", "gameState", "abbrev",
        "name", "toi-no-colon", "toi-75s", "goals-text", "goals-bool", "starter-text",
        "startTimeUTC", "gameDate"])
def test_boxscore_drift_names_the_key_and_the_game(change, key: str) -> None:  # type: ignore[no-untyped-def]
    payload = load(BOXSCORES[0])
    change(payload)
    with pytest.raises(SchemaDriftError) as caught:
        api.parse_boxscore(dump(payload))
    message = str(caught.value)
    assert key in message and "2023020032" in message, message


def test_drift_error_gives_the_path_of_the_player() -> None:
    payload = load(BOXSCORES[0])
    rename(skater(payload, 3), "sog", "shots")
    with pytest.raises(SchemaDriftError, match=r"playerByGameStats\.homeTeam\.forwards\[3\]\.sog"):
        api.parse_boxscore(dump(payload))


GAME_LOG = {  # /v1/player/8473533/game-log/20232024/2 (the documented shape, one row)
    "seasonId": 20232024, "gameTypeId": 2,
    "playerStatsSeasons": [{"season": 20232024, "gameTypes": [2]}],
    "gameLog": [{"gameId": 2023020167, "teamAbbrev": "CAR", "homeRoadFlag": "R",
                 "gameDate": "2023-11-04", "goals": 0, "assists": 1, "points": 1,
                 "commonName": {"default": "Hurricanes"},
                 "opponentCommonName": {"default": "Islanders"}, "opponentAbbrev": "NYI",
                 "plusMinus": 1, "powerPlayGoals": 0, "powerPlayPoints": 0,
                 "gameWinningGoals": 0, "otGoals": 0, "shots": 2, "shifts": 22,
                 "shorthandedGoals": 0, "shorthandedPoints": 0, "pim": 2, "toi": "17:32"}],
}


def test_a_game_log_body_is_not_a_boxscore() -> None:
    with pytest.raises(SchemaDriftError, match="boxscore"):
        api.parse_boxscore(dump(GAME_LOG))


def test_a_boxscore_with_game_log_skater_rows_is_drift() -> None:
    """The game log names shots `shots` and has no blockedShots; mixed in, they are drift."""
    payload = load(BOXSCORES[2])
    row = copy.deepcopy(GAME_LOG["gameLog"][0])
    row.update(playerId=8473533, name={"default": "J. Staal"}, position="C")
    payload["playerByGameStats"]["awayTeam"]["forwards"][0] = row
    with pytest.raises(SchemaDriftError, match="sog"):
        api.parse_boxscore(dump(payload))


@pytest.mark.parametrize("body", [b"", b"   ", b"{not json", b'{"id": 1', b"[]", b"null"])
@pytest.mark.parametrize("parse", [api.parse_boxscore, api.parse_schedule])
def test_empty_truncated_or_non_object_bodies_are_drift(parse, body: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SchemaDriftError, match="<body>"):
        parse(body)


def test_schedule_drift_names_the_key_and_the_game() -> None:
    payload = load(SCHEDULE)
    rename(payload["gameWeek"][2]["games"][1], "startTimeUTC", "startTime")
    with pytest.raises(SchemaDriftError) as caught:
        api.parse_schedule(dump(payload))
    message = str(caught.value)
    assert "gameWeek[2].games[1].startTimeUTC" in message and "2025010074" in message
    payload = load(SCHEDULE)
    rename(payload, "gameWeek", "gameWeeks")
    with pytest.raises(SchemaDriftError, match="gameWeek"):
        api.parse_schedule(dump(payload))
    payload = load(SCHEDULE)
    payload["gameWeek"][0]["games"][0]["homeTeam"]["score"] = "4"
    with pytest.raises(SchemaDriftError, match=r"homeTeam\.score.*'4'"):
        api.parse_schedule(dump(payload))


def test_an_empty_week_is_an_empty_frame_with_every_column() -> None:
    games = api.parse_schedule(b'{"gameWeek": []}')
    assert games.empty and tuple(games.columns) == api.GAME_COLUMNS


# ---- the client against the demo emulator (loopback) ------------------------------------

def settings_for(base_url: str, home: Path) -> Settings:
    return load_settings({"OPS_HOME": str(home), "NHL_API_BASE_URL": base_url,
                          "HTTP_BACKOFF_SECONDS": "0", "HTTP_READ_TIMEOUT_SECONDS": "5"})


DEMO_DAY = date(2025, 10, 10)
NEXT_MORNING = datetime(2025, 10, 11, 15, 0)  # 11:00 ET: every game of DEMO_DAY is over


@pytest.mark.slow
def test_client_fetches_and_parses_a_schedule_and_a_final_boxscore(emulator, tmp_path: Path
                                                                   ) -> None:  # type: ignore[no-untyped-def]
    emulator.clear_faults()
    emulator.set_clock(NEXT_MORNING)
    logged: list[FetchAttempt] = []
    with api.open_client(settings_for(emulator.base_url, tmp_path), "run-1",
                         on_attempt=logged.append) as client:
        schedule_body = api.fetch_schedule(client, DEMO_DAY)
        games = api.parse_schedule(schedule_body)
        today = games[games["slate_date"] == DEMO_DAY]
        assert len(today) > 0 and set(today["state"]) == {"OFF"}
        game_id = int(today["game_id"].iloc[0])
        box = api.parse_boxscore(api.fetch_boxscore(client, game_id))
    assert box.is_final and box.game.game_id == game_id
    scheduled = today.iloc[0]
    assert (box.game.home_team, box.game.away_team, box.game.slate_date,
            box.game.home_score, box.game.away_score) == \
        (scheduled["home_team"], scheduled["away_team"], DEMO_DAY,
         scheduled["home_score"], scheduled["away_score"])
    assert len(box.skaters) > 0 and len(box.goalies) >= 2
    assert box.skaters.groupby("is_home")["goals"].sum().to_dict() == \
        {False: box.game.away_score, True: box.game.home_score}
    assert [(a.endpoint, a.status_code, a.attempt, a.run_id, a.vendor)
            for a in client.attempts] == [("schedule", 200, 1, "run-1", "NHL_API"),
                                          ("boxscore", 200, 1, "run-1", "NHL_API")]
    assert client.attempts[0].url_redacted.endswith(f"/v1/schedule/{DEMO_DAY.isoformat()}")
    assert client.attempts[1].url_redacted.endswith(f"/v1/gamecenter/{game_id}/boxscore")
    assert client.attempts[0].bytes == len(schedule_body)
    assert logged == client.attempts


@pytest.mark.slow
def test_client_live_boxscore_is_not_final_and_drift_is_caught(emulator, tmp_path: Path
                                                               ) -> None:  # type: ignore[no-untyped-def]
    emulator.clear_faults()
    game = emulator.league.games_on(DEMO_DAY)[0]
    emulator.set_clock(game.start_utc + timedelta(minutes=70))
    with api.open_client(settings_for(emulator.base_url, tmp_path)) as client:
        live = api.parse_boxscore(api.fetch_boxscore(client, game.game_id))
        assert live.game.state == "LIVE" and not live.is_final
        emulator.set_fault("nhl_boxscore", "schema_drift", count=1)
        drifted = api.fetch_boxscore(client, game.game_id)
    emulator.clear_faults()
    with pytest.raises(SchemaDriftError, match="playerByGameStats"):
        api.parse_boxscore(drifted)
    assert [a.status_code for a in client.attempts] == [200, 200]
