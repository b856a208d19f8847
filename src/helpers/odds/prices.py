"""Odds arithmetic (docs/domain.md). Pure functions, no IO.

Conventions
- American odds A are valid iff |A| >= 100 ("EVEN" is +100). Decimal odds d are valid iff
  d > 1 (and finite).
- American -> decimal: +A -> 1 + A/100, -A -> 1 + 100/A.
- Decimal -> American: d >= 2 -> round((d - 1) * 100); 1 < d < 2 -> round(-100 / (d - 1)).
  "round" is half away from zero with a 1e-9 tolerance for float noise
  ((2.125 - 1) * 100 = 112.5 -> 113; 1.995 -> -100.50.. -> -101), so a derived American is
  always valid (|A| >= 100) for every valid decimal.

Scalars and arrays
Every function accepts Python / numpy scalars and, where cheap, numpy arrays (or anything
``np.asarray`` accepts). Scalar input that is invalid raises ``ValueError`` (a caller asking for
one number should not get NaN silently); array input yields NaN where an element is invalid, so
one bad row does not poison a vectorised computation. ``decimal_to_american`` on arrays returns
float64 (NaN where invalid) because numpy has no nullable integer.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = [
    "DEVIG_METHODS",
    "american_to_decimal",
    "decimal_to_american",
    "devig",
    "devig_pair",
    "ev_per_unit",
    "implied_probability",
    "is_valid_american",
    "is_valid_decimal",
    "kelly_fraction",
    "parse_american_text",
]

_ROUND_EPS = 1e-9


def _is_scalar(x: Any) -> bool:
    return np.ndim(x) == 0


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


# --------------------------------------------------------------------------- validity


def is_valid_american(a: Any) -> Any:
    """True iff |A| >= 100 and finite. Arrays: elementwise boolean array."""
    if _is_scalar(a):
        if not _is_number(a):
            return False
        return math.isfinite(a) and abs(a) >= 100
    arr = np.asarray(a, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.isfinite(arr) & (np.abs(arr) >= 100)


def is_valid_decimal(d: Any) -> Any:
    """True iff d > 1 and finite. Arrays: elementwise boolean array."""
    if _is_scalar(d):
        if not _is_number(d):
            return False
        return math.isfinite(d) and d > 1
    arr = np.asarray(d, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.isfinite(arr) & (arr > 1)


# --------------------------------------------------------------------------- conversions


def american_to_decimal(a: Any) -> Any:
    """+A -> 1 + A/100; -A -> 1 + 100/|A|. Invalid scalar -> ValueError; arrays -> NaN."""
    if _is_scalar(a):
        if not is_valid_american(a):
            raise ValueError(f"invalid American odds {a!r}: need |A| >= 100")
        a = float(a)
        return 1.0 + a / 100.0 if a > 0 else 1.0 + 100.0 / -a
    arr = np.asarray(a, dtype="float64")
    valid = is_valid_american(arr)
    safe = np.where(valid, arr, 100.0)
    out = np.where(safe > 0, 1.0 + safe / 100.0, 1.0 + 100.0 / np.abs(safe))
    return np.where(valid, out, np.nan)


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5 + _ROUND_EPS), x))


def decimal_to_american(d: Any) -> Any:
    """Decimal -> American (docs/domain.md). Invalid scalar -> ValueError; arrays -> float NaN."""
    if _is_scalar(d):
        if not is_valid_decimal(d):
            raise ValueError(f"invalid decimal odds {d!r}: need d > 1")
        d = float(d)
        x = (d - 1.0) * 100.0 if d >= 2.0 else -100.0 / (d - 1.0)
        return _round_half_away(x)
    arr = np.asarray(d, dtype="float64")
    valid = is_valid_decimal(arr)
    safe = np.where(valid, arr, 2.0)
    x = np.where(safe >= 2.0, (safe - 1.0) * 100.0, -100.0 / (safe - 1.0))
    out = np.copysign(np.floor(np.abs(x) + 0.5 + _ROUND_EPS), x)
    return np.where(valid, out, np.nan)


def implied_probability(decimal: Any) -> Any:
    """1 / d (includes the vig). Invalid scalar -> ValueError; arrays -> NaN."""
    if _is_scalar(decimal):
        if not is_valid_decimal(decimal):
            raise ValueError(f"invalid decimal odds {decimal!r}: need d > 1")
        return 1.0 / float(decimal)
    arr = np.asarray(decimal, dtype="float64")
    valid = is_valid_decimal(arr)
    return np.where(valid, 1.0 / np.where(valid, arr, 2.0), np.nan)


_AMERICAN_RE = re.compile(r"^([+-]?)\s*(\d+)(?:\.0+)?$")
# Minus-like characters HTML pages use instead of ASCII '-'.
_MINUS_CHARS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\ufe63": "-", "\uff0d": "-"})


def parse_american_text(text: str | None) -> int | None:
    """A valid American price from text, else None.

    Accepts "+130", "-115", "130", "+130.0", "EVEN"/"even"/"Ev" (+100), unicode minus signs and
    surrounding whitespace (and a space after the sign: "+ 130"). Returns None for "-", "", "N/A", None, non-numeric text and for
    numbers that are not valid American odds (0, +50, -99). Callers that must tell "not offered"
    ("-") from "bad price" check the text themselves before calling.
    """
    if text is None:
        return None
    t = str(text).strip().translate(_MINUS_CHARS)
    if not t:
        return None
    if t.upper() in ("EVEN", "EV", "EVS"):
        return 100
    m = _AMERICAN_RE.match(t)
    if m is None:
        return None
    value = int(m.group(2))
    if m.group(1) == "-":
        value = -value
    return value if abs(value) >= 100 else None


# --------------------------------------------------------------------------- de-vig

DEVIG_METHODS = ("multiplicative", "additive", "shin", "power")
_SOLVE_TOL = 1e-12


def _bisect_rows(excess: Any, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Root of a decreasing ``excess(x)`` per row, bracketed by excess(lo) >= 0 >= excess(hi).

    Vectorised bisection: every step halves all rows' brackets at once, until each is narrower
    than 1e-12 * max(1, |hi|) (relative for large roots, where doubles are coarser than 1e-12).
    200 halvings shrink any bracket below double resolution, so the cap is never the stop.
    """
    lo, hi = lo.copy(), hi.copy()
    for _ in range(200):
        if not lo.size or np.max((hi - lo) / np.maximum(1.0, np.abs(hi))) <= _SOLVE_TOL:
            break
        mid = 0.5 * (lo + hi)
        above = excess(mid) > 0
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def _shin_probs(z: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Shin p_i(z) = (sqrt(z^2 + 4(1-z)c_i) - z) / (2(1-z)), c_i = q_i^2 / S, for z in (-1, 1).

    For z > 0 the same value is computed as 2c_i / (sqrt(z^2 + 4(1-z)c_i) + z), which does not
    cancel when c_i is small (long shots).
    """
    root = np.sqrt(z * z + 4.0 * (1.0 - z) * c)
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch np.where drops
        return np.where(z > 0, 2.0 * c / (root + z), (root - z) / (2.0 * (1.0 - z)))


def _devig_rows(q: np.ndarray, method: str) -> np.ndarray:
    """Fair probabilities from implied ones ``q`` (rows = markets, every q in (0, 1))."""
    n = q.shape[1]
    s = q.sum(axis=1, keepdims=True)
    if method == "multiplicative":
        return q / s
    if method == "additive":
        p = q - (s - 1.0) / n
        return np.where((p >= 0).all(axis=1, keepdims=True), p, np.nan)
    if method == "shin":
        c = q * q / s
        # sum p_i(z) falls from > 1 at z = -1 to sum c_i < 1 as z -> 1: one root in between.
        z = _bisect_rows(
            lambda z: _shin_probs(z, c).sum(axis=1, keepdims=True) - 1.0,
            np.full_like(s, -1.0), np.full_like(s, 1.0),
        )
        p = _shin_probs(z, c)
    elif method == "power":
        # n * q_max^k <= 1 at k = ln n / -ln q_max, n * q_min^k >= 1 at k = ln n / -ln q_min.
        log_q = np.log(q)
        k = _bisect_rows(
            lambda k: np.exp(k * log_q).sum(axis=1, keepdims=True) - 1.0,
            np.minimum(1.0, math.log(n) / -log_q.min(axis=1, keepdims=True)),
            np.maximum(1.0, math.log(n) / -log_q.max(axis=1, keepdims=True)),
        )
        p = np.exp(k * log_q)
    else:
        raise ValueError(f"unknown de-vig method {method!r}: use one of {DEVIG_METHODS}")
    return p / p.sum(axis=1, keepdims=True)


def devig(decimals: Any, method: str = "multiplicative") -> np.ndarray:
    """Fair probabilities of a market's n >= 2 outcomes from their decimal odds; they sum to 1.

    With q_i = 1/d_i and S = sum q (S - 1 is the vig):
    - ``multiplicative``: p_i = q_i / S.
    - ``additive``: p_i = q_i - (S - 1)/n. A long shot with q_i < (S - 1)/n would get p_i < 0:
      the method does not apply to that market (ValueError / NaN row), nothing is clipped.
      Never happens with n = 2.
    - ``shin`` (Shin 1993): p_i = (sqrt(z^2 + 4(1-z) q_i^2/S) - z) / (2(1-z)), z solving
      sum p_i = 1 (bisection to 1e-12). z > 0 when S > 1, z = 0 when S = 1 (p = q) and z < 0
      for an underround (S < 1). For n = 2 this equals ``additive``.
    - ``power``: p_i = q_i^k, k solving sum q_i^k = 1 (bisection to 1e-12); k > 1 when S > 1.
    Shin and power move probability from long shots to favourites (favourite-longshot bias);
    ``shin`` and ``power`` are renormalised after solving, so every method sums to 1 to
    rounding.

    ``decimals`` is one market (a 1-D sequence: any invalid price raises ``ValueError``) or a
    2-D array, rows = markets and columns = outcomes: a row with an invalid price (<= 1, NaN,
    inf) is all NaN. Every column must be priced: a NaN is a missing price, not padding, because
    de-vigging the remaining outcomes as if they were the whole market would overstate them.
    Group markets by their number of outcomes instead.
    """
    if method not in DEVIG_METHODS:
        raise ValueError(f"unknown de-vig method {method!r}: use one of {DEVIG_METHODS}")
    if np.ndim(decimals) == 1:
        prices = list(decimals)
        if len(prices) < 2:
            raise ValueError(f"a market needs at least 2 outcomes, got {len(prices)}")
        for d in prices:
            if not is_valid_decimal(d):
                raise ValueError(f"invalid decimal odds {d!r}: need d > 1")
        q = 1.0 / np.asarray(prices, dtype="float64")[None, :]
        p = _devig_rows(q, method)[0]
        if np.isnan(p).any():
            raise ValueError(
                f"additive de-vig of {prices} gives a negative probability (the vig share"
                " exceeds a long shot's implied probability); use another method"
            )
        return p
    arr = np.asarray(decimals, dtype="float64")
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"need a 1-D market or a 2-D array with >= 2 columns, got shape {arr.shape}")
    valid = is_valid_decimal(arr).all(axis=1, keepdims=True)
    # invalid rows get a fair placeholder market (d_i = n) so the solvers see only valid rows
    safe = np.where(valid, arr, float(arr.shape[1]))
    return np.where(valid, _devig_rows(1.0 / safe, method), np.nan)


def devig_pair(d_over: Any, d_under: Any, method: str = "multiplicative") -> tuple[Any, Any]:
    """De-vig of a two-way market (``devig`` with n = 2); default multiplicative:
    p_i = (1/d_i) / (1/d_over + 1/d_under).

    Invalid scalar -> ValueError; arrays -> NaN in both outputs where either price is invalid.
    """
    if _is_scalar(d_over) and _is_scalar(d_under):
        p_over, p_under = devig([d_over, d_under], method)
        return float(p_over), float(p_under)
    over, under = np.broadcast_arrays(
        np.asarray(d_over, dtype="float64"), np.asarray(d_under, dtype="float64")
    )
    p = devig(np.stack([over.ravel(), under.ravel()], axis=1), method)
    return p[:, 0].reshape(over.shape), p[:, 1].reshape(over.shape)


# --------------------------------------------------------------------------- EV and Kelly


def _check_prob(p: Any, name: str = "p") -> None:
    if not _is_number(p) or not (0.0 <= p <= 1.0):
        raise ValueError(f"{name}={p!r} is not a probability in [0, 1]")


def _check_bet(p: float, decimal: float, p_push: float) -> None:
    """Scalar inputs of a bet: probabilities in [0, 1] summing to <= 1, decimal odds > 1."""
    _check_prob(p)
    _check_prob(p_push, "p_push")
    if p + p_push > 1.0 + 1e-12:
        raise ValueError(f"p + p_push = {p + p_push} > 1")
    if not is_valid_decimal(decimal):
        raise ValueError(f"invalid decimal odds {decimal!r}: need d > 1")


def ev_per_unit(p: Any, decimal: Any, p_push: Any = 0.0) -> Any:
    """Expected profit per unit staked: p*(d-1) - (1 - p - p_push).

    With p_push = 0 this is p*d - 1 (docs/domain.md). Invalid scalar -> ValueError; arrays -> NaN.
    """
    if _is_scalar(p) and _is_scalar(decimal) and _is_scalar(p_push):
        _check_bet(p, decimal, p_push)
        return p * (float(decimal) - 1.0) - (1.0 - p - p_push)
    p_a = np.asarray(p, dtype="float64")
    pp = np.asarray(p_push, dtype="float64")
    d = np.asarray(decimal, dtype="float64")
    with np.errstate(invalid="ignore"):
        valid = (
            is_valid_decimal(d)
            & (p_a >= 0) & (p_a <= 1) & (pp >= 0) & (pp <= 1) & (p_a + pp <= 1.0 + 1e-12)
        )
        out = p_a * (d - 1.0) - (1.0 - p_a - pp)
    return np.where(valid, out, np.nan)


def kelly_fraction(p: Any, decimal: Any, p_push: Any = 0.0, *, fraction: float = 1.0) -> Any:
    """Kelly stake fraction, floored at 0, scaled by ``fraction`` (0.25 = quarter Kelly).

    No push: f = (b*p - q) / b with b = d - 1, q = 1 - p (docs/domain.md). With a push probability
    (stake returned), maximising p*ln(1+bf) + q*ln(1-f) gives f = (b*p - q) / (b*(p + q)) with
    q = 1 - p - p_push, which reduces to the classic formula when p_push = 0. The result is
    fraction * max(0, f); ``fraction`` must be in (0, 1] (ValueError otherwise, arrays included).
    Invalid scalar -> ValueError; arrays -> NaN.
    """
    if not _is_number(fraction) or not (0.0 < fraction <= 1.0):
        raise ValueError(f"fraction={fraction!r} must be in (0, 1]")
    if _is_scalar(p) and _is_scalar(decimal) and _is_scalar(p_push):
        _check_bet(p, decimal, p_push)
        b = float(decimal) - 1.0
        q = max(0.0, 1.0 - p - p_push)
        if p + q == 0.0:  # certain push: nothing to gain
            return 0.0
        return fraction * max(0.0, (b * p - q) / (b * (p + q)))
    p_a = np.asarray(p, dtype="float64")
    pp = np.asarray(p_push, dtype="float64")
    d = np.asarray(decimal, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = (
            is_valid_decimal(d)
            & (p_a >= 0) & (p_a <= 1) & (pp >= 0) & (pp <= 1) & (p_a + pp <= 1.0 + 1e-12)
        )
        b = d - 1.0
        q = np.clip(1.0 - p_a - pp, 0.0, None)
        denom = b * (p_a + q)
        f = np.where(denom > 0, (b * p_a - q) / np.where(denom > 0, denom, 1.0), 0.0)
        out = fraction * np.maximum(f, 0.0)
    return np.where(valid, out, np.nan)
