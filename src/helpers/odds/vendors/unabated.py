"""Unabated ``/markets/v2/league/6/propodds.json``: fetch (network, at the end of the module) and a pure parser (DOMAIN.md §1.2).

Payload: ``people`` {personId: {firstName, lastName}}, ``marketSources`` [{id, name, statusId}],
``teams`` {teamId: {abbreviation}}, ``odds`` {"lg6:pt1:pregame": [prop, ...], ...}.
A prop's ``sides["si0:pid<personId>" | "si1:pid<personId>"]["ms<marketSourceId>"]`` is a price
object {points, americanPrice, isBlurred, alternateLines[], ...}.

Rules (the money-losing details)
- **si0 = OVER, si1 = UNDER** (Unabated's side index: 0 = away/over, 1 = home/under).
- Books only through ``marketSources`` (never a hard-coded id -> name); ``statusId`` 1 or 3 is
  usable, anything else is ``inactive_book``; an ``ms<id>`` not in marketSources is
  ``unknown_book``. book_id_vendor = str(id), book_type = base.classify_book(name).
- betTypeId 70 POINTS, 73 ASSISTS, 86 SOG, 88 BLOCKS, 129 GOALS; other ids ``unknown_market``.
  ``betSubType`` non-null is a variant market -> ``bet_subtype_variant``.
- Only full-game groups (``pt1``) are parsed; other period groups (pt2, ...) are counted as
  ``ignored_market``. A group key that is not ``lg<n>:pt<n>:<state>`` is ``unknown_market``.
- Prop ``statusId``: DOMAIN is silent, so the marketSources rule is mirrored: missing, 1 or 3
  is usable, any other value -> ``prop_inactive``.
- Each ``alternateLines`` entry is its own row. An alternate inherits ``isBlurred`` from its main
  line only when it carries no ``isBlurred`` of its own.
- home = eventTeams["1"], away = eventTeams["0"] via teams[id].abbreviation -> teams.team_code;
  either unresolvable -> ``unknown_team`` for the prop. player_team from teamId when present
  and known, else NULL (not a rejection: teamId is often missing).
- eventStart is treated as UTC (an explicit offset is honoured); eventId missing or eventStart
  unparseable -> ``missing_event``; personId not in ``people`` -> ``missing_player``.
- A side key must be exactly "si0:pid<personId>" or "si1:pid<personId>" of the prop's own
  person; anything else (si2, another person's pid) -> ``unknown_side``.
- Prices: ``isBlurred`` -> ``blurred_price``; points missing / non-numeric / negative ->
  ``missing_line``; americanPrice missing, non-numeric, non-integral, |A| < 100 or
  |A| > parsing.MAX_AMERICAN -> ``bad_price``.
- odds_quoted_format AMERICAN (odds_quoted_raw = str(americanPrice)), decimal derived.
- Structurally broken pieces (a prop without a sides object, a price that is not an object)
  count once as ``malformed``; they never raise.

vendor_outcome_key: ``e<eventId>:bt<betTypeId>:<side key>:ms<id>`` for the main line, e.g.
``e999:bt86:si0:pid12345:ms2``, and ``...:alt:<line>`` for an alternate, e.g.
``e999:bt86:si0:pid12345:ms2:alt:2.5``. Event and bet type are part of the key because the
side key alone ("si0:pid123") repeats across a player's markets and games, so keys are unique
within a payload. A second prop with the same (eventId, betTypeId, personId) — e.g. the same
prop in a pregame and a live group — and an alternate repeating the main line or another
alternate of the same price object are counted as ``duplicate_outcome`` (first one kept).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.teams import team_code
from helpers.odds.prices import american_to_decimal
from helpers.odds.vendors.base import Fetched, RawPayload, classify_book
from helpers.odds.vendors.parsing import (
    ARROW_POOL,
    LARGE_STR,
    MAX_AMERICAN,
    Indexed,
    ParseResult,
    Tally,
    build_odds_frame,
    capture_naive_utc,
    datetime_to_us,
    drift,
    gc_paused,
    parse_iso_utc,
    require_body,
    str_take,
)

PARSER_VERSION = "unabated-1"
VENDOR = "UNABATED"

BET_TYPES: dict[int, str] = {70: "POINTS", 73: "ASSISTS", 86: "SOG", 88: "BLOCKS", 129: "GOALS"}
SIDE_INDEX: dict[str, str] = {"si0": "OVER", "si1": "UNDER"}
USABLE_BOOK_STATUS = frozenset({1, 3})
USABLE_PROP_STATUS = frozenset({1, 3})  # a missing statusId is usable too
FULL_GAME_PERIOD = "pt1"
REQUIRED_KEYS = ("people", "marketSources", "odds")

_SIDES = tuple(SIDE_INDEX.values())  # row side code -> side
_SIDE_CODE = {key: code for code, key in enumerate(SIDE_INDEX)}  # "si0" -> 0, "si1" -> 1
_INF = math.inf
_KEY_TYPES = (int, str)  # JSON scalars usable as ids / dict keys (bool is not: its class is bool)

# ---- typed decoding
# msgspec decodes the payload straight into these structs, skipping the fields the parser
# never reads (marketLineId, price, sourcePrice, ...): 3x faster than building dicts with
# orjson, and attribute access beats dict.get in the hot loop. Every level is a union with
# every other JSON type, so ANY valid JSON decodes: a price that is a string, a prop that is
# a list, ... arrive as what they are and the loop counts them (`malformed`), exactly as
# before. A field the payload lacks reads as None (like dict.get); the required top-level
# keys default to UNSET so that a missing key is told apart from a null one.
_Scalar = str | int | float | bool | None


class _Alt(msgspec.Struct):
    points: Any = None
    americanPrice: Any = None
    isBlurred: Any = None


class _Price(msgspec.Struct):
    points: Any = None
    americanPrice: Any = None
    isBlurred: Any = None
    alternateLines: list[_Alt | list[Any] | _Scalar] | dict[str, Any] | _Scalar = None


class _Prop(msgspec.Struct):
    eventId: Any = None
    personId: Any = None
    betTypeId: Any = None
    eventStart: Any = None
    eventName: Any = None
    eventTeams: Any = None
    teamId: Any = None
    statusId: Any = None
    betSubType: Any = None
    live: Any = None
    sides: (dict[str, dict[str, _Price | list[Any] | _Scalar] | list[Any] | _Scalar]
            | list[Any] | _Scalar) = None


class _Doc(msgspec.Struct):
    people: Any = msgspec.UNSET
    marketSources: Any = msgspec.UNSET
    odds: dict[str, list[_Prop | list[Any] | _Scalar] | dict[str, Any] | _Scalar] | list[Any] | \
        _Scalar | msgspec.UnsetType = msgspec.UNSET
    teams: Any = None


_DECODER = msgspec.json.Decoder(_Doc | list[Any] | _Scalar)


def _decode(raw: RawPayload) -> _Doc:
    """The payload as a _Doc; unparseable JSON or a non-object top level -> SchemaDriftError."""
    body = require_body(raw, VENDOR)
    try:
        doc = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise drift(VENDOR, f"body is not valid JSON (malformed or truncated): {exc}") from exc
    if doc.__class__ is not _Doc:
        raise drift(VENDOR, f"top level is {type(doc).__name__}, expected an object")
    missing = [k for k in REQUIRED_KEYS if getattr(doc, k) is msgspec.UNSET]
    if missing:
        keys = sorted(msgspec.json.decode(body))  # only to name what the payload has
        raise drift(VENDOR, f"missing top-level key(s) {missing}; have {keys[:20]}")
    return doc


def _count_prop_items(prop: Any) -> int:
    """Priced items of a prop: one per side x book entry plus one per alternate line."""
    sides = prop.sides if prop.__class__ is _Prop else None
    if not isinstance(sides, dict):
        return 0
    n = 0
    for books in sides.values():
        if isinstance(books, dict):
            for price in books.values():
                n += _count_book_items(price)
        else:
            n += 1
    return n


def _count_book_items(price: Any) -> int:
    if price.__class__ is _Price:
        alts = price.alternateLines
        if isinstance(alts, list):
            return 1 + len(alts)
    return 1


@gc_paused
def parse(raw: RawPayload) -> ParseResult:
    """Canonical odds rows + counted rejections from one propodds.json payload."""
    doc = _decode(raw)
    people = doc.people
    sources = doc.marketSources
    odds = doc.odds
    teams = doc.teams
    teams = {} if teams is None else teams  # optional: without it every prop is unknown_team
    if not isinstance(people, dict):
        raise drift(VENDOR, f"people is {type(people).__name__}, expected an object")
    if not isinstance(sources, list):
        raise drift(VENDOR, f"marketSources is {type(sources).__name__}, expected a list")
    if not isinstance(odds, dict):
        raise drift(VENDOR, f"odds is {type(odds).__name__}, expected an object")
    if not isinstance(teams, dict):
        raise drift(VENDOR, f"teams is {type(teams).__name__}, expected an object")

    tally = Tally()
    stats = {"props": 0, "events": 0, "books_usable": 0, "books_inactive": 0}

    # ---- books, once: "ms<id>" -> index into book tables, or -1 (inactive)
    book_ids: list[str] = []
    book_names: list[str] = []
    book_types: list[str] = []
    book_lookup: dict[str, int] = {}
    book_status: dict[str, Any] = {}
    for src in sources:
        if not isinstance(src, dict) or src.get("id") is None:
            continue
        sid = src["id"]
        key = f"ms{sid}"
        status = src.get("statusId")
        if sid.__class__ not in _KEY_TYPES:
            continue  # an id that is an object / list cannot name an ms<id> key
        if status.__class__ is int and status in USABLE_BOOK_STATUS:
            book_lookup[key] = len(book_ids)
            name = str(src.get("name") or key)
            book_ids.append(str(sid))
            book_names.append(name)
            book_types.append(classify_book(name))
            stats["books_usable"] += 1
        else:
            book_lookup[key] = -1
            book_status[key] = status
            stats["books_inactive"] += 1

    # ---- teams, once: teamId (as text) -> canonical code or None
    team_codes: dict[str, str | None] = {}
    for tid, t in teams.items():
        abbr = t.get("abbreviation") if isinstance(t, dict) else None
        team_codes[str(tid)] = team_code(abbr) if isinstance(abbr, str) else None

    # ---- per-prop tables (one entry per prop with >= 1 row) and per-row columns
    p_event: list[str] = []
    p_event_name: list[Any] = []
    p_start: list[int] = []
    p_home: list[str] = []
    p_away: list[str] = []
    p_pid: list[str] = []
    p_name: list[str] = []
    p_team: list[Any] = []
    p_market: list[str] = []
    p_live: list[bool] = []
    p_bt: list[str] = []
    p_prefix: list[str] = []
    p_rows: list[int] = []

    r_line: list[float] = []
    r_side: list[int] = []
    r_book: list[int] = []
    r_amer: list[int] = []
    r_alt: list[str | None] = []  # None for a main line, "alt:<line>" for an alternate
    add_line, add_side, add_book = r_line.append, r_side.append, r_book.append
    add_amer, add_alt = r_amer.append, r_alt.append
    tadd = tally.add

    event_cache: dict[Any, tuple] = {}  # eventId -> resolved event or (reason, example)
    name_cache: dict[Any, Any] = {}
    seen_props: set[tuple[str, Any, Any]] = set()
    items = 0

    for group_key, props in odds.items():
        if not isinstance(props, list):
            raise drift(VENDOR, f"odds[{group_key!r}] is {type(props).__name__}, expected a list")
        parts = str(group_key).split(":")
        if len(parts) < 3 or not parts[1].startswith("pt"):
            n = sum(_count_prop_items(p) for p in props)
            items += n
            tadd("unknown_market", f"odds group {group_key!r}", n)
            continue
        if parts[1] != FULL_GAME_PERIOD:
            n = sum(_count_prop_items(p) for p in props)
            items += n
            tadd("ignored_market", f"period group {group_key!r} (only pt1 = full game)", n)
            continue

        for prop in props:
            stats["props"] += 1
            sides = prop.sides if prop.__class__ is _Prop else None
            if sides.__class__ is not dict:
                items += 1
                tadd("malformed", f"prop without a sides object in {group_key}: {str(prop)[:200]}")
                continue
            bt = prop.betTypeId
            if bt.__class__ is str and bt.isdigit():  # tolerate "86" for 86
                bt = int(bt)
            market = BET_TYPES.get(bt) if bt.__class__ is int else None
            pid = prop.personId
            reason = ex = None
            if market is None:
                reason, ex = "unknown_market", f"betTypeId={bt!r}"
            elif prop.betSubType is not None:
                reason, ex = "bet_subtype_variant", f"betTypeId={bt} betSubType={prop.betSubType!r}"
            elif (st := prop.statusId) is not None and not (
                    st.__class__ is int and st in USABLE_PROP_STATUS):
                reason, ex = "prop_inactive", f"prop statusId={st!r}"
            elif (eid := prop.eventId).__class__ not in _KEY_TYPES:
                reason, ex = "missing_event", f"eventId={eid!r}"
            elif pid.__class__ not in _KEY_TYPES:
                reason, ex = "missing_player", f"personId={pid!r}"
            else:
                ev = event_cache.get(eid)
                if ev is None:
                    ev = _resolve_event(prop, team_codes)
                    event_cache[eid] = ev
                    stats["events"] += len(ev) == 5
                if len(ev) == 2:
                    reason, ex = ev
                else:
                    pname = name_cache.get(pid, False)
                    if pname is False:
                        pname = _person_name(people.get(str(pid))) if pid is not None else None
                        name_cache[pid] = pname
                    if pname is None:
                        reason, ex = "missing_player", f"personId={pid!r} not in people"
                    else:
                        ident = (ev[0], bt, pid)
                        if ident in seen_props:
                            reason, ex = "duplicate_outcome", f"second prop for event/betType/person {ident}"
                        else:
                            seen_props.add(ident)
            if reason is not None:
                n = _count_prop_items(prop)
                items += n
                tadd(reason, ex, n)
                continue

            before = len(r_line)
            prefix = f"e{ev[0]}:bt{bt}"
            pid_suffix = f":pid{pid}"
            for side_key, books in sides.items():
                side = _SIDE_CODE.get(side_key[:3])
                if side is None or side_key[3:] != pid_suffix:
                    n = sum(_count_book_items(p) for p in books.values()) if isinstance(books, dict) else 1
                    items += n
                    tadd("unknown_side", f"side key {side_key!r} (betTypeId={bt}, personId={pid!r})", n)
                    continue
                if not isinstance(books, dict):
                    items += 1
                    tadd("malformed", f"sides[{side_key!r}] is {type(books).__name__}")
                    continue
                for ms_key, price in books.items():
                    book = book_lookup.get(ms_key)
                    if book is None or book < 0:
                        n = _count_book_items(price)
                        items += n
                        if book is None:
                            tadd("unknown_book", f"{ms_key} not in marketSources", n)
                        else:
                            tadd("inactive_book", f"{ms_key} statusId={book_status.get(ms_key)!r}", n)
                        continue
                    if price.__class__ is not _Price:
                        items += 1
                        tadd("malformed", f"{side_key}/{ms_key} price is {type(price).__name__}")
                        continue
                    items += 1
                    blurred = price.isBlurred is True
                    main_line = None  # the main line's points once emitted
                    # ---- main line
                    if blurred:
                        tadd("blurred_price", (prefix, side_key, ms_key, "main"))
                    else:
                        pts = price.points
                        a = price.americanPrice
                        if (pts.__class__ is not float and not _is_num(pts)) or not (0 <= pts < _INF):
                            tadd("missing_line", (prefix, side_key, ms_key, "points", pts))
                        elif ((a.__class__ is not int and not _is_int_like(a)) or -100 < a < 100
                              or a > MAX_AMERICAN or a < -MAX_AMERICAN):
                            tadd("bad_price", (prefix, side_key, ms_key, "americanPrice", a))
                        else:
                            add_line(pts)
                            add_side(side)
                            add_book(book)
                            add_amer(a)
                            add_alt(None)
                            main_line = pts
                    # ---- alternate lines
                    alts = price.alternateLines
                    if not alts:
                        continue
                    if alts.__class__ is not list:
                        items += 1
                        tadd("malformed", f"{side_key}/{ms_key} alternateLines is {type(alts).__name__}")
                        continue
                    items += len(alts)
                    alt_seen: set[float] = set()
                    for alt in alts:
                        if alt.__class__ is not _Alt:
                            tadd("malformed", f"{side_key}/{ms_key} alternate {alt!r}")
                            continue
                        ab = alt.isBlurred
                        if ab is True or (ab is None and blurred):
                            tadd("blurred_price", (prefix, side_key, ms_key, "alt"))
                            continue
                        pts = alt.points
                        if (pts.__class__ is not float and not _is_num(pts)) or not (0 <= pts < _INF):
                            tadd("missing_line", (prefix, side_key, ms_key, "alt points", pts))
                            continue
                        a = alt.americanPrice
                        if ((a.__class__ is not int and not _is_int_like(a)) or -100 < a < 100
                                or a > MAX_AMERICAN or a < -MAX_AMERICAN):
                            tadd("bad_price", (prefix, side_key, ms_key, "alt americanPrice", a))
                            continue
                        if pts == main_line or pts in alt_seen:
                            tadd("duplicate_outcome", (prefix, side_key, ms_key, "alternate repeats line", pts))
                            continue
                        alt_seen.add(pts)
                        add_line(pts)
                        add_side(side)
                        add_book(book)
                        add_amer(a)
                        add_alt(f"alt:{pts:g}")

            emitted = len(r_line) - before
            if emitted:
                event_id, start_us, home, away, event_name = ev
                p_event.append(event_id)
                p_event_name.append(event_name)
                p_start.append(start_us)
                p_home.append(home)
                p_away.append(away)
                p_pid.append(str(pid))
                p_name.append(pname)
                tid = prop.teamId
                p_team.append(team_codes.get(str(tid)) if tid is not None else None)
                p_market.append(market)
                p_live.append(prop.live is True)
                p_bt.append(str(bt))
                p_prefix.append(prefix)
                p_rows.append(emitted)

    n = len(r_line)
    prop_idx = np.repeat(np.arange(len(p_rows), dtype=np.int64), np.asarray(p_rows, dtype=np.int64))
    book_idx = np.asarray(r_book, dtype=np.int64)
    amer = np.asarray(r_amer, dtype=np.float64).astype(np.int64)
    raw_text = {v: str(v) for v in set(r_amer)}
    # vendor_outcome_key = "e<eventId>:bt<betTypeId>:si<0|1>:pid<personId>:ms<id>[:alt:<line>]",
    # assembled in C. The side key and ms key are not stored per row: a kept side key is exactly
    # "si<side>:pid<personId>" (checked above) and a kept ms key is the book's "ms<id>".
    side_idx = np.asarray(r_side, dtype=np.int64)
    outcome_key = pc.binary_join_element_wise(
        str_take(p_prefix, prop_idx),
        str_take(list(SIDE_INDEX), side_idx),
        str_take([f"pid{p}" for p in p_pid], prop_idx),
        str_take([f"ms{b}" for b in book_ids], book_idx),
        pa.array(r_alt, type=LARGE_STR, memory_pool=ARROW_POOL),
        pa.scalar(":", type=LARGE_STR),
        null_handling="skip",
        memory_pool=ARROW_POOL,
    )
    frame = build_odds_frame(
        n,
        {
            "source_vendor": VENDOR,
            "capture_ts_utc": capture_naive_utc(raw),
            "event_id_vendor": Indexed(p_event, prop_idx),
            "event_id_vendor_raw": Indexed(p_event, prop_idx),
            "event_name_raw": Indexed(p_event_name, prop_idx),
            "event_start_ts_utc": Indexed(p_start, prop_idx),
            "home_team": Indexed(p_home, prop_idx),
            "away_team": Indexed(p_away, prop_idx),
            "player_id_vendor": Indexed(p_pid, prop_idx),
            "player_name_raw": Indexed(p_name, prop_idx),
            "player_team": Indexed(p_team, prop_idx),
            "market_type": Indexed(p_market, prop_idx),
            "line": np.asarray(r_line, dtype=np.float64),
            "side": Indexed(_SIDES, side_idx),
            "book_id_vendor": Indexed(book_ids, book_idx),
            "book_name_raw": Indexed(book_names, book_idx),
            "book_type": Indexed(book_types, book_idx),
            "odds_american": amer,
            "odds_decimal": american_to_decimal(amer) if n else np.empty(0),
            "odds_quoted_raw": [raw_text[v] for v in r_amer],
            "odds_quoted_format": "AMERICAN",
            "odds_american_derived": False,
            "odds_decimal_derived": True,
            "is_live": Indexed(p_live, prop_idx),
            "raw_payload_path": raw.path,
            "raw_payload_hash": raw.sha256,
            "vendor_market_id": Indexed(p_bt, prop_idx),
            "vendor_outcome_key": outcome_key,
            "parser_version": PARSER_VERSION,
        },
    )
    stats["rows"] = n
    return ParseResult(
        rows=frame,
        rejections=tally.to_rejections(),
        items=items,
        parser_version=PARSER_VERSION,
        stats=stats,
    )


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int_like(x: Any) -> bool:
    """An American price given as a float with an integral value (e.g. -110.0)."""
    return isinstance(x, float) and x.is_integer()


def _person_name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    first = person.get("firstName")
    last = person.get("lastName")
    parts = [p.strip() for p in (first, last) if isinstance(p, str) and p.strip()]
    if not parts:
        return None
    return " ".join(parts)


def _resolve_event(prop: _Prop, team_codes: dict[str, str | None]) -> tuple:
    """(event_id, start_us, home, away, event_name) or (reason, example) for a rejection."""
    eid = prop.eventId
    if eid is None or eid == "":
        return ("missing_event", "prop without eventId")
    start = parse_iso_utc(prop.eventStart)
    if start is None:
        return ("missing_event", f"eventId={eid} eventStart={prop.eventStart!r}")
    et = prop.eventTeams
    home_id = away_id = None
    if isinstance(et, dict):
        h, a = et.get("1"), et.get("0")
        home_id = h.get("id") if isinstance(h, dict) else None
        away_id = a.get("id") if isinstance(a, dict) else None
    home = team_codes.get(str(home_id)) if home_id is not None else None
    away = team_codes.get(str(away_id)) if away_id is not None else None
    if home is None or away is None:
        return (
            "unknown_team",
            f"eventId={eid} eventTeams home={home_id!r}->{home} away={away_id!r}->{away}",
        )
    name = prop.eventName
    return (str(eid), datetime_to_us(start), home, away, name if isinstance(name, str) else None)


# --------------------------------------------------------------------------- network

PATH = "/markets/v2/league/6/propodds.json"


def request_headers(settings: Any) -> dict[str, str]:
    return {}


def fetch(client: Any) -> Iterator[Fetched]:
    """One request; the body is yielded as received."""
    yield Fetched("propodds", client.get("propodds", PATH), "json")
