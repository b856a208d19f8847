"""The pricing probability: a per-market logistic blend of the model and the market, fitted on
graded props of earlier slates. Pure: frames and arrays in, coefficients and frames out.

Why a blend. The gates pick the props where the model disagrees most with the market, so a
model that is unbiased over all props is biased on the bets it picks (the winner's curse):
on the demo its EV claims ran about 5x the EV the bets really had. Pricing from a
probability that has earned its weight against the market on graded history shrinks each
claim toward the market exactly as far as the evidence supports.

The form, per market, on P(over | no push):
    logit p_price = intercept + coef_model * logit p_model + coef_consensus * logit p_consensus
fitted by maximum likelihood with a light ridge pull toward the prior (below), on the half
lines of the graded props (a half line cannot push, so the outcome is exactly "over").
- Prior (and fallback while a market has fewer than `min_props` graded props): the
  consensus alone (0, 0, 1). A model without a track record against the market should not
  move a price; with it, EV is the price's edge over the sportsbooks' consensus.
- A prop without a consensus (no sportsbook prices both sides) has no p_price: nothing to
  hold the model to, so it is not bet (gate `no_consensus`).
- Walk-forward: the caller passes only slates before the one priced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

PRIOR = np.array([0.0, 0.0, 1.0])   # intercept, coef_model, coef_consensus: the consensus
RIDGE = 2.0                         # pull toward the prior, in log-likelihood units
P_CLIP = 1e-4                       # logits of probabilities beyond this are clipped
LOSS_CLIP = 1e-15
FIT_COLUMNS = ("slate_date", "market_type", "p_model", "p_consensus", "y")


@dataclass(frozen=True)
class Blend:
    """One market's blend and the evidence behind it."""

    market_type: str
    method: str                     # fitted | prior
    coefficients: np.ndarray        # intercept, coef_model, coef_consensus
    n_props: int
    n_slates: int
    first_slate: object = None
    last_slate: object = None
    log_loss_in_sample: float = float("nan")
    log_loss_model_in_sample: float = float("nan")
    log_loss_consensus_in_sample: float = float("nan")
    n_prev_slate: int = 0
    log_loss_prev_slate: float = float("nan")
    log_loss_consensus_prev_slate: float = float("nan")

    def row(self) -> dict:
        a, b, c = (float(x) for x in self.coefficients)
        return {"market_type": self.market_type, "method": self.method, "intercept": a,
                "coef_model": b, "coef_consensus": c, "n_props": self.n_props,
                "n_slates": self.n_slates, "first_slate": self.first_slate,
                "last_slate": self.last_slate, "log_loss_in_sample": self.log_loss_in_sample,
                "log_loss_model_in_sample": self.log_loss_model_in_sample,
                "log_loss_consensus_in_sample": self.log_loss_consensus_in_sample,
                "n_prev_slate": self.n_prev_slate,
                "log_loss_prev_slate": self.log_loss_prev_slate,
                "log_loss_consensus_prev_slate": self.log_loss_consensus_prev_slate}


def logit(p: np.ndarray) -> np.ndarray:
    return special.logit(np.clip(np.asarray(p, dtype=float), P_CLIP, 1 - P_CLIP))


def _design(p_model: np.ndarray, p_consensus: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(p_model)), logit(p_model), logit(p_consensus)])


def predict(coefficients: np.ndarray, p_model: np.ndarray,
            p_consensus: np.ndarray) -> np.ndarray:
    """P(over | no push) under the blend (NaN where either input is NaN)."""
    p_model = np.asarray(p_model, dtype=float)
    p_consensus = np.asarray(p_consensus, dtype=float)
    out = np.full(len(p_model), np.nan)
    ok = ~(np.isnan(p_model) | np.isnan(p_consensus))
    if ok.any():
        out[ok] = special.expit(_design(p_model[ok], p_consensus[ok]) @ coefficients)
    return out


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0:
        return float("nan")
    p = np.clip(np.asarray(p, dtype=float), LOSS_CLIP, 1 - LOSS_CLIP)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_coefficients(p_model: np.ndarray, p_consensus: np.ndarray, y: np.ndarray,
                     prior: np.ndarray = PRIOR, ridge: float = RIDGE,
                     iterations: int = 50) -> np.ndarray:
    """Penalised maximum likelihood by Newton's method: the log likelihood minus
    ridge/2 * |beta - prior|^2 (concave, so Newton converges from the prior)."""
    x = _design(p_model, p_consensus)
    y = np.asarray(y, dtype=float)
    beta = prior.astype(float).copy()
    for _ in range(iterations):
        p = special.expit(x @ beta)
        gradient = x.T @ (y - p) - ridge * (beta - prior)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


