"""Book pricing against the truth: accuracy, vig ordering, movement, DFS, +EV spots."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from helpers.demo.books import BOOK_BY_KEY, MARKETS
from helpers.demo.pricing import american_to_decimal, quotes_for

SHARP = ("pinnacle", "novig")
SOFT = ("draftkings", "fanduel", "betmgm", "caesars")


def _main_quotes(league, book_key, hours_before, games=range(200, 212)):
    out = []
    for g in games:
        game = league.games[g]
        now = game.start_utc - timedelta(hours=hours_before)
        out += [q for q in quotes_for(league, g, BOOK_BY_KEY[book_key], now, MARKETS)
                if not q.is_alt]
    return out


def _devig_error(quotes) -> float:
    errors = []
    for q in quotes:
        if q.under is None:
            continue
        over, under = 1 / american_to_decimal(q.over), 1 / american_to_decimal(q.under)
        errors.append(abs(over / (over + under) - q.p_over_true))
    return float(np.mean(errors))


def _overround(quotes) -> float:
    return float(np.mean([1 / american_to_decimal(q.over) + 1 / american_to_decimal(q.under) - 1
                          for q in quotes if q.under is not None]))


def test_devigged_prices_are_close_to_the_truth(league):
    errors = {b: _devig_error(_main_quotes(league, b, 8)) for b in SHARP + SOFT}
    assert all(errors[b] < 0.02 for b in SHARP), errors
    assert all(errors[b] < 0.06 for b in SOFT), errors
    assert max(errors[b] for b in SHARP) < min(errors[b] for b in SOFT), errors


def test_vig_ordering_sharp_below_soft(league):
    vig = {b: _overround(_main_quotes(league, b, 8)) for b in SHARP + SOFT}
    assert all(0.015 < vig[b] < 0.05 for b in SHARP), vig
    assert all(0.06 < vig[b] < 0.11 for b in SOFT), vig
    assert max(vig[b] for b in SHARP) < min(vig[b] for b in SOFT)


def test_dfs_books_pay_fixed_prices(league):
    for key, price in (("underdog", -122), ("prizepicks", -119)):
        quotes = _main_quotes(league, key, 8)
        assert quotes and all(q.over == price and q.under == price for q in quotes)


def test_prices_move_and_close_sharper(league):
    morning = {(q.player_id, q.market, q.line): q for q in _main_quotes(league, "draftkings", 10)}
    pregame = {(q.player_id, q.market, q.line): q for q in _main_quotes(league, "draftkings", 1)}
    common = set(morning) & set(pregame)
    moved = sum(morning[k].over != pregame[k].over for k in common)
    assert moved > 0.5 * len(common)
    early = _devig_error(_main_quotes(league, "fanduel", 30, range(200, 260)))
    late = _devig_error(_main_quotes(league, "fanduel", 1, range(200, 260)))
    assert late < early


def test_stale_book_updates_once_a_day(league):
    game = league.games[230]
    book = BOOK_BY_KEY["betrivers"]
    day_start = game.start_utc.replace(hour=0, minute=0) - timedelta(hours=12)
    a = quotes_for(league, game.index, book, day_start + timedelta(hours=2), MARKETS)
    b = quotes_for(league, game.index, book, day_start + timedelta(hours=9), MARKETS)
    assert [(q.player_id, q.market, q.over, q.under) for q in a] == \
        [(q.player_id, q.market, q.over, q.under) for q in b]


def test_positive_ev_spots_exist_but_are_rare(league):
    evs = []
    for key in ("draftkings", "betrivers", "underdog", "pinnacle"):
        for q in _main_quotes(league, key, 6):
            evs.append(q.p_over_true * american_to_decimal(q.over) - 1)
            if q.under is not None:
                evs.append((1 - q.p_over_true) * american_to_decimal(q.under) - 1)
    evs = np.array(evs)
    assert (evs > 0.03).sum() >= 5
    assert (evs > 0.03).mean() < 0.25
    assert np.median(evs) < 0


@pytest.mark.parametrize("book", ["pinnacle", "draftkings"])
def test_alternate_lines_are_coherent(league, book):
    """A book's P(over) falls as the line rises (one belief shift per player and market)."""
    game = league.games[205]
    quotes = quotes_for(league, game.index, BOOK_BY_KEY[book], game.start_utc - timedelta(hours=5),
                        MARKETS)
    by_prop: dict = {}
    for q in quotes:
        by_prop.setdefault((q.player_id, q.market), []).append((q.line, q.p_over_book))
    assert any(len(v) > 2 for v in by_prop.values())
    for lines in by_prop.values():
        probs = [p for _, p in sorted(lines)]
        assert probs == sorted(probs, reverse=True)
