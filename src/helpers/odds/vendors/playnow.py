"""PlayNow (BCLC) content-service: fetch (network, at the end of the module) and a pure parser (docs/domain.md).

Payloads: ``event_list`` (``/event-list``: choose events with :func:`select_event_ids`) and
``events_by_ids`` (``/events-by-ids``: the priced one, parsed by :func:`parse`). Shape:
``data.events[]`` {id, name "Away Team at Home Team" (or " @ "), startTime ISO UTC, markets[]};
market {id, name, handicapValue, outcomes[]}; outcome {id, name, prices[] {decimal, ...}}.

Market names (the player is inside the name)
- "<Player> Total Points|Assists|Shots On Goal|Shots on Goal|Blocks|Blocked Shots|Goals [line]"
  -> POINTS / ASSISTS / SOG (any casing) / BLOCKS / GOALS.
  Outcome "Over"/"Under" -> side, line = market handicapValue (else the outcome's
  handicapValue, else the number at the end of the market name; none -> ``missing_line``).
  Outcome "N+" is a ladder rung: OVER with line N - 0.5.
- "Player 1+ Goals": one outcome per player (the outcome name), GOALS OVER 0.5, one-sided.
- Ignored (``ignored_market``): "Player N+ Goals" with N >= 2, first / last goalscorer markets
  (incl. "1st Period LastGoalscorer"), "Total Powerplay Points", goalie "Total Saves",
  "<Team> Total ..." team markets and game / outright markets ("Money Line", "Puck Line",
  "Total Goals 6.5", "... Winner"). Any other name -> ``unknown_market``.
- Unknown outcome name in a Total market -> ``unknown_side``; missing / non-numeric / <= 1
  decimal -> ``bad_price`` (the first entry of ``prices`` is used).

Player names: "Sebastian Aho (CAR)" -> player_name_raw "Sebastian Aho", player_team "CAR"
when the parenthesised code is a team ``teams.team_code`` knows; an unknown suffix keeps the
whole text as the name and team NULL (not a rejection) — see ``parsing.split_player_team``.
No player ids: player_id_vendor is NULL.

Odds: quoted DECIMAL (odds_quoted_raw = the decimal as it appears in the JSON: a string is kept
verbatim, a number is written with repr, e.g. 2.5 -> "2.5"), American derived per DOMAIN
(1.04 -> -2500; always |A| >= 100).

vendor_outcome_key: "ou:<outcome id>" (Over/Under), "ladder:<outcome id>" (N+ rung),
"anytime:<outcome id>" (Player 1+ Goals); a missing outcome id falls back to
"m<market id>/<outcome name>". A ladder "3+" and an O/U 2.5 of the same player are therefore
different outcome keys (different products). A repeated key is ``duplicate_outcome``.
Event: event_id_vendor = event_id_vendor_raw = str(event id); home/away from the event name via
teams.team_code; unresolvable -> ``unknown_team``, and a missing id or unparseable startTime ->
``missing_event``, for every outcome of the event's in-scope (player) markets — its ignored /
unknown markets keep those reasons, so an outright event ("NHL 2025/26 - Stanley Cup Winner")
is ignored, not an error, while a renamed game format ("A v B") is counted as unknown_team. is_live: true only when the event carries a truthy
``liveNow`` / ``isLive`` / ``inPlay`` / ``live`` flag (none is documented; the EV gates also
compare the start time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np

from helpers.core.clock import parse_iso_utc
from helpers.core.teams import team_code
from helpers.odds.vendors.base import Fetched, RawPayload, classify_book
from helpers.odds.vendors.parsing import (
    MAX_DECIMAL,
    Event,
    EventOrRejection,
    ParseResult,
    Rejection,
    Tally,
    as_line,
    datetime_to_us,
    drift,
    gc_paused,
    load_json,
    odds_frame,
    split_player_team,
)

PARSER_VERSION = "playnow-1"
VENDOR = "PLAYNOW"
BOOK_ID = "playnow"
BOOK_NAME = "PlayNow"
EVENT_LIST_KIND = "event_list"

# stat words after "Total" (case-folded, single spaces) -> market; None = known, out of scope
STAT_MARKETS: dict[str, str | None] = {
    "points": "POINTS",
    "assists": "ASSISTS",
    "shots on goal": "SOG",
    "blocks": "BLOCKS",
    "blocked shots": "BLOCKS",
    "goals": "GOALS",
    "powerplay points": None,
    "power play points": None,
    "saves": None,
    "goalie saves": None,
}

_TOTAL_RE = re.compile(
    r"^(?P<player>.+?)\s+total\s+(?P<stat>[a-z][a-z ]*?)(?:\s+(?P<line>\d+(?:\.\d+)?))?\s*$",
    re.IGNORECASE,
)
_PLAYER_N_GOALS_RE = re.compile(r"^player\s+(?P<n>\d+)\s*\+\s*goals?$", re.IGNORECASE)
_SCORER_RE = re.compile(r"(first|last)\s*goal\s*scorer", re.IGNORECASE)
# Game-level and outright markets (no player): known, out of scope.
_GAME_MARKET_RE = re.compile(
    r"^(money\s*line|puck\s*line|total\s+goals(\s+\d+(\.\d+)?)?|.*\bwinner)$", re.IGNORECASE)
_LADDER_RE = re.compile(r"^(?P<n>\d+)\s*\+$")
_OU_RE = re.compile(r"^(?P<side>over|under)(?:\s+(?P<line>\d+(?:\.\d+)?))?$", re.IGNORECASE)
_EVENT_SPLIT_RE = re.compile(r"\s+(?:at|@)\s+", re.IGNORECASE)
_LIVE_FLAGS = ("liveNow", "isLive", "inPlay", "live")
# The parse's per-row column lists (mapped onto the canonical columns by _odds_rows).
_COLUMNS = ("event_id", "event_name", "start", "home", "away", "player", "team", "market", "line",
            "side", "decimal", "quoted", "live", "market_id", "key")


def _events(doc: Any) -> list:
    if not isinstance(doc, dict):
        raise drift(VENDOR, f"top level is {type(doc).__name__}, expected an object")
    if "data" not in doc:
        raise drift(VENDOR, f"missing top-level key 'data'; have {sorted(doc)[:20]}")
    data = doc["data"]
    if not isinstance(data, dict) or "events" not in data:
        have = sorted(data)[:20] if isinstance(data, dict) else type(data).__name__
        raise drift(VENDOR, f"missing key 'data.events'; data has {have}")
    events = data["events"]
    if not isinstance(events, list):
        raise drift(VENDOR, f"data.events is {type(events).__name__}, expected a list")
    return events


def select_event_ids(raw: RawPayload, min_market_count: int = 5) -> list[str]:
    """Ids (as text, in payload order, no repeats) of event-list events with marketCount > min."""
    events = _events(load_json(raw, VENDOR))
    out: list[str] = []
    for ev in events:
        if not isinstance(ev, dict) or ev.get("id") is None:
            continue
        count = ev.get("marketCount")
        try:
            count = int(count)
        except (TypeError, ValueError):
            continue
        eid = str(ev["id"])
        if count > min_market_count and eid not in out:
            out.append(eid)
    return out


def _outcome_count(market: Any) -> int:
    outs = market.get("outcomes") if isinstance(market, dict) else None
    return len(outs) if isinstance(outs, list) else 1


def classify_market(name: str) -> tuple[str, Any, Any]:
    """('player_total', market, (player text, line from name, market kind))
    | ('anytime', 'GOALS', ('', None, market kind)) | ('ignored', reason text, None)
    | ('unknown', name, None). The market kind ("total shots on goal", "player 1+ goals") is
    the market without its player and line, case-folded: what dim_markets records, since
    PlayNow's market ids are per event."""
    text = " ".join(name.split())
    if _GAME_MARKET_RE.match(text):
        return ("ignored", f"{text!r} (game / outright market)", None)
    m = _PLAYER_N_GOALS_RE.match(text)
    if m is not None:
        if int(m.group("n")) == 1:
            return ("anytime", "GOALS", ("", None, "player 1+ goals"))
        return ("ignored", f"{text!r} (only 1+ goals is in scope)", None)
    if _SCORER_RE.search(text):
        return ("ignored", f"{text!r} (first / last goalscorer)", None)
    m = _TOTAL_RE.match(text)
    if m is not None:
        stat = " ".join(m.group("stat").lower().split())
        player = m.group("player").strip()
        if stat not in STAT_MARKETS:
            return ("unknown", text, None)
        market = STAT_MARKETS[stat]
        if market is None:
            return ("ignored", f"{text!r} ({stat} out of scope)", None)
        if team_code(player) is not None:
            return ("ignored", f"{text!r} (team market)", None)
        line = float(m.group("line")) if m.group("line") else None
        return ("player_total", market, (player, line, f"total {stat}"))
    return ("unknown", text, None)


