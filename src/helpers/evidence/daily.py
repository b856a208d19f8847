"""What the daily report shows for one slate, section by section, in the order a reader on
call needs it: what needs attention, the runs, vendor health, coverage, mapping, the
snapshot, EV, the last graded slate, the anomaly checks, and how the report was made.

Every function reads a (read-only) connection and returns a DataFrame or Markdown text; the
report notebook only displays them. Figures come from the evidence tables (each slate's
newest run, `tables.newest_per_slate`), the run registry and the fetch log, and for the
snapshot and EV sections from the stored snapshot and EV candidates: each is a stored row
that a query can find again, so a report can be rendered again for any past date.

A query whose rows the report shows ends in `LIMIT 50` (markdown.MAX_ROWS, the spec's bound on
what a notebook shows); tests/test_anti_hang_rules.py holds every query to it or names why not.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from helpers.core.models import PRODUCTION_MODEL
from helpers.core.repairs import step_repairs
from helpers.ev.candidates import GATES
from helpers.ev.read import bets_of_run_sql, newest_ev_runs_sql
from helpers.ev.report import best_by_prop
from helpers.evidence.anomalies import FAILED_STATUSES, TRAILING_DAYS, games_per_slate
from helpers.evidence.markdown import MAX_ROWS
from helpers.evidence.tables import newest_per_slate
from helpers.grading.read import ELIGIBLE_BETS_SQL, IS_SETTLED_SQL
from helpers.grading.report import clv_notes
from helpers.model.read import SNAPSHOT_ROWS_SQL, games_sql, newest_snapshots_sql
from helpers.nhl import read as nhl_read
from helpers.odds.read import REJECTED_SQL

STATUS_MARK = {"success": "✓", "partial": "◐", "failed": "✗", "timeout": "✗",
               "interrupted": "✗", "running": "…", "skipped": "·"}


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None
        ) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


# ---- runs -------------------------------------------------------------------------------

def day_runs(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """The runs of the slate (registry rows of step 'run'), oldest first."""
    return _df(con, """
        SELECT run_id, as_of_ts_utc, started_ts_utc, status, duration_s, error_type,
               error_summary, code_version
        FROM fact_run_registry WHERE slate_date = ? AND step = 'run'
        ORDER BY started_ts_utc, run_id LIMIT 50
        """, [slate_date])


def day_steps(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Every step row of the slate's runs, in run then step order, with `repaired_by`: the
    rerun that finished the step (`core.repairs`: only a rerun of the same run repairs, and
    only the steps it ran to success). A 'report' row still running is the render that is
    making this report: left out."""
    registry = _df(con, """
        SELECT run_id, step, step_order, status, started_ts_utc, duration_s, error_type,
               error_summary, notebook_path, rerun_of, parameters_json
        FROM fact_run_registry WHERE slate_date = ?
          AND NOT (step = 'report' AND status = 'running')
        """, [slate_date])
    columns = ["run_id", "step", "step_order", "status", "duration_s", "error_type",
               "error_summary", "notebook_path", "repaired_by"]
    if registry.empty:
        return pd.DataFrame(columns=columns)
    repairs = step_repairs(registry)
    run_started = registry[registry["step"] == "run"].set_index("run_id")["started_ts_utc"]
    steps = registry[registry["step"] != "run"].merge(repairs, on=["run_id", "step"],
                                                      how="left")
    steps = steps.assign(run_started=steps["run_id"].map(run_started))
    steps = steps.sort_values(["run_started", "run_id", "step_order"]).head(MAX_ROWS)
    return steps[columns].reset_index(drop=True)


def title_markdown(slate_date: date, runs: pd.DataFrame) -> str:
    lines = [f"# Daily report {slate_date}"]
    if runs.empty:
        lines.append("")
        lines.append("**No run is registered for this slate.**")
        return "\n".join(lines)
    parts = [f"`{r.run_id}` as of {pd.Timestamp(r.as_of_ts_utc):%H:%M} UTC: **{r.status}**"
             for r in runs.itertuples()]
    versions = ", ".join(sorted({str(v) for v in runs["code_version"].dropna()})) or "unknown"
    lines += ["", f"Runs: {'; '.join(parts)}.", "", f"Code version: {versions}."]
    return "\n".join(lines)


