"""Reading what the grading step wrote (`fact_bet_results`, `fact_prop_outcomes`).

Diagnostics and the reports read graded bets only through this module. "A settled eligible
bet" is defined here once: a bet EV recommended (`is_eligible`) whose result is known and
counts - won, lost or pushed. A void bet (a scratch, a called-off game) was refunded and a
pending one is not decided: neither says anything about the claim.

It also holds the graded props (`stored_scored`): the snapshots' and the market's P(over)
of each graded prop with what happened, as grading scores them and diagnostics stores them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from helpers.ev import read as ev_read
from helpers.grading.outcomes import over_hit
from helpers.model import read as model_read
from helpers.nhl import read as nhl_read

SETTLED_RESULTS = ("WIN", "LOSS", "PUSH")
# SQL: a graded row's result counts (a stake was at risk and the bet decided)
IS_SETTLED_SQL = "result IN ({})".format(", ".join(f"'{r}'" for r in SETTLED_RESULTS))

# Every graded row of EV's newest run of each slate, eligible or not, with its result.
BET_RESULTS_SQL = "SELECT * FROM fact_bet_results"

# The recommended bets, whatever their result (a report counts voids and pushes too).
ELIGIBLE_BETS_SQL = "SELECT * FROM fact_bet_results WHERE is_eligible"

# The settled eligible bets.
SETTLED_BETS_SQL = f"SELECT * FROM fact_bet_results WHERE is_eligible AND {IS_SETTLED_SQL}"


def settled(results: pd.DataFrame) -> pd.DataFrame:
    """The settled eligible bets of a frame of graded rows (`SETTLED_BETS_SQL` in pandas)."""
    return results[results["is_eligible"].astype(bool)
                   & results["result"].isin(SETTLED_RESULTS)]


SLATES_NEWEST_BETS = ev_read.newest_bets_sql("slate_date IN (SELECT slate_date FROM _slates)")


@contextlib.contextmanager
def slates_view(con: duckdb.DuckDBPyConnection, slates: list[date]) -> Iterator[None]:
    """The slates as a view `_slates` (slate_date) for the queries of this module."""
    con.register("_slates", pd.DataFrame({"slate_date": slates}))
    try:
        yield
    finally:
        con.unregister("_slates")


def window(slate_date: date, lookback_days: int) -> list[date]:
    """The `lookback_days` slates before `slate_date`, oldest first."""
    return [slate_date - timedelta(days=k) for k in range(lookback_days, 0, -1)]


def day_of(value: object) -> date:
    """A slate date as read back from DuckDB (date or pandas Timestamp) -> date."""
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def called_off_mask(frame: pd.DataFrame, games: pd.DataFrame) -> pd.Series:
    """Per row of `frame` (slate_date, game_id): its game was called off for its slate."""
    off = {(day_of(g.slate_date), int(g.game_id))
           for g in games[games["called_off"].astype(bool)].itertuples()}
    keys = zip(frame["slate_date"].map(day_of), frame["game_id"].astype("int64"), strict=True)
    return pd.Series([key in off for key in keys], index=frame.index, dtype=bool)


def scored_props(con: duckdb.DuckDBPyConnection, slates: list[date], as_of: datetime,
            outcomes: pd.DataFrame, games: pd.DataFrame | None = None
            ) -> tuple[pd.DataFrame, list[str]]:
    """The graded snapshot props of each slate: the newest snapshot of every model version
    at or before `as_of`, y from the outcome, and the market's consensus P(over) from the
    slate's newest EV run (same props; NaN where the market had none)."""
    with slates_view(con, slates):
        newest = model_read.newest_snapshots_sql(
            "SELECT slate_date, $as_of::TIMESTAMP AS cutoff_ts_utc FROM _slates")
        snap = con.execute(
            f"""
            SELECT s.slate_date, s.game_id, s.player_id, s.market_type, s.line,
                   s.model_version, s.p_over
            FROM ({model_read.SNAPSHOT_ROWS_SQL}) s JOIN ({newest}) l
              ON s.snapshot_id = l.snapshot_id AND s.slate_date = l.slate_date
            """, {"as_of": as_of}).df()
        market = con.execute(
            f"""
            SELECT c.slate_date, c.game_id, c.player_id, c.market_type, c.line,
                   median(c.p_consensus) AS market
            FROM ({SLATES_NEWEST_BETS}) c
            WHERE c.side = 'OVER' AND c.p_consensus IS NOT NULL AND c.game_id IS NOT NULL
              AND c.player_id IS NOT NULL
            GROUP BY ALL
            """).df()
    sources = sorted(snap["model_version"].unique()) if not snap.empty else []
    keys = ["slate_date", "game_id", "player_id", "market_type", "line"]
    wide = snap.pivot_table(index=keys, columns="model_version", values="p_over").reset_index()
    wide.columns.name = None
    wide = wide.merge(market, on=keys, how="left")
    played = outcomes[outcomes["actual"].notna()]
    wide = wide.merge(played, on=["game_id", "player_id", "market_type"], how="inner")
    if games is not None and len(wide):  # a slate's forecast of a game it never saw played
        wide = wide[~called_off_mask(wide, games)].reset_index(drop=True)
    wide["y"] = over_hit(wide["actual"], wide["line"])
    return wide, [*sources, "market"]


def stored_scored(con: duckdb.DuckDBPyConnection, slates: list[date],
                  as_of: datetime) -> tuple[pd.DataFrame, list[str]]:
    """`scored_props` from what is stored: the outcomes of the slates' games as
    `fact_prop_outcomes` holds them (diagnostics reads it after the grading step)."""
    with slates_view(con, slates):
        outcomes = con.execute(
            "SELECT o.game_id, o.player_id, o.market_type, o.actual "
            f"FROM fact_prop_outcomes o JOIN ({nhl_read.GAMES_SQL}) g USING (game_id) "
            "JOIN _slates s ON g.slate_date = s.slate_date").df()
    return scored_props(con, slates, as_of, outcomes)


