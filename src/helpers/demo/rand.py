"""Counter-based randomness: every draw is a pure function of (seed, keys).

A draw for game 2025020123 does not depend on how many games were simulated before it, so
a league built with days=60 and one built with days=120 agree on their common games, and
book prices at 10:00 are the same however often they are requested. numpy's Generator is
used only for the league's static parts (names, rosters, rates).
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _key_array(key: object) -> np.ndarray:
    """Strings become a stable 32-bit tag (crc32, not Python's salted hash)."""
    if isinstance(key, str):
        key = zlib.crc32(key.encode("utf-8"))
    arr = np.asarray(key)
    if arr.dtype.kind == "f":
        # Floats (lines like 2.5) are keyed by their value in tenths.
        arr = np.rint(arr * 10)
    return np.atleast_1d(arr.astype(np.int64).astype(np.uint64))


def _splitmix(x: np.ndarray) -> np.ndarray:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def hash64(*keys: object) -> np.ndarray:
    """A uint64 per broadcast element of the keys."""
    with np.errstate(over="ignore"):
        h = _splitmix(_key_array(keys[0]))
        for key in keys[1:]:
            h = _splitmix(h ^ _key_array(key))
    return h


def uniform(*keys: object) -> np.ndarray:
    """Uniform in the open interval (0, 1)."""
    h = hash64(*keys)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (2.0**-53)


def normal(*keys: object) -> np.ndarray:
    return special.ndtri(uniform(*keys))


def gumbel(*keys: object) -> np.ndarray:
    return -np.log(-np.log(uniform(*keys)))


def invert_pmf(u: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: the smallest k with CDF(k) >= u, per row of pmf (n, K+1)."""
    cdf = np.cumsum(pmf, axis=-1)
    return np.minimum((u[..., None] > cdf).sum(axis=-1), pmf.shape[-1] - 1)
