"""A local HTTP emulator of the vendors and the NHL api-web, on 127.0.0.1 only.

All four base URLs (PLAYNOW, UNABATED, ODDSSHARK, NHL_API) point at the same server; the
real paths do not collide. The clock is simulated (it never moves by itself) and set
through /_emulator/clock; faults through /_emulator/faults; /_emulator/truth/... tells
tests what really happened. Responses are cached per (route, arguments, clock, drift).

    with Emulator(seed=7) as emu:
        emu.set_clock(datetime(2025, 11, 1, 15, tzinfo=UTC))
        requests.get(emu.base_url + "/v1/schedule/2025-11-01")
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import logging
import re
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

from helpers.core.clock import iso_z
from helpers.core.settings import Settings, load_settings
from helpers.core.vendors import NHL_API, VENDORS
from helpers.demo import render_nhl, render_oddsshark, render_playnow, render_unabated, truth
from helpers.demo.faults import (
    DRIP_INTERVAL_S,
    Fault,
    FaultBoard,
    absurd_prices,
    gzip_bomb,
    malformed_body,
    parse_fault,
    truncated_body,
    wedged_page,
)
from helpers.demo.league import (
    DEFAULT_DAYS,
    DEFAULT_SEASON_START,
    DEFAULT_SEED,
    League,
    build_league,
)
from helpers.demo.schedule import EASTERN

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never bind anything else: the emulator is for this machine only
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
CACHE_ENTRIES = 64
CACHE_BYTES = 128_000_000  # an Unabated payload is ~10 MB; keep a handful of clocks
# The boards a capture fetches first, with no arguments (PlayNow's events-by-ids depends on
# the client's choice of events, the NHL routes on the step).
PREFETCH_ROUTES = ("unabated", "oddsshark", "playnow_event_list")
PREFETCH_THREAD = "demo-prefetch"
DEFAULT_CLOCK_DAY = 30  # default clock: 15:00 UTC on this day of the season (or the last)

# NHL drift: a renamed top-level key, as bytes in the compact JSON.
_NHL_RENAMES = {"nhl_schedule": (b'"gameWeek":', b'"gameWeeks":'),
                "nhl_boxscore": (b'"playerByGameStats":', b'"playerStats":')}


def default_now(league: League) -> datetime:
    day = league.season_start + timedelta(days=min(DEFAULT_CLOCK_DAY, league.days - 1))
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def parse_time(text: str) -> datetime:
    """ISO 8601; 'Z' or an offset; naive means UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)



class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (timeout, dropped connection) is normal here: log, don't print.
        log.debug("request from %s failed", client_address, exc_info=True)


