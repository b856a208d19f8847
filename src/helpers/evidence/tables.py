"""The evidence tables of one run: what came in, what mapped, what EV claimed, how the
forecasts did. Append-only, keyed by (slate_date, run_id): writing them again for the same
run adds nothing (`write_evidence`).

Every figure is a query over the pipeline's own tables, so it traces back to rows:
- coverage: `fact_prop_odds` of the slate's vendor events (ET start date = the slate)
  captured on the slate's ET date by `as_of`, per vendor, book and market (yesterday's
  early lines for today's games would hide a vendor failing today);
- mapping quality: the slate's vendor events and vendor players (as EV priced them: one per
  vendor event) against `map_events` / `map_players`, per vendor and entity, with the first
  unmapped names and their reasons;
- EV summary: the slate's newest EV run in `fact_ev_candidates`, per vendor, book, market;
- forecast accuracy: the graded props of a slate (`grading.read.stored_scored`) per
  source (model version or market), market and line, on each source's own props and on the
  props every source priced;
- market comparison: each model version against the market and the challengers against
  the production model, per market, over the trailing graded slates (`grading.compare`),
  stored under the run's slate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from helpers.core import db
from helpers.core.runs import NEWEST_FIRST, committed_sql
from helpers.core.slate import Slate
from helpers.ev.read import newest_bets_sql
from helpers.grading.accuracy import accuracy_table, same_props
from helpers.model.read import EVENT_MAP_SQL, PLAYER_MAP_SQL
from helpers.odds import read as odds_read

TOP_UNMAPPED = 5

KEYS = {
    "fact_odds_coverage_daily": ("run_id", "slate_date", "source_vendor", "book_name",
                                 "market_type"),
    "fact_mapping_quality_daily": ("run_id", "slate_date", "source_vendor", "entity"),
    "fact_ev_summary_daily": ("run_id", "slate_date", "source_vendor", "book_name",
                              "market_type"),
    "fact_forecast_accuracy_daily": ("run_id", "slate_date", "source", "scope", "market_type",
                                     "line"),
    "fact_calibration_daily": ("run_id", "slate_date", "source", "scope", "market_type", "bin"),
    "fact_market_comparison_daily": ("run_id", "slate_date", "market_type", "source",
                                     "reference"),
}
CALIBRATION_BINS = 10

@dataclass(frozen=True)
class Evidence:
    coverage: pd.DataFrame
    mapping: pd.DataFrame
    ev_summary: pd.DataFrame
    accuracy: pd.DataFrame
    calibration: pd.DataFrame
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # grading.compare.COLUMNS

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"fact_odds_coverage_daily": self.coverage,
                "fact_mapping_quality_daily": self.mapping,
                "fact_ev_summary_daily": self.ev_summary,
                "fact_forecast_accuracy_daily": self.accuracy,
                "fact_calibration_daily": self.calibration,
                "fact_market_comparison_daily": self.comparison}


EVIDENCE_TABLES = (*KEYS, "fact_anomaly_checks")


def newest_sql(table: str) -> str:
    """SQL for the rows of evidence `table` with slate in [$lo, $hi], each slate by its
    newest committed run (`core.runs`: the latest as-of, ties to the later run; a run whose
    diagnostics failed counts for nothing): a rerun or a later run of the day supersedes, it
    does not add. A subquery, so that callers can aggregate over it in SQL. A run the registry
    does not know is placed at the time it computed its rows."""
    if table not in EVIDENCE_TABLES:
        raise ValueError(f"{table!r} is not an evidence table")
    return f"""
        SELECT t.* FROM {table} t
        JOIN (SELECT slate_date, run_id FROM (
                  SELECT e.slate_date, e.run_id,
                         max(coalesce(r.as_of_ts_utc, e.computed_ts_utc)) AS as_of_ts_utc
                  FROM {table} e
                  LEFT JOIN fact_run_registry r ON r.run_id = e.run_id AND r.step = 'run'
                  WHERE e.slate_date BETWEEN $lo AND $hi
                    AND {committed_sql("e.run_id", "diagnostics")}
                  GROUP BY e.slate_date, e.run_id)
              QUALIFY row_number() OVER (PARTITION BY slate_date
                                         ORDER BY {NEWEST_FIRST}) = 1) n
          ON t.slate_date = n.slate_date AND t.run_id = n.run_id
        WHERE t.slate_date BETWEEN $lo AND $hi
    """


def newest_per_slate(con: duckdb.DuckDBPyConnection, table: str, lo: date,
                     hi: date) -> pd.DataFrame:
    """`newest_sql` as a frame, ordered by slate."""
    return con.execute(f"{newest_sql(table)} ORDER BY t.slate_date",
                       {"lo": lo, "hi": hi}).df()


def coverage(con: duckdb.DuckDBPyConnection, slate: Slate) -> pd.DataFrame:
    """Per vendor, book and market: the rows of the slate's vendor events captured on the
    slate's own day by its as-of (`odds.read.slate_rows_sql(captured_on_slate=True)`)."""
    return odds_read.query(con, f"""
        SELECT source_vendor, book_name_raw AS book_name, market_type, count(*) AS n_rows,
               count(DISTINCT event_id_vendor) AS n_events,
               count(DISTINCT player_key_vendor) AS n_players,
               count(DISTINCT capture_ts_utc) AS n_captures,
               min(capture_ts_utc) AS first_capture_ts_utc,
               max(capture_ts_utc) AS last_capture_ts_utc
        FROM ({odds_read.slate_rows_sql(captured_on_slate=True)}) GROUP BY ALL ORDER BY ALL
        """, slate)


