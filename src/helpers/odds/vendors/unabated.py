"""Unabated ``/markets/v2/league/6/propodds.json``: fetch (network, at the end of the module) and a pure parser (docs/domain.md).

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

from helpers.core.clock import parse_iso_utc
from helpers.core.teams import team_code
from helpers.odds.vendors.base import Fetched, RawPayload, classify_book
from helpers.odds.vendors.parsing import (
    ARROW_POOL,
    LARGE_STR,
    MAX_AMERICAN,
    Event,
    EventOrRejection,
    Indexed,
    ParseResult,
    Rejection,
    Tally,
    datetime_to_us,
    drift,
    first_occurrences,
    gc_paused,
    odds_table,
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
# keys default to UNSET so that a missing key is told apart from a null one. The structs are
# not tracked by the cyclic GC (gc=False: cheaper to allocate and free): decoded JSON holds
# no reference cycles.
_Scalar = str | int | float | bool | None


class _Alt(msgspec.Struct, gc=False):
    points: Any = None
    americanPrice: Any = None
    isBlurred: Any = None


class _Price(msgspec.Struct, gc=False):
    points: Any = None
    americanPrice: Any = None
    isBlurred: Any = None
    alternateLines: list[_Alt | list[Any] | _Scalar] | dict[str, Any] | _Scalar = None


class _Prop(msgspec.Struct, gc=False):
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


class _Doc(msgspec.Struct, gc=False):
    people: Any = msgspec.UNSET
    marketSources: Any = msgspec.UNSET
    odds: dict[str, list[_Prop | list[Any] | _Scalar] | dict[str, Any] | _Scalar] | list[Any] | \
        _Scalar | msgspec.UnsetType = msgspec.UNSET
    teams: Any = None


_DECODER = msgspec.json.Decoder(_Doc | list[Any] | _Scalar)


def _decode(raw: RawPayload) -> _Doc:
    """The payload as a _Doc with top-level pieces of the right types; anything else (not
    JSON, not an object, a required key missing or of the wrong type) -> SchemaDriftError."""
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
    if not isinstance(doc.people, dict):
        raise drift(VENDOR, f"people is {type(doc.people).__name__}, expected an object")
    if not isinstance(doc.marketSources, list):
        raise drift(VENDOR, f"marketSources is {type(doc.marketSources).__name__}, expected a list")
    if not isinstance(doc.odds, dict):
        raise drift(VENDOR, f"odds is {type(doc.odds).__name__}, expected an object")
    # teams is optional: without it every prop is unknown_team, which the report shows
    if doc.teams is not None and not isinstance(doc.teams, dict):
        raise drift(VENDOR, f"teams is {type(doc.teams).__name__}, expected an object")
    return doc


# --------------------------------------------------------------------------- accounting


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


# --------------------------------------------------------------------------- lookups


class _Books:
    """marketSources as lookup tables, built once per payload so that a price object finds
    its book with one dict lookup: ``index["ms<id>"]`` is a position in ids / names / types,
    or -1 for a book whose statusId is not usable (its raw status kept for the example)."""

    __slots__ = ("ids", "inactive", "index", "names", "status", "types")

    def __init__(self, sources: list[Any]) -> None:
        self.ids: list[str] = []
        self.names: list[str] = []
        self.types: list[str] = []
        self.index: dict[str, int] = {}
        self.status: dict[str, Any] = {}
        self.inactive = 0  # marketSources entries with an unusable statusId
        for src in sources:
            if not isinstance(src, dict) or src.get("id") is None:
                continue
            sid = src["id"]
            if sid.__class__ not in _KEY_TYPES:
                continue  # an id that is an object / list cannot name an ms<id> key
            key = f"ms{sid}"
            status = src.get("statusId")
            if status.__class__ is int and status in USABLE_BOOK_STATUS:
                self.index[key] = len(self.ids)
                name = str(src.get("name") or key)
                self.ids.append(str(sid))
                self.names.append(name)
                self.types.append(classify_book(name))
            else:
                self.index[key] = -1
                self.status[key] = status
                self.inactive += 1


def _team_codes(teams: dict[str, Any] | None) -> dict[str, str | None]:
    """teamId (as text) -> canonical NHL code, or None when its abbreviation is unknown."""
    codes: dict[str, str | None] = {}
    for tid, team in (teams or {}).items():
        abbr = team.get("abbreviation") if isinstance(team, dict) else None
        codes[str(tid)] = team_code(abbr) if isinstance(abbr, str) else None
    return codes


def _person_name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    first = person.get("firstName")
    last = person.get("lastName")
    parts = [p.strip() for p in (first, last) if isinstance(p, str) and p.strip()]
    if not parts:
        return None
    return " ".join(parts)


def _resolve_event(prop: _Prop, team_codes: dict[str, str | None]) -> EventOrRejection:
    """The prop's event, or why none of its prices can be placed in a game."""
    eid = prop.eventId
    if eid is None or eid == "":
        return Rejection("missing_event", "prop without eventId")
    start = parse_iso_utc(prop.eventStart)
    if start is None:
        return Rejection("missing_event", f"eventId={eid} eventStart={prop.eventStart!r}")
    et = prop.eventTeams
    home_id = away_id = None
    if isinstance(et, dict):
        h, a = et.get("1"), et.get("0")
        home_id = h.get("id") if isinstance(h, dict) else None
        away_id = a.get("id") if isinstance(a, dict) else None
    home = team_codes.get(str(home_id)) if home_id is not None else None
    away = team_codes.get(str(away_id)) if away_id is not None else None
    if home is None or away is None:
        return Rejection(
            "unknown_team",
            f"eventId={eid} eventTeams home={home_id!r}->{home} away={away_id!r}->{away}",
        )
    name = prop.eventName
    return Event(str(eid), name if isinstance(name, str) else None, datetime_to_us(start),
                 home, away)


