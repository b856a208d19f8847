"""NHL api-web: two thin fetches and pure parsers (docs/domain.md, section 3).

Why this shape: the fetches return the body exactly as received, so the caller can save it
raw first and parse it again later; the parsers are pure functions of those bytes (no clock,
no IO), so a saved payload always gives the same rows and the tests run on real samples.

Payloads
- ``GET /v1/schedule/<YYYY-MM-DD>``: ``gameWeek[] {date, games[]}``; game {id, season,
  gameType, startTimeUTC, gameState, gameScheduleState, awayTeam / homeTeam {abbrev, score?}}
  -> dim_games rows.
  ``slate_date`` is the gameWeek ``date`` (the NHL's ET date), not the UTC date of the start:
  a 22:00 ET start is already the next day in UTC.
- ``GET /v1/gamecenter/<id>/boxscore``: the same game fields (``gameDate`` is the ET date)
  and ``playerByGameStats.{awayTeam,homeTeam}.{forwards,defense,goalies}[]`` -> `Boxscore`.
  Before puck drop (FUT, PRE) api-web sends no playerByGameStats, so there are no player
  rows; in any other state a missing playerByGameStats is drift.

Drift: a body that is not a JSON object, a required key missing or of the wrong type, or a
malformed TOI raises SchemaDriftError naming the key path and the game - never a KeyError.
Every key of the documented shape is required, so a renamed ``sog`` cannot become a silent
NULL; only the scores are optional (api-web omits them before puck drop). The player game
log (``/v1/player/<id>/game-log/...``: ``shots`` not ``sog``, no blockedShots) is another
shape and is not parsed here; fed to `parse_boxscore` it raises SchemaDriftError.

Team codes are api-web's ``abbrev`` as sent: it is the canonical source, and
``teams.team_code`` would turn a historical ARI into UTA. The frames carry no
``updated_ts_utc``: that is the caller's ``as_of``, and a pure parser has no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from datetime import date, datetime
from typing import Any

import orjson
import pandas as pd

from helpers.core.clock import parse_iso_utc
from helpers.core.errors import SchemaDriftError
from helpers.core.http import FetchAttempt, VendorClient
from helpers.core.settings import Settings
from helpers.core.vendors import NHL_API

# Only these states are final; a live boxscore is never graded or used as history.
FINAL_STATES = frozenset({"OFF", "FINAL"})
# States in which api-web has no player statistics yet.
PREGAME_STATES = frozenset({"FUT", "PRE"})
# gameScheduleState, a field beside gameState: OK, PPD (postponed), SUSP (suspended), CNCL
# (cancelled), TBD. A postponed game keeps gameState FUT, so only this key says it will not
# be played as scheduled. Postponed and cancelled games are called off: not priced, their
# bets void (docs/domain.md, section 7). A suspended game was started and may resume.
CALLED_OFF_SCHEDULE_STATES = frozenset({"PPD", "CNCL"})

# Each frame's columns in the table's order (dim_* without updated_ts_utc, the caller's).
GAME_COLUMNS = ("game_id", "season", "game_type", "slate_date", "start_ts_utc", "home_team",
                "away_team", "state", "schedule_state", "home_score", "away_score")
PLAYER_COLUMNS = ("player_id", "name", "position", "team")
SKATER_COLUMNS = ("game_id", "player_id", "team", "opponent", "is_home", "position", "goals",
                  "assists", "points", "sog", "blocked_shots", "hits", "power_play_goals",
                  "toi_seconds", "shifts")
GOALIE_COLUMNS = ("game_id", "player_id", "team", "opponent", "is_home", "toi_seconds",
                  "shots_against", "saves", "goals_against", "starter")

_STR, _INT, _BOOL = "str", "Int64", "boolean"
_DTYPES: dict[str, Any] = {
    "game_id": _INT, "season": _INT, "game_type": _INT, "slate_date": object,
    "start_ts_utc": "datetime64[us]", "home_team": _STR, "away_team": _STR, "state": _STR,
    "schedule_state": _STR,
    "home_score": _INT, "away_score": _INT, "player_id": _INT, "name": _STR,
    "position": _STR, "team": _STR, "opponent": _STR, "is_home": _BOOL, "goals": _INT,
    "assists": _INT, "points": _INT, "sog": _INT, "blocked_shots": _INT, "hits": _INT,
    "power_play_goals": _INT, "toi_seconds": _INT, "shifts": _INT, "shots_against": _INT,
    "saves": _INT, "goals_against": _INT, "starter": _BOOL,
}

_TOI = re.compile(r"(\d{1,3}):([0-5]\d)")
_SIDES = (("awayTeam", False), ("homeTeam", True))
_SKATER_GROUPS = ("forwards", "defense")


@dataclass(frozen=True)
class Game:
    """One dim_games row without updated_ts_utc; fields in the table's order."""

    game_id: int
    season: int
    game_type: int
    slate_date: date
    start_ts_utc: datetime
    home_team: str
    away_team: str
    state: str
    schedule_state: str
    home_score: int | None
    away_score: int | None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_called_off(self) -> bool:
        return self.schedule_state in CALLED_OFF_SCHEDULE_STATES


