"""Book pricing against the truth and the market maker every book copies: accuracy, the
shared error, vig ordering, movement, DFS, +EV spots."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy.special import expit, logit

from helpers.demo.books import BOOK_BY_KEY, MARKETS
from helpers.demo.pricing import (
    HALF_LINES,
    MAKER_MATCHUP_LAG,
    american_to_decimal,
    game_truth,
    market_maker,
    over_probability,
    quotes_for,
)

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


def _devig_error(quotes, against: str = "p_over_true") -> float:
    """Mean |de-vigged P(over) - the quote's `against` (the truth, or the market maker's)|."""
    errors = []
    for q in quotes:
        if q.under is None:
            continue
        over, under = 1 / american_to_decimal(q.over), 1 / american_to_decimal(q.under)
        errors.append(abs(over / (over + under) - getattr(q, against)))
    return float(np.mean(errors))


def _logit(p) -> np.ndarray:
    return logit(np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4))


def _overround(quotes) -> float:
    return float(np.mean([1 / american_to_decimal(q.over) + 1 / american_to_decimal(q.under) - 1
                          for q in quotes if q.under is not None]))


def test_devigged_prices_are_close_to_the_market_maker(league):
    """A book prices the market maker's belief plus its own error: small for sharp books."""
    errors = {b: _devig_error(_main_quotes(league, b, 8), "p_over_market")
              for b in SHARP + SOFT}
    assert all(errors[b] < 0.02 for b in SHARP), errors
    assert all(errors[b] < 0.06 for b in SOFT), errors
    assert max(errors[b] for b in SHARP) < min(errors[b] for b in SOFT), errors


def test_no_book_is_the_truth_but_sharp_books_are_closer(league):
    """Against the truth every book also carries the market maker's error (~0.04 in P), so
    even the sharpest misses by more than its own error; sharp books stay closer on average."""
    errors = {b: _devig_error(_main_quotes(league, b, 8)) for b in SHARP + SOFT}
    assert all(0.03 < errors[b] < 0.06 for b in SHARP + SOFT), errors
    assert np.mean([errors[b] for b in SHARP]) < np.mean([errors[b] for b in SOFT]), errors


def test_books_share_the_market_makers_error(league):
    """Two books' errors against the truth are mostly one error (the maker's); against the
    market maker they are their own and unrelated."""
    pinnacle = {(q.game_index, q.player_id, q.market, q.line): q
                for q in _main_quotes(league, "pinnacle", 8)}
    draftkings = {(q.game_index, q.player_id, q.market, q.line): q
                  for q in _main_quotes(league, "draftkings", 8)}
    common = sorted(set(pinnacle) & set(draftkings))
    assert len(common) > 500

    def errors(quotes, against: str) -> np.ndarray:
        return np.array([_logit(quotes[k].p_over_book) - _logit(getattr(quotes[k], against))
                         for k in common])

    vs_truth = np.corrcoef(errors(pinnacle, "p_over_true"), errors(draftkings, "p_over_true"))
    vs_market = np.corrcoef(errors(pinnacle, "p_over_market"),
                            errors(draftkings, "p_over_market"))
    assert vs_truth[0, 1] > 0.7, vs_truth
    assert abs(vs_market[0, 1]) < 0.15, vs_market


def test_the_market_maker_prices_the_game_only_part_of_the_way(league):
    """Its belief leans from the truth toward the season-rate view (no matchup, no
    overtime) by about MAKER_MATCHUP_LAG: an error a model with matchup terms can partly
    see. Slope of (maker - truth) on (stale - truth), logit scale, Pinnacle's main lines."""
    lean, stale_gap = [], []
    for q in _main_quotes(league, "pinnacle", 8):
        truth = game_truth(league, q.game_index)
        row = int(np.nonzero(truth.player_id == q.player_id)[0][0])
        stale = over_probability(truth.stale_at_least[q.market][row], q.line)
        lean.append(_logit(q.p_over_market) - _logit(q.p_over_true))
        stale_gap.append(_logit(stale) - _logit(q.p_over_true))
    slope = np.cov(stale_gap, lean)[0, 1] / np.var(stale_gap, ddof=1)
    assert abs(slope - MAKER_MATCHUP_LAG) < 0.15, slope
    assert np.corrcoef(stale_gap, lean)[0, 1] > 0.2


def test_pick_em_and_derived_prices_copy_the_market(league):
    """The derived Unabated line is the market maker's belief plus a little noise; a
    pick'em book's line is the one the market believes closest to a coin flip."""
    assert _devig_error(_main_quotes(league, "unabated", 8), "p_over_market") < 0.01
    for q in _main_quotes(league, "underdog", 8):
        assert q.p_over_book == pytest.approx(q.p_over_market, abs=1e-12)
    # The line choice, where there is one (SOG, BLOCKS): always the market's, often not
    # the one the truth would choose.
    not_the_truths = 0
    for q in _main_quotes(league, "underdog", 8):
        lines = HALF_LINES[q.market]
        if len(lines) == 1:
            continue
        truth = game_truth(league, q.game_index)
        row = int(np.nonzero(truth.player_id == q.player_id)[0][0])
        number = league.games[q.game_index].game_id % 10_000
        at_least, error = market_maker(league, truth, q.market, number)
        market = [expit(_logit(over_probability(at_least[row], ln)) + error[row])
                  for ln in lines]
        true = [over_probability(truth.at_least[q.market][row], ln) for ln in lines]
        assert q.line == lines[int(np.argmin(np.abs(np.array(market) - 0.5)))]
        not_the_truths += q.line != lines[int(np.argmin(np.abs(np.array(true) - 0.5)))]
    assert not_the_truths > 10


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
