"""The stats warehouse: final NHL games into dim_games, dim_players, fact_skater_games and
fact_goalie_games, incrementally, raw first.

`refresh_stats` walks the schedule week by week from the day after the last stored final
game (on an empty database: the regular season's first day, which the schedule names) up
to the slate, and loads every game that is final and not stored yet:
- its boxscore is saved raw first (file + .sha256 under outputs/nhl/raw/) and registered in
  raw_payloads, so the warehouse can be rebuilt from the archive;
- a boxscore that is not final (FUT, PRE, LIVE, CRIT) is never stored as final: the game
  stays pending and is tried again next time;
- 25 games per transaction upsert their rows keyed by (game_id, player_id), one statement
  per table (games fetched before a failure are stored too).
Every request counts toward `max_requests`; at the cap it stops cleanly and says how many
games remain. A failing source ends the refresh with an error in the report (the step is
partial); `stats_through` says how fresh the warehouse is, so nothing continues silently
on old data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import orjson
import pandas as pd

from helpers.core import db, rawstore
from helpers.core.clock import utcnow
from helpers.core.errors import SchemaDriftError, VendorError
from helpers.core.http import VendorClient, write_fetch_attempt
from helpers.core.settings import Settings
from helpers.core.vendors import NHL_API
from helpers.nhl.api import (
    Boxscore,
    called_off,
    fetch_boxscore,
    fetch_schedule,
    open_client,
    parse_boxscore,
    parse_schedule,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_REQUESTS = 2_000
PROGRESS_EVERY = 25  # games between progress lines
WEEK = timedelta(days=7)
# A game not final this long after its start is overdue: api-web lagging (LIVE for a game
# long over) or a postponement it does not announce. The refresh says so rather than leaving
# the stats to lag. A game api-web calls postponed or cancelled is not waited for.
OVERDUE_AFTER = timedelta(hours=8)


@dataclass
class RefreshReport:
    """What one refresh did; `error` set means the source failed part-way (step partial)."""

    requests: int = 0
    games_loaded: int = 0
    games_pending: int = 0       # final games seen but not loaded (cap or failure)
    games_not_final: int = 0     # boxscores that said final in the schedule but were not
    games_overdue: int = 0       # earlier games the schedule still shows not final
    skater_rows: int = 0
    goalie_rows: int = 0
    stopped_at_cap: bool = False
    error: str | None = None
    stats_through: date | None = None  # slate date of the latest final game stored
    loaded_game_ids: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return ("partial" if self.error or self.stopped_at_cap or self.games_not_final
                or self.games_overdue else "success")

    def summary(self) -> str:
        text = (f"{self.games_loaded} games loaded ({self.skater_rows} skater rows, "
                f"{self.goalie_rows} goalie rows) in {self.requests} requests; stats through "
                f"{self.stats_through or 'nothing'}")
        if self.stopped_at_cap:
            text += f"; stopped at the request cap with {self.games_pending} games to go"
        if self.games_not_final:
            text += (f"; {self.games_not_final} games final in the schedule but not in their "
                     f"boxscore (left for the next run)")
        if self.games_overdue:
            text += (f"; {self.games_overdue} earlier games still not final in the schedule "
                     f"{OVERDUE_AFTER.seconds // 3600} h after their start")
        if self.error:
            text += f"; stats source failed: {self.error}"
        return text


def season_start_of(schedule_body: bytes) -> date:
    """The regular season's first day, as a schedule payload names it."""
    try:
        return date.fromisoformat(orjson.loads(schedule_body)["regularSeasonStartDate"])
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        raise SchemaDriftError(f"NHL api-web schedule: no usable regularSeasonStartDate "
                               f"({exc})") from None


def stats_through(con: duckdb.DuckDBPyConnection) -> date | None:
    """Slate date of the latest final game in the warehouse."""
    return con.execute("SELECT max(slate_date) FROM dim_games WHERE state IN ('OFF', 'FINAL')"
                       ).fetchall()[0][0]


def _stored_final_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {r[0] for r in con.execute(
        "SELECT game_id FROM dim_games WHERE state IN ('OFF', 'FINAL')").fetchall()}


