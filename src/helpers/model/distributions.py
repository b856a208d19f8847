"""Count distributions of the probability model p10-nhlapi (docs/domain.md section 5).
Pure functions, no IO, vectorised over numpy arrays (no Python loop per row).

Distributions
- GOALS, ASSISTS, POINTS: Poisson(mu).
- SOG (alpha 0.35), BLOCKS (alpha 0.60): negative binomial with Var = mu + alpha·mu², i.e.
  ``scipy.stats.nbinom(n = 1/alpha, p = 1/(1 + alpha·mu))``.

Lines
With k = floor(L) + 1, p_over = P(X >= k) (= P(X > L) for an integer L).
- Half (any non-integer) line: p_under = P(X <= floor(L)), p_push = 0.
- Integer line: p_push = P(X = L), p_under = P(X < L). A line of 0 is allowed: its under
  is impossible and ends at the 1e-6 floor like any other tiny side.
Each of the three is computed directly (sf, cdf, pmf), not as one minus the others, so a
small tail keeps its precision.

Clipping and the sum-to-1 rule
p_over and p_under end in [P_MIN, 1 - P_MIN] (P_MIN = 1e-6) and p_over + p_under + p_push
== 1 to float rounding (about 1e-16, far inside 1e-9). The rule: **the less likely side is
floored at P_MIN; the more likely side is the remainder** ``1 - p_push - p_small``
(ties: over is the remainder). So p_push stays exact, the floor's mass comes from the side
that can spare it, and the upper clip never has to be applied separately: the remainder is at
most 1 - P_MIN because the small side is at least P_MIN. The one exception is a degenerate
integer line whose push is above 1 - 2·P_MIN (line 0 with mu below about 2e-6): there p_push
is capped at 1 - 2·P_MIN, moving it by less than 2e-6, so that both sides can still hold
P_MIN.

Data errors
mu <= 0, NaN or inf is a ``DataCheckError`` (never a probability: mu = 0 rows once became
p = 1e-6 and poisoned log loss), and so is a negative, NaN or infinite line. The message says
how many rows fail and shows one. A tiny positive mu is not an error here: it prices (p_over
floored at 1e-6) and ``mu_problems`` reports it as outside its market's range.

Guardrails
``mu_problems`` is a check, not a gate: it returns a DataFrame (market, check, detail) for the
notebook to show and raises nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers.core.errors import DataCheckError

__all__ = [
    "MARKET_DISTRIBUTIONS",
    "MU_RANGES",
    "PROBLEM_COLUMNS",
    "P_MIN",
    "QUANTISED_MIN_ROWS",
    "STANDARD_LINES",
    "line_probabilities",
    "market_probabilities",
    "mu_problems",
]

P_MIN = 1e-6

# market -> (distribution, alpha); alpha is None for Poisson.
MARKET_DISTRIBUTIONS: Mapping[str, tuple[str, float | None]] = MappingProxyType({
    "GOALS": ("poisson", None),
    "ASSISTS": ("poisson", None),
    "POINTS": ("poisson", None),
    "SOG": ("negbin", 0.35),
    "BLOCKS": ("negbin", 0.60),
})

# The lines books usually hang per market (docs/domain.md section 1).
STANDARD_LINES: Mapping[str, tuple[float, ...]] = MappingProxyType({
    "GOALS": (0.5,),
    "ASSISTS": (0.5,),
    "POINTS": (0.5, 1.5),
    "SOG": (1.5, 2.5, 3.5, 4.5),
    "BLOCKS": (0.5, 1.5, 2.5),
})

# Sane (low, high) mu for one skater in one game. Low ends: a fourth-line defenceman's goal
# rate is about 0.02-0.05 a game, so 0.01 leaves room while catching per-minute rates
# (0.15 / 60 = 0.0025). High ends: about twice the best real single-player rates (McDavid
# points ~1.6-1.9 a game, top shooters ~4.5 SOG, top blockers ~2.5 blocks), so a hit means a
# broken multiplier or window, not a star.
MU_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType({
    "GOALS": (0.01, 1.5),
    "ASSISTS": (0.01, 2.0),
    "POINTS": (0.02, 3.0),
    "SOG": (0.1, 8.0),
    "BLOCKS": (0.02, 5.0),
})

# A market is checked for quantisation only from this many valid rows.
QUANTISED_MIN_ROWS = 20
# Multiples of 0.1 are recognised within this absolute tolerance on mu·10 (0.3 is not exact
# in binary floating point; a computed mu lands this close to a multiple by chance about
# once in 5e8 rows).
_QUANTUM_TOL = 1e-9
PROBLEM_COLUMNS: tuple[str, ...] = ("market", "check", "detail")

_DISTRIBUTIONS = ("poisson", "negbin")


# --------------------------------------------------------------------------- validation


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _row(position: int) -> str:
    return f"row {position}"


def _raise_if_any(bad: np.ndarray, values: np.ndarray, rule: str, name: str,
                  describe: Callable[[int], str] = _row) -> None:
    """DataCheckError naming how many rows break ``rule`` and the first of them."""
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    raise DataCheckError(
        f"{name} must be {rule}: {int(bad.sum())} of {bad.size} rows fail, e.g. "
        f"{describe(first)} has {name}={_plain(values[first])!r}"
    )


def _check_inputs(mu: np.ndarray, line: np.ndarray,
                  describe: Callable[[int], str] = _row) -> None:
    """Raise DataCheckError for any mu that is not finite and > 0 or any line that is not
    finite and >= 0. ``mu`` and ``line`` are flat float arrays of one length."""
    _raise_if_any(~(np.isfinite(mu) & (mu > 0)), mu, "finite and > 0 (mu = 0 is a data "
                  "error, not a probability)", "mu", describe)
    _raise_if_any(~(np.isfinite(line) & (line >= 0)), line, "finite and >= 0", "line",
                  describe)


def _as_float_array(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataCheckError(f"{name} is not numeric: {exc}") from exc


def _frozen_distribution(distribution: str, alpha: Any, mu: np.ndarray) -> Any:
    if distribution == "poisson":
        if alpha is not None:
            raise ValueError(f"alpha must be None for poisson, got {alpha!r}")
        return stats.poisson(mu)
    if distribution == "negbin":
        a = np.asarray(alpha, dtype="float64") if alpha is not None else np.nan
        if not (np.all(np.isfinite(a)) and np.all(a > 0)):
            raise ValueError(f"alpha must be finite and > 0 for negbin, got {alpha!r}")
        return stats.nbinom(1.0 / a, 1.0 / (1.0 + a * mu))
    raise ValueError(f"unknown distribution {distribution!r}: expected one of {_DISTRIBUTIONS}")


# --------------------------------------------------------------------------- probabilities


def _probabilities(mu: np.ndarray, line: np.ndarray, distribution: str,
                   alpha: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clipped probabilities for validated flat arrays (see the module docstring)."""
    dist = _frozen_distribution(distribution, alpha, mu)
    base = np.floor(line)
    integer = line == base
    raw_over = dist.sf(base)  # P(X > floor(L)) = P(X >= floor(L) + 1)
    # P(X < L) for an integer line, P(X <= floor(L)) for a half line; cdf(-1) is 0.
    raw_under = dist.cdf(base - integer)
    push = np.where(integer, dist.pmf(base), 0.0)
    push = np.minimum(push, 1.0 - 2.0 * P_MIN)  # the degenerate certain push
    over_is_small = raw_over < raw_under
    small = np.maximum(np.where(over_is_small, raw_over, raw_under), P_MIN)
    # in [P_MIN, 1 - P_MIN] by construction; the clip only absorbs float rounding (an ulp)
    large = np.clip(1.0 - push - small, P_MIN, 1.0 - P_MIN)
    p_over = np.where(over_is_small, small, large)
    p_under = np.where(over_is_small, large, small)
    return p_over, p_under, push