def _decimal(outcome: dict) -> tuple[float | None, Any]:
    prices = outcome.get("prices")
    if not isinstance(prices, list) or not prices or not isinstance(prices[0], dict):
        return None, prices
    q = prices[0].get("decimal")
    if isinstance(q, bool) or q is None:
        return None, q
    try:
        d = float(q)
    except (TypeError, ValueError):
        return None, q
    if not (1.0 < d <= MAX_DECIMAL):
        return None, q
    return d, q


def _quoted_text(q: Any) -> str:
    return q.strip() if isinstance(q, str) else repr(q) if isinstance(q, float) else str(q)


@gc_paused
def parse(raw: RawPayload) -> ParseResult:
    """Canonical odds rows + counted rejections from one events-by-ids payload.

    An ``event_list`` payload is an index, not a price source: it yields no rows (its events
    are only counted in ``stats``), so re-parsing every saved payload cannot double-count.
    """
    events = _events(load_json(raw, VENDOR))
    tally = Tally()
    stats = {"events": len(events), "markets": 0}
    cols: dict[str, list] = {k: [] for k in _COLUMNS}
    if raw.kind == EVENT_LIST_KIND:
        return ParseResult(rows=_odds_rows(raw, cols), rejections=tally.to_rejections(), items=0,
                           parser_version=PARSER_VERSION, stats=stats, markets={})

    seen: set[str] = set()
    market_kinds: dict[str, str] = {}
    items = 0

    for ev in events:
        if not isinstance(ev, dict):
            items += 1
            tally.add("malformed", f"event is {type(ev).__name__}")
            continue
        markets = ev.get("markets") or []
        if not isinstance(markets, list):
            items += 1
            tally.add("malformed", f"event {ev.get('id')!r} markets is {type(markets).__name__}")
            continue
        stats["markets"] += len(markets)
        event = _resolve_event(ev)
        live = any(ev.get(flag) is True for flag in _LIVE_FLAGS)

        for mk in markets:
            if not isinstance(mk, dict) or not isinstance(mk.get("outcomes"), list):
                items += 1
                tally.add("malformed", f"market without an outcomes list: {str(mk)[:200]}")
                continue
            outcomes = mk["outcomes"]
            mname = mk.get("name")
            kind, what, extra = classify_market(mname) if isinstance(mname, str) else ("unknown", mname, None)
            if kind in ("ignored", "unknown"):
                items += len(outcomes)
                tally.add(f"{kind}_market", f"market {what!r}" if kind == "unknown" else what, len(outcomes))
                continue
            if event.__class__ is Rejection:  # an in-scope market of an event we cannot place
                items += len(outcomes)
                tally.add(event.reason, event.example, len(outcomes))
                continue
            market = what
            market_id = None if mk.get("id") is None else str(mk.get("id"))
            for oc in outcomes:
                items += 1
                if not isinstance(oc, dict):
                    tally.add("malformed", f"outcome is {type(oc).__name__} in {mname!r}")
                    continue
                oname = " ".join(str(oc.get("name") or "").split())
                oid = oc.get("id")
                if kind == "anytime":
                    player_text, side, line, prefix = oname, "OVER", 0.5, "anytime"
                else:
                    player_text, name_line, _ = extra
                    lm = _LADDER_RE.match(oname)
                    om = _OU_RE.match(oname)
                    if lm is not None:
                        side, prefix = "OVER", "ladder"
                        line = int(lm.group("n")) - 0.5
                        if line < 0:
                            tally.add("missing_line", f"{mname!r} ladder outcome {oname!r}")
                            continue
                    elif om is not None:
                        side, prefix = om.group("side").upper(), "ou"
                        line = as_line(mk.get("handicapValue"))
                        if line is None:
                            line = as_line(oc.get("handicapValue"))
                        if line is None:
                            line = name_line if name_line is not None else as_line(om.group("line"))
                        if line is None:
                            tally.add("missing_line", f"{mname!r} outcome {oname!r}: no handicapValue")
                            continue
                    else:
                        tally.add("unknown_side", f"{mname!r} outcome {oname!r}")
                        continue
                player, team = split_player_team(player_text)
                if not player:
                    tally.add("missing_player", f"{mname!r} outcome {oid!r} has no player name")
                    continue
                d, q = _decimal(oc)
                if d is None:
                    tally.add("bad_price", f"{mname!r} {oname!r} decimal={q!r}")
                    continue
                key = f"{prefix}:{oid}" if oid not in (None, "") else f"{prefix}:m{market_id}/{oname}"
                if key in seen:
                    tally.add("duplicate_outcome", f"{key} in {mname!r}")
                    continue
                seen.add(key)
                market_kinds[extra[2]] = market
                cols["event_id"].append(event.event_id)
                cols["event_name"].append(event.name)
                cols["start"].append(event.start_us)
                cols["home"].append(event.home)
                cols["away"].append(event.away)
                cols["player"].append(player)
                cols["team"].append(team)
                cols["market"].append(market)
                cols["line"].append(line)
                cols["side"].append(side)
                cols["decimal"].append(d)
                cols["quoted"].append(_quoted_text(q))
                cols["live"].append(live)
                cols["market_id"].append(market_id)
                cols["key"].append(key)

    frame = _odds_rows(raw, cols)
    stats["rows"] = len(frame)
    return ParseResult(rows=frame, rejections=tally.to_rejections(), items=items,
                       parser_version=PARSER_VERSION, stats=stats, markets=market_kinds)


