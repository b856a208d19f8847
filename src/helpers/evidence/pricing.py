"""The pricing blend in the reports: the weights each slate's EV run priced with
(`fact_price_blend_fits`, written by the EV step), so a reader sees how much the model is
trusted against the market and how that moves.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from matplotlib.figure import Figure

from helpers.core.markets import MARKETS
from helpers.ev.read import newest_ev_runs_sql
from helpers.evidence.rolling import _date_axis, _figure, _no_data, _title

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
        SELECT f.* FROM fact_price_blend_fits f
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
    fig, axes = _figure()
    ax = axes[0, 0]
    if fits.empty:
        ax.set_title("Model weight in the pricing blend, per market" + _title(lo, hi))
        _no_data(ax, "EV runs")
        return fig
    frame = fits.assign(slate_date=pd.to_datetime(fits["slate_date"]))
    if lo is not None:  # the axis fits the data: no empty weeks before the first EV run
        lo = max(lo, frame["slate_date"].min().date())
    for market in [m for m in MARKETS if m in set(frame["market_type"])]:
        part = frame[frame["market_type"] == market]
        ax.plot(part["slate_date"], part["coef_model"], marker="o", markersize=3,
                label=market)
    ax.set_title("Model weight in the pricing blend, per market" + _title(lo, hi))
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.set_ylabel("coefficient on logit(model p)")
    _date_axis(ax, lo, hi)
    ax.legend(fontsize=8, ncols=len(MARKETS))
    return fig
