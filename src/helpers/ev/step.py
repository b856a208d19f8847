"""Step 3, EV: the IO edge. Reads the slate's latest prices, the snapshot of
`EV_MODEL_VERSION` and the graded props of earlier slates; fits the pricing blend per market
(`ev.blend`, stored in `fact_price_blend_fits`), calls `ev.candidates`, writes
`fact_ev_candidates` and the output files.

Outputs (written even when empty; the Markdown and the summary say why):
- `outputs/ev/ev_candidates_<date>.csv`: every eligible bet (one row per book, prop and
  side), best EV first;
- `outputs/ev/best_bets_<date>.csv` and `.md`: one row per prop and side: the best price,
  every book at it, the vendors that showed it, the game and the stake.
All are replaced atomically; the table inserts are idempotent per run (a rerun adds nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.files import published_with
from helpers.core.markets import MARKETS
from helpers.core.settings import Settings
from helpers.core.slate import Slate
from helpers.ev.blend import Blend, fit_blends
from helpers.ev.candidates import Gates, ev_candidates, funnel
from helpers.ev.read import graded_props
from helpers.ev.report import best_bets_markdown, best_by_prop, ranked_eligible
from helpers.model import read as model_read
from helpers.nhl import api
from helpers.nhl import read as nhl_read
from helpers.nhl.api import called_off
from helpers.odds import read as odds_read

log = logging.getLogger(__name__)

# fact_ev_candidates, in table order.
TABLE_COLUMNS = (
    "run_id", "snapshot_id", "slate_date", "as_of_ts_utc", "game_id", "player_id",
    "source_vendor", "event_id_vendor", "player_key_vendor", "player_name_raw",
    "book_id_vendor", "book_name", "book_type", "market_type", "line", "side",
    "capture_ts_utc", "odds_decimal", "odds_american", "p_model", "p_push", "p_implied",
    "p_fair", "p_consensus", "n_consensus_books", "ev", "ev_market", "kelly_fraction",
    "odds_age_minutes", "minutes_to_start", "mapping_confidence", "games_used", "is_eligible",
    "exclusion_reason", "is_suspicious", "suspicious_reasons", "vendor_outcome_key", "p_price",
    "ev_model", "model_version", "price_method", "stake_fraction")
TABLE_KEY = ("run_id", "source_vendor", "book_id_vendor", "book_name", "event_id_vendor",
             "player_key_vendor", "market_type", "line", "side")


@dataclass
class EvResult:
    slate_date: date
    snapshot_id: str | None
    snapshot_ts_utc: datetime | None
    candidates: pd.DataFrame
    funnel: pd.DataFrame
    names: pd.DataFrame          # player_id -> NHL name, for display only
    games: pd.DataFrame          # game_id -> teams and start, for display only
    blends: dict[str, Blend]     # the pricing blend of each market
    model_version: str
    csv_path: Path
    markdown_path: Path
    warnings: list[str] = field(default_factory=list)
    off_day: bool = False        # no games on the slate: nothing to price, and no incident
    # the slate's postponed or cancelled games, and how many vendor prices of them were left
    # out: not priced, and said so (no incident either)
    called_off_games: pd.DataFrame = field(default_factory=pd.DataFrame)
    called_off_prices: int = 0

    @property
    def eligible(self) -> pd.DataFrame:
        return self.candidates[self.candidates["is_eligible"]]

    @property
    def best_bets_csv_path(self) -> Path:
        return self.markdown_path.with_suffix(".csv")

    def fits(self) -> pd.DataFrame:
        """The blends as rows of `fact_price_blend_fits` (without run and timestamps)."""
        return pd.DataFrame([b.row() for b in self.blends.values()])

    @property
    def status(self) -> str:
        return "partial" if self.warnings else "success"

    def summary(self) -> str:
        if self.off_day:
            return f"no games on {self.slate_date}: nothing to price"
        text = (f"{len(self.candidates)} priced rows, {len(self.eligible)} eligible, "
                f"{int(self.eligible['is_suspicious'].sum())} of them flagged "
                f"(snapshot {self.snapshot_id or 'none'})")
        note = api.called_off_note(self.called_off_games) if len(self.called_off_games) else None
        if note:
            text += f"; {note}, {self.called_off_prices} vendor prices left out"
        return text + "".join(f"; {w}" for w in self.warnings)


def slate_odds(con: duckdb.DuckDBPyConnection, slate: Slate) -> pd.DataFrame:
    """The latest capture by the slate's as-of of every priced (vendor, book, event, player,
    market, line, side) of the slate's vendor events, with the NHL ids they map to."""
    return odds_read.query(con, f"""
        SELECT l.source_vendor, l.event_id_vendor, l.player_key_vendor, l.player_name_raw,
               l.book_id_vendor, l.book_name_raw AS book_name, l.book_type, l.market_type,
               l.line, l.side, l.capture_ts_utc, l.odds_decimal, l.odds_american, l.is_live,
               l.vendor_outcome_key, l.event_start_ts_utc, e.game_id, p.player_id,
               least(e.confidence, p.confidence) AS mapping_confidence
        FROM ({odds_read.latest_prices_sql()}) l
        LEFT JOIN ({model_read.EVENT_MAP_SQL}) e USING (source_vendor, event_id_vendor)
        LEFT JOIN ({model_read.PLAYER_MAP_SQL}) p
          USING (source_vendor, event_id_vendor, player_key_vendor)
        ORDER BY ALL
        """, slate)