def line_probabilities(mu: Any, line: Any, distribution: str,
                       alpha: float | None = None) -> tuple[Any, Any, Any]:
    """(p_over, p_under, p_push) of a count X ~ ``distribution`` with mean ``mu`` at ``line``.

    ``mu`` and ``line`` are scalars or arrays that broadcast together; ``distribution`` is
    "poisson" (``alpha`` None) or "negbin" (``alpha`` > 0: Var = mu + alpha·mu²). Returns
    float64 arrays of the broadcast shape, or floats when both inputs are scalars. Clipping:
    the less likely side is floored at 1e-6 and the other side is 1 - p_push - that, so the
    three sum to 1 and p_push is exact (module docstring). Raises DataCheckError when any mu is
    <= 0, NaN or inf, or any line is negative, NaN or inf; ValueError for an unknown
    distribution or a bad alpha.
    """
    mu_arr, line_arr = np.broadcast_arrays(_as_float_array(mu, "mu"),
                                           _as_float_array(line, "line"))
    shape = mu_arr.shape
    flat_mu, flat_line = mu_arr.ravel(), line_arr.ravel()
    _check_inputs(flat_mu, flat_line)
    p_over, p_under, p_push = _probabilities(flat_mu, flat_line, distribution, alpha)
    if not shape:
        return float(p_over[0]), float(p_under[0]), float(p_push[0])
    return p_over.reshape(shape), p_under.reshape(shape), p_push.reshape(shape)


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataCheckError(f"frame lacks column(s) {missing}; it has {list(frame.columns)}")


