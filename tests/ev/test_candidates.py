"""helpers.ev.candidates on hand-built frames: every gate's reason, the funnel, fair and
consensus probabilities, EV and Kelly by hand, same-name players, suspicion flags."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers.core.markets import MARKETS
from helpers.ev.blend import PRIOR, Blend
from helpers.ev.candidates import GATES, Gates, ev_candidates, funnel

AS_OF = datetime(2025, 12, 1, 15, 0)
START = datetime(2025, 12, 2, 0, 0)       # 9 hours after as_of
GATES_DEFAULT = Gates(freshness_minutes=90, start_grace_minutes=0, min_edge=0.02,
                      min_market_edge=0.0, exclude_book_types=frozenset({"DFS", "DERIVED"}),
                      exclude_markets=frozenset())


def odds_row(**over) -> dict:
    row = {"source_vendor": "UNABATED", "event_id_vendor": "e1", "player_key_vendor": "p1",
           "player_name_raw": "Sebastian Aho", "book_id_vendor": "1", "book_name": "DraftKings",
           "book_type": "SPORTSBOOK", "market_type": "SOG", "line": 2.5, "side": "OVER",
           "capture_ts_utc": AS_OF, "odds_decimal": 2.0, "odds_american": 100,
           "is_live": False, "vendor_outcome_key": None, "event_start_ts_utc": START,
           "game_id": 10, "player_id": 100, "mapping_confidence": 1.0}
    row.update(over)
    return row


def snapshot(*rows) -> pd.DataFrame:
    cols = ["game_id", "player_id", "market_type", "line", "p_over", "p_under", "p_push",
            "games_used"]
    return pd.DataFrame(list(rows), columns=cols)


GAMES = pd.DataFrame({"game_id": [10], "start_ts_utc": [START], "state": ["FUT"]})
SNAP = snapshot((10, 100, "SOG", 2.5, 0.60, 0.40, 0.0, 30),
                (10, 101, "SOG", 2.5, 0.30, 0.70, 0.0, 30),
                (10, 100, "SOG", 3.0, 0.40, 0.45, 0.15, 30))


# A blend that is the model alone (coefficient 1 on its logit): p_price = p_model, so the
# arithmetic below is the model's; the consensus-only prior is tested apart.
MODEL_ONLY = {m: Blend(m, "fitted", np.array([0.0, 1.0, 0.0]), 0, 0) for m in MARKETS}
CONSENSUS_ONLY = {m: Blend(m, "prior", PRIOR.copy(), 0, 0) for m in MARKETS}


def run(rows, snap=SNAP, games=GAMES, gates=GATES_DEFAULT, snapshot_ts=AS_OF, as_of=AS_OF,
        blends=MODEL_ONLY):
    return ev_candidates(pd.DataFrame(rows), snap, games, snapshot_ts_utc=snapshot_ts,
                         as_of=as_of, gates=gates, blends=blends)


def test_ev_fair_consensus_and_kelly_by_hand() -> None:
    rows = [odds_row(odds_decimal=2.0), odds_row(side="UNDER", odds_decimal=1.8),
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=1.7),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=2.2)]
    out = run(rows)
    dk_over = out.iloc[0]
    dk_fair = (1 / 2.0) / (1 / 2.0 + 1 / 1.8)
    fd_fair = (1 / 1.7) / (1 / 1.7 + 1 / 2.2)
    assert dk_over["p_model"] == 0.60
    assert dk_over["p_price"] == pytest.approx(0.60)
    assert dk_over["ev"] == pytest.approx(0.60 * 2.0 - 1)                    # 0.20
    assert dk_over["ev_model"] == pytest.approx(0.60 * 2.0 - 1)
    assert dk_over["p_implied"] == pytest.approx(0.5)
    assert dk_over["p_fair"] == pytest.approx(dk_fair)
    # consensus: median of the two books' fair over p (0.519: the price at 2.0 beats it)
    assert dk_over["p_consensus"] == pytest.approx((dk_fair + fd_fair) / 2)
    assert dk_over["n_consensus_books"] == 2
    assert dk_over["kelly_fraction"] == pytest.approx((1.0 * 0.6 - 0.4) / 1.0)
    assert dk_over["stake_fraction"] == pytest.approx(0.25 * dk_over["kelly_fraction"])
    assert dk_over["ev_market"] == pytest.approx(dk_over["p_consensus"] * 2.0 - 1)
    assert bool(dk_over["is_eligible"]) and dk_over["exclusion_reason"] is None
    # the under at 1.8 with p 0.4: negative EV, below the edge
    assert out.iloc[1]["ev"] == pytest.approx(0.4 * 1.8 - 1)
    assert out.iloc[1]["exclusion_reason"] == "below_min_edge"
    assert out.iloc[1]["kelly_fraction"] == 0.0


def test_a_push_on_an_integer_line_enters_ev_and_the_market_side() -> None:
    out = run([odds_row(line=3.0, odds_decimal=2.6), odds_row(line=3.0, side="UNDER",
                                                               odds_decimal=1.55)])
    over = out.iloc[0]
    assert over["p_push"] == 0.15
    assert over["ev"] == pytest.approx(0.40 * 1.6 - 0.45)        # win 0.40, lose 0.45
    fair = (1 / 2.6) / (1 / 2.6 + 1 / 1.55)
    assert over["ev_market"] == pytest.approx(fair * 0.85 * 1.6 - (1 - fair) * 0.85)


@pytest.mark.parametrize(("change", "reason"), [
    ({"game_id": None}, "unmapped_event"),
    ({"player_id": None}, "unmapped_player"),
    ({"line": 5.5}, "no_probability"),
    ({"is_live": True}, "live"),
    ({"event_start_ts_utc": AS_OF - timedelta(minutes=5), "game_id": 11}, "started"),
    ({"capture_ts_utc": AS_OF - timedelta(minutes=91)}, "stale_odds"),
    ({"book_type": "DFS"}, "book_type_excluded"),
    ({"odds_decimal": 1.5}, "below_min_edge"),
])
def test_each_gate_excludes_with_its_reason(change: dict, reason: str) -> None:
    snap = pd.concat([SNAP, snapshot((11, 100, "SOG", 2.5, 0.60, 0.40, 0.0, 30))])
    games = pd.concat([GAMES, pd.DataFrame({"game_id": [11], "start_ts_utc": [
        AS_OF - timedelta(minutes=5)], "state": ["FUT"]})])
    # a second book prices the prop so the market gate has a consensus that agrees
    helper = odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=1.6)
    helper_under = odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER",
                            odds_decimal=2.4)
    out = run([odds_row(**change), helper, helper_under], snap=snap, games=games)
    assert out.iloc[0]["exclusion_reason"] == reason
    assert not out.iloc[0]["is_eligible"]


def test_the_market_gate_needs_the_consensus_to_agree() -> None:
    # the model says 0.60 at 2.0 (EV +20%) but both books' fair p is below 0.5
    rows = [odds_row(odds_decimal=2.0), odds_row(side="UNDER", odds_decimal=1.7),
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=2.1),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=1.7)]
    out = run(rows)
    assert out.iloc[0]["ev"] > 0.02 and out.iloc[0]["ev_market"] < 0
    assert out.iloc[0]["exclusion_reason"] == "market_disagrees"
    off = Gates(**{**GATES_DEFAULT.__dict__, "min_market_edge": -1.0})
    assert bool(run(rows, gates=off).iloc[0]["is_eligible"])


def test_a_prop_with_no_consensus_is_not_priced() -> None:
    # an over-only price (no pair): no fair p, no consensus, nothing to price against
    out = run([odds_row(odds_decimal=2.0)])
    assert out.iloc[0]["p_consensus"] != out.iloc[0]["p_consensus"]  # NaN
    assert pd.isna(out.iloc[0]["p_price"]) and pd.isna(out.iloc[0]["ev"])
    assert out.iloc[0]["ev_model"] == pytest.approx(0.20)   # the model's claim, kept apart
    assert out.iloc[0]["exclusion_reason"] == "no_consensus"


def test_the_prior_prices_at_the_consensus() -> None:
    # the consensus-only prior: p_price is the consensus, so EV is the market EV
    rows = [odds_row(odds_decimal=2.1), odds_row(side="UNDER", odds_decimal=1.8),
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=1.9),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=2.0)]
    out = run(rows, blends=CONSENSUS_ONLY)
    assert np.allclose(out["p_price"], out["p_consensus"])
    assert np.allclose(out["ev"], out["ev_market"])
    assert set(out["price_method"]) == {"prior"}
    assert out.iloc[0]["ev_model"] == pytest.approx(0.60 * 2.1 - 1)


def test_leaving_the_book_out_prices_each_book_against_the_others() -> None:
    rows = [odds_row(odds_decimal=2.0), odds_row(side="UNDER", odds_decimal=1.8),
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=1.7),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=2.2)]
    loo = Gates(**{**GATES_DEFAULT.__dict__, "leave_book_out": True})
    out = run(rows, gates=loo)
    dk_fair = (1 / 2.0) / (1 / 2.0 + 1 / 1.8)
    fd_fair = (1 / 1.7) / (1 / 1.7 + 1 / 2.2)
    assert out.iloc[0]["p_consensus"] == pytest.approx(fd_fair)   # DraftKings vs FanDuel
    assert out.iloc[2]["p_consensus"] == pytest.approx(dk_fair)   # FanDuel vs DraftKings
    assert list(out["n_consensus_books"]) == [1, 1, 1, 1]
    # alone on a prop, a book has no one to be held to
    alone = run(rows[:2], gates=loo)
    assert set(alone["exclusion_reason"]) == {"no_consensus"}


def test_the_same_bet_through_two_vendors_is_one_eligible_row() -> None:
    # DraftKings' over at 2.0 seen on Unabated and on OddsShark (other vendor keys), plus
    # FanDuel's pair for a consensus: one bet at DraftKings, the fresher capture kept
    later = AS_OF + timedelta(minutes=5)
    rows = [odds_row(odds_decimal=2.0), odds_row(side="UNDER", odds_decimal=1.8),
            odds_row(source_vendor="ODDSSHARK", player_key_vendor="Aho|", book_id_vendor=None,
                     capture_ts_utc=later, odds_decimal=2.0),
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=1.75),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=2.1)]
    out = run(rows, snapshot_ts=later)
    dk_over = out[(out["book_name"] == "DraftKings") & (out["side"] == "OVER")]
    assert list(dk_over["exclusion_reason"].fillna("eligible")) == ["duplicate_bet",
                                                                    "eligible"]
    assert dk_over.iloc[1]["source_vendor"] == "ODDSSHARK"
    assert int(out["is_eligible"].sum()) == 1 + int(out.loc[out["book_name"] == "FanDuel",
                                                            "is_eligible"].sum())
    # without the duplicate the eligible count is the same: it only collapses rows
    assert int(run([r for i, r in enumerate(rows) if i != 2])["is_eligible"].sum()) == \
        int(out["is_eligible"].sum())


def test_a_book_shown_by_two_vendors_votes_once_and_dfs_never() -> None:
    rows = [odds_row(odds_decimal=2.0), odds_row(side="UNDER", odds_decimal=1.8),
            odds_row(source_vendor="ODDSSHARK", odds_decimal=2.0, player_key_vendor="Aho|"),
            odds_row(source_vendor="ODDSSHARK", side="UNDER", odds_decimal=1.8,
                     player_key_vendor="Aho|"),
            odds_row(book_id_vendor="73", book_name="Underdog", book_type="DFS",
                     odds_decimal=1.82),
            odds_row(book_id_vendor="73", book_name="Underdog", book_type="DFS",
                     side="UNDER", odds_decimal=1.82)]
    out = run(rows)
    assert set(out["n_consensus_books"]) == {1}


def test_same_name_players_keep_their_own_probability() -> None:
    rows = [odds_row(player_key_vendor="a", player_id=100),
            odds_row(player_key_vendor="b", player_id=101)]
    out = run(rows)
    assert list(out["player_name_raw"].unique()) == ["Sebastian Aho"]
    assert list(out["p_model"]) == [0.60, 0.30]


def test_the_funnel_ends_at_the_eligible_count_and_every_gate_is_listed() -> None:
    rows = [odds_row(), odds_row(side="UNDER", odds_decimal=1.8), odds_row(player_id=None),
            odds_row(is_live=True), odds_row(book_type="DERIVED")]
    out = run(rows)
    table = funnel(out)
    assert int(table["left"].iloc[-1]) == int(out["is_eligible"].sum())
    assert int(table["removed"].sum()) == len(out) - int(out["is_eligible"].sum())
    assert list(table["gate"].iloc[1:]) == [passing for _, passing in GATES]


def test_suspicion_flags_say_why() -> None:
    snap = snapshot((10, 100, "SOG", 2.5, 0.60, 0.40, 0.0, 6))
    rows = [odds_row(odds_decimal=2.5, mapping_confidence=0.8),
            odds_row(side="UNDER", odds_decimal=1.5, mapping_confidence=0.8)]
    out = run(rows, snap=snap)
    over = out.iloc[0]
    assert over["ev"] == pytest.approx(0.5)
    assert set(over["suspicious_reasons"].split(",")) == {
        "ev_over_25pct", "thin_history", "low_confidence_mapping"}
    assert bool(over["is_suspicious"])


def test_no_snapshot_means_no_probability_for_every_row() -> None:
    out = run([odds_row(), odds_row(side="UNDER")], snap=snapshot(), snapshot_ts=None)
    assert set(out["exclusion_reason"]) == {"no_probability"}
    assert out["p_model"].isna().all()


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="odds lacks columns"):
        ev_candidates(pd.DataFrame({"x": [1]}), SNAP, GAMES, snapshot_ts_utc=AS_OF,
                      as_of=AS_OF, gates=GATES_DEFAULT, blends=MODEL_ONLY)


NAMES = pd.DataFrame({"player_id": [100, 101], "player_name": ["A", "B"],
                      "team": ["X", "X"]})
GAME_LABELS = pd.DataFrame({"game_id": [10], "home_team": ["TOR"], "away_team": ["EDM"],
                            "start_ts_utc": [START]})


def test_best_bets_are_one_row_per_prop_and_side_with_every_book_at_the_best_price() -> None:
    from helpers.ev.report import best_by_prop

    rows = [odds_row(odds_decimal=2.1), odds_row(side="UNDER", odds_decimal=1.8),
            # FanDuel at the same best price, seen through two vendors
            odds_row(book_id_vendor="2", book_name="FanDuel", odds_decimal=2.1),
            odds_row(book_id_vendor="2", book_name="FanDuel", side="UNDER", odds_decimal=1.8),
            odds_row(source_vendor="ODDSSHARK", player_key_vendor="Aho|", book_id_vendor=None,
                     book_name="FanDuel", odds_decimal=2.1),
            # BetMGM eligible too, at a worse price
            odds_row(book_id_vendor="3", book_name="BetMGM", odds_decimal=2.0),
            odds_row(book_id_vendor="3", book_name="BetMGM", side="UNDER", odds_decimal=1.85)]
    out = run(rows, gates=Gates(**{**GATES_DEFAULT.__dict__, "min_market_edge": -1.0}))
    best = best_by_prop(out, GAME_LABELS, NAMES)
    assert len(best) == 1
    row = best.iloc[0]
    assert (row["player_name"], row["side"], row["odds_decimal"]) == ("A", "OVER", 2.1)
    assert row["books"] == "DraftKings, FanDuel"
    assert row["vendors"] == "ODDSSHARK, UNABATED"
    assert row["n_books"] == 3
    assert row["game"] == "EDM @ TOR" and row["start_et"] == "2025-12-01 19:00 ET"
    assert row["ev"] == pytest.approx(0.6 * 2.1 - 1)
    assert row["stake_fraction"] == pytest.approx(0.25 * (1.1 * 0.6 - 0.4) / 1.1)


def test_best_bets_list_unflagged_bets_first_in_each_market() -> None:
    from types import SimpleNamespace

    from helpers.ev.report import best_bets_markdown, best_by_prop, ranked_eligible

    rows = [odds_row(player_key_vendor=f"p{i}", player_id=100 + i, odds_decimal=d, side=side)
            for i, d in enumerate((3.0, 2.2)) for side in ("OVER", "UNDER")]
    snap = snapshot((10, 100, "SOG", 2.5, 0.60, 0.40, 0.0, 4),    # thin history: flagged
                    (10, 101, "SOG", 2.5, 0.55, 0.45, 0.0, 30))
    no_gates = Gates(90, 0, -1.0, -1.0, frozenset(), frozenset())
    out = run(rows, snap=snap, gates=no_gates)
    ranked = ranked_eligible(out, NAMES)
    assert list(ranked["player_name"])[:2] == ["A", "B"]      # by EV: A's 80% before B's 21%
    best = best_by_prop(out, GAME_LABELS, NAMES)
    result = SimpleNamespace(slate_date="2025-12-01", snapshot_id="s", candidates=out,
                             model_version="p10-nhlapi", blends=MODEL_ONLY)
    text = best_bets_markdown(result, best, "")
    table = [line for line in text.splitlines() if line.startswith("| 1 ") or
             line.startswith("| 2 ")]
    assert [line.split("|")[2].strip() for line in table] == ["B", "A"]  # unflagged first
    assert all("EDM @ TOR" in line for line in table)


# ---- price sanity: a price no book offers, or far from the other books' ----------------------

GOALS_SNAP = snapshot((10, 100, "GOALS", 0.5, 0.30, 0.70, 0.0, 30))


def goals_row(decimal: float, american: int, book: str = "DraftKings", book_id: str = "1",
              side: str = "OVER", **over) -> dict:
    return odds_row(market_type="GOALS", line=0.5, side=side, odds_decimal=decimal,
                    odds_american=american, book_name=book, book_id_vendor=book_id, **over)


def fanduel_pair() -> list[dict]:
    """FanDuel's two sides of the 1+ goal prop: a consensus to price against."""
    return [goals_row(3.5, 250, "FanDuel", "2"), goals_row(1.3, -333, "FanDuel", "2",
                                                            side="UNDER")]