SNAPSHOT_COLUMNS = ("game_id", "player_id", "market_type", "line", "p_over", "p_under", "p_push",
                    "games_used")


def _games(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """The games around the slate: final ones from the warehouse, the others as the
    production step last saw them scheduled."""
    return model_read.games_between(con, slate_date - timedelta(days=1),
                                    slate_date + timedelta(days=1))


def run_ev(con: duckdb.DuckDBPyConnection, settings: Settings, slate: Slate,
           run_id: str) -> EvResult:
    """Step 3: price the slate from the blend of the chosen snapshot and the consensus;
    write the tables and the files."""
    slate_date, as_of = slate.date, slate.as_of
    version = settings.ev.model_version
    snapshot_id, snapshot_ts = model_read.newest_snapshot(con, slate_date, as_of, version)
    all_odds = slate_odds(con, slate)
    games = _games(con, slate_date)
    # A postponed or cancelled game is not priced: a board captured before the announcement
    # still lists it, and its bets would only ever be void.
    off = games[called_off(games["schedule_state"])]
    on_called_off = all_odds["game_id"].isin(off["game_id"])
    odds = all_odds[~on_called_off].reset_index(drop=True)
    blends = fit_blends(graded_props(con, slate_date, settings.ev.blend_window_days, version),
                        MARKETS, settings.ev.blend_min_props)
    candidates = ev_candidates(odds, model_read.snapshot_rows(con, snapshot_id, SNAPSHOT_COLUMNS),
                               games,
                               snapshot_ts_utc=snapshot_ts, as_of=as_of,
                               gates=Gates.from_settings(settings.ev), blends=blends)
    candidates = candidates.assign(run_id=run_id, snapshot_id=snapshot_id,
                                   slate_date=slate_date, as_of_ts_utc=as_of,
                                   model_version=version)
    out_dir = settings.paths.outputs_dir / "ev"
    result = EvResult(slate_date, snapshot_id, snapshot_ts, candidates, funnel(candidates),
                      nhl_read.player_names(con, candidates["player_id"]), games, blends, version,
                      out_dir / f"ev_candidates_{slate_date}.csv",
                      out_dir / f"best_bets_{slate_date}.md")
    result.called_off_games = off[pd.to_datetime(off["slate_date"]).dt.date == slate_date]
    result.called_off_prices = int(on_called_off.sum())
    result.off_day = all_odds.empty and model_read.games_scheduled(con, slate_date) == 0
    if snapshot_id is None and not result.off_day:
        result.warnings.append(f"no production snapshot of {slate_date} at or before "
                               f"{as_of:%Y-%m-%d %H:%M} UTC: nothing can be priced")
    if all_odds.empty and not result.off_day:
        result.warnings.append(f"no vendor prices for {slate_date} captured by "
                               f"{as_of:%Y-%m-%d %H:%M} UTC")
    fits = result.fits().assign(run_id=run_id, slate_date=slate_date, model_version=version,
                                computed_ts_utc=utcnow())
    # All or nothing: the rows and the files appear together, or neither does (a read-only
    # or full outputs/ev fails before the commit; a failed commit restores the old files).
    with published_with(_outputs(result)) as publish, db.transaction(con):
        db.insert_new_rows(con, "fact_ev_candidates", candidates[list(TABLE_COLUMNS)],
                           TABLE_KEY, prune_column="as_of_ts_utc")
        db.insert_new_rows(con, "fact_price_blend_fits", fits,
                           ("run_id", "model_version", "market_type"))
        publish()
    log.info("ev: %s", result.summary())
    return result


def _outputs(result: EvResult) -> dict[Path, bytes]:
    # An empty CSV is its header alone (a comment line would break strict readers); the
    # reason it is empty is in the Markdown and in the step's summary.
    ranked = ranked_eligible(result.candidates, result.names)
    best = best_by_prop(result.candidates, result.games, result.names)
    return {result.csv_path: ranked.to_csv(index=False).encode(),
            result.best_bets_csv_path: best.to_csv(index=False).encode(),
            result.markdown_path: best_bets_markdown(result, best, _why_empty(result)).encode()}


def _why_empty(result: EvResult) -> str:
    if result.off_day:
        return result.summary()
    if result.warnings:
        return "; ".join(result.warnings)
    last = result.funnel.iloc[-1]
    removed = result.funnel.loc[result.funnel["removed"] > 0, ["gate", "removed"]]
    detail = ", ".join(f"{r.removed} failed '{r.gate}'" for r in removed.itertuples())
    return f"{len(result.candidates)} priced rows, {int(last['left'])} eligible ({detail})"
