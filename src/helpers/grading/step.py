"""Step 4, outcomes: the IO edge. Grades the slates of the look-back window from official
boxscores and scores the snapshots' probabilities against what happened.

For each slate of the window (the `OUTCOMES_LOOKBACK_DAYS` days before the run's slate):
1. Every game the snapshots or EV priced: its boxscore is fetched again (a stat correction
   shows up there). A final one whose bytes are new is stored raw first and upserted like
   the stats refresh does; a game not final (live, not played yet) stays pending. A game
   called off for the slate (api-web: postponed or cancelled, or moved to another date) is
   settled: its bets are VOID (a rescheduled game is a new game), never pending.
2. `fact_prop_outcomes`: the stat of every priced (game, player, market) of a final game
   (NULL: the player did not dress). An outcome that changed since it was first graded is
   replaced and logged in `fact_outcome_corrections`.
3. `fact_bet_results`: every EV candidate of the slate (eligible or not) graded WIN / LOSS /
   PUSH / VOID, with its closing price and CLV; the slate's results are replaced in one
   transaction, so a rerun changes nothing and a correction updates them.
4. Forecast accuracy of every model version and of the market on the graded props
   (`helpers.grading.accuracy`), for the notebook; diagnostics stores it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import duckdb
import pandas as pd

from helpers.core import db, rawstore
from helpers.core.clock import ET, utcnow
from helpers.core.errors import SchemaDriftError, VendorError
from helpers.core.http import write_fetch_attempt
from helpers.core.settings import Settings
from helpers.core.slate import Slate
from helpers.ev import read as ev_read
from helpers.ev.candidates import MAX_DECIMAL_PRICE
from helpers.grading.outcomes import grade, prop_outcomes
from helpers.grading.read import (
    SLATES_NEWEST_BETS,
    called_off_mask,
    day_of,
    scored_props,
    slates_view,
    window,
)
from helpers.model import read as model_read
from helpers.nhl import api
from helpers.nhl import read as nhl_read
from helpers.nhl.warehouse import store_boxscore
from helpers.odds import read as odds_read
from helpers.odds.prices import devig_pair

log = logging.getLogger(__name__)

OVERDUE_AT_ET = time(8)  # the morning after a slate, every game of it should be final

RESULT_COLUMNS = (
    "slate_date", "candidate_run_id", "snapshot_id", "game_id", "player_id", "source_vendor",
    "event_id_vendor", "player_key_vendor", "book_id_vendor", "book_name", "book_type",
    "market_type", "line", "side", "capture_ts_utc", "odds_decimal", "p_model", "ev",
    "is_eligible", "actual", "result", "profit_units", "closing_capture_ts_utc",
    "closing_odds_decimal", "clv", "p_fair_taken", "p_fair_close", "clv_prob",
    "graded_ts_utc", "run_id", "p_price", "p_consensus", "ev_model", "ev_market",
    "stake_fraction")


@dataclass
class OutcomesResult:
    slates: list[date]
    games: pd.DataFrame            # slate_date, game_id, state, graded, called_off, error
    outcomes: pd.DataFrame         # game_id, player_id, market_type, actual
    corrections: pd.DataFrame      # game_id, player_id, market_type, old_actual, new_actual
    results: pd.DataFrame          # RESULT_COLUMNS (graded bets) + PENDING ones apart
    pending_bets: int
    scored: pd.DataFrame           # graded snapshot props: keys, y, one p column per source
    sources: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "partial" if self.warnings else "success"

    def summary(self) -> str:
        graded = int(self.games["graded"].sum()) if len(self.games) else 0
        text = (f"slates {', '.join(str(s) for s in self.slates) or 'none'}: {graded} of "
                f"{len(self.games)} games final and graded, {len(self.outcomes)} outcomes, "
                f"{len(self.results)} bets graded, {self.pending_bets} pending, "
                f"{len(self.corrections)} corrections")
        off = int(self.games["called_off"].sum()) if len(self.games) else 0
        if off:
            voided = int(self.results["called_off"].sum()) if len(self.results) else 0
            text += (f"; {off} game{'s' if off > 1 else ''} postponed, cancelled or moved: "
                     f"{voided} bets void")
        return text + "".join(f"; {w}" for w in self.warnings)


def _priced(con: duckdb.DuckDBPyConnection, slates: list[date]) -> pd.DataFrame:
    """Every (slate, game, player, market) a snapshot or an EV run priced on the slates
    (player_id NULL: an EV row of a mapped event whose player did not map)."""
    with slates_view(con, slates):
        return con.execute(
            f"SELECT DISTINCT slate_date, game_id, player_id, market_type FROM ("
            f" {model_read.priced_props_sql()} UNION ALL {ev_read.PRICED_PROPS_SQL})"
            f" JOIN _slates USING (slate_date) ORDER BY ALL").df()


def _known_hash(con: duckdb.DuckDBPyConnection, digest: str) -> bool:
    return con.execute("SELECT count(*) FROM raw_payloads WHERE payload_hash = ? AND vendor = ?"
                       " AND kind = 'boxscore'", [digest, api.NHL_API]).fetchall()[0][0] > 0


def refresh_boxscores(con: duckdb.DuckDBPyConnection, settings: Settings,
                      games: pd.DataFrame, as_of: datetime, run_id: str) -> pd.DataFrame:
    """Fetch each game's boxscore; store the final ones whose bytes are new. Returns games
    with state, graded (final), called_off (postponed or cancelled, or now dated another day
    than the slate that priced it: that slate's game was not played) and the error if the
    fetch or parse failed."""
    client = api.open_client(settings, run_id, on_attempt=lambda a: write_fetch_attempt(con, a))
    rows = []
    try:
        for game in games.itertuples(index=False):
            state, final, off, error = None, False, False, None
            try:
                body = api.fetch_boxscore(client, int(game.game_id))
                box = api.parse_boxscore(body)
                state, final = box.game.state, box.is_final
                off = box.game.is_called_off or box.game.slate_date != day_of(game.slate_date)
                if final and not _known_hash(con, rawstore.sha256_hex(body)):
                    store_boxscore(con, settings, box, body, as_of, run_id)
            except (VendorError, SchemaDriftError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("boxscore %s: %s", game.game_id, error)
            rows.append({"slate_date": game.slate_date, "game_id": int(game.game_id),
                         "state": state, "graded": final, "called_off": off, "error": error})
    finally:
        client.close()
    return pd.DataFrame(rows, columns=["slate_date", "game_id", "state", "graded", "called_off",
                                       "error"])


def _write_outcomes(con: duckdb.DuckDBPyConnection, outcomes: pd.DataFrame, now: datetime,
                    run_id: str) -> pd.DataFrame:
    """Upsert the outcomes; log and return the ones that changed since first graded."""
    con.register("_new", outcomes)
    try:
        changed = con.execute(
            "SELECT n.game_id, n.player_id, n.market_type, o.actual AS old_actual, "
            "n.actual AS new_actual FROM _new n JOIN fact_prop_outcomes o "
            "USING (game_id, player_id, market_type) "
            "WHERE o.actual IS DISTINCT FROM n.actual").df()
    finally:
        con.unregister("_new")
    db.upsert_rows(con, "fact_prop_outcomes", outcomes.assign(graded_ts_utc=now))
    if not changed.empty:
        db.insert_new_rows(con, "fact_outcome_corrections",
                           changed.assign(detected_ts_utc=now, run_id=run_id),
                           ("game_id", "player_id", "market_type", "detected_ts_utc"))
        for r in changed.itertuples(index=False):
            log.warning("stat correction: game %s player %s %s: %s -> %s", r.game_id,
                        r.player_id, r.market_type, r.old_actual, r.new_actual)
    return changed


def _same_prop(a: str, b: str) -> str:
    """SQL: rows `a` and `b` price the same prop at the same vendor and book (any side)."""
    return (f"{a}.source_vendor = {b}.source_vendor"
            f" AND {a}.book_id_vendor IS NOT DISTINCT FROM {b}.book_id_vendor"
            f" AND {a}.book_name IS NOT DISTINCT FROM {b}.book_name"
            f" AND {a}.event_id_vendor = {b}.event_id_vendor"
            f" AND {a}.player_key_vendor = {b}.player_key_vendor"
            f" AND {a}.market_type = {b}.market_type AND {a}.line = {b}.line")


def _candidates_with_close(con: duckdb.DuckDBPyConnection,
                           slates: list[date]) -> pd.DataFrame:
    """Every mapped EV candidate of each slate's newest EV run (a slate's bets are counted
    once, however often EV ran) with its closing price: the last capture of the same
    vendor/book/event/player/market/line/side before puck drop, and that book's other side
    at the same capture (for the no-vig probability). A quote longer than any book offers
    (ev.candidates.MAX_DECIMAL_PRICE) is skipped: the close is then the last sane one."""
    with slates_view(con, slates):
        return con.execute(
            f"""
            WITH c AS (
                SELECT c.*, coalesce(g.start_ts_utc, o_start.event_start_ts_utc) AS start_ts
                FROM ({SLATES_NEWEST_BETS}) c
                LEFT JOIN ({nhl_read.GAMES_SQL}) g USING (game_id)
                LEFT JOIN ({odds_read.EVENT_STARTS_SQL}) o_start
                  USING (source_vendor, event_id_vendor)
                WHERE c.game_id IS NOT NULL AND c.player_id IS NOT NULL
            ), priced AS (
                -- a price no book offers (EV's absurd_price gate) is no close either
                {odds_read.quotes_sql(MAX_DECIMAL_PRICE)}
            ), closing AS (
                SELECT c.source_vendor, c.book_id_vendor, c.book_name, c.event_id_vendor,
                       c.player_key_vendor, c.market_type, c.line, c.side,
                       max(p.capture_ts_utc) AS closing_capture_ts_utc
                FROM (SELECT DISTINCT source_vendor, book_id_vendor, book_name,
                             event_id_vendor, player_key_vendor, market_type, line, side,
                             start_ts FROM c) c
                JOIN priced p ON {_same_prop("p", "c")} AND p.side = c.side
                WHERE p.capture_ts_utc < c.start_ts
                GROUP BY ALL
            ), sides AS (
                SELECT p.source_vendor, p.book_id_vendor, p.book_name, p.event_id_vendor,
                       p.player_key_vendor, p.market_type, p.line, p.capture_ts_utc,
                       max(p.odds_decimal) FILTER (WHERE p.side = 'OVER') AS close_over,
                       max(p.odds_decimal) FILTER (WHERE p.side = 'UNDER') AS close_under
                FROM priced p JOIN (SELECT DISTINCT source_vendor, book_id_vendor, book_name,
                                           event_id_vendor, player_key_vendor, market_type,
                                           line, closing_capture_ts_utc FROM closing) k
                  ON {_same_prop("p", "k")} AND p.capture_ts_utc = k.closing_capture_ts_utc
                GROUP BY ALL
            )
            SELECT c.*, k.closing_capture_ts_utc, s.close_over, s.close_under
            FROM c
            LEFT JOIN closing k ON {_same_prop("k", "c")} AND k.side = c.side
            LEFT JOIN sides s ON {_same_prop("s", "c")}
             AND s.capture_ts_utc = k.closing_capture_ts_utc
            ORDER BY ALL
            """).df()


def _results(candidates: pd.DataFrame, outcomes: pd.DataFrame, games: pd.DataFrame,
             now: datetime, run_id: str) -> pd.DataFrame:
    candidates = candidates.astype({"game_id": "int64", "player_id": "int64"})
    called_off = called_off_mask(candidates, games)
    graded = grade(candidates, outcomes, called_off=called_off)
    graded["called_off"] = called_off.to_numpy()
    is_over = graded["side"].eq("OVER")
    closing = graded["close_over"].where(is_over, graded["close_under"])
    graded["closing_odds_decimal"] = closing
    graded["clv"] = graded["odds_decimal"] / closing - 1.0
    fair_over, fair_under = devig_pair(graded["close_over"].to_numpy(dtype=float),
                                       graded["close_under"].to_numpy(dtype=float))
    graded["p_fair_close"] = pd.Series(fair_over, index=graded.index).where(
        is_over, pd.Series(fair_under, index=graded.index))
    graded["p_fair_taken"] = graded["p_fair"]
    graded["clv_prob"] = graded["p_fair_close"] - graded["p_fair_taken"]
    graded = graded.rename(columns={"run_id": "candidate_run_id"})
    return graded.assign(graded_ts_utc=now, run_id=run_id)


def overdue_games(games: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Games read without error but not final at 08:00 ET the day after their slate (the
    latest start, 22:30 ET, has been over for hours by then): api-web lagging (LIVE for a
    game long over) or a postponement. Pending is right for them; silence is not."""
    if games.empty:
        return games
    now_et = as_of.replace(tzinfo=UTC).astimezone(ET)
    days_back = 1 if now_et.time() >= OVERDUE_AT_ET else 2
    last_overdue_slate = now_et.date() - timedelta(days=days_back)
    waiting = games[~games["graded"].astype(bool) & ~games["called_off"].astype(bool)
                    & games["error"].isna()]
    return waiting[pd.to_datetime(waiting["slate_date"]).dt.date <= last_overdue_slate]


def run_outcomes(con: duckdb.DuckDBPyConnection, settings: Settings, slate: Slate,
                 run_id: str) -> OutcomesResult:
    """Step 4: grade the look-back window before the slate (see the module docstring)."""
    slate_date, as_of = slate.date, slate.as_of
    slates = window(slate_date, settings.outcomes.lookback_days)
    priced = _priced(con, slates)
    priced_games = priced[["slate_date", "game_id"]].drop_duplicates()
    games = refresh_boxscores(con, settings, priced_games, as_of, run_id)
    final_ids = set(games.loc[games["graded"], "game_id"].astype(int))
    outcomes = prop_outcomes(priced, nhl_read.skater_rows(con, sorted(final_ids)), final_ids)
    candidates = _candidates_with_close(con, slates)
    now = utcnow()
    results = _results(candidates, outcomes, games, now, run_id)
    pending = results[results["result"] == "PENDING"]
    graded = results[results["result"] != "PENDING"]
    with db.transaction(con):
        corrections = _write_outcomes(con, outcomes, now, run_id)
        with slates_view(con, slates):
            con.execute("DELETE FROM fact_bet_results WHERE slate_date IN "
                        "(SELECT slate_date FROM _slates)").fetchall()
        if not graded.empty:
            con.register("_results", graded[list(RESULT_COLUMNS)])
            try:
                columns = ", ".join(RESULT_COLUMNS)
                con.execute(f"INSERT INTO fact_bet_results ({columns}) "
                            f"SELECT {columns} FROM _results").fetchall()
            finally:
                con.unregister("_results")
    scored, sources = scored_props(con, slates, as_of, outcomes, games)
    result = OutcomesResult(slates, games, outcomes, corrections, graded, len(pending),
                            scored, sources)
    overdue = overdue_games(games, as_of)
    if not overdue.empty:
        result.warnings.append(
            f"{len(overdue)} games of earlier slates still not final (api-web says "
            f"{', '.join(sorted(overdue['state'].astype(str).unique()))}; first: game "
            f"{overdue['game_id'].iloc[0]} of {overdue['slate_date'].iloc[0]}): left pending")
    failed = games[games["error"].notna()]
    if not failed.empty:
        result.warnings.append(f"{len(failed)} boxscores could not be read (first: game "
                               f"{failed['game_id'].iloc[0]}: {failed['error'].iloc[0]})")
    log.info("outcomes: %s", result.summary())
    return result