def test_a_price_beyond_any_book_is_gated_with_the_cap_in_its_reason() -> None:
    # Unabated's DraftKings 1+ goal at americanPrice 100000: the model alone would call it
    # +29,900 % EV; no book offers a player prop at that price
    out = run([goals_row(1001.0, 100000), *fanduel_pair()], snap=GOALS_SNAP)
    absurd = out.iloc[0]
    assert not absurd["is_eligible"]
    reason = absurd["exclusion_reason"]
    assert reason.startswith("absurd_price: ") and "+100000" in reason and "+5000" in reason
    # alone on its prop (no other book, no consensus) it is still a price no book offers
    alone = run([goals_row(1001.0, 100000)], snap=GOALS_SNAP).iloc[0]
    assert alone["exclusion_reason"].startswith("absurd_price: ")
    # the cap itself is a price: +5000 passes this gate
    at_cap = run([goals_row(51.0, 5000), *fanduel_pair()], snap=GOALS_SNAP).iloc[0]
    assert not str(at_cap["exclusion_reason"]).startswith("absurd_price")


def test_a_price_far_longer_than_the_other_books_median_is_gated() -> None:
    # DraftKings +900 where FanDuel, BetMGM and Caesars sit at +210..+230 (median +220):
    # it pays 4.1x what the others pay, past the 3x limit
    others = [*fanduel_pair(),
              goals_row(3.1, 210, "BetMGM", "3"), goals_row(1.33, -300, "BetMGM", "3",
                                                             side="UNDER"),
              goals_row(3.3, 230, "Caesars", "4"), goals_row(1.29, -345, "Caesars", "4",
                                                              side="UNDER")]
    others[0] = goals_row(3.2, 220, "FanDuel", "2")
    out = run([goals_row(10.0, 900), *others], snap=GOALS_SNAP)
    outlier = out.iloc[0]
    assert not outlier["is_eligible"]
    reason = outlier["exclusion_reason"]
    assert reason.startswith("price_outlier: "), reason
    assert "+900" in reason and "4.1x" in reason and "+220" in reason, reason
    # the others stay priced as before: none of them is an outlier
    assert not out.iloc[1:]["exclusion_reason"].fillna("").str.startswith("price_").any()
    # +600 pays 2.7x: a long price, not an outlier (the model's EV makes it eligible)
    within = run([goals_row(7.0, 600), *others], snap=GOALS_SNAP).iloc[0]
    assert bool(within["is_eligible"]), within["exclusion_reason"]