def refresh_stats(con: duckdb.DuckDBPyConnection, settings: Settings, slate_date: date,
                  as_of: datetime, run_id: str | None = None,
                  max_requests: int = DEFAULT_MAX_REQUESTS) -> RefreshReport:
    """Load every final game before `slate_date` that is not stored yet (see the module)."""
    return _reported(con, settings, run_id, "stats refresh", lambda client, report: _refresh(
        con, settings, client, slate_date, as_of, max_requests, report))


def _reported(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str | None,
              what: str, work: Callable[[VendorClient, RefreshReport], None]) -> RefreshReport:
    """Run `work` with an NHL api-web client whose attempts reach the fetch log; a failing
    source ends it with the error in the report, never an exception."""
    report = RefreshReport()
    client = open_client(settings, run_id, on_attempt=lambda a: write_fetch_attempt(con, a))
    try:
        work(client, report)
    except (VendorError, SchemaDriftError, OSError) as exc:
        report.error = str(exc)
        log.warning("%s stopped: %s", what, exc)
    finally:
        client.close()
        report.requests = len(client.attempts)
    report.stats_through = stats_through(con)
    return report


def _refresh(con: duckdb.DuckDBPyConnection, settings: Settings, client: VendorClient,
             slate_date: date, as_of: datetime, max_requests: int,
             report: RefreshReport) -> None:
    last = stats_through(con)
    if last is None:
        first_week = fetch_schedule(client, slate_date)
        start = season_start_of(first_week)
        log.info("empty warehouse: loading the season from %s", start)
    else:
        start = last  # its games may not all have been final yet: re-read that day
    stored = _stored_final_ids(con)
    todo: list[int] = []
    seen_overdue: set[int] = set()
    day = start
    while day < slate_date:
        if len(client.attempts) >= max_requests:
            report.stopped_at_cap = True
            break
        games = parse_schedule(fetch_schedule(client, day))
        earlier = games[games["slate_date"] < slate_date]
        is_final = earlier["state"].isin(["OFF", "FINAL"])
        final = earlier[is_final & ~earlier["game_id"].isin(stored)]
        todo += [int(g) for g in final["game_id"] if int(g) not in todo]
        overdue = earlier[~is_final & ~called_off(earlier["schedule_state"])
                          & (earlier["start_ts_utc"] < as_of - OVERDUE_AFTER)]
        seen_overdue.update(int(g) for g in overdue["game_id"])
        day += WEEK
    report.games_overdue = len(seen_overdue)
    _load_games(con, settings, client, todo, as_of, report,
                lambda: len(client.attempts) >= max_requests)


def _load_games(con: duckdb.DuckDBPyConnection, settings: Settings, client: VendorClient,
                todo: list[int], as_of: datetime, report: RefreshReport,
                at_cap: Callable[[], bool]) -> None:
    """Fetch and check each game's boxscore until `at_cap()` says stop, storing them
    PROGRESS_EVERY games per transaction (and what was fetched before a failure)."""
    batch: list[tuple[Boxscore, bytes]] = []

    def store_batch() -> None:
        boxes = list(batch)
        batch.clear()  # a failed store is not tried twice
        store_boxscores(con, settings, boxes, as_of, client.run_id)
        for box, _ in boxes:
            report.games_loaded += 1
            report.skater_rows += len(box.skaters)
            report.goalie_rows += len(box.goalies)
            report.loaded_game_ids.append(box.game.game_id)

    try:
        for n, game_id in enumerate(todo, start=1):
            if at_cap():
                report.stopped_at_cap = True
                report.games_pending = len(todo) - n + 1
                break
            body = fetch_boxscore(client, game_id)
            box = parse_boxscore(body)
            if not box.is_final:
                report.games_not_final += 1
            else:
                batch.append((box, body))
            if n % PROGRESS_EVERY == 0 or n == len(todo):
                store_batch()
                log.info("stats: %d of %d games loaded (%d requests)", n, len(todo),
                         len(client.attempts))
    finally:
        if batch:  # fetched before a failure: stored, so no request is made twice
            store_batch()