def _fit_or_prior(part: pd.DataFrame, min_props: int) -> tuple[str, np.ndarray]:
    if len(part) < min_props or part["y"].nunique() < 2:
        return "prior", PRIOR.copy()
    return "fitted", fit_coefficients(part["p_model"].to_numpy(),
                                      part["p_consensus"].to_numpy(), part["y"].to_numpy())


def fit_market(market: str, graded: pd.DataFrame, min_props: int) -> Blend:
    """The blend of one market from its graded props (FIT_COLUMNS, earlier slates only),
    with its in-sample log losses and the out-of-sample one on the newest slate."""
    part = graded[graded["market_type"] == market]
    method, beta = _fit_or_prior(part, min_props)
    slates = sorted(part["slate_date"].unique())
    if part.empty:
        return Blend(market, method, beta, 0, 0)
    y = part["y"].to_numpy()
    blend = Blend(
        market, method, beta, len(part), len(slates), slates[0], slates[-1],
        log_loss(predict(beta, part["p_model"], part["p_consensus"]), y),
        log_loss(part["p_model"].to_numpy(), y), log_loss(part["p_consensus"].to_numpy(), y))
    newest = part[part["slate_date"] == slates[-1]]
    _, before = _fit_or_prior(part[part["slate_date"] < slates[-1]], min_props)
    return replace(blend, n_prev_slate=len(newest),
                   log_loss_prev_slate=log_loss(
                       predict(before, newest["p_model"], newest["p_consensus"]),
                       newest["y"].to_numpy()),
                   log_loss_consensus_prev_slate=log_loss(newest["p_consensus"].to_numpy(),
                                                          newest["y"].to_numpy()))


def fit_blends(graded: pd.DataFrame, markets: tuple[str, ...], min_props: int
               ) -> dict[str, Blend]:
    """One blend per market (the prior where the evidence is thin)."""
    missing = [c for c in FIT_COLUMNS if c not in graded.columns]
    if missing:
        raise ValueError(f"fit_blends: graded props lack columns {missing}")
    usable = graded.dropna(subset=["p_model", "p_consensus", "y"])
    return {market: fit_market(market, usable, min_props) for market in markets}


def price_probability(rows: pd.DataFrame, blends: dict[str, Blend]) -> pd.DataFrame:
    """p_price (the win probability of each row's side) and the market's method, from the
    snapshot's P(over)/P(under) at the line (p_over, p_under, p_push) and the side's
    consensus (p_consensus, P(side | no push)). The blend works on P(over | no push); an
    integer line's push probability is the model's."""
    p_over, p_under = rows["p_over"].to_numpy(float), rows["p_under"].to_numpy(float)
    p_push = rows["p_push"].fillna(0.0).to_numpy(float)
    is_over = rows["side"].eq("OVER").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        model_over = p_over / (p_over + p_under)
    consensus = rows["p_consensus"].to_numpy(float)
    consensus_over = np.where(is_over, consensus, 1.0 - consensus)
    blended_over = np.full(len(rows), np.nan)
    method = np.full(len(rows), None, dtype=object)
    markets = rows["market_type"].to_numpy()
    for market, blend in blends.items():
        mine = markets == market
        if mine.any():
            blended_over[mine] = predict(blend.coefficients, model_over[mine],
                                         consensus_over[mine])
            method[mine] = blend.method
    side = np.where(is_over, blended_over, 1.0 - blended_over)
    p_price = side * (1.0 - p_push)
    method = np.where(np.isnan(p_price), None, method)
    return pd.DataFrame({"p_price": p_price, "price_method": method}, index=rows.index)
