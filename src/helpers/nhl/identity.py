"""Vendor events -> NHL game_id (`map_events`) and vendor players -> NHL player_id
(`map_players`, documented on the function).

A vendor event is matched on its two teams, in either orientation (vendors disagree on who
is home), to an NHL game whose ET slate date is within a day of the event's ET start date
(vendors stamp times loosely; an evening game crosses midnight UTC). Team names and codes
are normalised with `core.teams.team_code`. Exactly one candidate maps; none or several
stay unmapped with their reason, never a guess. Pure: frames in, a frame out, written to
`map_events` by the caller.
"""

from __future__ import annotations

import re

import pandas as pd

from helpers.core.clock import ET
from helpers.core.teams import _fold, team_code

DATE_WINDOW_DAYS = 1
EVENT_MAP_COLUMNS = ("source_vendor", "event_id_vendor", "game_id", "method", "confidence",
                     "reason")
# Reasons an event stays unmapped.
NO_TEAMS, NO_GAME, AMBIGUOUS = "no_teams", "no_game", "ambiguous"


def _et_date(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.tz_localize("UTC").dt.tz_convert(ET).dt.date


def _code(text: object) -> str | None:
    return team_code(text) if isinstance(text, str) else None


def map_events(events: pd.DataFrame, games: pd.DataFrame) -> pd.DataFrame:
    """`events`: source_vendor, event_id_vendor, home_team, away_team, event_start_ts_utc
    (naive UTC), one row per vendor event. `games`: game_id, slate_date, home_team,
    away_team. Returns one row per event with EVENT_MAP_COLUMNS: game_id and method
    ('teams_date') with confidence 1.0 (same orientation, same date) or 0.9 (swapped or a
    day off), else game_id NULL and the reason."""
    out = events[["source_vendor", "event_id_vendor"]].copy()
    home = events["home_team"].map(_code)
    away = events["away_team"].map(_code)
    day = _et_date(events["event_start_ts_utc"])
    by_pair: dict[frozenset, list[tuple[int, object, str]]] = {}
    for g in games.itertuples(index=False):
        by_pair.setdefault(frozenset((g.home_team, g.away_team)), []).append(
            (int(g.game_id), g.slate_date, g.home_team))
    game_ids, methods, confidences, reasons = [], [], [], []
    for h, a, d in zip(home, away, day, strict=True):
        game_id, confidence, reason = None, None, None
        if pd.isna(h) or pd.isna(a) or h == a or pd.isna(d):
            reason = NO_TEAMS
        else:
            near = [(gid, gday, ghome) for gid, gday, ghome in by_pair.get(frozenset((h, a)), [])
                    if abs((gday - d).days) <= DATE_WINDOW_DAYS]
            if not near:
                reason = NO_GAME
            elif len(near) > 1:
                exact = [n for n in near if n[1] == d]
                near = exact if len(exact) == 1 else near
                reason = None if len(near) == 1 else AMBIGUOUS
            if reason is None:
                gid, gday, ghome = near[0]
                game_id = gid
                confidence = 1.0 if (ghome == h and gday == d) else 0.9
        game_ids.append(game_id)
        methods.append("teams_date" if game_id is not None else "unmapped")
        confidences.append(confidence)
        reasons.append(reason)
    out["game_id"] = pd.array(game_ids, dtype="Int64")
    out["method"] = methods
    out["confidence"] = confidences
    out["reason"] = reasons
    return out.reset_index(drop=True)[list(EVENT_MAP_COLUMNS)]


# ---- players: vendor players -> NHL player_id (see `map_players`) ---------------------------

PLAYER_MAP_COLUMNS = ("source_vendor", "player_key_vendor", "player_id", "method", "confidence",
                      "reason")
# Reasons a vendor player stays unmapped (NO_GAME and AMBIGUOUS as for events).
NO_SUCH_PLAYER, TEAM_MISMATCH = "no_such_player", "team_mismatch"
# Methods, best first, and the confidence of a unique match by each. VENDOR_ID: the vendor's
# own stable person id (Unabated personId) seen mapped before, in `known`.
VENDOR_ID, EXACT_NAME, ALIAS_NAME, INITIAL_NAME, UNMAPPED = (
    "vendor_id", "exact_name", "alias_name", "initial_name", "unmapped")
METHOD_CONFIDENCE = {VENDOR_ID: 1.0, EXACT_NAME: 1.0, ALIAS_NAME: 0.95, INITIAL_NAME: 0.9}

# Given-name spellings treated as the same person (folded, lowercase). Every group shares its
# first letter, so a boxscore initial ("M. Beckett") never contradicts an alias.
NAME_ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("alexander", "alex", "aleksander", "alexandre", "aleksandr", "alexandr"),
    ("matthew", "matt", "mathew", "matty"),
    ("michael", "mike", "mikhail"),
    ("nicholas", "nick", "nicolas", "nikolas", "nico"),
    ("joshua", "josh"),
    ("zachary", "zach", "zack", "zackary", "zachery"),
    ("jacob", "jake", "jakob"),
    ("william", "will", "willie"),
    ("christopher", "chris"),
    ("daniel", "dan", "danny", "daniil"),
    ("thomas", "tom", "tommy"),
    ("anthony", "tony"),
    ("samuel", "sam"),
    ("benjamin", "ben"),
    ("joseph", "joe"),
    ("jonathan", "jon"),
    ("nathan", "nate"),
    ("mitchell", "mitch"),
    ("maxim", "max", "maxime", "maksim"),
    ("arseny", "arseni", "arseniy"),
    ("artemi", "artemy", "artem", "artyom"),
    ("dmitri", "dmitry", "dmitrii"),
    ("evgeni", "evgeny", "evgenii"),
    ("yegor", "egor"),
    ("semyon", "semen"),
    ("vladislav", "vlad"),
)
_ALIAS_OF = {name: group[0] for group in NAME_ALIAS_GROUPS for name in group}