def backfill_stats(con: duckdb.DuckDBPyConnection, settings: Settings, start: date,
                   end: date, as_of: datetime, run_id: str | None,
                   max_requests: int | None = None,
                   max_elapsed_seconds: float | None = None) -> RefreshReport:
    """Load the final games of the slates start..end that are not stored yet. Resumable and
    idempotent because a stored final game is the checkpoint: a rerun skips it, and games
    land PROGRESS_EVERY to a transaction. Every request (schedule weeks, boxscores, retries)
    counts toward `max_requests`; no request starts after `max_elapsed_seconds`."""
    started = time.monotonic()

    def load(client: VendorClient, report: RefreshReport) -> None:
        def at_cap() -> bool:
            return ((max_requests is not None and len(client.attempts) >= max_requests)
                    or (max_elapsed_seconds is not None
                        and time.monotonic() - started >= max_elapsed_seconds))

        stored = _stored_final_ids(con)
        todo: list[int] = []
        day = start
        while day <= end:
            if at_cap():
                report.stopped_at_cap = True
                return
            games = parse_schedule(fetch_schedule(client, day))
            final = games[games["state"].isin(["OFF", "FINAL"])
                          & games["slate_date"].between(start, end)
                          & ~games["game_id"].isin(stored)]
            todo += [int(g) for g in final["game_id"] if int(g) not in todo]
            day += WEEK
        _load_games(con, settings, client, todo, as_of, report, at_cap)

    return _reported(con, settings, run_id, "stats backfill", load)


def store_boxscore(con: duckdb.DuckDBPyConnection, settings: Settings, box: Boxscore,
                   body: bytes, as_of: datetime, run_id: str | None) -> None:
    """Save the final boxscore raw first, then upsert its game, players and stat rows and
    register the payload, in one transaction."""
    store_boxscores(con, settings, [(box, body)], as_of, run_id)


def store_boxscores(con: duckdb.DuckDBPyConnection, settings: Settings,
                    boxes: list[tuple[Boxscore, bytes]], as_of: datetime,
                    run_id: str | None) -> None:
    """Save each final boxscore raw first, then upsert their games, players and stat rows
    and register the payloads, all in one transaction: one statement per table however
    many games (a season's load was four statements a game)."""
    if not boxes:
        return
    for box, _ in boxes:
        if not box.is_final:
            raise ValueError(f"game {box.game.game_id} is {box.game.state}, not final")
    payloads = []
    for box, body in boxes:
        digest = rawstore.sha256_hex(body)
        saved = rawstore.save_payload(settings.paths.ops_home,
                                      settings.paths.outputs_dir / "nhl" / "raw", NHL_API,
                                      f"boxscore_{box.game.game_id}", body, as_of, "json",
                                      sha256=digest)
        rows = len(box.skaters) + len(box.goalies)
        payloads.append({
            "payload_hash": digest, "vendor": NHL_API, "kind": "boxscore",
            "capture_ts_utc": as_of, "path": saved.relative_path, "bytes": len(body),
            "parser_version": "nhl-api-1", "rows_parsed": rows, "rows_inserted": rows,
            "rows_rejected": 0, "run_id": run_id, "registered_ts_utc": utcnow(),
            "last_seen_ts_utc": as_of, "times_seen": 1, "load_state": "loaded"})
    games = pd.DataFrame([vars(box.game) for box, _ in boxes]).assign(updated_ts_utc=as_of)
    # a player of several games is one row: the last game's, as one upsert per game left it
    players = (pd.concat([box.players for box, _ in boxes], ignore_index=True)
               .drop_duplicates("player_id", keep="last").assign(updated_ts_utc=as_of))
    with db.transaction(con):
        db.upsert_rows(con, "dim_games", games)
        db.upsert_rows(con, "dim_players", players)
        db.upsert_rows(con, "fact_skater_games", _concat([box.skaters for box, _ in boxes]))
        db.upsert_rows(con, "fact_goalie_games", _concat([box.goalies for box, _ in boxes]))
        db.upsert_rows(con, "raw_payloads", pd.DataFrame(payloads))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