def _resolve_event(ev: dict) -> EventOrRejection:
    """The event's canonical fields, or why its in-scope markets cannot be placed in a game."""
    eid = ev.get("id")
    name = ev.get("name")
    if eid.__class__ not in (int, str) or eid == "":
        return Rejection("missing_event", f"event id {eid!r}: {str(name)[:100]!r}")
    start = parse_iso_utc(ev.get("startTime"))
    if start is None:
        return Rejection("missing_event", f"event {eid}: startTime={ev.get('startTime')!r}")
    parts = _EVENT_SPLIT_RE.split(name.strip(), maxsplit=1) if isinstance(name, str) else []
    away = team_code(parts[0]) if len(parts) == 2 else None
    home = team_code(parts[1]) if len(parts) == 2 else None
    if away is None or home is None:
        return Rejection("unknown_team", f"event {eid} name {name!r} (away {away}, home {home})")
    return Event(str(eid), name, datetime_to_us(start), home, away)


def _odds_rows(raw: RawPayload, cols: dict[str, list]) -> Any:
    """The canonical frame of the parse's column lists: PlayNow's columns, the rest filled by
    parsing.odds_frame. PlayNow is one book quoting decimal odds; American is derived."""
    return odds_frame(
        raw, VENDOR, PARSER_VERSION, len(cols["key"]),
        {
            "event_id_vendor": cols["event_id"],
            "event_id_vendor_raw": cols["event_id"],
            "event_name_raw": cols["event_name"],
            "event_start_ts_utc": cols["start"],
            "home_team": cols["home"],
            "away_team": cols["away"],
            "player_id_vendor": None,
            "player_name_raw": cols["player"],
            "player_team": cols["team"],
            "market_type": cols["market"],
            "line": np.asarray(cols["line"], dtype=np.float64),
            "side": cols["side"],
            "book_id_vendor": BOOK_ID,
            "book_name_raw": BOOK_NAME,
            "book_type": classify_book(BOOK_NAME),
            "odds_quoted_raw": cols["quoted"],
            "is_live": np.asarray(cols["live"], dtype=bool),
            "vendor_market_id": cols["market_id"],
            "vendor_outcome_key": cols["key"],
        },
        quoted_format="DECIMAL",
        prices=np.asarray(cols["decimal"], dtype=np.float64),
    )


