"""The referee's market side: the consensus as the EV step builds it, and how far the demo's
consensus is from the truth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers.demo.books import BOOK_BY_KEY, MARKETS
from helpers.demo.pricing import quotes_for
from helpers.harness.referee import (
    add_consensus,
    consensus_p_over,
    log_loss_gaps,
    morning_quotes,
    served_books,
    truth_props,
)

PROP = {"game_id": 1, "player_id": 7, "market_type": "SOG", "line": 2.5}


def _quote(book: str, kind: str, over: float, under: float | None) -> dict:
    return {"book": book, "kind": kind, **PROP, "over_decimal": over,
            "under_decimal": np.nan if under is None else under}


def _fair(over: float, under: float) -> float:
    return (1 / over) / (1 / over + 1 / under)


def test_consensus_is_the_median_of_the_sportsbooks_devigged_pairs() -> None:
    quotes = pd.DataFrame([
        _quote("a", "SPORTSBOOK", 2.4, 1.6),
        _quote("b", "SPORTSBOOK", 1.8, 2.1),
        _quote("c", "SPORTSBOOK", 1.5, 2.6),
        # the same book through a second vendor: one vote, not two
        _quote("a", "SPORTSBOOK", 2.4, 1.6),
        # not a market's opinion, or no fair price: left out
        _quote("underdog", "DFS", 1.2, 1.2),
        _quote("unabated", "DERIVED", 1.1, 9.0),
        _quote("d", "SPORTSBOOK", 1.05, None),
        # another prop
        {**_quote("b", "SPORTSBOOK", 1.9, 1.9), "line": 3.5},
    ])
    out = consensus_p_over(quotes).set_index("line")
    assert list(out.index) == [2.5, 3.5]
    # multiplicative de-vig, then the median of a, b, c: b's
    assert out.loc[2.5, "p_consensus"] == pytest.approx(_fair(1.8, 2.1))
    assert _fair(1.8, 2.1) == pytest.approx(0.5385, abs=1e-4)
    assert out.loc[2.5, "n_books"] == 3
    assert out.loc[3.5, "p_consensus"] == pytest.approx(0.5)
    assert out.loc[3.5, "n_books"] == 1


def test_a_book_shown_twice_is_served_once() -> None:
    keys = [b.key for b in served_books()]
    assert len(keys) == len(set(keys))
    assert {"draftkings", "pinnacle", "playnow", "betway", "underdog", "unabated"} <= set(keys)


def test_morning_quotes_are_what_the_vendors_show(league) -> None:
    quotes = morning_quotes(league, date(2025, 12, 2))
    assert set(quotes["kind"]) == {"SPORTSBOOK", "DFS", "DERIVED"}
    assert not quotes.duplicated(["book", "game_id", "player_id", "market_type", "line"]).any()
    one_sided = quotes["under_decimal"].isna()
    assert one_sided.any() and (quotes["over_decimal"] > 1).all()
    # blurred prices (Caesars, bet365) and lost lines (bet365) are not shown, the rest are
    morning = datetime(2025, 12, 2, 15, tzinfo=UTC)
    for key in ("caesars", "bet365", "draftkings"):
        book = [q for g in league.games_on(date(2025, 12, 2))
                for q in quotes_for(league, g.index, BOOK_BY_KEY[key], morning, MARKETS)]
        shown = [q for q in book if not (q.blurred or q.line_missing)]
        assert (quotes["book"] == key).sum() == len(shown) > 0, key
        assert len(shown) < len(book) if key != "draftkings" else len(shown) == len(book)


def test_the_consensus_misses_the_truth_about_as_much_as_a_model(league) -> None:
    """The market maker's error (helpers.demo.pricing) is sized so that the consensus's
    expected log-loss gap is 0.5-2 % in every market, like the models' (1.2-2.5 %,
    benchmarks/bench_accuracy.py). Three December slates (~1.2 % on the month)."""
    slates = [date(2025, 12, 1) + timedelta(days=i) for i in range(3)]
    props = pd.concat([truth_props(league, s) for s in slates], ignore_index=True)
    covered = add_consensus(league, props).dropna(subset=["consensus"])
    assert len(covered) > 0.6 * len(props)
    gaps = log_loss_gaps(covered, ["consensus"])
    every = gaps.loc[gaps["lines"] == "all"].set_index("market_type")
    assert every["n"].min() > 500
    for market, gap in every["consensus"].items():
        assert 0.005 < gap < 0.02, (market, gap)