def mapping_quality(con: duckdb.DuckDBPyConnection, slate: Slate) -> pd.DataFrame:
    """Per vendor and entity (event, player): total, mapped, rate, and the first unmapped
    ones as 'name (reason)'; a vendor key never mapped by production counts as unmapped
    with reason 'not_mapped_yet'."""
    return odds_read.query(con, f"""
        WITH odds AS ({odds_read.slate_rows_sql()}),
        events AS (
            SELECT o.source_vendor, 'event' AS entity, o.event_id_vendor AS key,
                   any_value(o.away_team || ' @ ' || o.home_team) AS label,
                   any_value(e.game_id) AS target, any_value(coalesce(e.reason,
                       CASE WHEN e.game_id IS NULL THEN 'not_mapped_yet' END)) AS reason
            FROM odds o LEFT JOIN ({EVENT_MAP_SQL}) e USING (source_vendor, event_id_vendor)
            GROUP BY o.source_vendor, o.event_id_vendor
        ), players AS (
            SELECT o.source_vendor, 'player' AS entity,
                   o.event_id_vendor || '/' || o.player_key_vendor AS key,
                   any_value(o.player_name_raw) AS label, any_value(p.player_id) AS target,
                   any_value(coalesce(p.reason,
                       CASE WHEN p.player_id IS NULL THEN 'not_mapped_yet' END)) AS reason
            FROM odds o LEFT JOIN ({PLAYER_MAP_SQL}) p
              USING (source_vendor, event_id_vendor, player_key_vendor)
            GROUP BY o.source_vendor, o.event_id_vendor, o.player_key_vendor
        ), both_ AS (SELECT * FROM events UNION ALL SELECT * FROM players)
        SELECT source_vendor, entity, count(*) AS n_total, count(target) AS n_mapped,
               count(target) / count(*) AS mapped_rate,
               nullif(array_to_string(list(label || ' (' || reason || ')' ORDER BY label, key)
                      FILTER (WHERE target IS NULL)[1:{TOP_UNMAPPED}], '; '), '')
                   AS top_unmapped
        FROM both_ GROUP BY ALL ORDER BY ALL
        """, slate)


