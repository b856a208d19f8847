"""Reading what the EV step wrote: the one rule for "a slate's bets", and the graded props
the pricing blend is fitted on. Later stages (grading, evidence) import these instead of
writing their own SQL over `fact_ev_candidates`.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from helpers.core.runs import NEWEST_FIRST, committed_sql
from helpers.model.read import SNAPSHOT_ROWS_SQL, newest_snapshots_sql


def newest_ev_runs_sql(where: str = "TRUE") -> str:
    """SQL (a subquery) of each slate's newest committed EV run: (slate_date, run_id,
    as_of_ts_utc), by the rule of `core.runs` (an EV step that failed counts for nothing;
    newest = latest as-of, ties to the later run). A slate's bets are its newest EV run's
    eligible rows; earlier runs stay in the table for the audit. `where` filters
    fact_ev_candidates first (e.g. on slate_date)."""
    return f"""
        SELECT slate_date, run_id, as_of_ts_utc FROM (
            SELECT slate_date, run_id, max(as_of_ts_utc) AS as_of_ts_utc
            FROM fact_ev_candidates c WHERE ({where}) AND {committed_sql("c.run_id", "ev")}
            GROUP BY slate_date, run_id)
        QUALIFY row_number() OVER (PARTITION BY slate_date ORDER BY {NEWEST_FIRST}) = 1
    """


def newest_bets_sql(where: str = "TRUE") -> str:
    """SQL (a subquery): every row of each slate's newest committed EV run
    (`newest_ev_runs_sql(where)`), eligible or not: a slate's bets are counted once, however
    often EV ran."""
    return f"""
        SELECT c.* FROM fact_ev_candidates c
        JOIN ({newest_ev_runs_sql(where)}) r USING (slate_date, run_id)
    """


def bets_of_run_sql() -> str:
    """SQL (a subquery): the rows of EV run `$run_id` for slate `$slate` (the run
    `newest_ev_runs_sql` chose)."""
    return "SELECT * FROM fact_ev_candidates WHERE run_id = $run_id AND slate_date = $slate"


# Every (slate_date, game_id, player_id, market_type) an EV run priced in a mapped game.
PRICED_PROPS_SQL = ("SELECT DISTINCT slate_date, game_id, player_id, market_type "
                    "FROM fact_ev_candidates WHERE game_id IS NOT NULL")

# The pricing blend each EV run fitted, per market.
BLEND_FITS_SQL = "SELECT * FROM fact_price_blend_fits"


def graded_props(con: duckdb.DuckDBPyConnection, slate_date: date, window_days: int,
                 model_version: str) -> pd.DataFrame:
    """The evidence a blend for `slate_date` may learn from: every graded half-line prop of
    the `window_days` slates strictly before it, with the model's P(over) (the newest
    snapshot of `model_version` at or before that slate's newest EV run), the consensus
    P(over) that run saw, and y = 1 when the player went over. Nothing of `slate_date` or
    later can enter: that is the walk-forward rule."""
    params = {"lo": slate_date - timedelta(days=window_days), "slate": slate_date}
    return con.execute(
        f"""
        WITH runs AS ({newest_ev_runs_sql("slate_date >= $lo AND slate_date < $slate")}),
        market AS (
            SELECT c.slate_date, c.game_id, c.player_id, c.market_type, c.line,
                   median(c.p_consensus) AS p_consensus
            FROM fact_ev_candidates c JOIN runs r USING (slate_date, run_id)
            WHERE c.side = 'OVER' AND c.p_consensus IS NOT NULL AND c.game_id IS NOT NULL
              AND c.player_id IS NOT NULL AND c.line <> floor(c.line)
            GROUP BY ALL
        ), snapshots AS ({newest_snapshots_sql(
            "SELECT slate_date, as_of_ts_utc AS cutoff_ts_utc FROM runs", model_version)})
        SELECT m.slate_date, m.game_id, m.player_id, m.market_type, m.line,
               s.p_over AS p_model, m.p_consensus,
               CAST(o.actual > m.line AS INTEGER) AS y
        FROM market m
        JOIN snapshots k USING (slate_date)
        JOIN ({SNAPSHOT_ROWS_SQL}) s ON s.snapshot_id = k.snapshot_id
         AND s.game_id = m.game_id AND s.player_id = m.player_id
         AND s.market_type = m.market_type AND s.line = m.line
        JOIN fact_prop_outcomes o ON o.game_id = m.game_id AND o.player_id = m.player_id
         AND o.market_type = m.market_type
        WHERE o.actual IS NOT NULL
        ORDER BY ALL
        """, params).df()
