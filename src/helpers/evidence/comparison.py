"""How the model versions compare with the market, as the reports say it: the market
comparison evidence (`fact_market_comparison_daily`, written by diagnostics from
`grading.compare`) of a report date, each slate by its newest run (`tables.newest_sql`), so a
past report renders again with the figures it had.

- `comparison_rows(con, D)`: the comparison of the newest slate in D's rolling window that
  has one (D's own when its diagnostics ran), production model first, market and
  challengers after it; `comparison_slate` of those rows.
- `comparison_markdown(rows)`: one sentence per market (daily report, EV section).
- `comparison_display(rows)`: one row per market and pair, as strings (rolling report).

Reading a row: diff = the source's mean log loss per prop minus the reference's on the same
props; negative means the source is better. The interval is 95 %: when it holds 0 the two
cannot be told apart over these slates.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from helpers.core.markets import MARKETS
from helpers.core.models import PRODUCTION_MODEL
from helpers.evidence.rolling import window
from helpers.evidence.tables import newest_sql
from helpers.grading.compare import COLUMNS, MARKET

TABLE = "fact_market_comparison_daily"
DISPLAY_COLUMNS = ["market", "source", "reference", "slates", "games", "props",
                   "log_loss", "log_loss_reference", "diff", "interval_95", "verdict"]
DISPLAY_FORMATS = {"log_loss": "{:.4f}".format, "log_loss_reference": "{:.4f}".format,
                   "diff": "{:+.4f}".format}


def comparison_rows(con: duckdb.DuckDBPyConnection, report_date: date) -> pd.DataFrame:
    """The stored comparison of the newest slate of D's 30-slate window that has one, in
    market order, then production model first, then the challengers (and each model
    against the market before the challengers against production)."""
    lo, hi = window(report_date)
    rows = con.execute(f"""
        SELECT * FROM ({newest_sql(TABLE)})
        WHERE slate_date = (SELECT max(slate_date) FROM ({newest_sql(TABLE)}))
        ORDER BY market_type, reference, source LIMIT 50
        """, {"lo": lo, "hi": hi}).df()
    if rows.empty:
        return pd.DataFrame(columns=["slate_date", *COLUMNS])
    market_order = {m: i for i, m in enumerate(MARKETS)}
    order = rows.assign(
        _m=rows["market_type"].map(market_order).fillna(len(MARKETS)),
        _r=(rows["reference"] != MARKET).astype(int),
        _s=(rows["source"] != PRODUCTION_MODEL).astype(int))
    return (order.sort_values(["_m", "market_type", "_r", "_s", "source"])
            .drop(columns=["_m", "_r", "_s"]).reset_index(drop=True))


def comparison_slate(rows: pd.DataFrame) -> date | None:
    return None if rows.empty else pd.Timestamp(rows["slate_date"].iloc[0]).date()


def _name(source: str) -> str:
    return "the market" if source == MARKET else source


def _verdict(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "no interval"
    if high < 0:
        return "source better"
    if low > 0:
        return "reference better"
    return "no clear difference"


def _clause(row: pd.Series, unit: str = "") -> str:
    """'<winner> beats <loser> by <margin><unit> (95 % interval a to b)', the margin and
    interval oriented so that positive favours the winner; 'is ahead of' and 'not a clear
    difference' when the interval holds 0."""
    diff, low, high = float(row["diff"]), float(row["ci_low"]), float(row["ci_high"])
    if diff <= 0:
        winner, loser, margin, lo, hi = row["source"], row["reference"], -diff, -high, -low
    else:
        winner, loser, margin, lo, hi = row["reference"], row["source"], diff, low, high
    interval = ("no interval: fewer than 2 games" if pd.isna(lo) or pd.isna(hi)
                else f"95 % interval {lo:.3f} to {hi:.3f}")
    verb = "beats" if not pd.isna(lo) and lo > 0 else "is ahead of"
    text = f"{_name(winner)} {verb} {_name(loser)} by {margin:.3f}{unit} ({interval})"
    if verb == "is ahead of" and not pd.isna(lo):
        text += ", not a clear difference"
    return text


def comparison_markdown(rows: pd.DataFrame, report_date: date, slates: int) -> str:
    """One sentence per market: every pair's verdict, then over how many graded slates,
    props and games. `slates` is the trailing window diagnostics pools (said when nothing
    is stored); a comparison stored for an earlier slate than the report's says so."""
    if rows.empty:
        return (f"No graded props in the {slates} slates before this one: the model versions "
                "cannot be compared with the market yet.")
    lines = []
    stored_for = comparison_slate(rows)
    if stored_for != pd.Timestamp(report_date).date():
        lines.append(f"_No comparison was stored for this slate: these figures are the one "
                     f"of slate {stored_for}._\n")
    for market, part in rows.groupby("market_type", sort=False):
        first = part.iloc[0]
        clauses = "; ".join(_clause(r, " in log loss per prop" if i == 0 else "")
                            for i, (_, r) in enumerate(part.iterrows()))
        lines.append(f"- **{market}**: {clauses}; over {int(first['n_slates'])} graded "
                     f"slates, {int(first['n_props']):,} props in {int(first['n_games']):,} "
                     f"games.")
    return "\n".join(lines)


def comparison_display(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per market and pair (DISPLAY_COLUMNS), for `markdown.md_table` with
    DISPLAY_FORMATS; the interval and the verdict as text."""
    if rows.empty:
        return pd.DataFrame(columns=DISPLAY_COLUMNS)
    return pd.DataFrame({
        "market": rows["market_type"],
        "source": rows["source"],
        "reference": rows["reference"],
        "slates": rows["n_slates"].astype(int),
        "games": rows["n_games"].astype(int),
        "props": rows["n_props"].astype(int),
        "log_loss": rows["log_loss"].astype(float),
        "log_loss_reference": rows["log_loss_reference"].astype(float),
        "diff": rows["diff"].astype(float),
        "interval_95": ["" if pd.isna(a) else f"{a:+.4f} to {b:+.4f}"
                        for a, b in zip(rows["ci_low"], rows["ci_high"], strict=True)],
        "verdict": [_verdict(a, b) for a, b in
                    zip(rows["ci_low"], rows["ci_high"], strict=True)],
    })
