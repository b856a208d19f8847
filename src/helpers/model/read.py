"""Reading what the production step wrote: snapshots (`fact_prob_snapshot`), the identity map
(`map_events`, `map_players`) and the slate's games as scheduled (`dim_scheduled_games`,
beside the warehouse's `dim_games`).

Later stages read them only through this module. "Which snapshot counts" is defined here
once: for a slate and a model version, the newest snapshot taken at or before a cutoff
(the run's as-of); two taken at the same instant go to the later snapshot id.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

# The identity map, as later stages join it onto vendor rows.
EVENT_MAP_SQL = ("SELECT source_vendor, event_id_vendor, game_id, method, confidence, reason "
                 "FROM map_events")
PLAYER_MAP_SQL = ("SELECT source_vendor, event_id_vendor, player_key_vendor, player_id, method, "
                  "confidence, reason FROM map_players")

# The rows of every snapshot: join them on the snapshot ids `newest_snapshots_sql` chose.
SNAPSHOT_ROWS_SQL = "SELECT * FROM fact_prob_snapshot"


def newest_snapshots_sql(cutoffs: str, model_version: str | None = None) -> str:
    """SQL (a subquery) of (slate_date, model_version, snapshot_id, snapshot_ts_utc): for
    each row of `cutoffs` (a relation with slate_date and cutoff_ts_utc; a NULL cutoff takes
    the newest of all), the newest snapshot of the slate taken at or before the cutoff, per
    model version, or of `model_version` alone. Ties: the later snapshot id."""
    version = "" if model_version is None else f" AND s.model_version = '{_quoted(model_version)}'"
    return f"""
        SELECT slate_date, model_version, snapshot_id, snapshot_ts_utc FROM (
            SELECT s.slate_date, s.model_version, s.snapshot_id,
                   max(s.snapshot_ts_utc) AS snapshot_ts_utc
            FROM fact_prob_snapshot s JOIN ({cutoffs}) c USING (slate_date)
            WHERE (c.cutoff_ts_utc IS NULL OR s.snapshot_ts_utc <= c.cutoff_ts_utc){version}
            GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY slate_date, model_version
                                   ORDER BY snapshot_ts_utc DESC, snapshot_id DESC) = 1
    """


def newest_snapshot(con: duckdb.DuckDBPyConnection, slate_date: date, as_of: datetime | None,
                    model_version: str) -> tuple[str | None, datetime | None]:
    """The model version's newest snapshot of the slate taken at or before `as_of` (None: of
    all): (snapshot_id, snapshot_ts_utc), or (None, None)."""
    one_slate = "SELECT $slate::DATE AS slate_date, $as_of::TIMESTAMP AS cutoff_ts_utc"
    newest = newest_snapshots_sql(one_slate, model_version)
    rows = con.execute(f"SELECT snapshot_id, snapshot_ts_utc FROM ({newest})",
                       {"slate": slate_date, "as_of": as_of}).fetchall()
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def snapshot_rows(con: duckdb.DuckDBPyConnection, snapshot_id: str | None,
                  columns: tuple[str, ...]) -> pd.DataFrame:
    """`columns` of every row of one snapshot (none for a None id)."""
    return con.execute(f"SELECT {', '.join(columns)} FROM fact_prob_snapshot "
                       "WHERE snapshot_id IS NOT DISTINCT FROM ? ORDER BY ALL",
                       [snapshot_id]).df()


def priced_props_sql() -> str:
    """SQL (a subquery): every (slate_date, game_id, player_id, market_type) any snapshot
    priced."""
    return "SELECT DISTINCT slate_date, game_id, player_id, market_type FROM fact_prob_snapshot"


def games_priced(con: duckdb.DuckDBPyConnection, slate_date: date) -> int:
    """How many games the slate's snapshots priced (0: production did not run)."""
    return int(con.execute("SELECT count(DISTINCT game_id) FROM fact_prob_snapshot "
                           "WHERE slate_date = ?", [slate_date]).fetchall()[0][0] or 0)


def games_sql() -> str:
    """SQL (a subquery) of every game known (game_id, slate_date, start_ts_utc, state,
    schedule_state, home_team, away_team): the warehouse's final ones, then the others as
    the production step last saw them scheduled."""
    columns = "game_id, slate_date, start_ts_utc, state, schedule_state, home_team, away_team"
    return (f"SELECT {columns} FROM dim_games UNION ALL SELECT {columns} "
            f"FROM dim_scheduled_games WHERE game_id NOT IN (SELECT game_id FROM dim_games)")


def games_between(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> pd.DataFrame:
    """`games_sql` for the slates from `lo` to `hi`, by game id."""
    return con.execute(f"SELECT * FROM ({games_sql()}) WHERE slate_date BETWEEN ? AND ? "
                       "ORDER BY game_id", [lo, hi]).df()


def games_scheduled(con: duckdb.DuckDBPyConnection, slate_date: date) -> int | None:
    """The slate's games as the production step last fetched its schedule: 0 on an off day,
    None when production never looked at the slate."""
    rows = con.execute("SELECT games FROM dim_slates WHERE slate_date = ?",
                       [slate_date]).fetchall()
    return int(rows[0][0]) if rows else None


def _quoted(text: str) -> str:
    return text.replace("'", "''")
