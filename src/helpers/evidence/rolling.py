"""The rolling report: what `outputs/monitoring/rolling_report.md` shows for a report date D
(a slate date), read from the evidence layer. SQL over a date range (never the whole
history) returns small per-slate frames; pandas pools them into windows; the charts are
matplotlib Figures (no pyplot state, nothing shown: the caller passes each one to
`markdown.show_chart(fig, name, caption)`).

How each table is read
- Evidence tables (coverage, mapping, EV summary, forecast accuracy, calibration, anomaly
  checks): each slate by its newest run only, as `tables.newest_sql` selects them.
- fact_run_registry: every run of a slate counts; the row with step 'run' is the run.
- fact_bet_results: as is (the grading step replaces a slate's rows).
- fact_vendor_fetch_log: one row per HTTP attempt, tied to a slate through its run_id.
- fact_forecast_accuracy_daily / fact_calibration_daily: slate_date is the GRADED slate, so
  the newest slate of a window is usually not graded yet. Model against market is always on
  scope 'shared' (the props every source priced).

API
- `newest_slate(con) -> date | None`: the newest slate with a run in the registry, where the
  rolling report ends whatever date the daily report beside it is rendered for.
- `window(D, days=30) -> (lo, hi)`: the slates D-days+1 .. D.
- `windows_table(con, D) -> DataFrame`: one row per metric; columns metric, last_7, prev_7,
  delta_7, last_30, prev_30, delta_30 (last_7 = D-6..D, prev_7 = D-13..D-7, the same for
  30; delta = last - prev). Missing data is NaN, never an error.
  Metrics: runs, run success rate, steps failed/timeout/interrupted; per vendor the mean
  odds rows per slate and the player and event mapping rates (pooled counts); eligible bets
  (EV summary); per market log loss and Brier of the production model and of the market
  (n-weighted over lines and slates: the exact pooled value) and the production model's ECE
  from the pooled reliability bins, all on shared props; mean CLV (clv_prob of eligible
  settled bets).
- `windows_display(table) -> DataFrame`: the same table as display strings (rates in %,
  signed deltas), for `markdown.md_table`; `metric_kind(metric)` says which format a row
  gets.
- Per-slate series over [lo, hi], one row per slate (and vendor, market, ...):
  `daily_registry`, `daily_step_durations`, `daily_odds_rows`, `daily_mapping`, `daily_ev`,
  `daily_accuracy`, `calibration_bins` (per slate or pooled), `daily_clv`, `clv_histogram`,
  `daily_vendor_health`; and the pure `ece_from_bins(bins)`, `reliability(bins)`.
- Charts: `CHARTS` (ordered (name, caption)), `CHART_HEADINGS` (name -> heading); `chart_data(con, D, name, days=30)` -> the
  frames the chart draws; one `plot_<name>(*frames, lo=, hi=) -> Figure` per chart;
  `chart(con, D, name, days=30) -> Figure`; `charts(con, D, days=30) -> {name: Figure}`.
  Every chart's date axis starts at its first slate with data and ends at D; series that
  would hide each other get a panel each (or a marker and line style each), counts whole
  ticks and shares percentage ticks (`helpers.evidence.chartstyle`). Every chart draws a
  readable "no data" figure on an empty database.
- `worst_days(con, D, days=30) -> DataFrame`: the slates of the window with a failed,
  timed-out or interrupted step or a failed anomaly check, worst first, at most 10.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

import duckdb
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from helpers.core.markets import MARKETS
from helpers.core.models import PRODUCTION_MODEL
from helpers.core.vendors import VENDORS
from helpers.evidence import chartstyle as cs
from helpers.evidence.markdown import pct
from helpers.evidence.tables import newest_sql
from helpers.grading.read import SETTLED_BETS_SQL

MARKET = "market"  # the `source` of the sportsbooks' de-vigged consensus
SHARED = "shared"
FAILED_STATUSES = ("failed", "timeout", "interrupted")
RUN_STATUSES = ("success", "partial", "failed", "interrupted", "running")
WINDOW_COLUMNS = ["metric", "last_7", "prev_7", "delta_7", "last_30", "prev_30", "delta_30"]
# window -> (first, last) slate as days before D
WINDOWS = {"last_7": (6, 0), "prev_7": (13, 7), "last_30": (29, 0), "prev_30": (59, 30)}
CHART_DAYS = 30
WORST_DAYS_MAX = 10
CLV_HIST_BINS, CLV_HIST_LIMIT = 40, 0.10
LOG_LOSS_MIN_SPAN = 0.05  # the least y range of a log loss panel

CHARTS: list[tuple[str, str]] = [
    ("rows_per_vendor", "Odds rows per vendor per slate (newest run of each slate), one panel "
                        "per vendor on its own scale from zero: look for a vendor falling to "
                        "zero (a red cross, dated in the panel's title) or a step change in "
                        "its level."),
    ("run_status", "Runs per slate by final status (top) and the slowest run of each step "
                   "(bottom): look for non-green bars and durations creeping up."),
    ("mapping_rate", "Share of each vendor's slate players mapped to an NHL player, one panel "
                     "per vendor (dotted: its rate over the window): look for a vendor "
                     "dipping below its usual level."),
    ("ev_counts", "Eligible bets per slate (top) and the mean EV of all candidates (bottom): "
                  "a jump in edges is usually a data problem, not an opportunity."),
    ("log_loss", "Daily log loss per market on the props every source priced, production "
                 "model (solid) against market (dashed), lower is better: look for red, the "
                 "model above the market."),
    ("calibration", "Reliability over the window's graded slates on shared props, markets "
                    "pooled: observed over-rate against mean P(over) per bin; off the "
                    "diagonal = miscalibrated."),
    ("clv", "CLV of eligible settled bets (closing minus taken no-vig probability): the "
            "window's distribution and the daily mean; look for a mean below zero (red)."),
    ("vendor_health", "Share of failed HTTP attempts, one panel per vendor on a 0-100 % "
                      "scale (slates with failures in red, the worst in the panel's title), "
                      "and p95 latency per vendor per slate (fetch log): look for error "
                      "spikes and latency creeping up."),
]
CHART_NAMES = tuple(name for name, _ in CHARTS)
# the report's heading above each chart
CHART_HEADINGS = {"rows_per_vendor": "Odds rows per vendor", "run_status": "Runs and step durations",
                  "mapping_rate": "Player mapping rate", "ev_counts": "Eligible bets and mean EV",
                  "log_loss": "Log loss per market", "calibration": "Calibration",
                  "clv": "Closing line value (CLV)", "vendor_health": "Vendor errors and latency"}

# --------------------------------------------------------------------------- dates, SQL


def _as_date(value: date | datetime | str | pd.Timestamp) -> date:
    return pd.Timestamp(value).date()


def newest_slate(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest slate with a run in the registry (None: no run yet). The rolling report
    ends here: rendered at the end of a run for an older slate, or by `runner report` for
    an older date, it would otherwise pull its windows back to that day and hide every
    slate after it."""
    newest = con.execute("SELECT max(slate_date) FROM fact_run_registry WHERE step = 'run' "
                         "LIMIT 1").fetchall()[0][0]
    return None if newest is None else _as_date(newest)


