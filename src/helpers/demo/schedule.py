"""The season schedule: several games a day, each team about every second day, some
back-to-backs, evening ET start times converted to UTC with daylight saving.

Built day by day from counter-based draws, so the first N days are the same whatever the
total number of days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from helpers.demo import rand

EASTERN = ZoneInfo("America/New_York")

# Home venue time zone per team: decides the local evening start (in ET).
VENUE_TZ: dict[str, str] = {
    **dict.fromkeys(("BOS", "BUF", "CAR", "FLA", "NJD", "NYI", "NYR", "PHI", "PIT", "TBL",
                     "WSH", "CBJ"), "America/New_York"),
    "DET": "America/Detroit", "MTL": "America/Montreal", "OTT": "America/Toronto",
    "TOR": "America/Toronto",
    **dict.fromkeys(("CHI", "DAL", "MIN", "NSH", "STL"), "America/Chicago"),
    "WPG": "America/Winnipeg",
    "COL": "America/Denver", "UTA": "America/Denver",
    "CGY": "America/Edmonton", "EDM": "America/Edmonton",
    **dict.fromkeys(("ANA", "LAK", "SJS", "SEA", "VGK"), "America/Los_Angeles"),
    "VAN": "America/Vancouver",
}

# ET start times offered by the home team's zone (the evening slots of docs/architecture.md).
_SLOTS_BY_ZONE: dict[str, tuple[time, ...]] = {
    "east": (time(19, 0), time(19, 0), time(19, 30)),
    "central": (time(20, 0), time(20, 0), time(19, 30)),
    "mountain": (time(21, 0),),
    "pacific": (time(22, 0), time(22, 0), time(22, 30)),
}
_ZONE_OF_TZ = {
    "America/New_York": "east", "America/Detroit": "east", "America/Montreal": "east",
    "America/Toronto": "east", "America/Chicago": "central", "America/Winnipeg": "central",
    "America/Denver": "mountain", "America/Edmonton": "mountain",
    "America/Los_Angeles": "pacific", "America/Vancouver": "pacific",
}

# Typical games per weekday (Mon..Sun): busy Tue/Thu/Sat, light Mon/Wed/Fri/Sun.
_GAMES_BY_WEEKDAY = (5, 9, 5, 10, 6, 12, 6)

# CAR and NYI (the two Sebastian Ahos) meet on these day offsets, so the same-name hazard
# appears in a single game early in any window.
RIVALRY = ("CAR", "NYI")
_RIVALRY_EVERY_DAYS = 20


@dataclass(frozen=True)
class ScheduledGame:
    slate_date: date  # the NHL gameDate (ET)
    start_utc: datetime  # aware, UTC
    away: str
    home: str


def start_time_utc(slate_date: date, et_time: time) -> datetime:
    return datetime.combine(slate_date, et_time, tzinfo=EASTERN).astimezone(UTC)


def build_schedule(seed: int, season_start: date, days: int,
                   teams: tuple[str, ...]) -> list[ScheduledGame]:
    n_teams = len(teams)
    last_played = np.full(n_teams, -3)  # day index of each team's last game
    home_games = np.zeros(n_teams, dtype=int)
    idx = np.arange(n_teams)
    rivals = [teams.index(code) for code in RIVALRY]
    games: list[ScheduledGame] = []
    for day in range(days):
        slate = season_start + timedelta(days=day)
        jitter = int(np.floor(rand.uniform(seed, "games_per_day", day)[0] * 3)) - 1
        n_games = int(np.clip(_GAMES_BY_WEEKDAY[slate.weekday()] + jitter, 4, 13))
        rest = np.minimum(day - last_played, 4).astype(float)
        priority = rest + 1.5 * rand.uniform(seed, "priority", day, idx)
        priority[rest == 1] -= 2.5  # a back-to-back only when the slate needs the team
        forced: list[int] = []
        if day % _RIVALRY_EVERY_DAYS == 1:
            forced = rivals
            priority[rivals] = np.inf
        chosen = idx[np.argsort(-priority, kind="stable")][: 2 * n_games]
        # Pair the chosen teams in a seeded order; the forced pair plays each other.
        others = [t for t in chosen if t not in forced]
        order = np.argsort(rand.uniform(seed, "pairing", day, np.array(others)), kind="stable")
        others = [others[i] for i in order]
        pairs = ([tuple(forced)] if forced else []) + [
            (others[i], others[i + 1]) for i in range(0, len(others) - 1, 2)]
        for a, b in pairs:
            if home_games[a] != home_games[b]:
                home, away = (a, b) if home_games[a] < home_games[b] else (b, a)
            else:
                flip = rand.uniform(seed, "home", day, a, b)[0] < 0.5
                home, away = (a, b) if flip else (b, a)
            home_games[home] += 1
            last_played[[home, away]] = day
            zone = _ZONE_OF_TZ[VENUE_TZ[teams[home]]]
            slots = _SLOTS_BY_ZONE[zone]
            pick = int(rand.uniform(seed, "slot", day, home)[0] * len(slots))
            games.append(ScheduledGame(slate, start_time_utc(slate, slots[pick]),
                                       teams[away], teams[home]))
    games.sort(key=lambda g: (g.start_utc, g.home))
    return games
