"""Reading what odds ingestion wrote (`fact_prop_odds`, `fact_rejected_odds`).

Later stages read the odds only through this module: which rows belong to a slate, how a
vendor's player is keyed, which capture is a price's latest or its close. Each is defined
here once. The SQL fragments are subqueries that bind the named parameters of
`Slate.sql_params()` (`$as_of`, `$starts_from`, `$starts_before`); the functions run them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from helpers.core.slate import Slate

# A vendor's player, as every stage keys him: the vendor's own id where it has one (Unabated),
# else name and team as the vendor spells them (a name alone is not unique on a slate).
PLAYER_KEY = "coalesce(player_id_vendor, player_name_raw || '|' || coalesce(player_team, ''))"


def player_key_sql(alias: str) -> str:
    """`PLAYER_KEY` on the columns of table alias `alias`."""
    return (f"coalesce({alias}.player_id_vendor, {alias}.player_name_raw || '|' || "
            f"coalesce({alias}.player_team, ''))")


def slate_rows_sql(captured_on_slate: bool = False) -> str:
    """SQL (a subquery): every row of the slate's vendor events - events starting on the
    slate's Eastern day - captured by `$as_of`, with its `player_key_vendor`. With
    `captured_on_slate`, only the rows captured on that day itself (coverage counts what came
    in today: a vendor failing today must not be hidden by yesterday's early lines)."""
    today = (" AND capture_ts_utc >= $starts_from AND capture_ts_utc < $starts_before"
             if captured_on_slate else "")
    return f"""
        SELECT *, {PLAYER_KEY} AS player_key_vendor FROM fact_prop_odds
        WHERE capture_ts_utc <= $as_of AND event_id_vendor IS NOT NULL
          AND event_start_ts_utc >= $starts_from AND event_start_ts_utc < $starts_before{today}
    """


def latest_prices_sql() -> str:
    """SQL (a subquery): the latest capture by `$as_of` of every priced (vendor, book, event,
    player, market, line, side) of the slate's vendor events."""
    return f"""
        SELECT * FROM ({slate_rows_sql()}) WHERE line IS NOT NULL
        QUALIFY row_number() OVER (
            PARTITION BY source_vendor, book_id_vendor, book_name_raw, event_id_vendor,
                         player_key_vendor, market_type, line, side
            -- a vendor may quote one key twice in a payload (PlayNow: the O/U market and a
            -- ladder): the tie-break keeps the choice the same on every run
            ORDER BY capture_ts_utc DESC, raw_payload_hash, vendor_outcome_key NULLS LAST,
                     odds_decimal DESC) = 1
    """


def quotes_sql(max_decimal: float) -> str:
    """SQL (a subquery): every captured price at most `max_decimal` (a longer one no book
    offers), keyed as EV keys a bet: (source_vendor, book_id_vendor, book_name,
    event_id_vendor, player_key_vendor, market_type, line, side), with capture_ts_utc and
    odds_decimal. Grading finds a bet's closing price among these."""
    return f"""
        SELECT source_vendor, book_id_vendor, book_name_raw AS book_name, event_id_vendor,
               market_type, line, side, capture_ts_utc, odds_decimal,
               {PLAYER_KEY} AS player_key_vendor
        FROM fact_prop_odds WHERE odds_decimal <= {float(max_decimal)!r}
    """


# Each vendor event's start as the vendors gave it (the earliest, if they disagree).
EVENT_STARTS_SQL = """
    SELECT source_vendor, event_id_vendor, min(event_start_ts_utc) AS event_start_ts_utc
    FROM fact_prop_odds GROUP BY ALL
"""

# The names Unabated gave each of its player ids (its rows carry both).
UNABATED_NAMES_SQL = """
    SELECT DISTINCT player_id_vendor, player_name_raw FROM fact_prop_odds
    WHERE source_vendor = 'UNABATED' AND player_id_vendor IS NOT NULL
"""

# Rows a run's parsers rejected, per vendor and reason.
REJECTED_SQL = "SELECT run_id, source_vendor, reason, n_rejected FROM fact_rejected_odds"


def query(con: duckdb.DuckDBPyConnection, sql: str, slate: Slate) -> pd.DataFrame:
    """`sql` run with the slate's parameters, as a frame."""
    return con.execute(sql, slate.sql_params(sql)).df()


def vendor_events(con: duckdb.DuckDBPyConnection, slate: Slate) -> pd.DataFrame:
    """The slate's vendor events (vendor, event id, teams, start)."""
    return query(con, f"SELECT source_vendor, event_id_vendor, any_value(home_team) AS "
                      f"home_team, any_value(away_team) AS away_team, min(event_start_ts_utc) "
                      f"AS event_start_ts_utc FROM ({slate_rows_sql()}) GROUP BY ALL "
                      f"ORDER BY ALL", slate)


def vendor_players(con: duckdb.DuckDBPyConnection, slate: Slate) -> pd.DataFrame:
    """The slate's vendor players, one per vendor event and player key, with the name,
    team and vendor id they were priced under."""
    return query(con, f"SELECT source_vendor, player_key_vendor, any_value(player_name_raw) AS "
                      f"player_name_raw, any_value(player_team) AS player_team, "
                      f"any_value(player_id_vendor) AS player_id_vendor, event_id_vendor "
                      f"FROM ({slate_rows_sql()}) "
                      f"GROUP BY source_vendor, player_key_vendor, event_id_vendor "
                      f"ORDER BY ALL", slate)


def priced_lines(con: duckdb.DuckDBPyConnection, slate: Slate, event_map: pd.DataFrame,
                 player_map: pd.DataFrame) -> pd.DataFrame:
    """(game_id, player_id, market_type, line) of every priced prop of the slate whose event
    and player are mapped (`event_map`: source_vendor, event_id_vendor, game_id;
    `player_map`: source_vendor, event_id_vendor, player_key_vendor, player_id)."""
    con.register("_event_map", event_map[event_map["game_id"].notna()][
        ["source_vendor", "event_id_vendor", "game_id"]])
    con.register("_player_map", player_map[player_map["player_id"].notna()][
        ["source_vendor", "event_id_vendor", "player_key_vendor", "player_id"]])
    try:
        return query(con, f"SELECT DISTINCT e.game_id, p.player_id, o.market_type, o.line "
                          f"FROM ({slate_rows_sql()}) o "
                          f"JOIN _event_map e USING (source_vendor, event_id_vendor) "
                          f"JOIN _player_map p "
                          f"USING (source_vendor, event_id_vendor, player_key_vendor) "
                          f"WHERE o.line IS NOT NULL", slate)
    finally:
        con.unregister("_event_map")
        con.unregister("_player_map")