def window(report_date: date | str, days: int = CHART_DAYS) -> tuple[date, date]:
    """The slates D-days+1 .. D."""
    hi = _as_date(report_date)
    return hi - timedelta(days=days - 1), hi


def _query(con: duckdb.DuckDBPyConnection, sql: str, lo: date, hi: date,
           **params: object) -> pd.DataFrame:
    frame = con.execute(sql, {"lo": _as_date(lo), "hi": _as_date(hi), **params}).df()
    if "slate_date" in frame.columns:
        frame["slate_date"] = pd.to_datetime(frame["slate_date"])
    return frame


def _between(frame: pd.DataFrame, lo: date, hi: date) -> pd.DataFrame:
    days = frame["slate_date"]
    return frame[(days >= pd.Timestamp(lo)) & (days <= pd.Timestamp(hi))]


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


# --------------------------------------------------------------------------- per-slate series


def daily_registry(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate: runs (rows with step 'run'), runs per final status (runs_success, ...),
    and steps_failed (step rows failed, timed out or interrupted), over every run."""
    by_status = ",\n".join(
        f"count(*) FILTER (WHERE step = 'run' AND status = '{s}') AS runs_{s}"
        for s in RUN_STATUSES)
    return _query(con, f"""
        SELECT slate_date, count(*) FILTER (WHERE step = 'run') AS runs, {by_status},
               count(*) FILTER (WHERE step <> 'run'
                                AND status IN {FAILED_STATUSES}) AS steps_failed
        FROM fact_run_registry WHERE slate_date BETWEEN $lo AND $hi
        GROUP BY slate_date ORDER BY slate_date
        """, lo, hi)


def daily_step_durations(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate and step: the longest duration of the step over the slate's runs (skipped
    steps left out)."""
    return _query(con, """
        SELECT slate_date, step, min(step_order) AS step_order, max(duration_s) AS duration_s
        FROM fact_run_registry
        WHERE slate_date BETWEEN $lo AND $hi AND step <> 'run' AND status <> 'skipped'
          AND duration_s IS NOT NULL
        GROUP BY slate_date, step ORDER BY slate_date, step_order
        """, lo, hi)


def daily_odds_rows(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate and vendor: odds rows (coverage of the slate's newest run)."""
    return _query(con, f"""
        SELECT slate_date, source_vendor, sum(n_rows)::DOUBLE AS n_rows
        FROM ({newest_sql('fact_odds_coverage_daily')})
        GROUP BY ALL ORDER BY ALL
        """, lo, hi)


def daily_mapping(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate, vendor and entity (event, player): n_total, n_mapped, mapped_rate."""
    return _query(con, f"""
        SELECT slate_date, source_vendor, entity, sum(n_total)::DOUBLE AS n_total,
               sum(n_mapped)::DOUBLE AS n_mapped,
               sum(n_mapped) / nullif(sum(n_total), 0) AS mapped_rate
        FROM ({newest_sql('fact_mapping_quality_daily')})
        GROUP BY ALL ORDER BY ALL
        """, lo, hi)


def daily_ev(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate: EV candidates, eligible, positive-EV and suspicious counts, and the mean EV
    of all candidates (each vendor/book/market's ev_mean weighted by its candidates)."""
    return _query(con, f"""
        SELECT slate_date, sum(n_candidates)::DOUBLE AS n_candidates,
               sum(n_eligible)::DOUBLE AS n_eligible,
               sum(n_positive_ev)::DOUBLE AS n_positive_ev,
               sum(n_suspicious)::DOUBLE AS n_suspicious,
               sum(ev_mean * n_candidates) / nullif(sum(n_candidates)
                   FILTER (WHERE ev_mean IS NOT NULL), 0) AS ev_mean
        FROM ({newest_sql('fact_ev_summary_daily')})
        GROUP BY slate_date ORDER BY slate_date
        """, lo, hi)


def daily_accuracy(con: duckdb.DuckDBPyConnection, lo: date, hi: date, scope: str = SHARED,
                   sources: tuple[str, ...] = (PRODUCTION_MODEL, MARKET)) -> pd.DataFrame:
    """Per graded slate, source and market, pooled over lines (n-weighted, i.e. the exact
    log loss and Brier of the pooled props): n, log_loss, brier, and the sums that pool
    further (sum_log_loss = Σ n·log_loss over n_log_loss props; the same for Brier)."""
    return _query(con, f"""
        SELECT slate_date, source, market_type,
               sum(n)::DOUBLE AS n,
               sum(n * log_loss) AS sum_log_loss,
               sum(n) FILTER (WHERE log_loss IS NOT NULL)::DOUBLE AS n_log_loss,
               sum(n * brier) AS sum_brier,
               sum(n) FILTER (WHERE brier IS NOT NULL)::DOUBLE AS n_brier,
               sum(n * log_loss) / nullif(n_log_loss, 0) AS log_loss,
               sum(n * brier) / nullif(n_brier, 0) AS brier
        FROM ({newest_sql('fact_forecast_accuracy_daily')})
        WHERE scope = $scope AND list_contains($sources, source)
        GROUP BY ALL ORDER BY ALL
        """, lo, hi, scope=scope, sources=list(sources))


def calibration_bins(con: duckdb.DuckDBPyConnection, lo: date, hi: date, scope: str = SHARED,
                     sources: tuple[str, ...] = (PRODUCTION_MODEL, MARKET),
                     by_day: bool = False) -> pd.DataFrame:
    """Reliability bins (n, sum_p, sum_y) per source, market and bin, summed over the graded
    slates of [lo, hi] (`by_day`: per slate as well)."""
    day = "slate_date, " if by_day else ""
    return _query(con, f"""
        SELECT {day}source, market_type, bin, sum(n)::DOUBLE AS n, sum(sum_p) AS sum_p,
               sum(sum_y) AS sum_y
        FROM ({newest_sql('fact_calibration_daily')})
        WHERE scope = $scope AND list_contains($sources, source)
        GROUP BY ALL ORDER BY ALL
        """, lo, hi, scope=scope, sources=list(sources))


def ece_from_bins(bins: pd.DataFrame) -> float:
    """ECE of pooled reliability bins: Σ_b (n_b/N)·|sum_y_b/n_b - sum_p_b/n_b|, which is
    Σ_b |sum_y_b - sum_p_b| / N, after summing the rows of each bin (days, runs). NaN when
    there are no props."""
    if bins.empty:
        return math.nan
    pooled = bins.groupby("bin")[["n", "sum_p", "sum_y"]].sum()
    total = pooled["n"].sum()
    if total <= 0:
        return math.nan
    return float((pooled["sum_y"] - pooled["sum_p"]).abs().sum() / total)


def reliability(bins: pd.DataFrame) -> pd.DataFrame:
    """Per source and bin, markets (and days) pooled: n, mean_p, mean_y."""
    if bins.empty:
        return pd.DataFrame(columns=["source", "bin", "n", "mean_p", "mean_y"])
    out = bins.groupby(["source", "bin"], as_index=False)[["n", "sum_p", "sum_y"]].sum()
    out = out[out["n"] > 0]
    return out.assign(mean_p=out["sum_p"] / out["n"], mean_y=out["sum_y"] / out["n"])[
        ["source", "bin", "n", "mean_p", "mean_y"]].reset_index(drop=True)


# CLV over the settled eligible bets with a no-vig close.
_CLV_BETS = f"""
    FROM ({SETTLED_BETS_SQL})
    WHERE slate_date BETWEEN $lo AND $hi AND clv_prob IS NOT NULL
"""


def daily_clv(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per graded slate: eligible settled bets with a close (n), the sum and mean of their
    clv_prob (closing minus taken no-vig probability)."""
    return _query(con, f"""
        SELECT slate_date, count(*)::DOUBLE AS n, sum(clv_prob) AS clv_prob_sum,
               avg(clv_prob) AS clv_prob_mean
        {_CLV_BETS}
        GROUP BY slate_date ORDER BY slate_date
        """, lo, hi)


def clv_histogram(con: duckdb.DuckDBPyConnection, lo: date, hi: date,
                  bins: int = CLV_HIST_BINS, limit: float = CLV_HIST_LIMIT) -> pd.DataFrame:
    """Histogram of the clv_prob of eligible settled bets in [lo, hi]: `bins` equal bins on
    [-limit, limit], values beyond it counted in the end bins. Columns lower, upper, n;
    empty when there are no bets."""
    width = 2 * limit / bins
    counts = con.execute(f"""
        SELECT least(greatest(floor((clv_prob + $limit) / $width), 0), $last)::INTEGER AS bin,
               count(*) AS n
        {_CLV_BETS}
        GROUP BY bin
        """, {"lo": _as_date(lo), "hi": _as_date(hi), "limit": limit, "width": width,
              "last": bins - 1}).df()
    if counts.empty:
        return pd.DataFrame(columns=["lower", "upper", "n"])
    n = np.zeros(bins, dtype="int64")
    n[counts["bin"].to_numpy()] = counts["n"].to_numpy()
    lower = -limit + width * np.arange(bins)
    return pd.DataFrame({"lower": lower, "upper": lower + width, "n": n})


def daily_vendor_health(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """Per slate and vendor, from the fetch log of the slate's runs: attempts, errors (an
    error, no status or HTTP >= 400), error_rate, and p95 latency (elapsed_ms) of all
    attempts."""
    return _query(con, """
        WITH runs AS (SELECT DISTINCT run_id, slate_date FROM fact_run_registry
                      WHERE slate_date BETWEEN $lo AND $hi)
        SELECT r.slate_date, f.vendor, count(*)::DOUBLE AS attempts,
               count(*) FILTER (WHERE f.error IS NOT NULL OR f.status_code IS NULL
                                OR f.status_code >= 400)::DOUBLE AS errors,
               errors / attempts AS error_rate,
               quantile_cont(f.elapsed_ms, 0.95) AS p95_ms
        FROM fact_vendor_fetch_log f JOIN runs r ON f.run_id = r.run_id
        GROUP BY ALL ORDER BY ALL
        """, lo, hi)


# --------------------------------------------------------------------------- windows table


def _sum(frame: pd.DataFrame, column: str, lo: date, hi: date,
         missing: float = math.nan) -> float:
    part = _between(frame, lo, hi)
    return float(part[column].sum()) if len(part) else missing


def _runs(reg: pd.DataFrame, lo: date, hi: date) -> float:
    return _sum(reg, "runs", lo, hi, missing=0.0)


def _run_success_rate(reg: pd.DataFrame, lo: date, hi: date) -> float:
    part = _between(reg, lo, hi)
    return _ratio(part["runs_success"].sum(), part["runs"].sum())


def _steps_failed(reg: pd.DataFrame, lo: date, hi: date) -> float:
    return _sum(reg, "steps_failed", lo, hi, missing=0.0)


def _odds_rows_mean(odds: pd.DataFrame, vendor: str, lo: date, hi: date) -> float:
    """Mean over the window's slates with coverage; a slate without the vendor counts 0."""
    part = _between(odds, lo, hi)
    slates = part["slate_date"].nunique()
    return _ratio(part.loc[part["source_vendor"] == vendor, "n_rows"].sum(), slates)


def _mapping_rate(mapping: pd.DataFrame, vendor: str, entity: str, lo: date,
                  hi: date) -> float:
    part = _between(mapping, lo, hi)
    part = part[(part["source_vendor"] == vendor) & (part["entity"] == entity)]
    return _ratio(part["n_mapped"].sum(), part["n_total"].sum())


def _pooled(acc: pd.DataFrame, source: str, market: str, metric: str, lo: date,
            hi: date) -> float:
    part = _between(acc, lo, hi)
    part = part[(part["source"] == source) & (part["market_type"] == market)]
    return _ratio(part[f"sum_{metric}"].sum(), part[f"n_{metric}"].sum())


def _ece(cal: pd.DataFrame, source: str, market: str, lo: date, hi: date) -> float:
    part = _between(cal, lo, hi)
    return ece_from_bins(part[(part["source"] == source) & (part["market_type"] == market)])


def _clv_mean(clv: pd.DataFrame, lo: date, hi: date) -> float:
    part = _between(clv, lo, hi)
    return _ratio(part["clv_prob_sum"].sum(), part["n"].sum())


def _ordered(known: tuple[str, ...], seen: pd.Series) -> list[str]:
    extra = sorted(set(seen.dropna().astype(str)) - set(known))
    return [*known, *extra]


def windows_table(con: duckdb.DuckDBPyConnection, report_date: date | str) -> pd.DataFrame:
    """One row per metric, its value over last_7 / prev_7 / last_30 / prev_30 and the deltas
    (last - prev). Vendors are the configured ones plus any in the data, markets likewise;
    missing data is NaN. Counts of runs and failed steps are 0 when nothing ran."""
    d = _as_date(report_date)
    lo = d - timedelta(days=max(a for a, _ in WINDOWS.values()))
    reg = daily_registry(con, lo, d)
    odds = daily_odds_rows(con, lo, d)
    mapping = daily_mapping(con, lo, d)
    ev = daily_ev(con, lo, d)
    acc = daily_accuracy(con, lo, d)
    cal = calibration_bins(con, lo, d, sources=(PRODUCTION_MODEL,), by_day=True)
    clv = daily_clv(con, lo, d)

    vendors = _ordered(VENDORS, pd.concat([odds["source_vendor"], mapping["source_vendor"]]))
    markets = _ordered(MARKETS, pd.concat([acc["market_type"], cal["market_type"]]))
    specs: list[tuple[str, Callable[[date, date], float]]] = [
        ("runs", partial(_runs, reg)),
        ("run success rate", partial(_run_success_rate, reg)),
        ("steps failed/timeout/interrupted", partial(_steps_failed, reg)),
    ]
    specs += [(f"odds rows per slate (mean), {v}", partial(_odds_rows_mean, odds, v))
              for v in vendors]
    specs += [(f"{entity} mapping rate, {v}", partial(_mapping_rate, mapping, v, entity))
              for entity in ("player", "event") for v in vendors]
    specs.append(("eligible bets (sum)", partial(_sum, ev, "n_eligible")))
    for market in markets:
        for metric, label in (("log_loss", "log loss"), ("brier", "Brier")):
            for source in (PRODUCTION_MODEL, MARKET):
                specs.append((f"{label} {market}, {source} (shared)",
                              partial(_pooled, acc, source, market, metric)))
        specs.append((f"ECE {market}, {PRODUCTION_MODEL} (shared)",
                      partial(_ece, cal, PRODUCTION_MODEL, market)))
    specs.append(("mean CLV (clv_prob, eligible settled bets)", partial(_clv_mean, clv)))

    spans = {name: (d - timedelta(days=a), d - timedelta(days=b))
             for name, (a, b) in WINDOWS.items()}
    rows = [{"metric": metric, **{name: fn(*span) for name, span in spans.items()}}
            for metric, fn in specs]
    out = pd.DataFrame(rows, columns=["metric", *spans])
    for n in (7, 30):
        out[f"delta_{n}"] = out[f"last_{n}"] - out[f"prev_{n}"]
    return out[WINDOW_COLUMNS]


def metric_kind(metric: str) -> str:
    """count | rate | score | clv: how a windows_table metric is shown."""
    if "rate" in metric:
        return "rate"
    if metric.startswith(("log loss", "Brier", "ECE")):
        return "score"
    if "CLV" in metric:
        return "clv"
    return "count"


def windows_display(table: pd.DataFrame) -> pd.DataFrame:
    """windows_table as strings: counts with thousands separators, rates in % (their deltas
    in percentage points), scores to 4 decimals, CLV in percentage points; deltas signed;
    NaN blank."""
    formats: dict[str, tuple[Callable[[float], str], Callable[[float], str]]] = {
        "count": (lambda v: f"{v:,.0f}", lambda v: f"{v:+,.0f}"),
        "rate": (pct, lambda v: f"{100 * v + 0.0:+.1f} pp"),  # + 0.0: no "-0.0"
        "score": (lambda v: f"{v:.4f}", lambda v: f"{v:+.4f}"),
        "clv": (lambda v: f"{100 * v:+.2f} pp", lambda v: f"{100 * v:+.2f} pp"),
    }
    out = table[["metric"]].copy()
    kinds = table["metric"].map(metric_kind)
    for column in WINDOW_COLUMNS[1:]:
        signed = column.startswith("delta")
        out[column] = [("" if pd.isna(v) else formats[k][signed](float(v)))
                       for v, k in zip(table[column], kinds, strict=True)]
    return out


# --------------------------------------------------------------------------- chart helpers

_STATUS_COLOURS = {"success": "tab:green", "partial": "tab:orange", "failed": "tab:red",
                   "interrupted": "tab:purple", "running": "tab:gray"}
MODEL_STYLE = {"color": "tab:blue", "ls": "-", "marker": "o"}
MARKET_STYLE = {"color": "tab:gray", "ls": "--", "marker": "s", "markerfacecolor": "none"}


def _wide(frame: pd.DataFrame, column: str, values: str, lo: date | None,
          hi: date | None, fill: float | None = None) -> pd.DataFrame:
    """slate_date x `column` of `values` (one row per pair in `frame`); slates in the data
    missing a column get `fill`, slates of [lo, hi] absent from the data are NaN (a gap)."""
    wide = frame.pivot(index="slate_date", columns=column, values=values)
    if fill is not None:
        wide = wide.fillna(fill)
    every = cs.slates(lo, hi)
    return wide if every is None else wide.reindex(every)


def _lines(ax: Axes, wide: pd.DataFrame, **kwargs: object) -> None:
    """One line per column, each with its own colour, marker and line style."""
    for i, name in enumerate(wide.columns):
        ax.plot(wide.index, wide[name].to_numpy(dtype=float), markersize=4, color=f"C{i}",
                label=str(name), **{**cs.style(i), **kwargs})


def _panels(n: int, title: str, height: float, **subplots: object) -> tuple[Figure, list[Axes]]:
    """n panels stacked over one date axis (each gets the same limits from `cs.date_axis`;
    the dates are written under the last only), the chart's title above them."""
    fig, axes = cs.figure(n, 1, height=height, **subplots)
    fig.suptitle(title)
    panels = list(axes[:, 0])
    for ax in panels[:-1]:
        ax.tick_params(labelbottom=False)
    return fig, panels


def _no_data_figure(title: str, what: str, panels: int = 1) -> Figure:
    fig, axes = cs.figure(panels, 1, height=2.8 if panels > 1 else 3.0)
    axes[0, 0].set_title(title)
    for ax in axes[:, 0]:
        cs.no_data(ax, what)
    return fig


# --------------------------------------------------------------------------- charts


def plot_rows_per_vendor(odds: pd.DataFrame, lo: date | None = None,
                         hi: date | None = None) -> Figure:
    """One panel per vendor, each on its own scale from 0 (a vendor absent from a slate that
    has coverage counts 0): a slate at zero rows is a red cross."""
    lo, hi = cs.fit_window(lo, hi, odds)
    title = "Odds rows per vendor per slate" + cs.span(lo, hi)
    if odds.empty:
        return _no_data_figure(title, "odds coverage")
    wide = _wide(odds, "source_vendor", "n_rows", lo, hi, fill=0.0)
    fig, axes = _panels(len(wide.columns), title, height=1.45)
    for i, (ax, vendor) in enumerate(zip(axes, wide.columns, strict=True)):
        rows = wide[vendor].to_numpy(dtype=float)
        ax.plot(wide.index, rows, color=f"C{i}", marker="o", markersize=4, label=str(vendor))
        zero = rows == 0
        if zero.any():  # the vendor fell to zero: a red cross, and the panel's title says when
            ax.plot(wide.index[zero], rows[zero], ls="none", marker="X", markersize=10,
                    color=cs.ALERT, zorder=3, clip_on=False)
            ax.set_title(f"{vendor}: no rows on {cs.day_list(wide.index[zero])}", loc="left",
                         fontsize=9, color=cs.ALERT)
        else:
            ax.set_title(str(vendor), loc="left", fontsize=9)
        ax.set_ylim(0, max(1.0, 1.1 * float(np.nanmax(rows, initial=0.0))))
        cs.count_axis(ax.yaxis, nbins=4)
        cs.date_axis(ax, lo, hi)
    fig.supylabel("odds rows (newest run)", fontsize=9)
    return fig


def plot_run_status(registry: pd.DataFrame, durations: pd.DataFrame, lo: date | None = None,
                    hi: date | None = None) -> Figure:
    lo, hi = cs.fit_window(lo, hi, registry, durations)
    fig, axes = cs.figure(2, 1, height=2.6)
    top, bottom = axes[0, 0], axes[1, 0]
    top.set_title("Runs per slate by final status" + cs.span(lo, hi))
    if registry.empty or registry["runs"].sum() == 0:
        cs.no_data(top, "runs")
    else:
        days = registry["slate_date"]
        base = np.zeros(len(registry))
        for status in RUN_STATUSES:
            counts = registry[f"runs_{status}"].to_numpy(dtype=float)
            if counts.any():
                top.bar(days, counts, bottom=base, width=0.8, label=status,
                        color=_STATUS_COLOURS[status])
                base += counts
        top.set_ylabel("runs")
        cs.count_axis(top.yaxis, nbins=4)
        cs.legend_right(top)
        cs.date_axis(top, lo, hi)
    bottom.set_title("Slowest run of each step (seconds)")
    if durations.empty:
        cs.no_data(bottom, "step durations")
    else:
        order = durations.groupby("step")["step_order"].min().sort_values().index
        _lines(bottom, _wide(durations, "step", "duration_s", lo, hi)[list(order)])
        bottom.set_ylabel("seconds")
        bottom.set_ylim(bottom=0)
        cs.legend_right(bottom)
        cs.date_axis(bottom, lo, hi)
    return fig


def plot_mapping_rate(mapping: pd.DataFrame, lo: date | None = None,
                      hi: date | None = None) -> Figure:
    """One panel per vendor on one shared scale (at least 90 % to 100 %), the dotted line the
    vendor's rate over the window (pooled counts)."""
    players = mapping[mapping["entity"] == "player"]
    lo, hi = cs.fit_window(lo, hi, players)
    title = "Player mapping rate per vendor" + cs.span(lo, hi)
    if players.empty:
        return _no_data_figure(title, "player mapping evidence")
    wide = _wide(players, "source_vendor", "mapped_rate", lo, hi)
    fig, axes = _panels(len(wide.columns), title, height=1.25, sharey=True)
    for i, (ax, vendor) in enumerate(zip(axes, wide.columns, strict=True)):
        ax.plot(wide.index, wide[vendor].to_numpy(dtype=float), color=f"C{i}", markersize=4,
                label=str(vendor), **cs.style(i))
        part = players[players["source_vendor"] == vendor]
        usual = _ratio(part["n_mapped"].sum(), part["n_total"].sum())
        if math.isnan(usual):
            ax.set_title(str(vendor), loc="left", fontsize=9)
        else:
            ax.axhline(usual, color=f"C{i}", lw=0.8, ls=":")
            ax.set_title(f"{vendor}: {100 * usual:.1f}% over the window", loc="left",
                         fontsize=9)
        cs.percent_axis(ax.yaxis, nbins=3)
        cs.date_axis(ax, lo, hi)
    low = float(np.nanmin(wide.to_numpy(dtype=float), initial=1.0))
    axes[0].set_ylim(min(0.9, low - 0.02), 1.01)
    fig.supylabel("players mapped", fontsize=9)
    return fig


def plot_ev_counts(ev: pd.DataFrame, lo: date | None = None, hi: date | None = None) -> Figure:
    lo, hi = cs.fit_window(lo, hi, ev)
    title = "Eligible bets and mean EV per slate" + cs.span(lo, hi)
    if ev.empty:
        return _no_data_figure(title, "EV summary")
    fig, (top, bottom) = _panels(2, title, height=1.9)
    top.bar(ev["slate_date"], ev["n_eligible"].to_numpy(dtype=float), width=0.8,
            color="tab:blue", alpha=0.8)
    top.set_ylabel("eligible bets")
    cs.count_axis(top.yaxis, nbins=4)
    top.set_title("eligible bets", loc="left", fontsize=9)
    cs.date_axis(top, lo, hi)
    bottom.plot(ev["slate_date"], ev["ev_mean"].to_numpy(dtype=float), color="tab:red",
                marker="o", markersize=4)
    bottom.axhline(0, color="k", lw=0.8)
    cs.percent_axis(bottom.yaxis, nbins=4)
    bottom.set_ylabel("mean EV")
    bottom.set_title("mean EV of all candidates", loc="left", fontsize=9)
    cs.date_axis(bottom, lo, hi)
    return fig


def plot_log_loss(accuracy: pd.DataFrame, lo: date | None = None,
                  hi: date | None = None) -> Figure:
    """A panel per market: the production model (solid) and the market (dashed), shaded red
    where the model's log loss is above the market's."""
    lo, hi = cs.fit_window(lo, hi, accuracy)
    title = ("Log loss per market on shared props, production model vs market"
             + cs.span(lo, hi, cs.last_slate(accuracy)))
    markets = [m for m in _ordered(MARKETS, accuracy["market_type"])
               if m in set(accuracy["market_type"])]
    if not markets:
        return _no_data_figure(title, "graded slates on shared props")
    fig, axes = cs.grid(len(markets), height=2.4)
    fig.suptitle(title)
    for i, ax in enumerate(axes):
        wide = _wide(accuracy[accuracy["market_type"] == markets[i]], "source", "log_loss",
                     lo, hi)
        for source, look in ((MARKET, MARKET_STYLE), (PRODUCTION_MODEL, MODEL_STYLE)):
            if source in wide.columns:
                ax.plot(wide.index, wide[source].to_numpy(dtype=float), markersize=3.5,
                        label=str(source), **look)
        if {MARKET, PRODUCTION_MODEL} <= set(wide.columns):
            model = wide[PRODUCTION_MODEL].to_numpy(dtype=float)
            market = wide[MARKET].to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                worse = model > market
            ax.fill_between(wide.index, market, model, where=worse, interpolate=True,
                            color=cs.ALERT, alpha=0.25, lw=0, label="model above market")
        values = wide.to_numpy(dtype=float)
        if np.isfinite(values).any():  # at least 0.05 of log loss: a hair is not a gap
            low, high = np.nanmin(values), np.nanmax(values)
            pad = max(0.0, LOG_LOSS_MIN_SPAN - (high - low)) / 2 + 0.05 * (high - low)
            ax.set_ylim(low - pad, high + pad)
        ax.set_title(markets[i], fontsize=10)
        cs.date_axis(ax, lo, hi, max_ticks=5)
    handles, labels = [], []
    for ax in axes:  # one legend for the figure, every kind of artist once
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, fontsize=8, loc="outside lower center", ncols=len(labels))
    return fig


def plot_calibration(bins: pd.DataFrame, lo: date | None = None,
                     hi: date | None = None) -> Figure:
    """Pooled reliability of the model (filled circles) and the market (open squares), the
    points sized by their props. `bins` may be per slate (`slate_date`): they are pooled."""
    first, _ = cs.fit_window(lo, hi, bins)
    last = cs.last_slate(bins) if "slate_date" in bins.columns else hi
    fig, axes = cs.figure(width=6.0, height=5.0)
    ax = axes[0, 0]
    ax.set_title("Reliability on shared props, markets pooled"
                 + (f"\ngraded slates{cs.span(first, last)}" if last else cs.span(lo, hi)),
                 fontsize=10)
    curve = reliability(bins)
    if curve.empty:
        cs.no_data(ax, "calibration bins on shared props")
        return fig
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1, label="perfect calibration")
    looks = {PRODUCTION_MODEL: MODEL_STYLE, MARKET: MARKET_STYLE}
    sources = [s for s in (MARKET, PRODUCTION_MODEL) if s in set(curve["source"])]
    sources += sorted(set(curve["source"]) - set(sources))
    for i, source in enumerate(sources):
        part = curve[curve["source"] == source].sort_values("bin")
        ece = ece_from_bins(bins[bins["source"] == source])
        look = looks.get(str(source), {"color": f"C{i + 2}", **cs.style(i + 2)})
        colour = look["color"]
        sizes = 15 + 120 * part["n"] / curve["n"].max()
        ax.plot(part["mean_p"], part["mean_y"], color=colour, lw=1, ls=look["ls"])
        hollow = look.get("markerfacecolor") == "none"
        ax.scatter(part["mean_p"], part["mean_y"], s=sizes, marker=look["marker"],
                   facecolors="none" if hollow else colour, edgecolors=colour,
                   linewidths=1.2, zorder=3,
                   label=f"{source} (n={part['n'].sum():,.0f}, ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    cs.percent_axis(ax.xaxis)
    cs.percent_axis(ax.yaxis)
    ax.set_xlabel("mean P(over) in bin")
    ax.set_ylabel("observed over-rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_clv(histogram: pd.DataFrame, daily: pd.DataFrame, lo: date | None = None,
             hi: date | None = None) -> Figure:
    lo, hi = cs.fit_window(lo, hi, daily)
    fig, axes = cs.figure(1, 2, height=3.2, width=10.0)
    fig.suptitle("CLV of eligible settled bets" + cs.span(lo, hi, cs.last_slate(daily)))
    left, right = axes[0, 0], axes[0, 1]
    left.set_title("Distribution over the window", fontsize=10)
    if histogram.empty or histogram["n"].sum() == 0:
        cs.no_data(left, "settled eligible bets with a close")
    else:
        width = float(histogram["upper"].iloc[0] - histogram["lower"].iloc[0])
        left.bar(histogram["lower"], histogram["n"], width=width, align="edge",
                 color="tab:blue", alpha=0.8)
        left.axvline(0, color="k", lw=0.8)
        total = daily["n"].sum()
        if total:
            mean = daily["clv_prob_sum"].sum() / total
            left.axvline(mean, color="tab:red", ls="--", lw=1, label=f"mean {100 * mean:+.2f} pp")
            left.legend(fontsize=8)
        cs.percent_axis(left.xaxis)
        cs.count_axis(left.yaxis)
        left.set_xlabel("closing - taken no-vig probability (ends include the tails)")
        left.set_ylabel("bets")
    right.set_title("Daily mean CLV (red: below zero)", fontsize=10)
    if daily.empty:
        cs.no_data(right, "settled eligible bets with a close")
    else:
        means = daily["clv_prob_mean"].to_numpy(dtype=float)
        right.plot(daily["slate_date"], means, marker="o", markersize=4, color="tab:blue")
        below = means < 0
        if below.any():
            right.plot(daily["slate_date"][below], means[below], ls="none", marker="o",
                       markersize=6, color=cs.ALERT, zorder=3)
        right.axhline(0, color="k", lw=0.8)
        cs.percent_axis(right.yaxis)
        cs.date_axis(right, lo, hi, max_ticks=6)
    return fig


def plot_vendor_health(health: pd.DataFrame, lo: date | None = None,
                       hi: date | None = None) -> Figure:
    """A panel per vendor with its share of failed HTTP attempts on a fixed 0-100 % scale
    (slates with a failure in red, the worst labelled), then every vendor's p95 latency."""
    lo, hi = cs.fit_window(lo, hi, health)
    title = "Failed HTTP attempts per vendor" + cs.span(lo, hi)
    if health.empty:
        fig = _no_data_figure(title, "fetch log of the window's runs", panels=2)
        fig.axes[1].set_title("p95 latency per vendor (ms)")
        return fig
    vendors = sorted(health["vendor"].unique())
    fig = Figure(figsize=(9.0, 0.5 + 0.95 * len(vendors) + 2.6), layout="constrained")
    axes = fig.subplots(len(vendors) + 1, 1, squeeze=False,
                        height_ratios=[1.0] * len(vendors) + [2.4])[:, 0]
    fig.suptitle(title)
    failed = _wide(health, "vendor", "error_rate", lo, hi)
    attempts = _wide(health, "vendor", "attempts", lo, hi)
    errors = _wide(health, "vendor", "errors", lo, hi)
    for i, (ax, vendor) in enumerate(zip(axes[:-1], vendors, strict=True)):
        share = failed[vendor].to_numpy(dtype=float)
        ax.plot(failed.index, share, color=f"C{i}", marker="o", markersize=3.5)
        bad = share > 0
        if bad.any():  # failures: red points, and the panel's title says how bad and when
            ax.plot(failed.index[bad], share[bad], ls="none", marker="o", markersize=7,
                    color=cs.ALERT, zorder=3)
            worst = int(np.nanargmax(share))
            ax.set_title(f"{vendor}: failed attempts on {cs.day_list(failed.index[bad])}, "
                         f"worst {100 * share[worst]:.0f}% ({errors[vendor].iloc[worst]:.0f} "
                         f"of {attempts[vendor].iloc[worst]:.0f}) on "
                         f"{failed.index[worst]:%m-%d}", loc="left", fontsize=9, pad=2,
                         color=cs.ALERT)
        else:
            ax.set_title(vendor, loc="left", fontsize=9, pad=2)
        ax.set_ylim(-0.04, 1.04)
        cs.percent_axis(ax.yaxis)
        ax.set_yticks([0, 0.5, 1])
        cs.date_axis(ax, lo, hi)
        ax.tick_params(labelbottom=False)  # the dates are under the latency panel
    bottom = axes[-1]
    bottom.set_title("p95 latency per vendor (ms)")
    latency = _wide(health, "vendor", "p95_ms", lo, hi)[vendors]
    _lines(bottom, latency)
    values = latency.to_numpy(dtype=float)
    if (values[~np.isnan(values)] > 0).all():
        bottom.set_yscale("log")
        # plain labels: the default 10^n ones go through mathtext, a third of the render time
        bottom.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        bottom.yaxis.set_minor_formatter(NullFormatter())
    bottom.set_ylabel("ms")
    cs.legend_right(bottom)
    cs.date_axis(bottom, lo, hi)
    return fig


# --------------------------------------------------------------------------- dispatch

_Data = Callable[[duckdb.DuckDBPyConnection, date, date], tuple[pd.DataFrame, ...]]
_CHART_DATA: dict[str, _Data] = {
    "rows_per_vendor": lambda con, lo, hi: (daily_odds_rows(con, lo, hi),),
    "run_status": lambda con, lo, hi: (daily_registry(con, lo, hi),
                                       daily_step_durations(con, lo, hi)),
    "mapping_rate": lambda con, lo, hi: (daily_mapping(con, lo, hi),),
    "ev_counts": lambda con, lo, hi: (daily_ev(con, lo, hi),),
    "log_loss": lambda con, lo, hi: (daily_accuracy(con, lo, hi),),
    # per slate, so the chart knows which graded slates it pools
    "calibration": lambda con, lo, hi: (calibration_bins(con, lo, hi, by_day=True),),
    "clv": lambda con, lo, hi: (clv_histogram(con, lo, hi), daily_clv(con, lo, hi)),
    "vendor_health": lambda con, lo, hi: (daily_vendor_health(con, lo, hi),),
}
_CHART_PLOT: dict[str, Callable[..., Figure]] = {
    "rows_per_vendor": plot_rows_per_vendor, "run_status": plot_run_status,
    "mapping_rate": plot_mapping_rate, "ev_counts": plot_ev_counts, "log_loss": plot_log_loss,
    "calibration": plot_calibration, "clv": plot_clv, "vendor_health": plot_vendor_health,
}


def chart_data(con: duckdb.DuckDBPyConnection, report_date: date | str, name: str,
               days: int = CHART_DAYS) -> tuple[pd.DataFrame, ...]:
    """The frames chart `name` draws, over the `days` slates ending at D."""
    if name not in _CHART_DATA:
        raise KeyError(f"no chart {name!r}; charts: {', '.join(CHART_NAMES)}")
    return _CHART_DATA[name](con, *window(report_date, days))


def chart(con: duckdb.DuckDBPyConnection, report_date: date | str, name: str,
          days: int = CHART_DAYS) -> Figure:
    """Chart `name` over the `days` slates ending at D; its date axis starts at the first
    slate with data (`chartstyle.fit_window`) and ends at D."""
    return _CHART_PLOT[name](*chart_data(con, report_date, name, days),
                             *window(report_date, days))


def charts(con: duckdb.DuckDBPyConnection, report_date: date | str,
           days: int = CHART_DAYS) -> dict[str, Figure]:
    """Every chart of CHARTS, in order."""
    return {name: chart(con, report_date, name, days) for name in CHART_NAMES}


# --------------------------------------------------------------------------- worst days

WORST_COLUMNS = ["slate_date", "failed_steps", "failed_checks", "failed_check_subjects",
                 "report"]
_FIRST_SUBJECTS = 3


def worst_days(con: duckdb.DuckDBPyConnection, report_date: date | str,
               days: int = CHART_DAYS) -> pd.DataFrame:
    """The window's slates with a failed / timed-out / interrupted step (any run) or a
    failed anomaly check (the slate's newest checking run), worst first (failed step rows +
    failed checks), then newest; at most 10. A run that failed or was interrupted with no
    failed step of its own (killed between steps) is listed as 'run <status>'. `report`
    links the slate's daily report, relative to the rolling report beside it."""
    lo, hi = window(report_date, days)
    frame = _query(con, f"""
        WITH bad AS (
            SELECT run_id, slate_date, step, step_order, status FROM fact_run_registry
            WHERE slate_date BETWEEN $lo AND $hi AND status IN {FAILED_STATUSES}
        ), steps AS (
            SELECT slate_date, step, status, min(step_order) AS step_order, count(*) AS n
            FROM bad
            WHERE step <> 'run' OR run_id NOT IN (SELECT run_id FROM bad WHERE step <> 'run')
            GROUP BY ALL
        ), step_days AS (
            SELECT slate_date, sum(n) AS n_steps,
                   string_agg(step || ' ' || status
                              || CASE WHEN n > 1 THEN ' (' || n || ' runs)' ELSE '' END,
                              ', ' ORDER BY step_order, step, status) AS failed_steps
            FROM steps GROUP BY slate_date
        ), check_days AS (
            SELECT slate_date, count(*) AS failed_checks,
                   array_to_string(list(check_name || ' ' || subject
                                        ORDER BY check_name, subject)[1:{_FIRST_SUBJECTS}],
                                   '; ') AS failed_check_subjects
            FROM ({newest_sql('fact_anomaly_checks')}) WHERE NOT passed GROUP BY slate_date
        )
        SELECT slate_date, coalesce(failed_steps, '') AS failed_steps,
               coalesce(failed_checks, 0) AS failed_checks,
               coalesce(failed_check_subjects, '') AS failed_check_subjects
        FROM step_days FULL JOIN check_days USING (slate_date)
        ORDER BY coalesce(n_steps, 0) + coalesce(failed_checks, 0) DESC, slate_date DESC
        LIMIT {WORST_DAYS_MAX}
        """, lo, hi)
    if frame.empty:
        return pd.DataFrame(columns=WORST_COLUMNS)
    frame["slate_date"] = frame["slate_date"].dt.date
    frame["failed_checks"] = frame["failed_checks"].astype("int64")
    names = [f"daily_report_{d.isoformat()}.md" for d in frame["slate_date"]]
    frame["report"] = [f"[{n}]({n})" for n in names]
    return frame[WORST_COLUMNS].reset_index(drop=True)