def test_no_relative_gate_without_another_sportsbook_to_compare_with() -> None:
    # DraftKings' pair alone on the prop, beside pick'em and derived prices (not books'
    # prices) and DraftKings' own price through a second vendor (the same book)
    rows = [goals_row(10.0, 900), goals_row(1.05, -2000, side="UNDER"),
            goals_row(1.82, -122, "Underdog Fantasy", "73", book_type="DFS"),
            goals_row(3.0, 200, "Unabated", "99", book_type="DERIVED"),
            goals_row(3.2, 220, book_id="draftkings", source_vendor="ODDSSHARK",
                      player_key_vendor="Aho|")]
    out = run(rows, snap=GOALS_SNAP)
    assert not out["exclusion_reason"].fillna("").str.startswith("price_outlier").any(), \
        out["exclusion_reason"].tolist()
    # one other sportsbook: which of the two is wrong cannot be told, so neither is held
    # (the cap still holds both)
    one_other = run([goals_row(10.0, 900), goals_row(3.2, 220, "FanDuel", "2")],
                    snap=GOALS_SNAP)
    assert not one_other["exclusion_reason"].fillna("").str.startswith("price_").any()
    # below even money a price pays less than its stake: -1193 against three books at
    # -6567 is 5.5x in payout but 6 points in probability, and never held
    short = run([goals_row(1.0838, -1193, side="UNDER"),
                 *(goals_row(1.0152, -6567, name, str(i), side="UNDER")
                   for i, name in enumerate(("FanDuel", "BetMGM", "Caesars")))],
                snap=GOALS_SNAP)
    assert not short["exclusion_reason"].fillna("").str.startswith("price_").any()


def test_a_gated_price_does_not_vote_in_the_consensus() -> None:
    # Pinnacle's pair with its over at +100000: de-vigged it would say the over has no
    # chance; only FanDuel's pair may set the consensus
    rows = [goals_row(1001.0, 100000, "Pinnacle", "10"),
            goals_row(1.3, -333, "Pinnacle", "10", side="UNDER"), *fanduel_pair()]
    out = run(rows, snap=GOALS_SNAP)
    fd_fair = (1 / 3.5) / (1 / 3.5 + 1 / 1.3)
    fanduel_over = out[(out["book_name"] == "FanDuel") & (out["side"] == "OVER")].iloc[0]
    assert fanduel_over["n_consensus_books"] == 1
    assert fanduel_over["p_consensus"] == pytest.approx(fd_fair)


def test_the_funnel_counts_a_detailed_reason_under_its_gate() -> None:
    out = run([goals_row(1001.0, 100000), *fanduel_pair()], snap=GOALS_SNAP)
    table = funnel(out).set_index("gate")["removed"]
    passing = dict(GATES)["absurd_price"]
    assert table[passing] == 1
    assert int(table.sum()) == len(out) - int(out["is_eligible"].sum())