class Emulator:
    """The league plus a server. Usable as a context manager; port 0 = ephemeral."""

    def __init__(self, seed: int = DEFAULT_SEED, season_start: date = DEFAULT_SEASON_START,
                 days: int = DEFAULT_DAYS, port: int = 0, now: datetime | None = None,
                 prefetch: bool = False):
        self.league = build_league(seed, season_start, days)
        # Render the vendors' boards for each new clock in the background (`set_clock`).
        self.prefetch = prefetch
        self.faults = FaultBoard()
        self._now = parse_time(now.isoformat()) if now else default_now(self.league)
        self._port = port
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, tuple[int, str, bytes]] = OrderedDict()
        self._cache_bytes = 0
        self._rendering: dict[tuple, threading.Event] = {}  # keys being rendered now
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _Server((HOST, self._port), _Handler)
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="demo-emulator",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        log.info("emulator listening on %s (seed %s)", self.base_url, self.league.seed)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self, home: Path | str, **env: str) -> Settings:
        """Settings of a pipeline reading every vendor and the NHL api-web from this
        emulator, without retry backoff, its outputs under `home`; `env` adds variables."""
        return load_settings({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                              **{f"{name}_BASE_URL": self.base_url
                                 for name in (*VENDORS, NHL_API)}, **env})

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # ---- clock and faults ----
    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set_clock(self, now: datetime) -> None:
        moment = now if now.tzinfo else now.replace(tzinfo=UTC)
        with self._lock:
            self._now = moment.astimezone(UTC)
        if self.prefetch:
            threading.Thread(target=self._prefetch, name=PREFETCH_THREAD, daemon=True).start()

    def _prefetch(self) -> None:
        """Render the boards a capture asks for first, as a real vendor has them ready:
        the clock's payloads are deterministic, so this changes no byte, only when the work
        is done (a request for a board still rendering waits for it, `cached`)."""
        for route in PREFETCH_ROUTES:
            try:
                self.vendor_response(route, (), None)
            except Exception:
                log.warning("prefetch of %s failed", route, exc_info=True)

    def set_fault(self, route: str, kind: str, count: int | None = None, **params: object
                  ) -> Fault:
        fault = parse_fault({"route": route, "kind": kind, "count": count, **params})
        self.add_fault(fault)
        return fault

    def add_fault(self, fault: Fault) -> None:
        """Add a parsed fault; ValueError for a postponed game the league does not have."""
        if fault.game_id is not None and fault.game_id not in self.league.game_by_id:
            raise ValueError(f"no game {fault.game_id} in the league")
        self.faults.add(fault)

    def postponed_games(self, route: str | None = None) -> frozenset[int]:
        """The games the active "postponed" faults postpone (of `route`; any NHL route when
        None): each names its game, or means the first game of the clock's ET day."""
        games = set()
        for fault in self.faults.active():
            if fault.kind != "postponed" or route not in (None, fault.route):
                continue
            if fault.game_id is not None:
                games.add(fault.game_id)
                continue
            today = sorted(self.league.games_on(self.now.astimezone(EASTERN).date()),
                           key=lambda g: (g.start_utc, g.game_id))
            games.update(g.game_id for g in today[:1])
        return frozenset(games)

    def clear_faults(self, route: str | None = None) -> None:
        self.faults.clear(route)

    # ---- responses ----
    def live_response(self, route: str, args: tuple) -> tuple[int, str, bytes]:
        """The NHL api-web lagging: every finished game still LIVE. A boxscore is the one of
        mid-game (partial stats that must never be graded or stored as final)."""
        if route == "nhl_schedule":
            status, content_type, body = self.vendor_response(route, args, None)
            return status, content_type, _live_schedule(body)
        game = self.league.game_by_id.get(args[0])
        if game is None or game.state(self.now) == "FUT":
            return self.vendor_response(route, args, None)
        mid_game = game.start_utc + (game.end_utc - game.start_utc) / 2
        body = render_nhl.render_boxscore(self.league, min(mid_game, self.now), args[0])
        return 200, JSON, body

    def cached(self, key: tuple, render) -> tuple[int, str, bytes]:
        """The response of `key`, rendered once: a second request for a key being rendered
        (by another request or the prefetch) waits for it instead of rendering it too."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            rendering = self._rendering.get(key)
            if rendering is None:
                self._rendering[key] = threading.Event()
        if rendering is not None:
            rendering.wait()
            return self.cached(key, render)  # stored by now, or its renderer failed
        try:
            value = render()
            with self._lock:
                self._cache[key] = value
                self._cache_bytes += len(value[2])
                while len(self._cache) > 1 and (len(self._cache) > CACHE_ENTRIES
                                                or self._cache_bytes > CACHE_BYTES):
                    _, (_, _, body) = self._cache.popitem(last=False)
                    self._cache_bytes -= len(body)
        finally:
            with self._lock:
                self._rendering.pop(key).set()
        return value

    def vendor_response(self, route: str, args: tuple, drift: str | None,
                        postponed: frozenset[int] = frozenset()) -> tuple[int, str, bytes]:
        now = self.now
        league = self.league

        def render() -> tuple[int, str, bytes]:
            if route == "nhl_schedule":
                start = now.astimezone(EASTERN).date() if args[0] == "now" \
                    else date.fromisoformat(args[0])
                body = render_nhl.render_schedule(league, now, start, postponed)
            elif route == "nhl_boxscore":
                body = render_nhl.render_boxscore(league, now, args[0], postponed)
                if body is None:
                    return 404, JSON, orjson.dumps({"error": "game not found",
                                                    "gameId": args[0]})
            elif route == "unabated":
                body = render_unabated.render_unabated(league, now, drift)
            elif route == "unabated_archive":
                return _archive_response(league, now, *args)
            elif route == "playnow_event_list":
                body = render_playnow.render_event_list(league, now, drift)
            elif route == "playnow_events":
                body = render_playnow.render_events_by_ids(league, now, list(args), drift)
            else:
                html = render_oddsshark.render_oddsshark(league, now, drift)
                return 200, HTML, html
            if drift and route in _NHL_RENAMES:
                body = body.replace(*_NHL_RENAMES[route], 1)
            return 200, JSON, body

        return self.cached((route, args, now, drift, postponed), render)


def _live_schedule(body: bytes) -> bytes:
    return body.replace(b'"gameState":"OFF"', b'"gameState":"LIVE"')


# The Unabated archive: the snapshots a machine that captured every day would have saved,
# served at <base>/archive/unabated/YYYY/MM/DD/<file> (raw-store names, UTC) with an
# index.json per day. Only the past: a snapshot later than the clock does not exist yet.
ARCHIVE_TIMES_ET = ((10, 0), (17, 30))  # the demo's morning and pre-game captures
ARCHIVE_PREFIX = "/archive/unabated"


def archive_snapshots(day: date, now: datetime) -> list[tuple[str, datetime]]:
    """(file name, capture time UTC) of the archive's snapshots of `day`, up to `now`."""
    out = []
    for hour, minute in ARCHIVE_TIMES_ET:
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN)
        at = at.astimezone(UTC)
        if at <= now and at.date() == day:
            out.append((f"{at:%H%M%S}_unabated_propodds.json", at))
    return out


