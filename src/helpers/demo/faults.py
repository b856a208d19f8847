"""Fault injection for the emulator's vendor routes (never for /_emulator/ itself).

A fault is JSON like {"route": "unabated", "kind": "rate_limit", "count": 2,
"retry_after": 3}. `count` N applies it to the next N requests of that route, then it
clears; null keeps it until DELETE /_emulator/faults. Route "*" matches every vendor
route. The first matching fault (in the order they were added) wins.
"""

from __future__ import annotations

import functools
import threading
import zlib
from dataclasses import asdict, dataclass, replace

import orjson

ROUTES: tuple[str, ...] = ("unabated", "playnow_event_list", "playnow_events", "oddsshark",
                           "nhl_schedule", "nhl_boxscore", "unabated_archive")
KINDS: tuple[str, ...] = ("latency", "status", "rate_limit", "drop", "malformed", "truncated",
                          "empty", "schema_drift", "live", "postponed", "drip", "bomb",
                          "redirect", "wedge", "absurd_price")
# "live": the NHL api-web still says LIVE where the game is over (its boxscore is the one of
# mid-game, partial stats; the schedule shows LIVE for finished games). Only NHL routes.
LIVE_ROUTES: tuple[str, ...] = ("nhl_schedule", "nhl_boxscore")
# "postponed": one game (`game_id`, default the first game of the clock's ET day) is
# postponed: api-web shows it FUT with gameScheduleState PPD, without score or stats, in the
# schedule and its boxscore, for as long as the fault is on. The vendors keep listing its
# props, as a board captured before the announcement would. Only NHL routes; set it on both
# for a consistent api-web. Active postponed faults add up (each names its game).
NHL_ONLY_KINDS: dict[str, tuple[str, ...]] = {"live": LIVE_ROUTES, "postponed": LIVE_ROUTES}
# The hostile kinds (what a hostile proxy between the pipeline and a vendor can do):
# "drip": the body one byte at a time, DRIP_INTERVAL_S apart, for as long as the client reads;
# "bomb": 200 with Content-Encoding gzip, ~1 MB on the wire that expands to BOMB_BYTES;
# "redirect": 302 to the same path on another host name of this server (localhost instead of
#   127.0.0.1), which serves the board: a client that follows it accepts another host's data;
# "wedge": the OddsShark page with WEDGE_DIVS unclosed <div> after <body>, which sends an
#   HTML tree builder quadratic in C code. Only the HTML route.
WEDGE_ROUTES: tuple[str, ...] = ("oddsshark",)
NHL_ONLY_KINDS["wedge"] = WEDGE_ROUTES
# "absurd_price": the Unabated board with ABSURD_PRICE_COUNT GOALS overs at americanPrice
# ABSURD_AMERICAN (the issue 24 report): DraftKings' (ms1) main price of the first GOALS
# props it prices, one per prop; every other price as served (`absurd_prices`).
NHL_ONLY_KINDS["absurd_price"] = ("unabated",)
ABSURD_AMERICAN = 100_000
ABSURD_PRICE_COUNT = 10
UNABATED_GOALS_BET_TYPE = 129
DRIP_INTERVAL_S = 0.02
BOMB_BYTES = 1024 ** 3
WEDGE_DIVS = 200_000
# Drift variants each route can show; the first is the default.
DRIFTS: dict[str, tuple[str, ...]] = {
    "unabated": ("renamed_key", "unknown_bet_type"),
    "playnow_event_list": ("renamed_key", "unknown_bet_type"),
    "playnow_events": ("renamed_key", "unknown_bet_type"),
    "oddsshark": ("extra_tab", "renamed_key"),
    "nhl_schedule": ("renamed_key",),
    "nhl_boxscore": ("renamed_key",),
    "unabated_archive": ("renamed_key",),
}


@dataclass(frozen=True)
class Fault:
    route: str
    kind: str
    count: int | None = None  # None: until cleared
    latency_ms: int = 0
    status: int = 500
    retry_after: int = 1
    drift: str | None = None
    game_id: int | None = None  # "postponed": the game; None: the clock day's first game

    def drift_for(self, route: str) -> str:
        """The drift variant to render for `route` (its default when unset or n/a)."""
        options = DRIFTS[route]
        return self.drift if self.drift in options else options[0]

    def to_json(self) -> dict:
        return asdict(self)


