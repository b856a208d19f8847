"""Step 4 end to end in-process against the demo emulator: a slate captured in the morning
and before puck drop, graded the next morning; grades against the emulator's truth, pushes
and voids, CLV, idempotency, and accuracy of both model versions and the market."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import requests

from helpers.core import db
from helpers.core.slate import Slate
from helpers.ev.step import run_ev
from helpers.grading.step import run_outcomes
from helpers.model.production import run_production
from helpers.odds.capture import capture

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

SLATE = date(2025, 12, 1)
MORNING = datetime(2025, 12, 1, 15, 0)
PRE_GAME = datetime(2025, 12, 1, 22, 30)
NEXT_MORNING = datetime(2025, 12, 2, 15, 0)
STAT = {"GOALS": "goals", "ASSISTS": "assists", "POINTS": "points", "SOG": "sog",
        "BLOCKS": "blocks"}


def test_a_slate_is_graded_against_the_truth_with_clv_and_a_rerun_changes_nothing(
        warm_home) -> None:
    emu, home = warm_home  # the morning's capture and the season's stats
    settings = emu.settings(home, MODEL_CHALLENGERS="eb-season")
    con = db.connect(settings.paths.db_path)
    run_production(con, settings, Slate(SLATE, MORNING), "morning")
    run_ev(con, settings, Slate(SLATE, MORNING), "morning")
    # EV run again on the slate (a repair): its bets are the slate's bets, graded once
    run_ev(con, settings, Slate(SLATE, MORNING), "morning-rerun")
    emu.set_clock(PRE_GAME)
    capture(con, settings, PRE_GAME, run_id="pre-game")
    emu.set_clock(NEXT_MORNING)
    result = run_outcomes(con, settings, Slate(date(2025, 12, 2), NEXT_MORNING), "next")
    assert result.status == "success", result.summary()
    assert result.games["graded"].all() and len(result.games) > 3

    # every outcome equals the emulator's game truth (a scratch: no stat, VOID)
    mismatches = 0
    for game_id, part in result.outcomes.groupby("game_id"):
        truth = requests.get(f"{emu.base_url}/_emulator/truth/games/{game_id}",
                             timeout=30).json()
        skaters = {p["player_id"]: p for p in truth["skaters"]}
        for row in part.itertuples():
            p = skaters.get(row.player_id)
            expected = p[STAT[row.market_type]] if p and p["dressed"] else None
            got = None if pd.isna(row.actual) else int(row.actual)
            mismatches += expected != got
    assert mismatches == 0 and len(result.outcomes) > 500

    results = result.results
    counts = results["result"].value_counts()
    assert counts["PUSH"] > 0 and counts["VOID"] > 0 and counts["WIN"] > 0
    assert result.pending_bets == 0
    # CLV: the pre-game capture is the close of the morning's prices
    assert (results["closing_capture_ts_utc"] == pd.Timestamp(PRE_GAME)).mean() > 0.9
    with_close = results[results["closing_odds_decimal"].notna()]
    recomputed = with_close["odds_decimal"] / with_close["closing_odds_decimal"] - 1
    assert (recomputed - with_close["clv"]).abs().max() < 1e-12
    assert (with_close["clv"] != 0).mean() > 0.2  # prices moved between the captures

    stored = con.execute("SELECT count(*) FROM fact_bet_results").fetchall()[0][0]
    assert stored == len(results)
    # graded once: only the newest EV run's mapped candidates, one eligible row per bet
    assert set(results["candidate_run_id"]) == {"morning-rerun"}
    mapped = con.execute("SELECT count(*) FROM fact_ev_candidates WHERE run_id = "
                         "'morning-rerun' AND game_id IS NOT NULL AND player_id IS NOT NULL"
                         ).fetchall()[0][0]
    assert stored == mapped
    bets = results[results["is_eligible"]]
    assert len(bets) > 100 and not bets.duplicated(
        ["book_name", "game_id", "player_id", "market_type", "line", "side"]).any()
    assert bets["p_price"].notna().all() and bets["ev_model"].notna().all()
    # accuracy: both versions and the market scored on the graded props
    assert set(result.sources) == {"p10-nhlapi", "eb-season", "market"}
    assert result.scored["y"].isin([0, 1]).all() and len(result.scored) > 1000

    # a rerun adds nothing and corrects nothing
    again = run_outcomes(con, settings, Slate(date(2025, 12, 2), NEXT_MORNING), "next-again")
    assert len(again.corrections) == 0
    assert con.execute("SELECT count(*) FROM fact_bet_results").fetchall()[0][0] == stored
    assert con.execute("SELECT count(*) FROM fact_outcome_corrections").fetchall()[0][0] == 0
    con.close()


def test_an_absurd_closing_quote_is_not_the_close(warm_home) -> None:
    """The pre-game board carries ten Unabated GOALS overs at +100000 (the emulator's
    absurd_price fault). EV would gate such a price; the close must skip it too, or one
    stray zero turns a bet's CLV into -99.9 %. The close of those props is the last sane
    quote before puck drop: the morning's."""
    from helpers.ev.candidates import MAX_DECIMAL_PRICE

    emu, home = warm_home
    settings = emu.settings(home)
    con = db.connect(settings.paths.db_path)
    run_production(con, settings, Slate(SLATE, MORNING), "morning")
    run_ev(con, settings, Slate(SLATE, MORNING), "morning")
    emu.set_clock(PRE_GAME)
    emu.set_fault("unabated", "absurd_price", count=1)
    try:
        capture(con, settings, PRE_GAME, run_id="pre-game")
    finally:
        emu.clear_faults()
    absurd = con.execute(
        "SELECT book_name_raw, event_id_vendor, player_id_vendor, line FROM fact_prop_odds "
        "WHERE capture_ts_utc = ? AND odds_decimal > ? AND source_vendor = 'UNABATED'",
        [PRE_GAME, MAX_DECIMAL_PRICE]
    ).df().rename(columns={"book_name_raw": "book_name",
                           "player_id_vendor": "player_key_vendor"})
    assert len(absurd) == 10
    emu.set_clock(NEXT_MORNING)
    result = run_outcomes(con, settings, Slate(date(2025, 12, 2), NEXT_MORNING), "next")
    results = result.results
    assert results["closing_odds_decimal"].dropna().le(MAX_DECIMAL_PRICE).all()
    hit = results[results["side"].eq("OVER") & results["market_type"].eq("GOALS")].merge(
        absurd, on=["book_name", "event_id_vendor", "player_key_vendor", "line"])
    assert len(hit) > 0
    assert (hit["closing_capture_ts_utc"] == pd.Timestamp(MORNING)).all()
    assert hit["clv"].abs().lt(0.5).all()
    con.close()