def _archive_response(league: League, now: datetime, day_iso: str,
                      name: str) -> tuple[int, str, bytes]:
    snapshots = dict(archive_snapshots(date.fromisoformat(day_iso), now))
    if name == "index.json":
        return 200, JSON, orjson.dumps({"date": day_iso, "files": sorted(snapshots)})
    if name not in snapshots:
        return 404, JSON, orjson.dumps({"error": "no such snapshot", "file": name})
    return 200, JSON, render_unabated.render_unabated(league, snapshots[name], None)


_VENDOR_ROUTES = (
    (re.compile(ARCHIVE_PREFIX + r"/(\d{4})/(\d{2})/(\d{2})/([\w.]+)"), "unabated_archive"),
    (re.compile(r"/v1/schedule/(now|\d{4}-\d{2}-\d{2})"), "nhl_schedule"),
    (re.compile(r"/v1/gamecenter/(\d+)/boxscore"), "nhl_boxscore"),
    (re.compile(r"/markets/v2/league/6/propodds\.json"), "unabated"),
    (re.compile(r"/content-service/api/v1/q/event-list"), "playnow_event_list"),
    (re.compile(r"/content-service/api/v1/q/events-by-ids"), "playnow_events"),
    (re.compile(r"/nhl/odds/player-props/?"), "oddsshark"),
)


