"""Step 2, production: the stats refresh, the identity map and the snapshot of one slate.

The IO edge of the model stage: it reads the warehouse and the odds tables, calls the pure
pieces (`nhl.identity`, `model.features`, `model.snapshot`) and writes `map_events`,
`map_players` and `fact_prob_snapshot`. The snapshot is keyed by run and model version, so
a rerun of the same run adds nothing, and every number traces back to the tables it read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import pandas as pd

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.models import PRODUCTION_MODEL
from helpers.core.settings import Settings
from helpers.core.slate import Slate
from helpers.model.snapshot import SNAPSHOT_KEY, Snapshot, build_snapshot
from helpers.model.versions import ESTIMATORS
from helpers.nhl import api
from helpers.nhl.identity import map_events, map_players
from helpers.nhl.warehouse import RefreshReport, refresh_stats
from helpers.odds import read as odds_read
from helpers.odds.read import UNABATED_NAMES_SQL

log = logging.getLogger(__name__)

# dim_scheduled_games: the slate's games as scheduled (EV's teams, start and state).
SCHEDULED_COLUMNS = ("game_id", "slate_date", "start_ts_utc", "home_team", "away_team", "state",
                     "schedule_state")


@dataclass
class ProductionResult:
    slate_date: date
    slate_games: pd.DataFrame
    refresh: RefreshReport
    event_map: pd.DataFrame
    vendor_players: pd.DataFrame
    player_map: pd.DataFrame
    mus: pd.DataFrame
    snapshot: Snapshot
    snapshot_id: str
    # challenger version -> (its mus, its snapshot), written beside production's
    challengers: dict[str, tuple[pd.DataFrame, Snapshot]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "partial" if self.refresh.status != "success" or self.warnings else "success"

    @property
    def off_day(self) -> bool:
        return self.slate_games.empty

    @property
    def called_off_games(self) -> pd.DataFrame:
        """The slate's games api-web calls postponed or cancelled: mapped, not priced."""
        return self.slate_games[api.called_off(self.slate_games["schedule_state"])]

    def summary(self) -> str:
        if self.off_day:
            text = (f"no games on {self.slate_date}: nothing to map or price; stats: "
                    f"{self.refresh.summary()}")
            return text + "".join(f"; {w}" for w in self.warnings)
        text = f"{len(self.slate_games)} games"
        note = api.called_off_note(self.slate_games)
        if note:
            text += f" ({note})"
        text += (f", {self.snapshot.rows['player_id'].nunique()} "
                 f"skaters priced, {len(self.snapshot.rows)} snapshot rows "
                 f"({self.snapshot_id}); stats: {self.refresh.summary()}")
        for version, (_, snap) in self.challengers.items():
            text += f"; challenger {version}: {len(snap.rows)} rows"
        return text + "".join(f"; {w}" for w in self.warnings)