def parse_fault(data: object) -> Fault:
    """Validate a fault from JSON; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(data) - {"route", "kind", "count", "latency_ms", "status", "retry_after",
                           "drift", "game_id"}
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    route, kind = data.get("route"), data.get("kind")
    if route not in (*ROUTES, "*"):
        raise ValueError(f"route must be one of {[*ROUTES, '*']}, got {route!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    if kind in NHL_ONLY_KINDS and route not in NHL_ONLY_KINDS[kind]:
        raise ValueError(f"kind {kind!r} applies to {list(NHL_ONLY_KINDS[kind])} only, "
                         f"not {route!r}")
    count = data.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or count < 1):
        raise ValueError(f"count must be a positive integer or null, got {count!r}")
    fields: dict = {"route": route, "kind": kind, "count": count}
    for name, low, high in (("latency_ms", 0, 120_000), ("status", 100, 599),
                            ("retry_after", 0, 86_400)):
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
            fields[name] = value
    drift = data.get("drift")
    if drift is not None:
        allowed = {d for r, opts in DRIFTS.items() for d in opts if route in (r, "*")}
        if drift not in allowed:
            raise ValueError(f"drift for route {route!r} must be one of {sorted(allowed)}")
        fields["drift"] = drift
    game_id = data.get("game_id")
    if game_id is not None:
        if kind != "postponed":
            raise ValueError("game_id names the game of a 'postponed' fault only")
        if not isinstance(game_id, int) or isinstance(game_id, bool) or game_id < 1:
            raise ValueError(f"game_id must be a positive integer, got {game_id!r}")
        fields["game_id"] = game_id
    return Fault(**fields)


class FaultBoard:
    """The active faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self, route: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if route is not None and f.route != route]

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, route: str) -> Fault | None:
        """The fault for this request (counting it), or None."""
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.route not in (route, "*"):
                    continue
                if fault.count is not None:
                    if fault.count <= 1:
                        del self._faults[i]
                    else:
                        self._faults[i] = replace(fault, count=fault.count - 1)
                return fault
        return None


def malformed_body(body: bytes, content_type: str) -> bytes:
    """A 200 body of the right content type that does not parse as what it claims."""
    if content_type.startswith("application/json"):
        return body[:40] + b',,{"\x00broken": [}' + body[-20:]
    return (b'<!DOCTYPE html><html><body><div class="player-props--container tab">'
            b'<div class="player-props--row" data-event=><span class="odds-detail">+1'
            b"</div></table></html><<<")


def truncated_body(body: bytes) -> bytes:
    return body[: len(body) // 2]


@functools.cache
def gzip_bomb() -> bytes:
    """BOMB_BYTES of zeros, gzipped (~1 MB): made once per process, in 1 MiB steps."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    zeros = b"\0" * 1024 ** 2
    return b"".join(squeeze.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))) + \
        squeeze.flush()


def wedged_page(body: bytes) -> bytes:
    """The page with WEDGE_DIVS unclosed <div> right after its <body ...> tag."""
    start = body.find(b"<body")
    cut = body.find(b">", start) + 1 if start >= 0 else 0
    return body[:cut] + b"<div>" * WEDGE_DIVS + body[cut:]


def absurd_prices(body: bytes) -> bytes:
    """The Unabated board with DraftKings' (ms1) main over price of its first
    ABSURD_PRICE_COUNT priced GOALS props at ABSURD_AMERICAN (americanPrice, price and
    sourcePrice alike), in document order; the rest untouched (orjson writes it back as the
    renderer did)."""
    board = orjson.loads(body)
    left = ABSURD_PRICE_COUNT
    for props in board["odds"].values():
        for prop in props:
            if left == 0:
                break
            if prop.get("betTypeId") != UNABATED_GOALS_BET_TYPE:
                continue
            price = prop["sides"].get(f"si0:pid{prop['personId']}", {}).get("ms1")
            if price is None or price.get("americanPrice") is None:
                continue
            price.update(americanPrice=ABSURD_AMERICAN, price=ABSURD_AMERICAN,
                         sourcePrice=ABSURD_AMERICAN)
            left -= 1
    return orjson.dumps(board)
