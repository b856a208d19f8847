"""The EV notebook's walkthrough follows the bets the step recommends."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from helpers.ev import report

KEYS = {"game_id": 1, "market_type": "SOG", "line": 1.5, "side": "OVER"}


def test_recommended_are_the_unflagged_top_bets_at_their_best_price() -> None:
    best = pd.DataFrame([
        {"rank": 1, **KEYS, "player_id": 7, "odds_decimal": 9.0, "flags": "ev_over_25pct"},
        {"rank": 2, **KEYS, "player_id": 8, "odds_decimal": 2.2, "flags": None},
        {"rank": 3, **KEYS, "player_id": 9, "odds_decimal": 2.0, "flags": None}])
    ranked = pd.DataFrame([  # the ranked rows: every eligible book, best EV first
        {"rank": 1, **KEYS, "player_id": 7, "odds_decimal": 9.0, "book_name": "A"},
        {"rank": 2, **KEYS, "player_id": 8, "odds_decimal": 2.2, "book_name": "B"},
        {"rank": 3, **KEYS, "player_id": 8, "odds_decimal": 2.1, "book_name": "C"},
        {"rank": 4, **KEYS, "player_id": 9, "odds_decimal": 2.0, "book_name": "D"},
        {"rank": 5, **KEYS, "player_id": 9, "odds_decimal": 2.0, "book_name": "E"}])
    rows = report.recommended(ranked, best, n=5)
    assert rows["player_id"].tolist() == [8, 9]  # the flagged long shot is not walked through
    assert rows["book_name"].tolist() == ["B", "D"]  # one row per bet, at its best price
    assert rows["rank"].tolist() == [2, 3]  # numbered as in the best-bets table
    assert report.recommended(ranked, best, n=1)["player_id"].tolist() == [8]


def test_no_recommended_bet_is_an_empty_frame() -> None:
    empty = pd.DataFrame(columns=list(report.BEST_COLUMNS))
    ranked = pd.DataFrame([{"rank": 1, **KEYS, "player_id": 7, "odds_decimal": 9.0}])
    assert report.recommended(ranked, empty).empty


def best_row(rank: int, **over) -> dict:
    row = {"rank": rank, "player_name": f"P{rank}", "team": "TOR", "game": "EDM @ TOR",
           "start_et": "2025-12-01 19:00 ET", "market_type": "SOG", "line": 2.5,
           "side": "OVER", "odds_decimal": 2.2, "odds_american": 120, "books": "FanDuel",
           "vendors": "UNABATED", "n_books": 1, "p_price": 0.55, "p_model": 0.6,
           "p_consensus": 0.55, "ev": 0.21, "ev_model": 0.32, "ev_market": 0.21,
           "stake_fraction": 0.0437, "flags": None, "game_id": 1, "player_id": rank}
    return row | over


def test_best_bets_show_percentages_and_say_what_each_market_leaves_out() -> None:
    best = pd.DataFrame([best_row(r) for r in range(1, 8)]
                        + [best_row(8, market_type="GOALS", ev_model=float("nan"))])
    result = SimpleNamespace(slate_date="2025-12-01", snapshot_id="s", model_version="v",
                             candidates=pd.DataFrame({"is_eligible": [True] * 8}), blends={})
    text = report.best_bets_markdown(result, best, "", per_market=5)
    rows = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert rows == ["| 1 | P1 | EDM @ TOR | 2025-12-01 19:00 ET | 2.5 | OVER | 2.20 (+120) | "
                    "FanDuel (UNABATED) | 55.0 % | 60.0 % | 55.0 % | +21.0 % | +32.0 % | "
                    "+21.0 % | 4.4 % |  |"]
    assert "| 8 | P8 |" in text and "| +21.0 % |  | +21.0 % |" in text  # no model EV: blank
    assert "_2 more SOG props and sides not shown: `best_bets_2025-12-01.csv` lists every " \
           "one._" in text
    assert "more GOALS" not in text  # shown whole


def test_the_ev_distribution_is_per_market_and_book() -> None:
    candidates = pd.DataFrame({
        "market_type": ["SOG", "SOG", "SOG", "GOALS"], "book_name": ["A", "A", "B", "A"],
        "ev": [0.1, -0.1, 0.05, None], "is_eligible": [True, False, True, False]})
    table = report.ev_distribution(candidates)
    assert list(table.columns) == report.EV_DISTRIBUTION_COLUMNS
    assert table[["market_type", "book_name", "rows", "positive", "eligible"]].values.tolist() \
        == [["SOG", "A", 2, 1, 1], ["SOG", "B", 1, 1, 1]]
    assert table["ev_max"].tolist() == [0.1, 0.05]