_TEAM_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\((?P<team>[^()]*)\)\s*$")
_INITIAL_FORM = re.compile(r"^\s*(?P<initial>[^\W\d_])\.\s*(?P<last>\S.*)$")
_MOJIBAKE_MARKS = ("Ã", "Â", "Ä", "Å")


def _repair_mojibake(text: str) -> str:
    """'JÃ©rÃ©my' (UTF-8 bytes read as Latin-1/cp1252) -> 'Jérémy'; anything that does not
    round-trip cleanly (a genuine 'Åberg') is returned unchanged."""
    if not any(mark in text for mark in _MOJIBAKE_MARKS):
        return text
    for codec in ("latin-1", "cp1252"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def fold_name(text: str) -> str:
    """Accent- and case-folded name tokens joined by one space: 'Tomáš Hertl' -> 'tomas
    hertl', "O'Brien" -> 'o brien', 'Ekman-Larsson' -> 'ekman larsson' (core.teams._fold)."""
    return _fold(_repair_mojibake(text))


def split_team_hint(name: str) -> tuple[str, str | None]:
    """'Sebastian Aho (CAR)' -> ('Sebastian Aho', 'CAR'); an unknown suffix stays in the name."""
    m = _TEAM_SUFFIX.match(name)
    if m:
        code = team_code(m.group("team").strip())
        if code is not None and m.group("name").strip():
            return m.group("name").strip(), code
    return name.strip(), None


def _alias_key(tokens: list[str]) -> str:
    return " ".join([_ALIAS_OF.get(tokens[0], tokens[0]), *tokens[1:]])


class _RosterIndex:
    """Name keys -> candidates (player_id, team). A player with a full name in the roster
    matches by full name (exact or alias) only; a player known only by a boxscore name
    ('S. Aho') matches on initial + last name, and only when the full name belongs to no
    one known by it."""

    def __init__(self, roster: pd.DataFrame):
        self.exact: dict[str, set[tuple[int, str | None]]] = {}
        self.alias: dict[str, set[tuple[int, str | None]]] = {}
        self.initial: dict[str, set[tuple[str, int, str | None]]] = {}
        rows = [(int(r.player_id), str(r.name), r.team if isinstance(r.team, str) else None)
                for r in roster[["player_id", "name", "team"]].itertuples(index=False)
                if isinstance(r.name, str) and not pd.isna(r.player_id)]
        full_known = set()
        for pid, name, team in rows:
            if _INITIAL_FORM.match(name) is None:
                tokens = fold_name(name).split()
                if len(tokens) >= 2:
                    full_known.add(pid)
                    self.exact.setdefault(" ".join(tokens), set()).add((pid, team))
                    self.alias.setdefault(_alias_key(tokens), set()).add((pid, team))
        for pid, name, team in rows:
            m = _INITIAL_FORM.match(name)
            if m is not None and pid not in full_known:
                initial = fold_name(m.group("initial"))
                last = fold_name(m.group("last"))
                if initial and last:
                    self.initial.setdefault(last, set()).add((initial[0], pid, team))

    def candidates(self, name: str) -> dict[tuple[int, str | None], str]:
        """(player_id, team) -> the best method that found it."""
        tokens = fold_name(name).split()
        found: dict[tuple[int, str | None], str] = {}
        if len(tokens) < 2:
            return found
        for cand in self.exact.get(" ".join(tokens), ()):
            found.setdefault(cand, EXACT_NAME)
        for cand in self.alias.get(_alias_key(tokens), ()):
            found.setdefault(cand, ALIAS_NAME)
        if found:
            # The full name is known, and it is theirs: a namesake known only as 'F. Last'
            # is someone else (the day after a trade, 'Andrei Morozov' must not fall to
            # 'A. Morozov' of his new team, Artemi, while the warehouse has Andrei on his
            # old one). A second player of that full name is found once a vendor has
            # named him by it.
            return found
        for i in range(1, len(tokens)):  # any split: middle names, 'Pierre-Luc' dropped
            for initial, pid, team in self.initial.get(" ".join(tokens[i:]), ()):
                if tokens[0][0] == initial:
                    found.setdefault((pid, team), INITIAL_NAME)
        return found


def _vendor_id(row: object) -> str | None:
    """The row's stable vendor person id (Unabated personId), or None."""
    vid = getattr(row, "player_id_vendor", None)
    if vid is None or (not isinstance(vid, str) and pd.isna(vid)):
        return None
    return str(vid)


def _trusted_known(known: pd.DataFrame | None) -> dict[tuple[str, str], int]:
    """(source_vendor, player_key_vendor) -> player_id of the mapped `known` rows (several
    rows of one key, e.g. one per event, must agree), without any player_id that two keys of
    one vendor point at (one of them is a wrong map, and following both would merge two
    vendor players)."""
    if known is None or known.empty:
        return {}
    rows = known.loc[known["player_id"].notna(), ["source_vendor", "player_key_vendor",
                                                  "player_id"]]
    ids_of: dict[tuple[str, str], set[int]] = {}
    for v, k, p in rows.itertuples(index=False):
        ids_of.setdefault((str(v), str(k)), set()).add(int(p))
    keys_of: dict[tuple[str, int], int] = {}
    for (vendor, _), pids in ids_of.items():
        for pid in pids:
            keys_of[(vendor, pid)] = keys_of.get((vendor, pid), 0) + 1
    return {key: pid for key, (pid, *more) in ((k, sorted(p)) for k, p in ids_of.items())
            if not more and keys_of[(key[0], pid)] == 1}


def map_players(vendor_players: pd.DataFrame, roster: pd.DataFrame, event_map: pd.DataFrame,
                games: pd.DataFrame, *, known: pd.DataFrame | None = None) -> pd.DataFrame:
    """Vendor players -> NHL player_id. Pure: frames in, one output row per input row (same
    order) with PLAYER_MAP_COLUMNS.

    - `vendor_players`: source_vendor, player_key_vendor, player_name_raw, player_team (code
      or NULL), player_id_vendor (the vendor's own person id, e.g. Unabated personId - not an
      NHL id - or NULL), event_id_vendor. The caller keys a row by its player_id_vendor when
      it has one, else by `name|team`; a key without a team that occurs in two games should
      be given one row per event.
    - `roster`: player_id, name, team — one row per (player, name variant). `name` is a full
      name ('Sebastian Aho') or a boxscore name ('S. Aho', as in dim_players); `team` is the
      player's team at the game date (the team of his latest game before the slate).
    - `event_map`: the output of `map_events` (source_vendor, event_id_vendor, game_id).
    - `games`: game_id, home_team, away_team (e.g. dim_games or parse_schedule).
    - `known` (optional): source_vendor, player_key_vendor, player_id — `map_players` rows
      mapped earlier (other rows are ignored). Only rows with a player_id_vendor (keyed by
      it) are looked up in it: a name is not an identity, so a `name|team` key never is.

    Rules: names are mojibake-repaired, accent-folded and case-insensitive; the team hint is
    `player_team` or else a known "(TEAM)" suffix of the name. Candidates by full name
    (`exact_name` 1.0, or `alias_name` 0.95 through NAME_ALIAS_GROUPS on the first name), or
    for players known only as 'F. Last' by initial + last name (`initial_name` 0.9). The
    candidates are kept to the game's two teams (none left: `team_mismatch`), then to the
    hinted team (a hint outside the game or matching no candidate: `team_mismatch`). One
    player left maps; several stay unmapped as `ambiguous` (same-named players are never
    merged); no name match at all is `no_such_player`; an event without a game `no_game`.

    Vendor ids first: a row keyed by its vendor id that `known` maps to player P maps to P
    (`vendor_id` 1.0) when P passes the same team rules as a name candidate (on the roster,
    his roster team one of the game's teams and equal to the hint if any) and the name does
    not contradict it (the name matches nobody, or matches P). Two namesakes of one team in
    the game stay `ambiguous` even then: on the day the id was first mapped only the roster
    team could tell them apart, and the first day after a trade that team is stale. A P
    failing the team rules is not used and the name rules decide, except that they never map
    the row to a namesake of P (`team_mismatch`: P, whom the vendor id names, is not in this
    game) - the first day after a trade the roster still has P on his old team while his
    namesake plays for the new one. A key whose `known` rows disagree, or a P that two keys
    of one vendor point at in `known`, is not trusted.

    Finally, two different vendor players of one vendor and game (another vendor id, or
    another folded name) never map to the same NHL player: all such rows stay `ambiguous`.
    """
    game_of = {(v, str(e)): int(g) for v, e, g in
               event_map[["source_vendor", "event_id_vendor", "game_id"]].itertuples(index=False)
               if not pd.isna(g)}
    teams_of = {int(g.game_id): {g.home_team, g.away_team}
                for g in games[["game_id", "home_team", "away_team"]].itertuples(index=False)}
    index = _RosterIndex(roster)
    team_of_player: dict[int, set[str | None]] = {}
    for r in roster[["player_id", "team"]].itertuples(index=False):
        if not pd.isna(r.player_id):
            team_of_player.setdefault(int(r.player_id), set()).add(
                r.team if isinstance(r.team, str) else None)
    trusted = _trusted_known(known)
    player_ids, methods, confidences, reasons = [], [], [], []
    who: list[tuple[str, int | None, str]] = []  # (vendor, game, vendor identity) per row
    for row in vendor_players.itertuples(index=False):
        pid, method, reason = None, UNMAPPED, None
        game_id = game_of.get((row.source_vendor, str(row.event_id_vendor)))
        raw = row.player_name_raw if isinstance(row.player_name_raw, str) else ""
        name, suffix_team = split_team_hint(raw)
        hint = _code(row.player_team) or suffix_team
        game_teams = teams_of.get(game_id) if game_id is not None else None
        vid = _vendor_id(row)
        tokens = fold_name(name).split()
        who.append((str(row.source_vendor), game_id,
                    f"id:{vid}" if vid is not None
                    else "name:" + (_alias_key(tokens) if tokens else "")))
        known_pid = (trusted.get((str(row.source_vendor), str(row.player_key_vendor)))
                     if vid is not None else None)
        if game_teams is None:
            reason = NO_GAME
        else:
            found = index.candidates(name)
            in_game = {c: m for c, m in found.items() if c[1] in game_teams}
            if hint is not None:
                in_game = {c: m for c, m in in_game.items() if c[1] == hint}
            ids = {c[0] for c in in_game}
            named = known_pid is not None and any(c[0] == known_pid for c in found)
            known_team_ok = known_pid is not None and any(
                team in game_teams and hint in (None, team)
                for team in team_of_player.get(known_pid, ()))
            if known_team_ok and (not found or named):
                known_teams = {c[1] for c in in_game if c[0] == known_pid}
                namesake_teammate = any(c[0] != known_pid and c[1] in known_teams
                                        for c in in_game)
                if namesake_teammate:
                    reason = AMBIGUOUS
                else:
                    pid, method = known_pid, VENDOR_ID
            elif not found:
                reason = NO_SUCH_PLAYER
            elif not ids:
                reason = TEAM_MISMATCH
            elif len(ids) > 1:
                reason = AMBIGUOUS
            elif named and not known_team_ok:
                reason = TEAM_MISMATCH  # the vendor id names a namesake outside this game
            else:
                pid = ids.pop()
                method = max(in_game.values(), key=METHOD_CONFIDENCE.__getitem__)
        player_ids.append(pid)
        methods.append(method)
        confidences.append(METHOD_CONFIDENCE.get(method))
        reasons.append(reason)
    # Never merge: one NHL player claimed by two vendor players of one vendor in one game.
    claimed: dict[tuple[str, int | None, int], set[str]] = {}
    for (vendor, game_id, identity), pid in zip(who, player_ids, strict=True):
        if pid is not None:
            claimed.setdefault((vendor, game_id, pid), set()).add(identity)
    for i, ((vendor, game_id, _), pid) in enumerate(zip(who, player_ids, strict=True)):
        if pid is not None and len(claimed[(vendor, game_id, pid)]) > 1:
            player_ids[i], methods[i], confidences[i], reasons[i] = (None, UNMAPPED, None,
                                                                     AMBIGUOUS)
    out = vendor_players[["source_vendor", "player_key_vendor"]].copy().reset_index(drop=True)
    out["player_id"] = pd.array(player_ids, dtype="Int64")
    out["method"] = methods
    out["confidence"] = pd.array(confidences, dtype="Float64").astype(float)
    out["reason"] = reasons
    return out[list(PLAYER_MAP_COLUMNS)]