def _vendor_args(route: str, match: re.Match, query: dict[str, list[str]]) -> tuple:
    if route == "nhl_schedule":
        if match.group(1) != "now":
            try:
                date.fromisoformat(match.group(1))
            except ValueError as exc:
                raise BadRequest(f"bad date {match.group(1)!r}") from exc
        return (match.group(1),)
    if route == "nhl_boxscore":
        return (int(match.group(1)),)
    if route == "unabated_archive":
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            raise BadRequest(f"bad archive date in {match.group(0)!r}") from exc
        return (day.isoformat(), match.group(4))
    if route == "playnow_events":
        raw = ",".join(query.get("eventIds", []))
        try:
            return tuple(sorted({int(x) for x in raw.split(",") if x.strip()}))
        except ValueError as exc:
            raise BadRequest(f"eventIds must be integers, got {raw!r}") from exc
    return ()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nhl-props-demo-emulator/1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers (~40 ms a response on Linux), which made the
    # emulator, not the pipeline, most of a season load's time.
    disable_nagle_algorithm = True
    timeout = 30  # idle keep-alive connections are closed after this

    @property
    def emu(self) -> Emulator:
        return self.server.emulator  # type: ignore[attr-defined]

    def log_message(self, fmt: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), fmt % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header of every response, from the simulated clock: a real vendor's Date
        is its own present, and the capture compares it with the run's as-of."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return email.utils.format_datetime(self.emu.now, usegmt=True)

    # ---- plumbing ----
    def _send(self, status: int, content_type: str, body: bytes,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: object) -> None:
        self._send(status, JSON, orjson.dumps(obj))

    def _body_json(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"body is not JSON: {exc}") from exc

    def _drop(self) -> None:
        """Close the connection without a byte of response."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may be gone already
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        try:
            if path.startswith("/_emulator/"):
                self._control(path, query)
                return
            if self.command not in ("GET", "HEAD"):
                self._json(405, {"error": f"{self.command} not allowed on {path}"})
                return
            for pattern, route in _VENDOR_ROUTES:
                match = pattern.fullmatch(path)
                if match:
                    self._vendor(route, _vendor_args(route, match, query))
                    return
            raise NotFound(path)
        except NotFound:
            self._json(404, {"error": "not found", "path": path})
        except BadRequest as exc:
            self._json(400, {"error": str(exc)})

    do_GET = do_POST = do_DELETE = do_HEAD = _dispatch

    # ---- vendor routes ----
    def _vendor(self, route: str, args: tuple) -> None:
        fault = self.emu.faults.take(route)
        if fault is None:
            self._send(*self.emu.vendor_response(route, args, None))
            return
        log.info("fault %s on %s", fault.kind, route)
        kind = fault.kind
        if kind == "latency":
            time.sleep(fault.latency_ms / 1000)
            self._send(*self.emu.vendor_response(route, args, None))
        elif kind == "status":
            self._json(fault.status, {"error": f"injected status {fault.status}"})
        elif kind == "rate_limit":
            self._send(429, JSON, orjson.dumps({"error": "rate limited"}),
                       {"Retry-After": str(fault.retry_after)})
        elif kind == "drop":
            self._drop()
        elif kind == "empty":
            _, content_type, _ = self.emu.vendor_response(route, args, None)
            self._send(200, content_type, b"")
        elif kind == "schema_drift":
            self._send(*self.emu.vendor_response(route, args, fault.drift_for(route)))
        elif kind == "live":
            self._send(*self.emu.live_response(route, args))
        elif kind == "postponed":
            self._send(*self.emu.vendor_response(route, args, None,
                                                 self.emu.postponed_games(route)))
        elif kind in ("drip", "bomb", "redirect", "wedge"):
            self._hostile(kind, route, args)
        elif kind == "absurd_price":
            status, content_type, body = self.emu.vendor_response(route, args, None)
            self._send(status, content_type, absurd_prices(body))
        else:
            _, content_type, body = self.emu.vendor_response(route, args, None)
            broken = malformed_body(body, content_type) if kind == "malformed" \
                else truncated_body(body)
            self._send(200, content_type, broken)

    def _hostile(self, kind: str, route: str, args: tuple) -> None:
        """What a hostile proxy does (faults.py): drip, bomb, redirect elsewhere, wedge."""
        status, content_type, body = self.emu.vendor_response(route, args, None)
        if kind == "wedge":
            self._send(status, content_type, wedged_page(body))
        elif kind == "bomb":
            self._send(200, content_type, gzip_bomb(), {"Content-Encoding": "gzip"})
        elif kind == "redirect":
            elsewhere = f"http://localhost:{self.emu.port}{self.path}"
            self._send(302, JSON, b"", {"Location": elsewhere})
        else:  # drip: no Content-Length, one byte at a time until the client hangs up
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            with contextlib.suppress(OSError):
                for byte in body:
                    self.wfile.write(bytes((byte,)))
                    self.wfile.flush()
                    time.sleep(DRIP_INTERVAL_S)

    # ---- control routes ----
    def _control(self, path: str, query: dict[str, list[str]]) -> None:
        emu = self.emu
        if path == "/_emulator/clock":
            if self.command == "POST":
                body = self._body_json()
                if not isinstance(body, dict) or not isinstance(body.get("now"), str):
                    raise BadRequest('POST {"now": "<ISO 8601 time>"}')
                try:
                    emu.set_clock(parse_time(body["now"]))
                except ValueError as exc:
                    raise BadRequest(f"bad time {body['now']!r}: {exc}") from exc
            elif self.command != "GET":
                raise BadRequest("GET or POST /_emulator/clock")
            self._json(200, {"now": iso_z(emu.now)})
            return
        if path == "/_emulator/faults":
            if self.command == "POST":
                body = self._body_json()
                try:
                    for item in body if isinstance(body, list) else [body]:
                        emu.add_fault(parse_fault(item))
                except ValueError as exc:
                    raise BadRequest(str(exc)) from exc
            elif self.command == "DELETE":
                emu.faults.clear(query.get("route", [None])[0])
            self._json(200, {"faults": [f.to_json() for f in emu.faults.active()]})
            return
        if path == "/_emulator/health":
            self._json(200, {"ok": True, "seed": emu.league.seed, "now": iso_z(emu.now)})
            return
        if path.startswith("/_emulator/truth/"):
            self._send(200, JSON, self._truth(path.removeprefix("/_emulator/truth/"), query))
            return
        raise NotFound(path)

    def _truth(self, rest: str, query: dict[str, list[str]]) -> bytes:
        emu = self.emu
        league, now, postponed = emu.league, emu.now, emu.postponed_games()
        parts = rest.strip("/").split("/")
        if parts == ["players"]:
            return emu.cached(("truth_players",), lambda: (200, JSON,
                                                           truth.players_json(league)))[2]
        if parts == ["books"]:
            return truth.books_json()
        if parts == ["games"]:
            raw = query.get("date", [None])[0]
            try:
                day = date.fromisoformat(raw) if raw else None
            except ValueError as exc:
                raise BadRequest(f"bad date {raw!r}") from exc
            return truth.games_json(league, now, day, postponed)
        if len(parts) == 2 and parts[0] in ("games", "probabilities", "quotes"):
            try:
                game = league.game_by_id[int(parts[1])]
            except (ValueError, KeyError) as exc:
                raise NotFound(rest) from exc
            if parts[0] == "games":
                return truth.game_json(league, now, game, postponed)
            if parts[0] == "probabilities":
                return truth.probabilities_json(league, game)
            books = [b for raw in query.get("book", []) for b in raw.split(",") if b]
            if any(b not in truth.BOOK_BY_KEY for b in books):
                raise BadRequest(f"unknown book in {books}; see /_emulator/truth/books")
            return truth.quotes_json(league, now, game, books)
        raise NotFound(rest)


def main(argv: list[str] | None = None) -> int:
    """CLI: serve the emulator until SIGINT/SIGTERM; print the base URL on one line."""
    parser = argparse.ArgumentParser(prog="emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--port", type=int, default=0, help="0 = an ephemeral port")
    parser.add_argument("--season-start", type=date.fromisoformat,
                        default=DEFAULT_SEASON_START, help="YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--now", type=parse_time, default=None,
                        help="initial simulated clock, ISO 8601 (default: day 30, 15:00Z)")
    args = parser.parse_args(argv)
    if args.days < 1 or not 0 <= args.port <= 65535:
        parser.error("--days must be >= 1 and --port in 0..65535")
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Emulator(args.seed, args.season_start, args.days, args.port, args.now) as emu:
            sys.stdout.write(emu.base_url + "\n")
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
