"""Reading the stats warehouse (`dim_games`, `dim_players`, `fact_skater_games`) from a later
stage. The production step (this package and `model`) reads it directly; EV, grading and
diagnostics read it here.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from helpers.nhl.api import FINAL_STATES

# The warehouse's games (final ones; `model.read.games_sql` adds those only scheduled).
GAMES_SQL = ("SELECT game_id, slate_date, start_ts_utc, state, schedule_state, home_team, "
             "away_team FROM dim_games")


def player_names(con: duckdb.DuckDBPyConnection, player_ids: pd.Series) -> pd.DataFrame:
    """player_id -> player_name and team, for the ids given (display only)."""
    ids = pd.DataFrame({"player_id": player_ids.dropna().astype("int64").unique()})
    con.register("_ids", ids)
    try:
        return con.execute("SELECT p.player_id, p.name AS player_name, p.team FROM dim_players "
                           "p JOIN _ids USING (player_id)").df()
    finally:
        con.unregister("_ids")


def skater_rows(con: duckdb.DuckDBPyConnection, game_ids: list[int]) -> pd.DataFrame:
    """Every `fact_skater_games` row of the games given."""
    con.register("_games", pd.DataFrame({"game_id": game_ids}, dtype="int64"))
    try:
        return con.execute("SELECT s.* FROM fact_skater_games s JOIN _games USING (game_id)").df()
    finally:
        con.unregister("_games")


def games_per_slate(con: duckdb.DuckDBPyConnection, lo: date, hi: date) -> dict[date, int]:
    """How many games the warehouse holds for each slate from `lo` to `hi`."""
    return {pd.Timestamp(d).date(): int(n) for d, n in con.execute(
        "SELECT slate_date, count(*) FROM dim_games WHERE slate_date BETWEEN ? AND ? "
        "GROUP BY slate_date", [lo, hi]).fetchall()}


def games_not_final_sql() -> str:
    """SQL (a subquery): the warehouse's games that are not final (slate_date, state)."""
    states = ", ".join(f"'{s}'" for s in sorted(FINAL_STATES))
    return f"SELECT slate_date, state FROM dim_games WHERE state NOT IN ({states})"
