"""Claimed against realized: what the recommended bets said they were worth, and what they
returned, over the rolling report's window (`rolling.window`, 30 slates).

The bets are the eligible (recommended), settled (WIN / LOSS / PUSH; a VOID was never
staked) rows of `fact_bet_results` with a claim (`ev` not NULL); one unit staked per bet.
Per group (claimed-EV bucket, market, price band):
- claimed_ev: mean `ev`, the EV the system claimed (on p_price);
- market_ev: mean `ev_market`, the EV at the sportsbooks' consensus (bets that have one);
- close_ev: mean EV at the closing no-vig price, p_fair_close·(d - 1) - (1 - p_fair_close),
  over the bets whose book had a two-sided close (bets_with_close of them);
- clv: mean `clv` (decimal taken / closing decimal - 1), bets with a close;
- roi: mean profit_units, the realized return per unit staked, and roi_se its standard error
  clustered by prop (game, player, market: the lines and books of one prop win or lose
  together), the CR1 sandwich for a mean:
  sqrt(C/(C-1)) · sqrt(Σ_c (Σ_{i in c} (x_i - mean))²) / n;
- z: (claimed_ev - roi) / roi_se, how many standard errors the claim is above the result.
A claim is rejected when |z| > 2. ROI is for observation only: nothing gates on it.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.core.markets import MARKETS
from helpers.evidence import chartstyle as cs
from helpers.evidence.markdown import pct, signed_pct
from helpers.evidence.rolling import window
from helpers.grading.read import SETTLED_BETS_SQL

CLUSTER = ["game_id", "player_id", "market_type"]
REJECT_Z = 2.0
ALL = "all"
# (lower bound included, label); the last bound runs to infinity
CLAIM_BUCKETS = [(-math.inf, "< 2 %"), (0.02, "2-5 %"), (0.05, "5-10 %"), (0.10, "10-25 %"),
                 (0.25, "25-50 %"), (0.50, ">= 50 %")]
PRICE_BANDS = [(1.0, "< 1.50"), (1.5, "1.50-2.00"), (2.0, "2.00-2.50"), (2.5, "2.50-3.50"),
               (3.5, "3.50-6.00"), (6.0, ">= 6.00")]
GROUPS = {"claim": "claimed_ev_bucket", "market": "market", "price": "price_band"}
COLUMNS = ["bets", "claimed_ev", "market_ev", "close_ev", "bets_with_close", "clv", "roi",
           "roi_se", "z"]
CHART = ("claims", "Cumulative realized profit against cumulative claimed EV (and the "
                   "market's EV) over the window's recommended bets in slate order, one unit "
                   "each: a realized line far below the claim means the claims are too high.")


def window_bets(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """The eligible, settled bets with a claim of slates [lo, hi], in slate order."""
    return con.execute(f"""
        SELECT slate_date, game_id, player_id, market_type, line, side, book_name,
               odds_decimal, ev, ev_market, p_fair_close, clv, result, profit_units
        FROM ({SETTLED_BETS_SQL})
        WHERE slate_date BETWEEN $lo AND $hi AND ev IS NOT NULL
        ORDER BY slate_date, game_id, player_id, market_type, line, side, book_name
        """, {"lo": lo, "hi": hi}).df()


def clustered_se(values: np.ndarray, clusters: pd.DataFrame | np.ndarray) -> float:
    """The CR1 cluster-robust standard error of the mean of `values`; `clusters` gives each
    value's cluster (one column or several). NaN with fewer than 2 clusters."""
    x = np.asarray(values, dtype=float)
    keys = clusters if isinstance(clusters, pd.DataFrame) else pd.DataFrame({"c": clusters})
    codes = keys.reset_index(drop=True).groupby(list(keys.columns), sort=False).ngroup()
    n, n_clusters = len(x), int(codes.max()) + 1 if len(x) else 0
    if n_clusters < 2:
        return math.nan
    sums = np.bincount(codes.to_numpy(), weights=x - x.mean(), minlength=n_clusters)
    return float(math.sqrt(n_clusters / (n_clusters - 1)) * math.sqrt(np.sum(sums ** 2)) / n)


def _band(values: pd.Series, bands: list[tuple[float, str]]) -> pd.Series:
    edges = [b for b, _ in bands] + [math.inf]
    edges[0] = -math.inf
    return pd.cut(values.astype(float), edges, right=False, labels=[name for _, name in bands])


def _row(part: pd.DataFrame) -> dict:
    d, p = part["odds_decimal"], part["p_fair_close"]
    close_ev = (p * (d - 1) - (1 - p)).dropna()
    roi = float(part["profit_units"].mean())
    se = clustered_se(part["profit_units"].to_numpy(), part[CLUSTER])
    claimed = float(part["ev"].mean())
    return {"bets": len(part), "claimed_ev": claimed, "market_ev": part["ev_market"].mean(),
            "close_ev": close_ev.mean() if len(close_ev) else math.nan,
            "bets_with_close": len(close_ev), "clv": part["clv"].mean(), "roi": roi,
            "roi_se": se, "z": (claimed - roi) / se if se > 0 else math.nan}


