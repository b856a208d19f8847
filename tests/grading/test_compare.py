"""helpers.grading.compare: the paired bootstrap over games is deterministic, covers the true
log-loss difference on a synthetic world whose truth is known, is wider when the props of a
game move together, and a source better than the market gets a negative diff whose interval
lies below 0."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers.core.models import PRODUCTION_MODEL
from helpers.grading.accuracy import log_loss
from helpers.grading.compare import (
    COLUMNS,
    bootstrap_interval,
    compare_sources,
    pairs,
    prop_log_loss,
)

CHALLENGER = "eb-season"


def world(games: int = 240, props_per_game: int = 8,
          seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Props whose true P(over) q is known: the production model says q, the market a noisy
    q, the challenger a noisier one. Returns the scored frame and q."""
    rng = np.random.default_rng(seed)
    n = games * props_per_game
    q = rng.uniform(0.15, 0.85, n)
    logit = np.log(q / (1 - q))
    market = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.35, n))))
    challenger = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.6, n))))
    game = np.repeat(np.arange(games), props_per_game) + 2025020001
    frame = pd.DataFrame({
        "slate_date": [date(2025, 12, 1) + timedelta(days=int(g) % 14) for g in game],
        "game_id": game, "player_id": np.arange(n), "market_type": "SOG", "line": 2.5,
        PRODUCTION_MODEL: q, CHALLENGER: challenger, "market": market,
        "y": (rng.uniform(size=n) < q).astype(int)})
    return frame, q


def expected_log_loss(p: np.ndarray, q: np.ndarray) -> float:
    """The mean over props of the expected log loss of p when the truth is q."""
    return float(np.mean(-(q * np.log(p) + (1 - q) * np.log(1 - p))))


def test_prop_log_loss_averages_to_accuracy_log_loss() -> None:
    p = np.array([0.0, 0.2, 0.7, 1.0, 0.5])
    y = np.array([1, 0, 1, 0, 1])
    assert np.mean(prop_log_loss(p, y)) == pytest.approx(log_loss(p, y))


def test_bootstrap_is_deterministic_and_seeded() -> None:
    rng = np.random.default_rng(1)
    values, clusters = rng.normal(0.01, 0.1, 400), np.repeat(np.arange(50), 8)
    first = bootstrap_interval(values, clusters)
    assert bootstrap_interval(values, clusters) == first
    assert bootstrap_interval(values, clusters, seed=99) != first
    assert first[0] < values.mean() < first[1]
    assert np.isnan(bootstrap_interval(values, np.zeros(400))).all()  # one game


def test_bootstrap_resamples_games_not_props() -> None:
    """Values equal within a game: resampling games gives an interval about sqrt(10) times
    wider than resampling the props one by one (a prop-level bootstrap would fail this)."""
    rng = np.random.default_rng(3)
    per_game = rng.normal(0, 1, 60)
    values = np.repeat(per_game, 10)
    by_game = bootstrap_interval(values, np.repeat(np.arange(60), 10))
    by_prop = bootstrap_interval(values, np.arange(600))
    ratio = (by_game[1] - by_game[0]) / (by_prop[1] - by_prop[0])
    assert 2.5 < ratio < 4.0


def test_interval_holds_the_true_difference_and_a_better_source_is_negative() -> None:
    scored, q = world()
    sources = [CHALLENGER, PRODUCTION_MODEL, "market"]
    table = compare_sources(scored, sources)
    assert list(table.columns) == COLUMNS
    rows = table.set_index(["source", "reference"])
    assert set(rows.index) == {(PRODUCTION_MODEL, "market"), (CHALLENGER, "market"),
                               (CHALLENGER, PRODUCTION_MODEL)}

    truth = {"market": scored["market"].to_numpy(), CHALLENGER: scored[CHALLENGER].to_numpy(),
             PRODUCTION_MODEL: q}
    for (source, reference), row in rows.iterrows():
        true_diff = (expected_log_loss(truth[source], q)
                     - expected_log_loss(truth[reference], q))
        assert row["ci_low"] <= true_diff <= row["ci_high"], (source, reference, true_diff)
        # the observed figures are the per-prop means on the same props
        assert row["log_loss"] == pytest.approx(log_loss(scored[source], scored["y"]))
        assert row["diff"] == pytest.approx(row["log_loss"] - row["log_loss_reference"])
        assert row["n_props"] == len(scored) and row["n_games"] == 240
        assert row["n_slates"] == 14 and row["n_resamples"] == 1000

    better = rows.loc[(PRODUCTION_MODEL, "market")]  # the truth against a noisy market
    assert better["diff"] < 0 and better["ci_high"] < 0
    worse = rows.loc[(CHALLENGER, PRODUCTION_MODEL)]
    assert worse["diff"] > 0 and worse["ci_low"] > 0
    assert compare_sources(scored, sources).equals(table)  # deterministic


def test_only_props_every_source_priced_count() -> None:
    scored, _ = world(games=40)
    scored.loc[:9, "market"] = np.nan          # the market did not price 10 props
    scored.loc[10:14, CHALLENGER] = np.nan     # the challenger missed 5 others
    table = compare_sources(scored, [PRODUCTION_MODEL, CHALLENGER, "market"])
    assert (table["n_props"] == len(scored) - 15).all()


def test_pairs_and_empty_input() -> None:
    assert pairs([PRODUCTION_MODEL, "market"]) == [(PRODUCTION_MODEL, "market")]
    assert pairs([CHALLENGER, "market"]) == [(CHALLENGER, "market")]  # no production
    assert pairs(["market"]) == []
    assert compare_sources(pd.DataFrame(), []).empty
    assert list(compare_sources(pd.DataFrame(), ["market"]).columns) == COLUMNS
