"""Vendor events -> NHL game_id (the event half of the identity map; players come next).

A vendor event is matched on its two teams, in either orientation (vendors disagree on who
is home), to an NHL game whose ET slate date is within a day of the event's ET start date
(vendors stamp times loosely; an evening game crosses midnight UTC). Team names and codes
are normalised with `core.teams.team_code`. Exactly one candidate maps; none or several
stay unmapped with their reason, never a guess. Pure: frames in, a frame out, written to
`map_events` by the caller.
"""

from __future__ import annotations

import pandas as pd

from helpers.core.clock import ET
from helpers.core.teams import team_code

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
