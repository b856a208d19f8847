"""Model against market, and challenger against production, on the same props, with an
interval. Pure: numpy / pandas, no IO, no clock; the randomness is a seeded numpy Generator,
so the same props give the same figures on every run.

The question is "over the trailing graded slates, does this model version forecast the props
better than the sportsbooks' consensus (or than the production model)?". Per market:
- the props are the graded ones every source priced (`accuracy.same_props`), so every pair
  is compared on identical props;
- each prop's log loss is computed for both sides of a pair (the probability given to what
  happened, clipped as in `accuracy.log_loss`), and `diff` is the mean of the per-prop
  difference, source minus reference: negative means the source is better;
- the interval is a paired bootstrap over games: the props of one game share the game (its
  pace, its goalies, the same skaters on several lines), so they are not independent; the
  games are resampled with replacement, each resample keeping all its props and both
  sources' figures (paired), and the 2.5 % and 97.5 % quantiles of the resampled mean
  difference are the 95 % interval (percentile method).

Pairs: every model version against the market, and every other model version (the
challengers) against the production model when the data has it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.core.models import PRODUCTION_MODEL
from helpers.grading.accuracy import P_CLIP, same_props

MARKET = "market"
TRAILING_SLATES = 14  # diagnostics compares over the graded props of the 14 slates before
RESAMPLES = 1000
SEED = 20251028
LEVEL = 0.95
COLUMNS = ["market_type", "source", "reference", "n_slates", "n_games", "n_props",
           "first_slate", "last_slate", "log_loss", "log_loss_reference", "diff", "ci_low",
           "ci_high", "n_resamples"]


def prop_log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The log loss of each prop: -ln of the probability given to what happened, clipped to
    [P_CLIP, 1 - P_CLIP] (the mean of this is `accuracy.log_loss`)."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    won = np.clip(np.where(y == 1, p, 1.0 - p), P_CLIP, 1.0 - P_CLIP)
    return -np.log(won)


def bootstrap_interval(values: np.ndarray, clusters: np.ndarray, resamples: int = RESAMPLES,
                       seed: int = SEED, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of the mean of `values` under a bootstrap that resamples the
    clusters (games) with replacement, each drawn cluster bringing all its values. The same
    inputs and seed give the same interval. NaN for fewer than 2 clusters (one game says
    nothing about the next)."""
    values = np.asarray(values, dtype=float)
    codes, _ = pd.factorize(pd.Series(clusters), sort=True)
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    if n_clusters < 2:
        return float("nan"), float("nan")
    sums = np.bincount(codes, weights=values, minlength=n_clusters)
    counts = np.bincount(codes, minlength=n_clusters).astype(float)
    rng = np.random.default_rng(seed)
    # each row: how many times each cluster was drawn in one resample of n_clusters draws
    draws = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=resamples)
    means = (draws @ sums) / (draws @ counts)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def pairs(sources: Sequence[str], production: str = PRODUCTION_MODEL,
          market: str = MARKET) -> list[tuple[str, str]]:
    """(source, reference): every model version against the market, then every challenger
    against the production model (when both are in `sources`)."""
    models = [s for s in sources if s != market]
    out = [(m, market) for m in models if market in sources]
    if production in models:
        out += [(m, production) for m in models if m != production]
    return out


def compare_sources(scored: pd.DataFrame, sources: Sequence[str],
                    production: str = PRODUCTION_MODEL, resamples: int = RESAMPLES,
                    seed: int = SEED, level: float = LEVEL) -> pd.DataFrame:
    """One row per market and pair (COLUMNS) over the props of `scored` (slate_date,
    game_id, market_type, y and one P(over) column per source, as
    `grading.read.stored_scored` returns them) that every source priced. Empty when there
    are no such props or fewer than two sources."""
    names = list(sources)
    todo = pairs(names, production)
    if scored.empty or not todo:
        return pd.DataFrame(columns=COLUMNS)
    shared = same_props(scored, names)
    rows = []
    for market_type, part in shared.groupby("market_type", sort=True):
        y = part["y"].to_numpy(dtype=float)
        losses = {s: prop_log_loss(part[s].to_numpy(dtype=float), y) for s in names}
        games = part["game_id"].to_numpy()
        days = pd.to_datetime(part["slate_date"])
        for source, reference in todo:
            diff = losses[source] - losses[reference]
            low, high = bootstrap_interval(diff, games, resamples, seed, level)
            rows.append({
                "market_type": market_type, "source": source, "reference": reference,
                "n_slates": int(days.nunique()), "n_games": int(pd.Series(games).nunique()),
                "n_props": len(part), "first_slate": days.min().date(),
                "last_slate": days.max().date(),
                "log_loss": float(losses[source].mean()),
                "log_loss_reference": float(losses[reference].mean()),
                "diff": float(diff.mean()), "ci_low": low, "ci_high": high,
                "n_resamples": resamples})
    return pd.DataFrame(rows, columns=COLUMNS)
