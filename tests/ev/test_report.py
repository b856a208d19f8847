"""The EV notebook's walkthrough follows the bets the step recommends."""

from __future__ import annotations

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