def slate_schedule(settings: Settings, slate_date: date, run_id: str | None,
                   con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The slate's games from the schedule, in any state. Not written to dim_games: there a
    final state means "boxscore stored" (the warehouse refresh relies on it)."""
    from helpers.core.http import write_fetch_attempt

    client = api.open_client(settings, run_id, on_attempt=lambda a: write_fetch_attempt(con, a))
    try:
        games = api.parse_schedule(api.fetch_schedule(client, slate_date))
    finally:
        client.close()
    return games[games["slate_date"] == slate_date].reset_index(drop=True)


def _history(con: duckdb.DuckDBPyConnection, slate_date: date) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame]:
    skaters = con.execute(
        "SELECT s.*, g.slate_date, g.start_ts_utc FROM fact_skater_games s JOIN dim_games g "
        "USING (game_id) WHERE g.state IN ('OFF', 'FINAL') AND g.slate_date < ? "
        "ORDER BY g.start_ts_utc, s.game_id, s.player_id", [slate_date]).df()
    goalies = con.execute(
        "SELECT s.*, g.slate_date, g.start_ts_utc FROM fact_goalie_games s JOIN dim_games g "
        "USING (game_id) WHERE g.state IN ('OFF', 'FINAL') AND g.slate_date < ? "
        "ORDER BY g.start_ts_utc, s.game_id, s.player_id", [slate_date]).df()
    return skaters, goalies


def _write_map(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame,
               key: list[str], target: str, now: datetime) -> None:
    """Upsert one row per `key` (a mapped row wins over an unmapped one) with its method,
    confidence and, when unmapped, the reason."""
    frame = (frame.assign(_unmapped=frame[target].isna())
             .sort_values("_unmapped", kind="stable")
             .drop_duplicates(key))
    rows = frame[[*key, target, "method", "confidence", "reason"]].assign(updated_ts_utc=now)
    db.upsert_rows(con, table, rows)


def run_production(con: duckdb.DuckDBPyConnection, settings: Settings, slate: Slate,
                   run_id: str) -> ProductionResult:
    """Step 2: refresh the warehouse, map the slate's vendor events and players, and write
    the production snapshot."""
    slate_date, as_of = slate.date, slate.as_of
    refresh = refresh_stats(con, settings, slate_date, as_of, run_id)
    schedule = slate_schedule(settings, slate_date, run_id, con)
    skaters, goalies = _history(con, slate_date)
    events = odds_read.vendor_events(con, slate)
    event_map = map_events(events, schedule)
    players = odds_read.vendor_players(con, slate)
    roster = roster_from_warehouse(con, slate_date)
    player_map = map_players(players, roster, event_map, schedule,
                             known=known_player_ids(con, slate_date))
    # one row per (vendor, event, player key): a name-only key can recur in two games
    player_map = player_map.assign(event_id_vendor=players["event_id_vendor"].to_numpy())
    priced = odds_read.priced_lines(con, slate, event_map, player_map)
    # A postponed or cancelled game stays in the schedule (its vendor events map to it, so EV
    # can say why it prices nothing there) but is not priced: it will not be played today.
    to_be_played = schedule[~api.called_off(schedule["schedule_state"])].reset_index(drop=True)
    snapshots: dict[str, tuple[pd.DataFrame, Snapshot]] = {}
    for version in (PRODUCTION_MODEL, *settings.model.challengers):
        mus = ESTIMATORS[version](skaters, goalies, to_be_played, slate_date)
        snapshots[version] = (mus, build_snapshot(
            mus, priced, snapshot_id=snapshot_id_of(run_id, version), snapshot_ts_utc=as_of,
            slate_date=slate_date, run_id=run_id))
    now = utcnow()
    with db.transaction(con):
        _write_map(con, "map_events", event_map, ["source_vendor", "event_id_vendor"],
                   "game_id", now)
        _write_map(con, "map_players", player_map,
                   ["source_vendor", "event_id_vendor", "player_key_vendor"], "player_id", now)
        db.upsert_rows(con, "dim_scheduled_games", schedule[list(SCHEDULED_COLUMNS)].assign(
            updated_ts_utc=now))
        db.upsert_rows(con, "dim_slates", pd.DataFrame([{
            "slate_date": slate_date, "games": len(schedule), "run_id": run_id,
            "updated_ts_utc": now}]))
        for _, snapshot in snapshots.values():
            # snapshot_ts_utc is the run's as_of: a rerun's rows share it, so the anti-join
            # looks only at that time's rows, not the whole table
            db.insert_new_rows(con, "fact_prob_snapshot", snapshot.rows, SNAPSHOT_KEY,
                               prune_column="snapshot_ts_utc")
    mus, snapshot = snapshots.pop(PRODUCTION_MODEL)
    result = ProductionResult(slate_date, schedule, refresh, event_map, players, player_map, mus,
                              snapshot, snapshot_id_of(run_id, PRODUCTION_MODEL), snapshots)
    # An off day is no incident, but vendors pricing games the schedule lacks is: taken for
    # an off day, a schedule that came back empty would leave the slate unpriced unseen.
    if schedule.empty and not events.empty:
        result.warnings.append(f"{len(events)} vendor events start on {slate_date}, which "
                               "has no games on the schedule")
    log.info("production: %s", result.summary())
    return result


def known_player_ids(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Vendor players mapped on earlier slates (for `map_players`' vendor-id path). Only
    earlier slates: a rerun of an old slate must not learn from later days."""
    return con.execute(
        "SELECT p.source_vendor, p.player_key_vendor, p.player_id FROM map_players p "
        "JOIN map_events e USING (source_vendor, event_id_vendor) "
        "JOIN dim_games g USING (game_id) "
        "WHERE p.player_id IS NOT NULL AND g.slate_date < ?", [slate_date]).df()


def snapshot_id_of(run_id: str, model_version: str) -> str:
    """One snapshot per run and model version: a rerun of the run adds nothing."""
    return f"{run_id}:{model_version}"


def roster_from_warehouse(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Every skater with a game before the slate: player_id, name and team - the team of his
    latest game, so a traded player is on his new team once he has played for it.

    Names: the boxscore's ('F. Last'), plus the full names vendors gave him on earlier
    slates where he was mapped (an Unabated person id's name, another vendor's name key). A player with a full name is matched by it, not by his
    initial: two 'A. Morozov's are told apart by name, and the first day after a trade
    (the warehouse still has him on his old team) a traded namesake is not mistaken for the
    one already on the new team."""
    return con.execute(
        f"""
        WITH skaters AS (
            SELECT s.player_id, arg_max(s.team, g.start_ts_utc) AS team
            FROM fact_skater_games s JOIN dim_games g USING (game_id)
            WHERE g.slate_date < ? AND g.state IN ('OFF', 'FINAL') GROUP BY s.player_id
        ), learned AS (
            -- vendor names of players mapped on earlier slates: an Unabated person id's
            -- name from its prices, another vendor's from its name|team key
            SELECT DISTINCT m.player_id,
                   coalesce(o.player_name_raw, split_part(m.player_key_vendor, '|', 1)) AS name
            FROM map_players m
            JOIN map_events e USING (source_vendor, event_id_vendor)
            JOIN dim_games g USING (game_id)
            LEFT JOIN ({UNABATED_NAMES_SQL}) o
              ON m.source_vendor = 'UNABATED' AND o.player_id_vendor = m.player_key_vendor
            WHERE m.player_id IS NOT NULL AND g.slate_date < ?
              AND (m.source_vendor = 'UNABATED') = (o.player_name_raw IS NOT NULL)
        )
        SELECT k.player_id, p.name, k.team FROM skaters k JOIN dim_players p USING (player_id)
        UNION
        SELECT k.player_id, l.name, k.team FROM skaters k JOIN learned l USING (player_id)
        ORDER BY ALL
        """, [slate_date, slate_date]).df()