@dataclass(frozen=True)
class Boxscore:
    """One parsed boxscore: the game, whether it is final, and one frame per table."""

    game: Game
    is_final: bool
    skaters: pd.DataFrame  # SKATER_COLUMNS
    goalies: pd.DataFrame  # GOALIE_COLUMNS
    players: pd.DataFrame  # PLAYER_COLUMNS, every skater and goalie, payload order


# ---- reading keys: every failure names the key path and the game --------------------------

class _Where:
    """The payload and game being read, so that a drift error says where it happened."""

    def __init__(self, kind: str, game: object = None):
        self.kind = kind
        self.game = game

    def drift(self, path: str, problem: str) -> SchemaDriftError:
        game = f"game {self.game}" if self.game is not None else "unknown game"
        return SchemaDriftError(f"NHL api-web {self.kind} drift ({game}): key {path!r} "
                                f"{problem}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _value(where: _Where, node: object, key: str, path: str) -> Any:
    if not isinstance(node, dict):
        raise where.drift(path or "<body>", f"is not an object (needed for {key!r})")
    if key not in node:
        raise where.drift(_join(path, key), "is missing")
    return node[key]


def _typed(where: _Where, node: object, key: str, path: str, kind: type,
           label: str) -> Any:
    value = _value(where, node, key, path)
    # bool is an int in Python; a JSON true is never a count, nor a count a flag.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise where.drift(_join(path, key), f"is not {label}: {value!r}")
    return value


def _int(where: _Where, node: object, key: str, path: str = "") -> int:
    return _typed(where, node, key, path, int, "an integer")


def _str(where: _Where, node: object, key: str, path: str = "") -> str:
    text = _typed(where, node, key, path, str, "text")
    if not text.strip():
        raise where.drift(_join(path, key), "is empty")
    return text


def _bool(where: _Where, node: object, key: str, path: str = "") -> bool:
    return _typed(where, node, key, path, bool, "true/false")


def _obj(where: _Where, node: object, key: str, path: str = "") -> dict:
    return _typed(where, node, key, path, dict, "an object")


def _list(where: _Where, node: object, key: str, path: str = "") -> list:
    return _typed(where, node, key, path, list, "a list")


def _optional_int(where: _Where, node: object, key: str, path: str = "") -> int | None:
    """An absent or null score is NULL (before puck drop); present, it must be an integer."""
    if isinstance(node, dict) and node.get(key) is None:
        return None
    return _int(where, node, key, path)


def _date(where: _Where, node: object, key: str, path: str = "") -> date:
    text = _str(where, node, key, path)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise where.drift(_join(path, key),
                          f"is not a YYYY-MM-DD date: {text!r}") from None


def _instant(where: _Where, node: object, key: str, path: str = "") -> datetime:
    text = _str(where, node, key, path)
    moment = parse_iso_utc(text)
    if moment is None:
        raise where.drift(_join(path, key), f"is not an ISO time: {text!r}")
    return moment


def _load(body: bytes, kind: str) -> dict:
    """The body as a JSON object; empty, truncated or non-object bodies are drift."""
    where = _Where(kind)
    if not body or not body.strip():
        raise where.drift("<body>", "is empty")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise where.drift("<body>", f"is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise where.drift("<body>", f"is not a JSON object but {type(payload).__name__}")
    return payload


# ---- pure conversions ---------------------------------------------------------------------

def toi_seconds(text: str) -> int:
    """'MM:SS' -> seconds. Minutes can exceed 59 (a goalie's '65:00' in overtime), and
    '00:00' (a dressed backup who never played) is 0. Anything else raises ValueError: a TOI
    is never guessed."""
    match = _TOI.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a MM:SS time: {text!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def _toi(where: _Where, node: object, path: str) -> int:
    value = _value(where, node, "toi", path)
    try:
        return toi_seconds(value)
    except ValueError:
        raise where.drift(f"{path}.toi", f"is not a MM:SS time: {value!r}") from None


def frame(rows: Iterable[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows (tuples in `columns` order) as a frame with the stats tables' dtypes; an empty
    input still has every column, so callers never special-case "no games"."""
    data = list(zip(*rows, strict=True)) or [()] * len(columns)
    return pd.DataFrame({name: pd.Series(list(values), dtype=_DTYPES[name])
                         for name, values in zip(columns, data, strict=True)})


def called_off(schedule_states: pd.Series) -> pd.Series:
    """Per game: postponed or cancelled (not to be played as scheduled)."""
    return schedule_states.isin(CALLED_OFF_SCHEDULE_STATES)


_CALLED_OFF_WORDS = {"PPD": "postponed", "CNCL": "cancelled"}


def called_off_note(games: pd.DataFrame) -> str | None:
    """'1 game postponed: not priced (BOS @ CAR)' for the games api-web calls postponed or
    cancelled, None when there are none: a step says what it left out, never drops it
    silently."""
    off = games[called_off(games["schedule_state"])]
    if off.empty:
        return None
    words = " or ".join(sorted({_CALLED_OFF_WORDS[s] for s in off["schedule_state"]},
                               reverse=True))
    teams = ", ".join(f"{g.away_team} @ {g.home_team}" for g in off.itertuples())
    return f"{len(off)} game{'s' if len(off) > 1 else ''} {words}: not priced ({teams})"


def games_frame(games: Iterable[Game]) -> pd.DataFrame:
    """dim_games rows (without updated_ts_utc) for parsed games."""
    return frame((astuple(g) for g in games), GAME_COLUMNS)


def _game(where: _Where, node: object, path: str, slate_date: date | None = None) -> Game:
    """The dim_games fields of a schedule game or a boxscore (which carries gameDate)."""
    teams = {side: _obj(where, node, side, path) for side, _ in _SIDES}
    home, away = _join(path, "homeTeam"), _join(path, "awayTeam")
    return Game(
        game_id=_int(where, node, "id", path),
        season=_int(where, node, "season", path),
        game_type=_int(where, node, "gameType", path),
        slate_date=slate_date or _date(where, node, "gameDate", path),
        start_ts_utc=_instant(where, node, "startTimeUTC", path),
        home_team=_str(where, teams["homeTeam"], "abbrev", home),
        away_team=_str(where, teams["awayTeam"], "abbrev", away),
        state=_str(where, node, "gameState", path),
        schedule_state=_str(where, node, "gameScheduleState", path),
        home_score=_optional_int(where, teams["homeTeam"], "score", home),
        away_score=_optional_int(where, teams["awayTeam"], "score", away),
    )


# ---- schedule -----------------------------------------------------------------------------

def parse_schedule(body: bytes) -> pd.DataFrame:
    """`/v1/schedule/<date>` -> one dim_games row (GAME_COLUMNS) per game of the week, in
    payload order. Every game type is kept (preseason is gameType 1): choosing is the
    caller's, and a preseason game must stay recognisable, not be dropped silently."""
    payload = _load(body, "schedule")
    where = _Where("schedule")
    games = []
    for i, day in enumerate(_list(where, payload, "gameWeek")):
        day_path = f"gameWeek[{i}]"
        slate_date = _date(where, day, "date", day_path)
        for j, node in enumerate(_list(where, day, "games", day_path)):
            game_path = f"{day_path}.games[{j}]"
            game_where = _Where("schedule", node.get("id") if isinstance(node, dict) else None)
            games.append(_game(game_where, node, game_path, slate_date))
    return games_frame(games)


# ---- boxscore -----------------------------------------------------------------------------

def _skater_row(where: _Where, node: object, path: str, game: Game, team: str, opponent: str,
                is_home: bool) -> tuple:
    return (game.game_id, _int(where, node, "playerId", path), team, opponent, is_home,
            _str(where, node, "position", path), _int(where, node, "goals", path),
            _int(where, node, "assists", path), _int(where, node, "points", path),
            _int(where, node, "sog", path), _int(where, node, "blockedShots", path),
            _int(where, node, "hits", path), _int(where, node, "powerPlayGoals", path),
            _toi(where, node, path), _int(where, node, "shifts", path))


def _goalie_row(where: _Where, node: object, path: str, game: Game, team: str, opponent: str,
                is_home: bool) -> tuple:
    return (game.game_id, _int(where, node, "playerId", path), team, opponent, is_home,
            _toi(where, node, path),
            _int(where, node, "shotsAgainst", path), _int(where, node, "saves", path),
            _int(where, node, "goalsAgainst", path), _bool(where, node, "starter", path))


def _player_row(where: _Where, node: object, path: str, team: str) -> tuple:
    name = _obj(where, node, "name", path)
    return (_int(where, node, "playerId", path), _str(where, name, "default", f"{path}.name"),
            _str(where, node, "position", path), team)


_RowBuilder = Callable[[_Where, object, str, Game, str, str, bool], tuple]
_GROUPS: tuple[tuple[str, _RowBuilder], ...] = (
    ("forwards", _skater_row), ("defense", _skater_row), ("goalies", _goalie_row))


def _side_rows(where: _Where, stats: dict, game: Game, side: str, is_home: bool,
               out: dict[str, list[tuple]]) -> None:
    """Append one team's skater, goalie and player rows to `out`, in payload order."""
    team, opponent = (game.home_team, game.away_team) if is_home else \
        (game.away_team, game.home_team)
    side_path = f"playerByGameStats.{side}"
    node = _obj(where, stats, side, "playerByGameStats")
    for group, build in _GROUPS:
        rows = out["goalies" if group == "goalies" else "skaters"]
        for k, player in enumerate(_list(where, node, group, side_path)):
            path = f"{side_path}.{group}[{k}]"
            rows.append(build(where, player, path, game, team, opponent, is_home))
            out["players"].append(_player_row(where, player, path, team))


def parse_boxscore(body: bytes) -> Boxscore:
    """`/v1/gamecenter/<id>/boxscore` -> the game, is_final (OFF / FINAL only) and the
    skater, goalie and player frames. A pre-game boxscore (FUT, PRE) without
    playerByGameStats has empty frames; in any other state that key is required."""
    payload = _load(body, "boxscore")
    where = _Where("boxscore", payload.get("id"))
    game = _game(where, payload, "")
    out: dict[str, list[tuple]] = {"skaters": [], "goalies": [], "players": []}
    if not (game.state in PREGAME_STATES and "playerByGameStats" not in payload):
        stats = _obj(where, payload, "playerByGameStats")
        for side, is_home in _SIDES:
            _side_rows(where, stats, game, side, is_home, out)
    return Boxscore(game=game, is_final=game.is_final,
                    skaters=frame(out["skaters"], SKATER_COLUMNS),
                    goalies=frame(out["goalies"], GOALIE_COLUMNS),
                    players=frame(out["players"], PLAYER_COLUMNS))


# ---- the client ---------------------------------------------------------------------------

def open_client(settings: Settings, run_id: str | None = None,
                on_attempt: Callable[[FetchAttempt], None] | None = None) -> VendorClient:
    """The api-web client: the house VendorClient, so timeouts, retries, forced failures and
    the fetch log (`on_attempt`, `client.attempts`) apply as for every odds vendor."""
    return VendorClient(settings, NHL_API, run_id, on_attempt=on_attempt)


def fetch_schedule(client: VendorClient, day: date) -> bytes:
    """`GET /v1/schedule/<YYYY-MM-DD>`: the week from `day`, the body exactly as received
    (the caller saves it raw before parsing)."""
    return client.get("schedule", f"/v1/schedule/{day.isoformat()}")


def fetch_boxscore(client: VendorClient, game_id: int) -> bytes:
    """`GET /v1/gamecenter/<id>/boxscore`, the body exactly as received."""
    if isinstance(game_id, bool) or not isinstance(game_id, int):
        raise TypeError(f"game_id must be an int, got {game_id!r}")
    return client.get("boxscore", f"/v1/gamecenter/{game_id}/boxscore")
