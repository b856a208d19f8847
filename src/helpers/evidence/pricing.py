"""The pricing blend in the reports: the weights each slate's EV run priced with
(`fact_price_blend_fits`, written by the EV step), so a reader sees how much the model is
trusted against the market and how that moves.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.core.markets import MARKETS
from helpers.ev.read import BLEND_FITS_SQL, newest_ev_runs_sql
from helpers.evidence import chartstyle as cs

CHART = ("blend_weights", "The weight of the model's logit in each market's pricing blend, "
                          "per slate (0: priced at the consensus alone; the prior while "
                          "history is thin). A weight that grows is the model earning trust "
                          "on graded results.")
TABLE_COLUMNS = ["market_type", "method", "coef_model", "coef_consensus", "intercept",
                 "n_props", "n_slates", "log_loss_in_sample", "log_loss_model_in_sample",
                 "log_loss_consensus_in_sample", "log_loss_prev_slate",
                 "log_loss_consensus_prev_slate"]


def blend_fits(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """The blends of each slate of [lo, hi] as its newest EV run fitted them."""
    return con.execute(f"""
        SELECT f.* FROM ({BLEND_FITS_SQL}) f
        JOIN ({newest_ev_runs_sql("slate_date BETWEEN $lo AND $hi")}) r
          USING (slate_date, run_id)
        ORDER BY f.slate_date, f.model_version, f.market_type
        """, {"lo": lo, "hi": hi}).df()


def blend_table(fits: pd.DataFrame, slate: date) -> pd.DataFrame:
    """The slate's blends, one row per market in market order."""
    day = fits[pd.to_datetime(fits["slate_date"]).dt.date == slate]
    order = {m: i for i, m in enumerate(MARKETS)}
    return (day.assign(_o=day["market_type"].map(order)).sort_values("_o")[TABLE_COLUMNS]
            .reset_index(drop=True))


def blend_sentence(fits: pd.DataFrame, slate: date) -> str:
    """What the slate's blends say, in a sentence or two."""
    table = blend_table(fits, slate)
    if table.empty:
        return "No EV run priced this slate: no pricing blend."
    day = fits[pd.to_datetime(fits["slate_date"]).dt.date == slate]
    model_version = ", ".join(sorted(day["model_version"].unique()))
    fitted = table[table["method"] == "fitted"]
    parts = [f"{r.market_type} {r.coef_model:.2f}" for r in fitted.itertuples()]
    prior = table.loc[table["method"] == "prior", "market_type"].tolist()
    text = (f"EV is priced from a blend of `{model_version}` and the sportsbooks' consensus, "
            "fitted per market on earlier graded slates.")
    if parts:
        text += f" Weight on the model's logit: {', '.join(parts)}."
    if prior:
        text += (f" Too little graded history in {', '.join(prior)}: priced at the "
                 "consensus alone.")
    return text


def plot_blend_weights(fits: pd.DataFrame, lo: date | None = None,
                       hi: date | None = None) -> Figure:
    """A panel per market on one shared scale (the weights of several markets are often the
    same, 0 while each is at the prior): filled points fitted, open points the prior. The
    axis starts at the first slate with an EV run."""
    frame = fits.assign(slate_date=pd.to_datetime(fits["slate_date"])) if len(fits) else fits
    lo, hi = cs.fit_window(lo, hi, frame)
    title = "Model weight in the pricing blend, per market" + cs.span(lo, hi)
    seen = set(frame["market_type"]) if len(frame) else set()
    markets = [m for m in MARKETS if m in seen] + sorted(seen - set(MARKETS))
    if not markets:
        fig, axes = cs.figure()
        axes[0, 0].set_title(title)
        cs.no_data(axes[0, 0], "EV runs")
        return fig
    fig, axes = cs.grid(len(markets), height=2.1, sharey=True)
    fig.suptitle(title)
    for i, ax in enumerate(axes):
        part = frame[frame["market_type"] == markets[i]].sort_values("slate_date")
        ax.plot(part["slate_date"], part["coef_model"].to_numpy(dtype=float), color=f"C{i}",
                marker="o", markersize=4)
        prior = (part["method"] == "prior").to_numpy()
        if prior.any():
            ax.plot(part["slate_date"][prior], part["coef_model"][prior].to_numpy(dtype=float),
                    ls="none", marker="o", markersize=6, color=f"C{i}",
                    markerfacecolor="white", zorder=3)
        ax.axhline(0, color="0.5", linewidth=0.8)
        ax.set_title(markets[i], fontsize=10)
        cs.date_axis(ax, lo, hi, max_ticks=5)
        ax.tick_params(labelleft=True)
    weights = frame["coef_model"].to_numpy(dtype=float)
    low, high = np.nanmin(weights, initial=0.0), np.nanmax(weights, initial=0.0)
    axes[0].set_ylim(min(-0.05, 1.1 * low), max(0.5, 1.15 * high))  # shared: every panel
    # one legend: what a filled and an open point mean, whatever the market's colour
    keys = [Line2D([], [], color="0.3", marker="o", markersize=4, label="fitted")]
    if (frame["method"] == "prior").any():
        keys.append(Line2D([], [], ls="none", color="0.3", marker="o", markersize=6,
                           markerfacecolor="white", label="prior (consensus alone)"))
    fig.legend(handles=keys, fontsize=8, loc="outside lower center", ncols=len(keys))
    fig.supylabel("coefficient on logit(model p)", fontsize=9)
    return fig