__all__ = ["PARSER_VERSION", "classify_market", "parse", "select_event_ids"]


# --------------------------------------------------------------------------- network

PATH_PREFIX = "/content-service/api/v1/q"
EVENT_LIST_PARAMS = {"eventSortsIncluded": "MTCH,TNMT", "includeChildMarkets": "true",
                     "drilldownTagIds": "220", "lang": "en-US", "channel": "I"}
EVENTS_PER_REQUEST = 20  # keeps the eventIds query string short


def request_headers(settings: Any) -> dict[str, str]:
    cookie = settings.vendors.secrets.get("PLAYNOW_COOKIE", "")
    return {"Cookie": cookie} if cookie else {}


def fetch(client: Any) -> Iterator[Fetched]:
    """The event list, then the NHL events with markets in chunks. Each body is yielded as
    soon as it arrives so the caller saves it before the next request."""
    body = client.get("event_list", f"{PATH_PREFIX}/event-list", EVENT_LIST_PARAMS)
    yield Fetched("event_list", body, "json")
    listing = RawPayload(vendor=VENDOR, kind="event_list", body=body,
                         capture_ts_utc=datetime(1970, 1, 1), sha256="")
    event_ids = select_event_ids(listing)
    for start in range(0, len(event_ids), EVENTS_PER_REQUEST):
        chunk = event_ids[start:start + EVENTS_PER_REQUEST]
        params = {"eventIds": ",".join(chunk), "includeChildMarkets": "true", "lang": "en-US",
                  "channel": "I"}
        yield Fetched("events_by_ids",
                      client.get("events_by_ids", f"{PATH_PREFIX}/events-by-ids", params), "json")