def ev_summary(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """The slate's newest EV run, per vendor, book and market."""
    return con.execute(
        f"""
        SELECT source_vendor, book_name, market_type, count(*) AS n_candidates,
               count(*) FILTER (WHERE is_eligible) AS n_eligible,
               count(*) FILTER (WHERE ev > 0) AS n_positive_ev,
               avg(ev) AS ev_mean, quantile_cont(ev, 0.5) AS ev_p50,
               quantile_cont(ev, 0.9) AS ev_p90, max(ev) AS ev_max,
               count(*) FILTER (WHERE is_eligible AND is_suspicious) AS n_suspicious
        FROM ({newest_bets_sql("slate_date = $slate")})
        GROUP BY ALL ORDER BY ALL
        """, {"slate": slate_date}).df()


def forecast_accuracy(scored: pd.DataFrame, sources: list[str]) -> pd.DataFrame:
    """Per graded slate, source, market and line: the metrics on each source's own props
    (scope 'own') and on the props every source priced ('shared')."""
    columns = ["slate_date", "source", "scope", "market_type", "line", "n", "hit_rate",
               "log_loss", "log_loss_baseline", "log_loss_improvement", "brier", "ece", "auc",
               "top5_hit_rate", "top10_hit_rate", "top20_hit_rate"]
    if scored.empty or not sources:
        return pd.DataFrame(columns=columns)
    frames = []
    for scope, rows in (("own", scored), ("shared", same_props(scored, sources))):
        if rows.empty:
            continue
        table = accuracy_table(rows, sources).assign(scope=scope)
        frames.append(table[table["n"] > 0])
    out = pd.concat(frames, ignore_index=True).rename(columns={
        "baseline_log_loss": "log_loss_baseline", "improvement": "log_loss_improvement",
        "top5": "top5_hit_rate", "top10": "top10_hit_rate", "top20": "top20_hit_rate"})
    return out[columns]


def calibration(scored: pd.DataFrame, sources: list[str],
                bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Per graded slate, source, scope and market: the props in each of `bins` equal-width
    bins of P(over), the sum of their P(over) and how many went over. Empty bins are left
    out. Bin edges as in `grading.accuracy.ece` (1.0 falls in the last bin)."""
    columns = ["slate_date", "source", "scope", "market_type", "bin", "n", "sum_p", "sum_y"]
    if scored.empty or not sources:
        return pd.DataFrame(columns=columns)
    frames = []
    for scope, rows in (("own", scored), ("shared", same_props(scored, sources))):
        for source in sources:
            part = rows.loc[rows[source].notna(), ["slate_date", "market_type", "y", source]]
            if part.empty:
                continue
            p = part[source].to_numpy(dtype=float)
            edges = np.arange(bins + 1) / bins
            index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
            part = part.assign(bin=index.astype("int32"), p=p)
            grouped = (part.groupby(["slate_date", "market_type", "bin"])
                       .agg(n=("p", "size"), sum_p=("p", "sum"), sum_y=("y", "sum"))
                       .reset_index())
            frames.append(grouped.assign(source=source, scope=scope))
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["sum_y"] = out["sum_y"].astype(float)
    return out[columns]


def collect(con: duckdb.DuckDBPyConnection, slate: Slate,
            scored: pd.DataFrame | None = None, sources: list[str] | None = None,
            comparison: pd.DataFrame | None = None) -> Evidence:
    """The run's evidence; `comparison` is `grading.compare.compare_sources` over the
    trailing graded slates (computed by the caller, on its own window)."""
    scored = scored if scored is not None else pd.DataFrame()
    return Evidence(coverage(con, slate), mapping_quality(con, slate),
                    ev_summary(con, slate.date), forecast_accuracy(scored, sources or []),
                    calibration(scored, sources or []),
                    comparison if comparison is not None else pd.DataFrame())


def write_evidence(con: duckdb.DuckDBPyConnection, evidence: Evidence, slate_date: date,
                   run_id: str, now: datetime) -> dict[str, int]:
    """Append the run's evidence, all tables in one transaction; rows already written for
    this run are not written again. Returns the rows added per table. The accuracy rows keep
    the slate they graded; the others (the market comparison too) are the run's slate."""
    added = {}
    with db.transaction(con):
        for table, frame in evidence.frames().items():
            rows = frame.assign(run_id=run_id, computed_ts_utc=now)
            if "slate_date" not in rows.columns:
                rows = rows.assign(slate_date=slate_date)
            added[table] = db.insert_new_rows(con, table, rows, KEYS[table])
    return added