def claims_table(bets: pd.DataFrame, by: str = "claim") -> pd.DataFrame:
    """One row per group of `by` ('claim': claimed-EV bucket, 'market', 'price': decimal odds
    band) with at least one bet, in bucket / market order, and a last row 'all'."""
    label = GROUPS[by]
    if bets.empty:
        return pd.DataFrame(columns=[label, *COLUMNS])
    if by == "claim":
        keys = _band(bets["ev"], CLAIM_BUCKETS)
    elif by == "price":
        keys = _band(bets["odds_decimal"], PRICE_BANDS)
    else:
        seen = set(bets["market_type"])
        order = [m for m in MARKETS if m in seen] + sorted(seen - set(MARKETS))
        keys = pd.Categorical(bets["market_type"], categories=order)
    rows = [{label: str(key), **_row(part)}
            for key, part in bets.groupby(keys, sort=True, observed=True)]
    rows.append({label: ALL, **_row(bets)})
    return pd.DataFrame(rows, columns=[label, *COLUMNS])


def claims_markdown(table: pd.DataFrame) -> str:
    """One sentence per claimed-EV bucket whose result rejects its claim (|z| > 2); when
    none does, one sentence saying so with the largest |z|."""
    buckets = table[table["claimed_ev_bucket"] != ALL] if len(table) else table
    if buckets.empty:
        return "No recommended bet settled in the window: there is no claim to hold to account."
    scored = buckets[buckets["z"].notna()]
    if scored.empty:
        return ("Too few props in every bucket for a standard error: no claim can be tested "
                "yet.")
    lines = []
    for row in scored[scored["z"].abs() > REJECT_Z].itertuples():
        side = "above" if row.z > 0 else "below"
        lines.append(f"- Bets claiming {row.claimed_ev_bucket} returned {signed_pct(row.roi)} "
                     f"± {pct(row.roi_se)} (claimed {signed_pct(row.claimed_ev)}): the claim "
                     f"is {abs(row.z):.1f} standard errors {side} the result.")
    if lines:
        return "\n".join(lines)
    top = scored.loc[scored["z"].abs().idxmax()]
    return (f"No bucket's result rejects its claim (none is more than {REJECT_Z:g} standard "
            f"errors from it); the largest gap is {abs(top['z']):.1f} standard errors, bets "
            f"claiming {top['claimed_ev_bucket']}: returned {signed_pct(top['roi'])} ± "
            f"{pct(top['roi_se'])}, claimed {signed_pct(top['claimed_ev'])}.")


def plot_claims(bets: pd.DataFrame, lo: date | None = None, hi: date | None = None) -> Figure:
    """Cumulative claimed EV, market EV (0 for a bet without one) and realized profit, in
    units, against the bets in slate order; the slates' first bets mark the x axis, and the
    title's dates are the slates with bets (from the first, to hi)."""
    lo, hi = cs.fit_window(lo, hi, bets)
    fig, axes = cs.figure(height=3.6)
    ax = axes[0, 0]
    ax.set_title("Claimed against realized, recommended bets" + cs.span(lo, hi))
    if bets.empty:
        cs.no_data(ax, "settled recommended bets")
        return fig
    x = np.arange(1, len(bets) + 1)
    # the claim wide and the market's EV dashed on it: where they coincide (a market priced
    # at the consensus alone), both stay visible
    ax.plot(x, bets["ev"].cumsum().to_numpy(dtype=float), color="tab:red", lw=2.5,
            alpha=0.8, label="cumulative claimed EV")
    ax.plot(x, bets["ev_market"].fillna(0.0).cumsum().to_numpy(dtype=float),
            color="tab:gray", ls="--", label="cumulative market EV")
    ax.plot(x, bets["profit_units"].cumsum().to_numpy(dtype=float), color="tab:blue",
            label="cumulative realized profit")
    ax.axhline(0, color="k", lw=0.6)
    days = pd.to_datetime(bets["slate_date"]).reset_index(drop=True)
    starts = days.drop_duplicates()
    step = max(1, math.ceil(len(starts) / 8))
    ticks = starts.iloc[::step]
    ax.set_xticks(ticks.index.to_numpy() + 1, [f"{d:%m-%d}" for d in ticks])
    ax.set_xlim(0.5, len(bets) + 0.5)  # the first bet to the last, no margin of no bets
    ax.set_xlabel("bets in slate order (ticks: a slate's first bet)")
    ax.set_ylabel("units")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def claims_window(con: duckdb.DuckDBPyConnection,
                  report_date: date) -> tuple[pd.DataFrame, date, date]:
    """The bets of the rolling report's window ending at D, and the window."""
    lo, hi = window(report_date)
    return window_bets(con, lo, hi), lo, hi