def market_probabilities(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (columns market_type, line, mu) with p_over, p_under, p_push,
    distribution and alpha (NaN for Poisson) added, the distribution chosen per market by
    MARKET_DISTRIBUTIONS. Row order and index are kept; ``frame`` is not modified.

    Raises DataCheckError for a missing column, a market not in MARKET_DISTRIBUTIONS, or any
    bad mu or line (the message names the row's index label and market).
    """
    _require_columns(frame, ("market_type", "line", "mu"))
    markets = frame["market_type"].to_numpy(dtype=object)
    mu = _as_float_array(frame["mu"].to_numpy(), "mu")
    line = _as_float_array(frame["line"].to_numpy(), "line")

    def describe(position: int) -> str:
        return f"index {_plain(frame.index[position])!r} ({markets[position]})"

    unknown = ~pd.Series(markets).isin(list(MARKET_DISTRIBUTIONS)).to_numpy()
    _raise_if_any(unknown, markets, f"one of {tuple(MARKET_DISTRIBUTIONS)}", "market_type",
                  describe)
    _check_inputs(mu, line, describe)

    n = len(frame)
    p_over, p_under, p_push = np.empty(n), np.empty(n), np.empty(n)
    distribution = np.empty(n, dtype=object)
    alpha = np.full(n, np.nan)
    for market, (name, a) in MARKET_DISTRIBUTIONS.items():  # one vectorised call per market
        rows = markets == market
        if not rows.any():
            continue
        p_over[rows], p_under[rows], p_push[rows] = _probabilities(mu[rows], line[rows], name, a)
        distribution[rows] = name
        alpha[rows] = np.nan if a is None else a
    return frame.assign(p_over=p_over, p_under=p_under, p_push=p_push,
                        distribution=distribution, alpha=alpha)


# --------------------------------------------------------------------------- guardrails


def _is_quantised(mu: np.ndarray) -> np.ndarray:
    tenths = mu * 10.0
    return np.abs(tenths - np.round(tenths)) <= _QUANTUM_TOL


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def mu_problems(frame: pd.DataFrame) -> pd.DataFrame:
    """The guardrail findings on the mu column of ``frame`` (columns market_type, mu), as a
    DataFrame with columns market, check, detail: one row per market and failed check, empty
    when all is well. Raises nothing about the values (a missing column is a DataCheckError).

    Checks, per market:
    - "unknown market": market_type not in MU_RANGES (no other check runs on it);
    - "invalid": mu <= 0, NaN or inf (the rows market_probabilities would refuse);
      the checks below use only the valid rows;
    - "range": mu outside MU_RANGES[market] (inclusive bounds);
    - "quantised": at least QUANTISED_MIN_ROWS rows and more than half of them exact
      multiples of 0.1 (within 1e-9), the sign of a rounded or integer-rate input;
    - "order of magnitude": the median mu below a tenth of the range's geometric middle
      sqrt(low·high) — a per-minute or per-period rate — or above ten times it.
    """
    _require_columns(frame, ("market_type", "mu"))
    problems: list[tuple[str, str, str]] = []
    markets = frame["market_type"].astype(object).where(frame["market_type"].notna(), "<missing>")
    mu_all = pd.to_numeric(frame["mu"], errors="coerce").to_numpy(dtype="float64")
    for market in pd.unique(markets):
        rows = (markets == market).to_numpy()
        label = str(market)
        if market not in MU_RANGES:
            problems.append((label, "unknown market",
                             f"{int(rows.sum())} rows; known markets: {tuple(MU_RANGES)}"))
            continue
        mu = mu_all[rows]
        valid = np.isfinite(mu) & (mu > 0)
        if not valid.all():
            bad = mu[~valid]
            problems.append((label, "invalid", f"{bad.size} of {mu.size} rows have mu <= 0, NaN "
                                               f"or inf, e.g. {float(bad[0])!r}"))
        mu = mu[valid]
        if mu.size == 0:
            continue
        low, high = MU_RANGES[market]
        below, above = mu < low, mu > high
        if below.any() or above.any():
            parts = []
            if below.any():
                parts.append(f"{int(below.sum())} below {low} (min {_fmt(mu.min())})")
            if above.any():
                parts.append(f"{int(above.sum())} above {high} (max {_fmt(mu.max())})")
            problems.append((label, "range",
                             f"{' and '.join(parts)} of {mu.size} rows; range [{low}, {high}]"))
        if mu.size >= QUANTISED_MIN_ROWS:
            quantised = int(_is_quantised(mu).sum())
            if quantised > mu.size / 2:
                problems.append((label, "quantised",
                                 f"{quantised} of {mu.size} mu are exact multiples of 0.1"))
        middle = math.sqrt(low * high)
        median = float(np.median(mu))
        if median < middle / 10 or median > middle * 10:
            problems.append((label, "order of magnitude",
                             f"median mu {_fmt(median)} is outside [{_fmt(middle / 10)}, "
                             f"{_fmt(middle * 10)}] (a tenth to ten times the range's "
                             f"geometric middle {_fmt(middle)})"))
    return pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
