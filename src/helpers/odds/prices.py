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
    "american_to_decimal",
    "decimal_to_american",
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


# --------------------------------------------------------------------------- pricing


def _check_prob(p: Any, name: str = "p") -> None:
    if not _is_number(p) or not (0.0 <= p <= 1.0):
        raise ValueError(f"{name}={p!r} is not a probability in [0, 1]")


def devig_pair(d_over: Any, d_under: Any) -> tuple[Any, Any]:
    """Multiplicative de-vig of a two-way market: p_i = (1/d_i) / (1/d_over + 1/d_under).

    Invalid scalar -> ValueError; arrays -> NaN in both outputs where either price is invalid.
    """
    if _is_scalar(d_over) and _is_scalar(d_under):
        io = implied_probability(d_over)
        iu = implied_probability(d_under)
        s = io + iu
        return io / s, iu / s
    io = implied_probability(np.asarray(d_over, dtype="float64"))
    iu = implied_probability(np.asarray(d_under, dtype="float64"))
    s = io + iu
    return io / s, iu / s


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


def kelly_fraction(p: Any, decimal: Any, p_push: Any = 0.0) -> Any:
    """Full-Kelly stake fraction, floored at 0.

    No push: f = (b*p - q) / b with b = d - 1, q = 1 - p (docs/domain.md). With a push probability
    (stake returned), maximising p*ln(1+bf) + q*ln(1-f) gives f = (b*p - q) / (b*(p + q)) with
    q = 1 - p - p_push, which reduces to the classic formula when p_push = 0.
    Invalid scalar -> ValueError; arrays -> NaN.
    """
    if _is_scalar(p) and _is_scalar(decimal) and _is_scalar(p_push):
        _check_bet(p, decimal, p_push)
        b = float(decimal) - 1.0
        q = max(0.0, 1.0 - p - p_push)
        if p + q == 0.0:  # certain push: nothing to gain
            return 0.0
        return max(0.0, (b * p - q) / (b * (p + q)))
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
        out = np.maximum(f, 0.0)
    return np.where(valid, out, np.nan)
