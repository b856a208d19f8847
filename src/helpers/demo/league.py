"""The demo league: teams, players with true rates, the schedule and every game's result.

`build_league(seed)` is deterministic for a seed and fast (vectorised simulation). The
whole season is simulated up front; the emulator's clock only decides what is visible
(a game is FUT before its start, LIVE for GAME_LENGTH, then OFF), so a final boxscore
never changes when the clock moves on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from helpers.demo.roster import (
    GoalieRates,
    Player,
    SkaterRates,
    Team,
    Trade,
    build_players,
    build_teams,
    skater_rate_arrays,
)
from helpers.demo.schedule import build_schedule
from helpers.demo.simulate import GoalEvents, GoalieGames, SkaterGames, simulate

DEFAULT_SEED = 2025
DEFAULT_SEASON_START = date(2025, 10, 7)
DEFAULT_DAYS = 120
GAME_LENGTH = timedelta(hours=2, minutes=30)
GAME_TYPE_REGULAR = 2
# The trade happens on this day of the season (earlier when the season is shorter), fixed
# so that leagues built with different `days` agree on their common days.
TRADE_DAY = 35


@dataclass(frozen=True)
class Game:
    index: int
    game_id: int
    season: int
    slate_date: date  # NHL gameDate, America/New_York
    start_utc: datetime  # aware UTC
    away: str
    home: str
    away_back_to_back: bool
    home_back_to_back: bool
    away_score: int  # final
    home_score: int
    overtime: bool

    @property
    def end_utc(self) -> datetime:
        return self.start_utc + GAME_LENGTH

    def state(self, now: datetime) -> str:
        """api-web gameState at `now`: FUT, LIVE or OFF."""
        if now < self.start_utc:
            return "FUT"
        if now < self.end_utc:
            return "LIVE"
        return "OFF"

    def elapsed_fraction(self, now: datetime) -> float:
        """0 before the start, 1 from the end on."""
        frac = (now - self.start_utc) / GAME_LENGTH
        return min(max(frac, 0.0), 1.0)


@dataclass(frozen=True, eq=False)
class League:
    seed: int
    season: int  # 20252026
    season_start: date
    days: int
    teams: tuple[Team, ...]
    players: tuple[Player, ...]
    games: tuple[Game, ...]
    trade: Trade
    skaters: SkaterGames
    goalies: GoalieGames
    goals: GoalEvents
    team_by_code: dict[str, Team] = field(repr=False)
    player_by_id: dict[int, Player] = field(repr=False)
    game_by_id: dict[int, Game] = field(repr=False)

    def games_on(self, slate_date: date) -> list[Game]:
        return [g for g in self.games if g.slate_date == slate_date]

    def games_between(self, start: datetime, end: datetime) -> list[Game]:
        """Games whose start is in (start, end]."""
        return [g for g in self.games if start < g.start_utc <= end]


def season_of(season_start: date) -> int:
    year = season_start.year if season_start.month >= 7 else season_start.year - 1
    return year * 10000 + year + 1


def build_league(seed: int = DEFAULT_SEED, season_start: date = DEFAULT_SEASON_START,
                 days: int = DEFAULT_DAYS) -> League:
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    rng = np.random.default_rng(seed)
    teams = build_teams(rng)
    trade_date = season_start + timedelta(days=TRADE_DAY if days > TRADE_DAY + 10
                                          else max(1, days // 2))
    players, skater_roster, goalie_roster, trade = build_players(rng, teams, season_start,
                                                                  trade_date)
    codes = tuple(t.code for t in teams)
    team_ix = {c: i for i, c in enumerate(codes)}
    scheduled = build_schedule(seed, season_start, days, codes)

    # Rosters per team-game, with the traded pair swapped from the trade date on.
    after = skater_roster.copy()
    a, b = (next(p.index for p in players if p.player_id == pid) for pid in trade.player_ids)
    pos_a = np.argwhere(skater_roster == a)[0]
    pos_b = np.argwhere(skater_roster == b)[0]
    after[tuple(pos_a)], after[tuple(pos_b)] = b, a
    teams_of_game = np.array([[team_ix[g.away], team_ix[g.home]] for g in scheduled])
    traded = np.array([g.slate_date >= trade.date for g in scheduled])
    roster = np.where(traded[:, None, None], after[teams_of_game], skater_roster[teams_of_game])

    played_on: dict[tuple[str, date], bool] = {(c, g.slate_date): True
                                               for g in scheduled for c in (g.away, g.home)}
    b2b = np.array([[played_on.get((c, g.slate_date - timedelta(days=1)), False)
                     for c in (g.away, g.home)] for g in scheduled])
    season = season_of(season_start)
    numbers = np.arange(1, len(scheduled) + 1)
    skaters, goalies, events = simulate(
        seed, numbers, roster, goalie_roster[teams_of_game], teams_of_game, b2b,
        skater_rate_arrays(players),
        np.array([t.offense for t in teams]), np.array([t.defense for t in teams]))

    score = skaters.goals.sum(axis=-1)
    overtime = np.zeros(len(scheduled), dtype=bool)
    overtime[events.game[events.overtime]] = True
    start_year = season // 10000
    games = tuple(
        Game(index=i, game_id=start_year * 1_000_000 + GAME_TYPE_REGULAR * 10_000 + int(n),
             season=season, slate_date=g.slate_date, start_utc=g.start_utc.astimezone(UTC),
             away=g.away, home=g.home, away_back_to_back=bool(b2b[i, 0]),
             home_back_to_back=bool(b2b[i, 1]), away_score=int(score[i, 0]),
             home_score=int(score[i, 1]), overtime=bool(overtime[i]))
        for i, (g, n) in enumerate(zip(scheduled, numbers, strict=True)))
    for arr in (*vars(skaters).values(), *vars(goalies).values(), *vars(events).values()):
        arr.flags.writeable = False
    return League(
        seed=seed, season=season, season_start=season_start, days=days, teams=teams,
        players=players, games=games, trade=trade, skaters=skaters, goalies=goalies,
        goals=events, team_by_code={t.code: t for t in teams},
        player_by_id={p.player_id: p for p in players},
        game_by_id={g.game_id: g for g in games})


__all__ = ["DEFAULT_DAYS", "DEFAULT_SEASON_START", "DEFAULT_SEED", "GAME_LENGTH", "Game",
           "GoalieRates", "League", "Player", "SkaterRates", "Team", "Trade", "build_league"]
