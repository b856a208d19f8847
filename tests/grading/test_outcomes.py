"""helpers.grading.outcomes on a real final boxscore (SJS at CAR, 2024-12-10; the stats
below were read off the payload by hand) and by hand: grades, pushes, voids, pending."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.core import db
from helpers.grading.outcomes import clv, grade, over_hit, prop_outcomes
from helpers.grading.step import _write_outcomes
from helpers.nhl.api import parse_boxscore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nhl_api"
GAME = 2024020448
KUNIN, AHO, GOSTISBEHERE, STAAL = 8479316, 8478427, 8476906, 8473533
NOT_DRESSED = 8470000  # priced, but not in the boxscore


@pytest.fixture(scope="module")
def skaters() -> pd.DataFrame:
    body = (FIXTURES / "boxscore_2024020448_SJS_at_CAR_2024-12-10_final.json").read_bytes()
    return parse_boxscore(body).skaters


def props(*players: int) -> pd.DataFrame:
    return pd.DataFrame([(GAME, p, m) for p in players
                         for m in ("GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS")],
                        columns=["game_id", "player_id", "market_type"])


def test_outcomes_equal_the_boxscore(skaters) -> None:
    out = prop_outcomes(props(KUNIN, AHO, GOSTISBEHERE, STAAL), skaters, {GAME})
    got = {(r.player_id, r.market_type): int(r.actual) for r in out.itertuples()}
    # hand-read from the payload: goals, assists, points, sog, blockedShots
    expected = {KUNIN: (2, 0, 2, 2, 0), AHO: (0, 1, 1, 2, 1), GOSTISBEHERE: (1, 0, 1, 3, 3),
                STAAL: (0, 0, 0, 2, 2)}
    for player, stats in expected.items():
        for market, value in zip(("GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS"), stats,
                                 strict=True):
            assert got[(player, market)] == value, (player, market)


def test_a_player_who_did_not_dress_has_no_stat_and_his_bets_are_void(skaters) -> None:
    out = prop_outcomes(props(AHO, NOT_DRESSED), skaters, {GAME})
    assert out.loc[out["player_id"] == NOT_DRESSED, "actual"].isna().all()
    bets = pd.DataFrame({"game_id": [GAME, GAME], "player_id": [NOT_DRESSED, AHO],
                         "market_type": ["SOG", "SOG"], "line": [1.5, 1.5],
                         "side": ["OVER", "OVER"], "odds_decimal": [1.9, 1.9]})
    graded = grade(bets, out)
    assert list(graded["result"]) == ["VOID", "WIN"]
    assert list(graded["profit_units"]) == pytest.approx([0.0, 0.9])


def test_a_game_not_final_grades_nothing(skaters) -> None:
    out = prop_outcomes(props(AHO), skaters, final_game_ids=set())
    assert out.empty
    bets = pd.DataFrame({"game_id": [GAME], "player_id": [AHO], "market_type": ["SOG"],
                         "line": [1.5], "side": ["OVER"], "odds_decimal": [1.9]})
    graded = grade(bets, out)
    assert list(graded["result"]) == ["PENDING"] and graded["profit_units"].isna().all()


def test_grades_by_hand_win_loss_push() -> None:
    outcomes = pd.DataFrame({"game_id": [1], "player_id": [7], "market_type": ["SOG"],
                             "actual": pd.array([3], dtype="Int64")})
    bets = pd.DataFrame({"game_id": [1] * 5, "player_id": [7] * 5, "market_type": ["SOG"] * 5,
                         "line": [2.5, 2.5, 3.0, 3.0, 3.5],
                         "side": ["OVER", "UNDER", "OVER", "UNDER", "OVER"],
                         "odds_decimal": [2.0, 1.8, 2.5, 1.6, 3.0]})
    graded = grade(bets, outcomes)
    assert list(graded["result"]) == ["WIN", "LOSS", "PUSH", "PUSH", "LOSS"]
    assert list(graded["profit_units"]) == pytest.approx([1.0, -1.0, 0.0, 0.0, -1.0])


def test_over_hit_and_clv_by_hand() -> None:
    y = over_hit(pd.Series([0, 1, 2, 3]), pd.Series([0.5, 0.5, 2.0, 2.5]))
    assert list(y) == [0, 1, 0, 1]  # 2 on line 2.0 is a push, not an over
    assert list(clv(pd.Series([2.1, 1.9]), pd.Series([2.0, 2.0]))) == pytest.approx([0.05, -0.05])


def test_a_stat_correction_replaces_the_outcome_and_is_logged(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    first = pd.DataFrame({"game_id": [1, 1], "player_id": [7, 8], "market_type": ["SOG"] * 2,
                          "actual": pd.array([3, None], dtype="Int64")})
    now = pd.Timestamp("2025-12-02 15:00").to_pydatetime()
    assert _write_outcomes(con, first, now, "r1").empty
    assert _write_outcomes(con, first, now, "r2").empty      # a rerun: nothing changed
    corrected = first.assign(actual=pd.array([4, 1], dtype="Int64"))
    later = pd.Timestamp("2025-12-03 15:00").to_pydatetime()
    changed = _write_outcomes(con, corrected, later, "r3")
    assert len(changed) == 2
    assert con.execute("SELECT player_id, actual FROM fact_prop_outcomes ORDER BY 1"
                       ).fetchall() == [(7, 4), (8, 1)]
    assert con.execute("SELECT player_id, old_actual, new_actual, run_id FROM "
                       "fact_outcome_corrections ORDER BY 1").fetchall() == [
        (7, 3, 4, "r3"), (8, None, 1, "r3")]
    con.close()




def test_bets_on_a_called_off_game_are_void_whatever_its_boxscore_says() -> None:
    """A game postponed or cancelled for the bet's slate: every bet on it is VOID (stake
    back), even when a boxscore of that game id has a final stat (a rescheduled game is a
    new game for the bets of the old date) or none at all (not played: never pending)."""
    outcomes = pd.DataFrame({"game_id": [1], "player_id": [7], "market_type": ["SOG"],
                             "actual": pd.array([3], dtype="Int64")})
    bets = pd.DataFrame({"game_id": [1, 1, 2], "player_id": [7, 7, 8],
                         "market_type": ["SOG"] * 3, "line": [2.5, 2.5, 1.5],
                         "side": ["OVER", "OVER", "UNDER"], "odds_decimal": [2.0, 2.0, 1.8]})
    graded = grade(bets, outcomes, called_off=pd.Series([True, False, True]))
    assert list(graded["result"]) == ["VOID", "WIN", "VOID"]
    assert list(graded["profit_units"]) == pytest.approx([0.0, 1.0, 0.0])
    assert graded["actual"].isna().tolist() == [True, False, True]
