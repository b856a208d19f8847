"""Count distributions, row-wise over numpy arrays: (n,) parameters -> (n, kmax+1) pmfs.

The simulator samples from these pmfs (rand.invert_pmf) and the books price from them, so
"the true probability" is the generating distribution, not an approximation of it.
"""

from __future__ import annotations

import numpy as np

# Negative-binomial dispersion (Var = mu + alpha*mu^2), as in docs/domain.md
ALPHA_SOG = 0.35
ALPHA_BLOCKS = 0.60


def poisson_pmf(mu: np.ndarray, kmax: int) -> np.ndarray:
    mu = np.asarray(mu, dtype=np.float64)
    out = np.empty((*mu.shape, kmax + 1))
    out[..., 0] = np.exp(-mu)
    for k in range(1, kmax + 1):
        out[..., k] = out[..., k - 1] * mu / k
    return out


def nbinom_pmf(mu: np.ndarray, alpha: np.ndarray | float, kmax: int) -> np.ndarray:
    """NB with mean mu and Var = mu + alpha*mu^2 (scipy n = 1/alpha, p = 1/(1+alpha*mu))."""
    mu = np.asarray(mu, dtype=np.float64)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), mu.shape)
    n = 1.0 / alpha
    p = 1.0 / (1.0 + alpha * mu)
    out = np.empty((*mu.shape, kmax + 1))
    out[..., 0] = p**n
    for k in range(1, kmax + 1):
        out[..., k] = out[..., k - 1] * (k - 1 + n) / k * (1.0 - p)
    return out


def convolve_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """pmf of X + Y per row (independent X, Y), truncated to a's support."""
    kmax = a.shape[-1] - 1
    out = np.zeros_like(a)
    for i in range(kmax + 1):
        width = min(kmax - i, b.shape[-1] - 1) + 1
        out[..., i : i + width] += a[..., i : i + 1] * b[..., :width]
    return out


def with_overtime(mark_mu: np.ndarray, team_mu: np.ndarray, opp_mu: np.ndarray,
                  kmax: int) -> np.ndarray:
    """pmf of a player's count of "marked" team goals (his goals, assists or points) when a
    regulation tie is broken by one overtime goal.

    Regulation: marked ~ Poisson(m), other team goals ~ Poisson(team - m), opponent goals
    ~ Poisson(opp), independent (marking theorem). Tied -> one OT goal, carrying the mark
    with probability m / (team + opp).
    """
    m = np.asarray(mark_mu, dtype=np.float64)
    rest = np.maximum(np.asarray(team_mu, dtype=np.float64) - m, 0.0)
    opp = np.asarray(opp_mu, dtype=np.float64)
    span = 30  # other-goal counts beyond this have negligible probability
    reg = poisson_pmf(m, kmax)
    rest_pmf = poisson_pmf(rest, span)
    opp_pmf = poisson_pmf(opp, span + kmax + 1)
    # tie[k] = P(regulation tie | marked = k) = sum_r P(rest = r) P(opp = k + r)
    tie = np.stack([(rest_pmf * opp_pmf[..., k : k + span + 1]).sum(axis=-1)
                    for k in range(kmax + 1)], axis=-1)
    q = np.where(team_mu + opp > 0, m / np.maximum(team_mu + opp, 1e-12), 0.0)[..., None]
    out = reg * (1.0 - tie * q)
    out[..., 1:] += reg[..., :-1] * tie[..., :-1] * q
    return out


def at_least(pmf: np.ndarray) -> np.ndarray:
    """P(X >= k) for k = 0..kmax; truncated tail mass stays in the tail (1 - CDF(k-1))."""
    below = np.cumsum(pmf, axis=-1)[..., :-1]
    head = np.ones((*pmf.shape[:-1], 1))
    return np.clip(np.concatenate([head, 1.0 - below], axis=-1), 0.0, 1.0)


def pmf_mean(pmf: np.ndarray) -> np.ndarray:
    return (pmf * np.arange(pmf.shape[-1])).sum(axis=-1)
