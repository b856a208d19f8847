"""NHL api-web payloads: real-sample shape, clock states, consistency with the truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from demo_shape import compare, shape

from helpers.demo import GAME_LENGTH
from helpers.demo.render_nhl import render_boxscore, render_schedule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nhl_api"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _reference_boxscores() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(FIXTURES.glob("boxscore_*_final.json"))]


# `name` objects carry language variants; the reference shows cs/fi/sk on goalies only, the
# real api-web uses them for any player.
LANGUAGES = frozenset({"cs", "fi", "sk"})


def _merged(values: list) -> object:
    merged = None
    for v in values:
        merged = shape(v, merged)
    return merged


def _mid_game_clock(league):
    """A moment with final, live and future games in the same week."""
    game = league.games[200]
    return game.start_utc + timedelta(minutes=40), game


def test_schedule_has_the_real_shape(league):
    now, game = _mid_game_clock(league)
    ours = json.loads(render_schedule(league, now, game.slate_date - timedelta(days=2)))
    states = {g["gameState"] for d in ours["gameWeek"] for g in d["games"]}
    assert states == {"OFF", "LIVE", "FUT"}
    ref = shape(_load("schedule_2025-09-29.json"))
    assert compare(shape(ours), ref) == []


def test_final_boxscores_have_the_real_shape(league):
    now = league.games[60].end_utc + timedelta(hours=1)
    ours = _merged([json.loads(render_boxscore(league, now, g.game_id))
                    for g in league.games[:60]])
    ref = _merged(_reference_boxscores())
    assert compare(ours, ref, allow_extra=LANGUAGES) == []


def test_live_boxscore_player_stats_have_the_real_shape(league):
    now, game = _mid_game_clock(league)
    live = json.loads(render_boxscore(league, now, game.game_id))
    assert live["gameState"] == "LIVE"
    ref_full = _merged(_reference_boxscores())
    assert set(live) <= set(ref_full.keys)
    ref = _merged([b["playerByGameStats"] for b in _reference_boxscores()])
    assert compare(shape(live["playerByGameStats"]), ref, allow_extra=LANGUAGES) == []


def _skaters(box: dict, side: str) -> list[dict]:
    stats = box["playerByGameStats"][side]
    return stats["forwards"] + stats["defense"]


@pytest.mark.parametrize("offset", [timedelta(minutes=20), timedelta(minutes=90),
                                    GAME_LENGTH - timedelta(seconds=1), GAME_LENGTH,
                                    timedelta(days=3)])
def test_boxscore_totals_are_consistent(league, offset):
    for game in league.games[100:112]:
        box = json.loads(render_boxscore(league, game.start_utc + offset, game.game_id))
        for side, opp in (("awayTeam", "homeTeam"), ("homeTeam", "awayTeam")):
            skaters = _skaters(box, side)
            assert box[side]["score"] == sum(p["goals"] for p in skaters)
            assert box[side]["sog"] == sum(p["sog"] for p in skaters)
            assert all(p["points"] == p["goals"] + p["assists"] for p in skaters)
            assert all(p["sog"] >= p["goals"] >= p["powerPlayGoals"] for p in skaters)
            assert sum(p["assists"] for p in skaters) <= 2 * box[side]["score"]
            starters = [g for g in box["playerByGameStats"][opp]["goalies"] if g["starter"]]
            assert len(starters) == 1
            goalie = starters[0]
            assert goalie["goalsAgainst"] == box[side]["score"]
            assert goalie["shotsAgainst"] == box[side]["sog"]
            assert goalie["saves"] == goalie["shotsAgainst"] - goalie["goalsAgainst"]
            assert goalie["saveShotsAgainst"] == f"{goalie['saves']}/{goalie['shotsAgainst']}"
            assert len(skaters) == 18
            assert all(len(p["toi"]) == 5 and p["toi"][2] == ":" for p in skaters)


def test_final_boxscore_never_changes_and_matches_truth(league):
    game = league.games[150]
    at_end = render_boxscore(league, game.end_utc, game.game_id)
    later = render_boxscore(league, game.end_utc + timedelta(days=40), game.game_id)
    assert at_end == later
    box = json.loads(at_end)
    assert box["gameState"] == "OFF"
    assert (box["awayTeam"]["score"], box["homeTeam"]["score"]) == (game.away_score,
                                                                    game.home_score)
    sk = league.skaters
    truth = {}
    for side in (0, 1):
        for slot in range(21):
            if sk.dressed[game.index, side, slot]:
                pid = league.players[int(sk.player[game.index, side, slot])].player_id
                truth[pid] = (int(sk.goals[game.index, side, slot]),
                              int(sk.assists[game.index, side, slot]),
                              int(sk.sog[game.index, side, slot]),
                              int(sk.blocks[game.index, side, slot]))
    got = {p["playerId"]: (p["goals"], p["assists"], p["sog"], p["blockedShots"])
           for side in ("awayTeam", "homeTeam") for p in _skaters(box, side)}
    assert got == truth


def test_states_follow_the_clock(league):
    game = league.games[300]
    before = json.loads(render_boxscore(league, game.start_utc - timedelta(minutes=1),
                                        game.game_id))
    assert before["gameState"] == "FUT"
    assert "playerByGameStats" not in before and "score" not in before["awayTeam"]
    final = json.loads(render_boxscore(league, game.end_utc, game.game_id))
    previous_goals = -1
    for minutes in range(0, 150, 10):
        now = game.start_utc + timedelta(minutes=minutes)
        box = json.loads(render_boxscore(league, now, game.game_id))
        assert box["gameState"] == "LIVE"  # in progress: never OFF
        assert "gameOutcome" not in box
        goals = box["awayTeam"]["score"] + box["homeTeam"]["score"]
        assert goals >= previous_goals
        previous_goals = goals
        for side in ("awayTeam", "homeTeam"):
            for live_p, final_p in zip(_skaters(box, side), _skaters(final, side), strict=True):
                assert live_p["sog"] <= final_p["sog"]
                assert live_p["toi"] <= final_p["toi"] or minutes == 0
    assert final["gameState"] == "OFF"
    week = json.loads(render_schedule(league, game.start_utc + timedelta(minutes=5),
                                      game.slate_date))
    state = {g["id"]: g["gameState"] for d in week["gameWeek"] for g in d["games"]}
    assert state[game.game_id] == "LIVE"
    assert all(s == "FUT" for gid, s in state.items()
               if league.game_by_id[gid].start_utc > game.start_utc + timedelta(minutes=5))


def test_schedule_week_dates_and_late_games(league):
    start = league.season_start + timedelta(days=40)  # November: EST
    now = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    week = json.loads(render_schedule(league, now, start))
    assert [d["date"] for d in week["gameWeek"]] == [
        (start + timedelta(days=i)).isoformat() for i in range(7)]
    assert week["numberOfGames"] == sum(len(d["games"]) for d in week["gameWeek"])
    late = [g for d in week["gameWeek"] for g in d["games"]
            if g["startTimeUTC"][:10] != d["date"]]
    assert late, "evening ET games must start on the next UTC date"
    assert all(g["easternUTCOffset"] == "-05:00" for d in week["gameWeek"] for g in d["games"])
    assert all("score" not in g["homeTeam"] for d in week["gameWeek"] for g in d["games"])


def test_unknown_game_is_none(league):
    assert render_boxscore(league, datetime(2025, 12, 1, tzinfo=UTC), 2025029999) is None


def test_identical_inputs_give_identical_bytes(league):
    now, game = _mid_game_clock(league)
    assert render_schedule(league, now, game.slate_date) == render_schedule(league, now,
                                                                            game.slate_date)
    assert render_boxscore(league, now, game.game_id) == render_boxscore(league, now,
                                                                         game.game_id)


def test_shape_comparer_can_fail():
    ref = shape({"a": 1, "b": [{"c": "x", "d": None}]})
    assert compare(shape({"a": 2, "b": [{"c": "y", "d": None}]}), ref) == []
    assert compare(shape({"a": 1.5, "b": []}), ref)  # int became float
    assert compare(shape({"b": [{"c": "x", "d": None}]}), ref)  # key missing
    assert compare(shape({"a": 1, "b": [{"c": "x", "d": None, "e": 1}]}), ref)  # extra key
    assert compare(shape({"a": 1, "b": [{"c": 3, "d": None}]}), ref)  # nested type