def off_day_markdown(slate_date: date, games: int | None) -> str:
    """Under the title on an off day (`games`: the slate's games as production fetched the
    schedule, `model.read.games_scheduled`), so that a report of empty sections does
    not read like an outage; empty otherwise (None: production never looked)."""
    if games != 0:
        return ""
    return (f"**An off day**: no games on {slate_date} on the NHL schedule. The steps had "
            "nothing to map or price, and the odds checks were not run.")


def runs_table(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per step of each run: status, duration and what it did (its summary)."""
    if steps.empty:
        return pd.DataFrame(columns=["run", "step", "status", "seconds", "summary"])
    return pd.DataFrame({
        "run": steps["run_id"],
        "step": steps["step"],
        "status": [f"{STATUS_MARK.get(s, '?')} {s}" for s in steps["status"]],
        "seconds": steps["duration_s"],
        "summary": steps["error_summary"].fillna(""),
    })


# ---- needs attention ----------------------------------------------------------------------

ATTENTION_STATUSES = (*FAILED_STATUSES, "partial")


def failed_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """Steps that failed, timed out, were interrupted or were only partly successful."""
    return steps[steps["status"].isin(ATTENTION_STATUSES)]


def vendor_health(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Per vendor over the slate's runs: HTTP attempts, retries, errors (an exception or a
    status of 400 and up), latency, and whether every attempt failed; then the payloads the
    runs stored, the rows they inserted and rejected (by reason), from the raw archive; and
    the vendor's quarantined payloads captured up to the slate's window that no renormalize
    has parsed since (their paths: a standing item until a parser fix)."""
    return _df(con, f"""
        WITH runs AS (SELECT DISTINCT run_id FROM fact_run_registry WHERE slate_date = ?),
        attempts_ AS (
            SELECT vendor, count(*) AS attempts,
                   count(*) FILTER (WHERE attempt > 1) AS retries,
                   count(*) FILTER (WHERE error IS NOT NULL OR status_code >= 400) AS errors,
                   quantile_cont(elapsed_ms, 0.5) AS p50_ms,
                   quantile_cont(elapsed_ms, 0.95) AS p95_ms
            FROM fact_vendor_fetch_log JOIN runs USING (run_id) GROUP BY vendor
        ), payloads AS (
            SELECT vendor, count(*) AS payloads_new, sum(rows_inserted) AS rows_inserted,
                   sum(rows_rejected) AS rows_rejected,
                   count(*) FILTER (WHERE load_state <> 'loaded') AS payloads_not_loaded
            FROM raw_payloads JOIN runs USING (run_id) GROUP BY vendor
        ), rejected AS (
            SELECT source_vendor AS vendor,
                   string_agg(reason || ' ' || n, ', ' ORDER BY n DESC, reason) AS rejections
            FROM (SELECT source_vendor, reason, sum(n_rejected) AS n
                  FROM ({REJECTED_SQL}) JOIN runs USING (run_id) GROUP BY ALL)
            GROUP BY vendor
        ), quarantined AS (
            SELECT vendor, count(*) AS payloads_quarantined,
                   string_agg(path, ', ' ORDER BY path) AS quarantined_paths
            FROM raw_payloads
            WHERE load_state = 'quarantined' AND capture_ts_utc < ? + INTERVAL 2 DAY
            GROUP BY vendor
        )
        SELECT vendor, attempts, retries, errors, errors / attempts AS error_rate,
               p50_ms, p95_ms, errors = attempts AS all_failed,
               coalesce(payloads_new, 0) AS payloads_new,
               coalesce(payloads_not_loaded, 0) AS payloads_not_loaded,
               coalesce(rows_inserted, 0) AS rows_inserted,
               coalesce(rows_rejected, 0) AS rows_rejected, rejections,
               coalesce(payloads_quarantined, 0) AS payloads_quarantined, quarantined_paths
        FROM attempts_ FULL JOIN payloads USING (vendor) LEFT JOIN rejected USING (vendor)
             FULL JOIN quarantined USING (vendor)
        ORDER BY vendor LIMIT 50
        """, [slate_date, slate_date])


def stats_lag(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Games of the slates before this one that the stats warehouse does not hold as final
    (the model and the grading read the warehouse)."""
    return _df(con, f"""
        SELECT slate_date, count(*) AS games_not_final,
               string_agg(DISTINCT state, ', ') AS states
        FROM ({nhl_read.games_not_final_sql()})
        WHERE slate_date < ? AND slate_date >= ? - INTERVAL {TRAILING_DAYS} DAY
        GROUP BY slate_date ORDER BY slate_date LIMIT 50
        """, [slate_date, slate_date])


def anomaly_checks(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """The slate's newest diagnostics run's checks, failed first."""
    checks = newest_per_slate(con, "fact_anomaly_checks", slate_date, slate_date)
    if checks.empty:
        return checks
    return checks.sort_values(["passed", "check_name", "subject"]).reset_index(drop=True)


def attention_markdown(steps: pd.DataFrame, checks: pd.DataFrame, health: pd.DataFrame,
                       lag: pd.DataFrame, runs: pd.DataFrame) -> str:
    """The 'needs attention' list; one line saying nothing does when nothing does."""
    items = []
    if runs.empty:
        items.append("**No run is registered for this slate**: the scheduled job did not "
                     "start, or it ran for another date.")
    for r in failed_steps(steps).itertuples():
        repaired = (f" Repaired by run `{r.repaired_by}`." if isinstance(r.repaired_by, str)
                    else "")
        cause = f"{r.error_type}: " if r.error_type else ""
        items.append(f"**{r.step} {r.status}** in run `{r.run_id}`: {cause}"
                     f"{r.error_summary} (notebook `{r.notebook_path}`).{repaired}")
    for r in runs[runs["error_type"].notna()].itertuples():  # the run failed, not a step
        items.append(f"**Run `{r.run_id}` {r.status}**: {r.error_type}: {r.error_summary}.")
    for r in runs[runs["status"].isin(["running"])].itertuples():
        items.append(f"**Run `{r.run_id}` is still running** (or died without a trace; the "
                     f"next run marks it interrupted).")
    for r in health[health["all_failed"].fillna(False).astype(bool)].itertuples():
        items.append(f"**Vendor {r.vendor} failed**: all {int(r.attempts)} requests failed.")
    for r in health[health["payloads_quarantined"] > 0].itertuples():
        items.append(f"**{int(r.payloads_quarantined)} {r.vendor} payload(s) quarantined** "
                     f"(their parse never finished twice; kept raw, not parsed by captures): "
                     f"{r.quarantined_paths}. After a parser fix: "
                     f"`python -m runner renormalize --vendor {r.vendor}`.")
    if not checks.empty:
        for r in checks[~checks["passed"]].itertuples():
            items.append(f"Anomaly **{r.check_name}** on {r.subject}: {r.detail}.")
    for r in lag.itertuples():
        items.append(f"Stats warehouse: {r.games_not_final} game(s) of {r.slate_date:%Y-%m-%d} "
                     f"not final ({r.states}).")
    if not items:
        return "Nothing needs attention."
    return "\n".join(f"- {item}" for item in items)


# ---- coverage and mapping ----------------------------------------------------------------

def coverage_table(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Vendor x market on the slate: books, events and players (the most in one book),
    rows, and the change against the median of the trailing days (a trailing slate with no
    rows from the vendor counts as 0). Rows are compared per game, as the row-count check
    does, when the games of the slate and of every trailing slate are known: a 5-game slate
    after 8-game ones is not a drop. Otherwise raw rows are compared; the column names say
    which (`rows_per_game`, `trailing_median_per_game` or `trailing_median_rows`)."""
    lo = slate_date - timedelta(days=TRAILING_DAYS)
    today = newest_per_slate(con, "fact_odds_coverage_daily", slate_date, slate_date)
    past = newest_per_slate(con, "fact_odds_coverage_daily", lo, slate_date - timedelta(days=1))
    days = sorted(pd.Timestamp(d).date() for d in past["slate_date"].unique())
    games = games_per_slate(con, lo, slate_date)
    per_game = bool(days) and all(games.get(d, 0) > 0 for d in [*days, slate_date])
    base = ["source_vendor", "market_type", "books", "events", "players", "rows"]
    compared = (["games", "rows_per_game", "trailing_median_per_game"] if per_game
                else ["trailing_median_rows"])
    columns = [*base, *compared, "change"]
    if today.empty:
        return pd.DataFrame(columns=columns)
    table = (today.groupby(["source_vendor", "market_type"])
             .agg(books=("book_name", "nunique"), events=("n_events", "max"),
                  players=("n_players", "max"), rows=("n_rows", "sum")).reset_index())
    now = table["rows"].astype(float)
    median = np.full(len(table), np.nan)
    if days:
        per_day = past.groupby([past["slate_date"].dt.date, "source_vendor",
                                "market_type"])["n_rows"].sum()
        divisor = np.array([games[d] if per_game else 1 for d in days], dtype=float)
        median = np.array([np.median(np.array([per_day.get((d, vendor, market), 0)
                                               for d in days], dtype=float) / divisor)
                           for vendor, market in zip(table["source_vendor"],
                                                     table["market_type"], strict=True)])
    if per_game:
        table["games"] = games[slate_date]
        now = now / games[slate_date]
        table["rows_per_game"] = now
        table["trailing_median_per_game"] = median
    else:
        table["trailing_median_rows"] = median
    with np.errstate(divide="ignore", invalid="ignore"):
        change = now.to_numpy() / median - 1.0
    table["change"] = np.where(np.isfinite(change), change, np.nan)
    return table[columns]


def mapping_table(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    # sorted here: the evidence query orders by slate only, and a report must read the same
    # every time it is rendered
    return (newest_per_slate(con, "fact_mapping_quality_daily", slate_date, slate_date)[
        ["source_vendor", "entity", "n_total", "n_mapped", "mapped_rate", "top_unmapped"]]
        .sort_values(["source_vendor", "entity"]).reset_index(drop=True))


# ---- snapshot and EV ---------------------------------------------------------------------

def snapshot_summary(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Per model version and market, from the slate's newest snapshot of each version:
    games, skaters, lines priced and the mu of each skater (one per player and market)."""
    newest = newest_snapshots_sql("SELECT ?::DATE AS slate_date, NULL AS cutoff_ts_utc")
    table = _df(con, f"""
        WITH mus AS (
            SELECT s.model_version, s.snapshot_id, s.market_type, s.game_id, s.player_id,
                   any_value(s.mu) AS mu, count(*) AS lines
            FROM ({SNAPSHOT_ROWS_SQL}) s JOIN ({newest}) n USING (snapshot_id)
            WHERE s.slate_date = ? GROUP BY ALL
        )
        SELECT model_version, market_type, count(DISTINCT game_id) AS games,
               count(*) AS skaters, sum(lines) AS lines, avg(mu) AS mu_mean,
               quantile_cont(mu, 0.5) AS mu_p50, quantile_cont(mu, 0.9) AS mu_p90,
               max(mu) AS mu_max, any_value(snapshot_id) AS snapshot_id
        FROM mus GROUP BY model_version, market_type ORDER BY model_version, market_type
        LIMIT 50
        """, [slate_date, slate_date])
    production_first = (table["model_version"] != PRODUCTION_MODEL).rename("later")
    return (table.assign(later=production_first)
            .sort_values(["later", "model_version", "market_type"])
            .drop(columns="later").reset_index(drop=True))


def _newest_ev_run(con: duckdb.DuckDBPyConnection, slate_date: date) -> str | None:
    rows = con.execute(f"SELECT run_id FROM ({newest_ev_runs_sql('slate_date = $slate')})",
                       {"slate": slate_date}).fetchall()
    return rows[0][0] if rows else None


def ev_funnel(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """The gate funnel of the slate's newest EV run: priced rows, then how many rows each
    gate removed (`removed`), in gate order, and the rows `left` after it, down to the
    eligible ones. A reason counts under its code (the price gates write their numbers
    after a ':', see `ev.candidates.reason_code`)."""
    run_id = _newest_ev_run(con, slate_date)
    counts = dict(con.execute(
        f"SELECT coalesce(split_part(exclusion_reason, ':', 1), 'eligible'), count(*) "
        f"FROM ({bets_of_run_sql()}) GROUP BY ALL",
        {"run_id": run_id, "slate": slate_date}).fetchall())
    if not counts:
        return pd.DataFrame(columns=["stage", "removed", "left"])
    total = sum(counts.values())
    rows, left = [("priced rows", None, total)], total
    for gate, meaning in GATES:
        out = counts.pop(gate, 0)
        left -= out
        rows.append((f"{gate} ({meaning})", out, left))
    for other, n in sorted(counts.items()):  # a reason this code does not know: shown
        if other != "eligible":
            left -= n
            rows.append((other, n, left))
    rows.append(("eligible", None, left))
    return pd.DataFrame(rows, columns=["stage", "removed", "left"]).astype(
        {"removed": "Int64"})


def ev_by_book(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Eligible bets by book and market, from the EV summary evidence (books with none are
    left out)."""
    summary = newest_per_slate(con, "fact_ev_summary_daily", slate_date, slate_date)
    if summary.empty:
        return summary
    kept = summary[summary["n_eligible"] > 0]
    return (kept[["source_vendor", "book_name", "market_type", "n_candidates", "n_eligible",
                  "n_suspicious", "ev_p50", "ev_p90", "ev_max"]]
            .sort_values(["n_eligible", "book_name", "source_vendor", "market_type"],
                         ascending=[False, True, True, True]))


TOP_BET_COLUMNS = {"player_name": "player", "game": "game", "start_et": "start",
                   "market_type": "market", "line": "line", "side": "side",
                   "odds_american": "price", "books": "books", "vendors": "vendors",
                   "p_price": "p_price", "p_model": "p_model", "p_consensus": "p_consensus",
                   "ev": "ev", "ev_model": "ev_model", "ev_market": "ev_market",
                   "stake_fraction": "stake", "flags": "flags"}


def top_bets(con: duckdb.DuckDBPyConnection, slate_date: date, n: int = 10,
             suspicious: bool = False) -> pd.DataFrame:
    """The slate's newest EV run's best `n` props and sides by EV (at most MAX_ROWS), one
    row each with the best price and every book at it (`ev.report.best_by_prop`, as in
    best_bets_<date>.md): unflagged ones, or the flagged ones with their reasons."""
    run_id = _newest_ev_run(con, slate_date)
    rows = _df(con, f"""
        SELECT * FROM ({bets_of_run_sql()})
        WHERE is_eligible OR exclusion_reason = 'duplicate_bet'
        """, {"run_id": run_id, "slate": slate_date})
    games = _df(con, f"SELECT game_id, home_team, away_team, start_ts_utc "
                     f"FROM ({games_sql()})")
    names = nhl_read.player_names(con, rows["player_id"])
    best = best_by_prop(rows, games, names)
    best = best[best["flags"].notna() == suspicious].head(min(n, MAX_ROWS))
    return best[list(TOP_BET_COLUMNS)].rename(columns=TOP_BET_COLUMNS).reset_index(drop=True)


# ---- the last graded slate ------------------------------------------------------------------

def last_graded_slate(con: duckdb.DuckDBPyConnection, slate_date: date) -> date | None:
    rows = con.execute("SELECT max(slate_date) FROM fact_forecast_accuracy_daily "
                       "WHERE slate_date < ?", [slate_date]).fetchall()
    return rows[0][0] if rows and rows[0][0] is not None else None


def graded_accuracy(con: duckdb.DuckDBPyConnection, graded: date) -> pd.DataFrame:
    """Per market, every source side by side on the props all of them priced (scope
    'shared'): n, log loss, its baseline (each line's hit rate) and the improvement, and
    Brier, pooled over the lines exactly (n-weighted means of per-line means); ECE pooled
    from the reliability bins; AUC and top-10 hit rate as n-weighted means over lines."""
    accuracy = newest_per_slate(con, "fact_forecast_accuracy_daily", graded, graded)
    bins = newest_per_slate(con, "fact_calibration_daily", graded, graded)
    columns = ["market_type", "source", "n", "log_loss", "log_loss_baseline",
               "log_loss_improvement", "brier", "ece", "auc", "top10_hit_rate"]
    accuracy = accuracy[accuracy["scope"] == "shared"]
    if accuracy.empty:
        return pd.DataFrame(columns=columns)

    def pooled(part: pd.DataFrame) -> pd.Series:
        w = part["n"].astype(float)
        mean = {c: np.average(part[c], weights=w) if part[c].notna().all() else np.nan
                for c in ("log_loss", "log_loss_baseline", "brier")}
        auc = part.dropna(subset=["auc"])
        top = part.dropna(subset=["top10_hit_rate"])
        return pd.Series({
            "n": int(w.sum()), **mean,
            "log_loss_improvement": mean["log_loss_baseline"] - mean["log_loss"],
            "auc": (np.average(auc["auc"], weights=auc["n"]) if len(auc) else np.nan),
            "top10_hit_rate": (np.average(top["top10_hit_rate"], weights=top["n"])
                               if len(top) else np.nan)})

    table = (accuracy.groupby(["market_type", "source"])[
        ["n", "log_loss", "log_loss_baseline", "brier", "auc", "top10_hit_rate"]]
        .apply(pooled).reset_index())
    table["ece"] = [pooled_ece(bins, m, s) for m, s in
                    zip(table["market_type"], table["source"], strict=True)]
    table["order"] = table["source"].map(lambda s: (s != PRODUCTION_MODEL, s == "market", s))
    return table.sort_values(["market_type", "order"])[columns].reset_index(drop=True)


def pooled_ece(bins: pd.DataFrame, market: str, source: str, scope: str = "shared") -> float:
    """ECE from summed reliability bins: sum over bins of n_b / N * |mean y - mean p|."""
    part = bins[(bins["market_type"] == market) & (bins["source"] == source)
                & (bins["scope"] == scope)]
    if part.empty:
        return float("nan")
    summed = part.groupby("bin")[["n", "sum_p", "sum_y"]].sum()
    total = summed["n"].sum()
    return float((summed["n"] / total
                  * (summed["sum_y"] / summed["n"] - summed["sum_p"] / summed["n"]).abs()).sum())


def graded_bets(con: duckdb.DuckDBPyConnection, graded: date) -> pd.DataFrame:
    """Eligible bets of the graded slate, per market and in total: results, observational
    ROI (profit per bet staked, voids not staked) and closing line value. Beside the ROI, the
    ROI without the single most profitable bet: one long shot that won (up to 50 units at
    the +5000 price cap) can carry a slate's mean, and the two together show it without
    hiding the result (NaN with one bet staked)."""
    return _df(con, f"""
        SELECT coalesce(market_type, 'all') AS market, count(*) AS bets,
               count(*) FILTER (WHERE result = 'WIN') AS won,
               count(*) FILTER (WHERE result = 'LOSS') AS lost,
               count(*) FILTER (WHERE result IN ('PUSH', 'VOID')) AS push_or_void,
               sum(profit_units) / nullif(count(*) FILTER (WHERE {IS_SETTLED_SQL}), 0) AS roi,
               (sum(profit_units) - max(profit_units) FILTER (WHERE {IS_SETTLED_SQL}))
                   / nullif(count(*) FILTER (WHERE {IS_SETTLED_SQL}) - 1, 0)
                   AS roi_without_best_bet,
               avg(clv) AS clv_mean,
               avg(clv_prob) AS clv_prob_mean,
               avg(CASE WHEN clv_prob IS NULL THEN NULL WHEN clv_prob > 0 THEN 1.0 ELSE 0.0 END)
                   AS clv_positive_share
        FROM ({ELIGIBLE_BETS_SQL}) WHERE slate_date = ?
        GROUP BY ROLLUP (market_type) ORDER BY market_type NULLS LAST LIMIT 50
        """, [graded])


def clv_notes_markdown(con: duckdb.DuckDBPyConnection, graded: date) -> str:
    """Why a CLV figure of the graded slate is blank or exactly zero
    (`grading.report.clv_notes` on the slate's eligible bets); empty when nothing is."""
    return clv_notes(_df(con, f"""
        SELECT market_type, book_name, is_eligible, odds_decimal, closing_odds_decimal, clv,
               clv_prob
        FROM ({ELIGIBLE_BETS_SQL}) WHERE slate_date = ?
        """, [graded]))


def reproduce_markdown(runs: pd.DataFrame, slate_date: date) -> str:
    ids = ", ".join(f"`{r}`" for r in runs["run_id"]) or "none"
    as_of = ", ".join(f"{pd.Timestamp(t):%Y-%m-%dT%H:%M}Z" for t in runs["as_of_ts_utc"])
    return (f"Runs {ids}; as of {as_of or 'n/a'}. Every figure above is a query over the "
            f"evidence tables, the run registry and the stored snapshot, EV and graded "
            f"rows. Render this report again with `python -m runner report --date "
            f"{slate_date}`.")