# --------------------------------------------------------------------------- prop checks


def _skipped_group(group_key: str) -> Rejection | None:
    """Why a whole ``odds`` group is not read (only full-game groups are), or None."""
    parts = str(group_key).split(":")
    if len(parts) < 3 or not parts[1].startswith("pt"):
        return Rejection("unknown_market", f"odds group {group_key!r}")
    if parts[1] != FULL_GAME_PERIOD:
        return Rejection("ignored_market", f"period group {group_key!r} (only pt1 = full game)")
    return None


def _bet_type_id(bt: Any) -> Any:
    """betTypeId as an int when the payload quotes it ("86" for 86); anything else as is."""
    if bt.__class__ is str and bt.isdigit():
        return int(bt)
    return bt


def _prop_rejection(prop: _Prop, bt: Any, market: str | None) -> Rejection | None:
    """The first prop-level rule the prop breaks, judged on its own fields; None if none.

    The order matters: one prop counts under one reason, the first that applies.
    """
    if market is None:
        return Rejection("unknown_market", f"betTypeId={bt!r}")
    if prop.betSubType is not None:
        return Rejection("bet_subtype_variant", f"betTypeId={bt} betSubType={prop.betSubType!r}")
    st = prop.statusId
    if st is not None and not (st.__class__ is int and st in USABLE_PROP_STATUS):
        return Rejection("prop_inactive", f"prop statusId={st!r}")
    if prop.eventId.__class__ not in _KEY_TYPES:
        return Rejection("missing_event", f"eventId={prop.eventId!r}")
    if prop.personId.__class__ not in _KEY_TYPES:
        return Rejection("missing_player", f"personId={prop.personId!r}")
    return None


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int_like(x: Any) -> bool:
    """An American price given as a float with an integral value (e.g. -110.0)."""
    return isinstance(x, float) and x.is_integer()


# --------------------------------------------------------------------------- parse


class _PropColumns:
    """The values a prop's rows share, one entry per prop that emitted rows, plus its row
    count: stored once per prop instead of once per row, and expanded to rows in C when the
    frame is built (``Indexed``)."""

    __slots__ = ("away", "bet_type", "event", "event_name", "home", "key_prefix", "live",
                 "market", "name", "pid", "rows", "start", "team")

    def __init__(self) -> None:
        self.event: list[str] = []
        self.event_name: list[str | None] = []
        self.start: list[int] = []
        self.home: list[str] = []
        self.away: list[str] = []
        self.pid: list[str] = []
        self.name: list[str] = []
        self.team: list[str | None] = []
        self.market: list[str] = []
        self.live: list[bool] = []
        self.bet_type: list[str] = []
        self.key_prefix: list[str] = []  # "e<eventId>:bt<betTypeId>", the outcome key's start
        self.rows: list[int] = []

    def add(self, event: Event, bt: int, pid: Any, name: str, team: str | None, market: str,
            live: bool, key_prefix: str, rows: int) -> None:
        self.event.append(event.event_id)
        self.event_name.append(event.name)
        self.start.append(event.start_us)
        self.home.append(event.home)
        self.away.append(event.away)
        self.pid.append(str(pid))
        self.name.append(name)
        self.team.append(team)
        self.market.append(market)
        self.live.append(live)
        self.bet_type.append(str(bt))
        self.key_prefix.append(key_prefix)
        self.rows.append(rows)


class _RowColumns:
    """The values that differ per row, appended in the hot loop as plain Python scalars:
    line, side code (0 = si0, 1 = si1), book position in ``_Books``, American price, and the
    outcome-key suffix of an alternate ("alt:<line>"; None for a main line)."""

    __slots__ = ("alt", "american", "book", "line", "side")

    def __init__(self) -> None:
        self.line: list[float] = []
        self.side: list[int] = []
        self.book: list[int] = []
        self.american: list[Any] = []  # int, or a float with an integral value
        self.alt: list[str | None] = []


class _Parser:
    """One parse of a payload: the lookups built once, the tally, and the rows as they grow.

    Every priced item read is added to ``items`` exactly once, either as a row or through a
    tally of one rejection, so ``items == rows + rejections`` (parsing's accounting contract).
    """

    def __init__(self, doc: _Doc) -> None:
        self.people: dict[str, Any] = doc.people
        self.books = _Books(doc.marketSources)
        self.team_codes = _team_codes(doc.teams)
        self.tally = Tally()
        self.items = 0
        self.stats = {"props": 0, "events": 0, "books_usable": len(self.books.ids),
                      "books_inactive": self.books.inactive}
        self.props = _PropColumns()
        self.rows = _RowColumns()
        rows = self.rows  # bound once here, not per side: measurably cheaper on ~6k sides
        self.row_appenders = (rows.line.append, rows.side.append, rows.book.append,
                              rows.american.append, rows.alt.append)
        # A payload repeats each event and person across many props: resolve each once.
        self.events: dict[Any, EventOrRejection] = {}
        self.names: dict[Any, str | None] = {}
        self.seen_props: set[tuple[str, Any, Any]] = set()

    # ---- groups and props

    def read_group(self, group_key: str, props: Any) -> None:
        """The props of one ``odds`` group, or all their items counted when it is skipped."""
        if not isinstance(props, list):
            raise drift(VENDOR, f"odds[{group_key!r}] is {type(props).__name__}, expected a list")
        skipped = _skipped_group(group_key)
        if skipped is not None:
            n = sum(_count_prop_items(p) for p in props)
            self.items += n
            self.tally.add(skipped.reason, skipped.example, n)
            return
        for prop in props:
            self.read_prop(group_key, prop)

    def read_prop(self, group_key: str, prop: Any) -> None:
        """The rows of one prop; a prop that breaks a prop-level rule counts every priced item
        it holds under that one reason, so a bad prop is as visible as its prices."""
        self.stats["props"] += 1
        sides = prop.sides if prop.__class__ is _Prop else None
        if sides.__class__ is not dict:
            self.items += 1
            self.tally.add("malformed",
                           f"prop without a sides object in {group_key}: {str(prop)[:200]}")
            return
        bt = _bet_type_id(prop.betTypeId)
        market = BET_TYPES.get(bt) if bt.__class__ is int else None
        accepted = self._accept_prop(prop, bt, market)
        if accepted.__class__ is Rejection:
            n = _count_prop_items(prop)
            self.items += n
            self.tally.add(accepted.reason, accepted.example, n)
            return
        event, name = accepted
        pid = prop.personId
        key_prefix = f"e{event.event_id}:bt{bt}"
        pid_suffix = f":pid{pid}"
        before = len(self.rows.line)
        for side_key, books in sides.items():
            side = _SIDE_CODE.get(side_key[:3])
            if side is None or side_key[3:] != pid_suffix:
                self._reject_side(side_key, books, bt, pid)
            elif not isinstance(books, dict):
                self.items += 1
                self.tally.add("malformed", f"sides[{side_key!r}] is {type(books).__name__}")
            else:
                self._read_prices(key_prefix, side, side_key, books)
        emitted = len(self.rows.line) - before
        if emitted:
            tid = prop.teamId
            team = self.team_codes.get(str(tid)) if tid is not None else None
            self.props.add(event, bt, pid, name, team, market, prop.live is True, key_prefix,
                           emitted)

    def _accept_prop(self, prop: _Prop, bt: Any, market: str | None
                     ) -> tuple[Event, str] | Rejection:
        """The prop's event and player name, or the first reason none of its prices count."""
        rejected = _prop_rejection(prop, bt, market)
        if rejected is not None:
            return rejected
        event = self._event(prop)
        if event.__class__ is Rejection:
            return event
        pid = prop.personId
        name = self._player_name(pid)
        if name is None:
            return Rejection("missing_player", f"personId={pid!r} not in people")
        # The same prop can be listed twice (e.g. in a pregame and a live group): keep the first.
        ident = (event.event_id, bt, pid)
        if ident in self.seen_props:
            return Rejection("duplicate_outcome", f"second prop for event/betType/person {ident}")
        self.seen_props.add(ident)
        return event, name

    def _event(self, prop: _Prop) -> EventOrRejection:
        event = self.events.get(prop.eventId)
        if event is None:
            event = _resolve_event(prop, self.team_codes)
            self.events[prop.eventId] = event
            self.stats["events"] += event.__class__ is Event
        return event

    def _player_name(self, pid: Any) -> str | None:
        name = self.names.get(pid, False)
        if name is False:
            name = _person_name(self.people.get(str(pid)))
            self.names[pid] = name
        return name

    # ---- sides and prices

    def _reject_side(self, side_key: str, books: Any, bt: Any, pid: Any) -> None:
        """A side key that is not si0 / si1 of the prop's own person: its prices cannot be
        given a side (or belong to someone else), so all of them are unknown_side."""
        n = sum(_count_book_items(p) for p in books.values()) if isinstance(books, dict) else 1
        self.items += n
        self.tally.add("unknown_side",
                       f"side key {side_key!r} (betTypeId={bt}, personId={pid!r})", n)

    def _read_prices(self, key_prefix: str, side: int, side_key: str,
                     books: dict[str, Any]) -> None:
        """The rows of every book's price object on one side of a prop: its main line, then its
        alternate lines.

        This is the hot loop: it runs once per price object (~115k in a large payload) and
        once per alternate, so that work stays inline — no function call on the way to a row,
        list appenders bound once per parse and held in locals, type checks by class identity.
        Only a rare path (a book we cannot use) calls out. Splitting at the side, not the price,
        keeps the calls to ~2 per prop; moving the alternates into a method of their own was
        measured at +3% instructions for this loop.
        """
        book_index = self.books.index
        tadd = self.tally.add
        add_line, add_side, add_book, add_amer, add_alt = self.row_appenders
        items = 0
        for ms_key, price in books.items():
            book = book_index.get(ms_key)
            if book is None or book < 0:
                items += self._reject_book(ms_key, book, price)
                continue
            if price.__class__ is not _Price:
                items += 1
                tadd("malformed", f"{side_key}/{ms_key} price is {type(price).__name__}")
                continue
            items += 1
            blurred = price.isBlurred is True
            main_line = None  # the main line's points once emitted: an alternate may repeat it
            if blurred:
                tadd("blurred_price", (key_prefix, side_key, ms_key, "main"))
            else:
                pts = price.points
                a = price.americanPrice
                # A line is a finite number >= 0; a price an integral |A| in [100, MAX_AMERICAN].
                if (pts.__class__ is not float and not _is_num(pts)) or not (0 <= pts < _INF):
                    tadd("missing_line", (key_prefix, side_key, ms_key, "points", pts))
                elif ((a.__class__ is not int and not _is_int_like(a)) or -100 < a < 100
                      or a > MAX_AMERICAN or a < -MAX_AMERICAN):
                    tadd("bad_price", (key_prefix, side_key, ms_key, "americanPrice", a))
                else:
                    add_line(pts)
                    add_side(side)
                    add_book(book)
                    add_amer(a)
                    add_alt(None)
                    main_line = pts

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
                # An alternate without its own isBlurred is as hidden as its main line.
                ab = alt.isBlurred
                if ab is True or (ab is None and blurred):
                    tadd("blurred_price", (key_prefix, side_key, ms_key, "alt"))
                    continue
                pts = alt.points
                if (pts.__class__ is not float and not _is_num(pts)) or not (0 <= pts < _INF):
                    tadd("missing_line", (key_prefix, side_key, ms_key, "alt points", pts))
                    continue
                a = alt.americanPrice
                if ((a.__class__ is not int and not _is_int_like(a)) or -100 < a < 100
                        or a > MAX_AMERICAN or a < -MAX_AMERICAN):
                    tadd("bad_price", (key_prefix, side_key, ms_key, "alt americanPrice", a))
                    continue
                if pts == main_line or pts in alt_seen:
                    tadd("duplicate_outcome",
                         (key_prefix, side_key, ms_key, "alternate repeats line", pts))
                    continue
                alt_seen.add(pts)
                add_line(pts)
                add_side(side)
                add_book(book)
                add_amer(a)
                add_alt(f"alt:{pts:g}")
        self.items += items

    def _reject_book(self, ms_key: str, book: int | None, price: Any) -> int:
        """Count a price object of a book that is unknown or inactive; returns its items."""
        n = _count_book_items(price)
        if book is None:
            self.tally.add("unknown_book", f"{ms_key} not in marketSources", n)
        else:
            status = self.books.status.get(ms_key)
            self.tally.add("inactive_book", f"{ms_key} statusId={status!r}", n)
        return n

    # ---- result

    def result(self, raw: RawPayload) -> ParseResult:
        n = len(self.rows.line)
        american = np.asarray(self.rows.american, dtype=np.float64).astype(np.int64)
        table = odds_table(raw, VENDOR, PARSER_VERSION, n, self._columns(american),
                           quoted_format="AMERICAN", prices=american)
        self.stats["rows"] = n
        return ParseResult(rows=table, rejections=self.tally.to_rejections(), items=self.items,
                           parser_version=PARSER_VERSION, stats=self.stats)

    def _columns(self, american: np.ndarray) -> dict[str, Any]:
        """The vendor's columns of the frame (odds_frame adds the shared ones)."""
        props, rows, books = self.props, self.rows, self.books
        prop_idx = np.repeat(np.arange(len(props.rows), dtype=np.int64),
                             np.asarray(props.rows, dtype=np.int64))
        book_idx = np.asarray(rows.book, dtype=np.int64)
        side_idx = np.asarray(rows.side, dtype=np.int64)
        # odds_quoted_raw is the price's text as decoded. A payload has a few hundred distinct
        # prices: text each once and expand in C rather than per row in Python. Each distinct
        # price gets the text of its first occurrence (-110 and -110.0 are one price).
        first, price_idx = first_occurrences(american)
        quoted_text = [str(rows.american[i]) for i in first]
        return {
            "event_id_vendor": Indexed(props.event, prop_idx),
            "event_id_vendor_raw": Indexed(props.event, prop_idx),
            "event_name_raw": Indexed(props.event_name, prop_idx),
            "event_start_ts_utc": Indexed(props.start, prop_idx),
            "home_team": Indexed(props.home, prop_idx),
            "away_team": Indexed(props.away, prop_idx),
            "player_id_vendor": Indexed(props.pid, prop_idx),
            "player_name_raw": Indexed(props.name, prop_idx),
            "player_team": Indexed(props.team, prop_idx),
            "market_type": Indexed(props.market, prop_idx),
            "line": np.asarray(rows.line, dtype=np.float64),
            "side": Indexed(_SIDES, side_idx),
            "book_id_vendor": Indexed(books.ids, book_idx),
            "book_name_raw": Indexed(books.names, book_idx),
            "book_type": Indexed(books.types, book_idx),
            "odds_quoted_raw": Indexed(quoted_text, price_idx),
            "is_live": Indexed(props.live, prop_idx),
            "vendor_market_id": Indexed(props.bet_type, prop_idx),
            "vendor_outcome_key": self._outcome_keys(prop_idx, side_idx, book_idx),
        }

    def _outcome_keys(self, prop_idx: np.ndarray, side_idx: np.ndarray,
                      book_idx: np.ndarray) -> Any:
        """vendor_outcome_key per row, "e<eventId>:bt<betTypeId>:si<0|1>:pid<personId>:ms<id>"
        plus ":alt:<line>" for an alternate, joined in C (pyarrow). The side key and ms key are
        not stored per row: a kept side key is exactly "si<side>:pid<personId>" and a kept ms
        key is the book's "ms<id>" (both checked while reading)."""
        return pc.binary_join_element_wise(
            str_take(self.props.key_prefix, prop_idx),
            str_take(list(SIDE_INDEX), side_idx),
            str_take([f"pid{p}" for p in self.props.pid], prop_idx),
            str_take([f"ms{b}" for b in self.books.ids], book_idx),
            pa.array(self.rows.alt, type=LARGE_STR, memory_pool=ARROW_POOL),
            pa.scalar(":", type=LARGE_STR),
            null_handling="skip",
            memory_pool=ARROW_POOL,
        )


@gc_paused
def parse(raw: RawPayload) -> ParseResult:
    """Canonical odds rows + counted rejections from one propodds.json payload."""
    doc = _decode(raw)
    parser = _Parser(doc)
    for group_key, props in doc.odds.items():
        parser.read_group(group_key, props)
    return parser.result(raw)


# --------------------------------------------------------------------------- network

PATH = "/markets/v2/league/6/propodds.json"


def request_headers(settings: Any) -> dict[str, str]:
    return {}


def fetch(client: Any) -> Iterator[Fetched]:
    """One request; the body is yielded as received."""
    yield Fetched("propodds", client.get("propodds", PATH), "json")
