"""The emulator over HTTP: routes, clock, fault injection, truth endpoints, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import requests

from helpers.demo.server import Emulator

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

PATHS = {
    "unabated": "/markets/v2/league/6/propodds.json",
    "playnow_event_list": "/content-service/api/v1/q/event-list?eventSortsIncluded=MTCH,TNMT"
                          "&includeChildMarkets=true&drilldownTagIds=220&lang=en-US&channel=I",
    "playnow_events": "/content-service/api/v1/q/events-by-ids?eventIds={ids}"
                      "&includeChildMarkets=true&lang=en-US&channel=I",
    "oddsshark": "/nhl/odds/player-props",
    "nhl_schedule": "/v1/schedule/{date}",
    "nhl_boxscore": "/v1/gamecenter/{game}/boxscore",
}
TIMEOUT = 30


def _url(emu: Emulator, route: str) -> str:
    now = emu.now
    game = next(g for g in emu.league.games if g.start_utc < now)
    upcoming = [4_000_000 + g.game_id % 10_000 for g in emu.league.games
                if now < g.start_utc < now + timedelta(hours=30)][:2]
    path = PATHS[route].format(ids=",".join(map(str, upcoming)), date=now.date().isoformat(),
                               game=game.game_id)
    return emu.base_url + path


def _get(emu: Emulator, route: str) -> requests.Response:
    return requests.get(_url(emu, route), timeout=TIMEOUT)


def test_binds_loopback_only(emu):
    assert emu.base_url.startswith("http://127.0.0.1:")
    assert emu._server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize("route", list(PATHS))
def test_vendor_routes_serve(emu, route):
    r = _get(emu, route)
    assert r.status_code == 200
    if route == "oddsshark":
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.text.rstrip().endswith("</html>")
    else:
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()
    again = _get(emu, route)
    assert again.content == r.content


def test_schedule_now_is_the_et_date_of_the_clock(emu):
    emu.set_clock(datetime(2025, 11, 7, 3, 0, tzinfo=UTC))  # 10 PM ET on Nov 6
    week = requests.get(emu.base_url + "/v1/schedule/now", timeout=TIMEOUT).json()
    assert week["gameWeek"][0]["date"] == "2025-11-06"


@pytest.mark.parametrize("route", ["unabated", "oddsshark", "nhl_boxscore", "playnow_events"])
def test_date_header_is_the_emulators_clock_not_the_wall_clock(emu, route):
    """A real vendor stamps Date from its own clock; the capture compares it with the run's
    as-of, so the emulator must stamp its simulated clock, seconds included."""
    for moment in (datetime(2025, 11, 7, 3, 0, 17, tzinfo=UTC),
                   datetime(2025, 12, 24, 22, 45, 59, tzinfo=UTC)):
        emu.set_clock(moment)
        response = _get(emu, route)
        assert response.status_code == 200
        assert response.headers["Date"] == format_datetime(moment, usegmt=True)
        assert parsedate_to_datetime(response.headers["Date"]) == moment
    emu.set_fault("unabated", "status", status=503)
    failed = _get(emu, "unabated")
    assert failed.status_code == 503 and failed.headers["Date"] == format_datetime(
        emu.now, usegmt=True)
    control = requests.get(emu.base_url + "/_emulator/health", timeout=TIMEOUT)
    assert control.headers["Date"] == format_datetime(emu.now, usegmt=True)


def test_unknown_and_bad_requests(emu):
    r = requests.get(emu.base_url + "/v2/nothing", timeout=TIMEOUT)
    assert r.status_code == 404 and r.json()["error"] == "not found"
    assert requests.get(emu.base_url + "/v1/gamecenter/1/boxscore",
                        timeout=TIMEOUT).status_code == 404
    assert requests.get(emu.base_url + "/v1/schedule/2025-13-45",
                        timeout=TIMEOUT).status_code == 400
    r = requests.post(emu.base_url + "/_emulator/clock", json={"now": "yesterday"},
                      timeout=TIMEOUT)
    assert r.status_code == 400
    r = requests.post(emu.base_url + "/_emulator/faults", json={"route": "x", "kind": "drop"},
                      timeout=TIMEOUT)
    assert r.status_code == 400 and "route" in r.json()["error"]


def test_clock_endpoint_drives_game_states(emu):
    game = emu.league.games[120]
    for offset, state in ((-timedelta(minutes=5), "FUT"), (timedelta(minutes=5), "LIVE"),
                          (timedelta(hours=3), "OFF")):
        now = (game.start_utc + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = requests.post(emu.base_url + "/_emulator/clock", json={"now": now}, timeout=TIMEOUT)
        assert r.json() == {"now": now}
        assert requests.get(emu.base_url + "/_emulator/clock", timeout=TIMEOUT).json()["now"] == now
        box = requests.get(f"{emu.base_url}/v1/gamecenter/{game.game_id}/boxscore",
                           timeout=TIMEOUT).json()
        assert box["gameState"] == state
        week = requests.get(f"{emu.base_url}/v1/schedule/{game.slate_date}",
                            timeout=TIMEOUT).json()
        states = {g["id"]: g["gameState"] for g in week["gameWeek"][0]["games"]}
        assert states[game.game_id] == state


def _fault(emu: Emulator, **fault) -> None:
    r = requests.post(emu.base_url + "/_emulator/faults", json=fault, timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def test_status_and_rate_limit_faults(emu):
    _fault(emu, route="nhl_schedule", kind="status", status=503, count=1)
    assert _get(emu, "nhl_schedule").status_code == 503
    assert _get(emu, "nhl_schedule").status_code == 200  # count 1: cleared
    _fault(emu, route="unabated", kind="rate_limit", retry_after=7, count=2)
    for _ in range(2):
        r = _get(emu, "unabated")
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert _get(emu, "unabated").status_code == 200


def test_latency_fault(emu):
    _get(emu, "nhl_boxscore")  # warm the cache
    _fault(emu, route="nhl_boxscore", kind="latency", latency_ms=400, count=1)
    start = time.perf_counter()
    r = _get(emu, "nhl_boxscore")
    assert r.status_code == 200 and time.perf_counter() - start >= 0.4
    with pytest.raises(requests.Timeout):
        _fault(emu, route="nhl_boxscore", kind="latency", latency_ms=1500, count=1)
        requests.get(_url(emu, "nhl_boxscore"), timeout=0.3)


def test_drop_fault_raises_connection_error(emu):
    _fault(emu, route="oddsshark", kind="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        _get(emu, "oddsshark")
    assert _get(emu, "oddsshark").status_code == 200


@pytest.mark.parametrize("route", ["playnow_event_list", "oddsshark", "nhl_schedule"])
def test_body_faults(emu, route):
    good = _get(emu, route)
    _fault(emu, route=route, kind="empty", count=1)
    r = _get(emu, route)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Type"] == good.headers["Content-Type"]
    _fault(emu, route=route, kind="truncated", count=1)
    r = _get(emu, route)
    assert r.status_code == 200 and r.content == good.content[: len(good.content) // 2]
    _fault(emu, route=route, kind="malformed", count=1)
    r = _get(emu, route)
    assert r.status_code == 200 and r.headers["Content-Type"] == good.headers["Content-Type"]
    if route == "oddsshark":
        from selectolax.lexbor import LexborHTMLParser

        assert r.content != good.content
        assert LexborHTMLParser(r.text).css(".tab-group.foil .button--tab-primary") == []
    else:
        with pytest.raises(ValueError):
            json.loads(r.content)
        with pytest.raises(ValueError):
            json.loads(good.content[: len(good.content) // 2])
    assert _get(emu, route).content == good.content


def test_schema_drift_faults(emu):
    _fault(emu, route="unabated", kind="schema_drift", count=1)
    assert "bookSources" in _get(emu, "unabated").json()
    _fault(emu, route="unabated", kind="schema_drift", drift="unknown_bet_type", count=1)
    props = _get(emu, "unabated").json()["odds"]["lg6:pt1:pregame"]
    assert any(p["betTypeId"] == 999 for p in props)
    _fault(emu, route="playnow_event_list", kind="schema_drift", count=1)
    assert "eventList" in _get(emu, "playnow_event_list").json()["data"]
    _fault(emu, route="oddsshark", kind="schema_drift", count=1)
    html = _get(emu, "oddsshark").text
    assert html.count("button--tab-primary") == html.count("player-props--container tab") + 1
    _fault(emu, route="nhl_schedule", kind="schema_drift", count=1)
    assert "gameWeeks" in _get(emu, "nhl_schedule").json()
    _fault(emu, route="nhl_boxscore", kind="schema_drift", count=1)
    assert "playerByGameStats" not in _get(emu, "nhl_boxscore").json()
    assert "marketSources" in _get(emu, "unabated").json()  # all cleared


def test_persistent_and_wildcard_faults(emu):
    _fault(emu, route="*", kind="status", status=502)
    for route in ("unabated", "oddsshark", "nhl_boxscore"):
        assert _get(emu, route).status_code == 502
    listed = requests.get(emu.base_url + "/_emulator/faults", timeout=TIMEOUT).json()["faults"]
    assert listed == [{"route": "*", "kind": "status", "count": None, "latency_ms": 0,
                       "status": 502, "retry_after": 1, "drift": None, "game_id": None}]
    # control endpoints are never faulted
    assert requests.get(emu.base_url + "/_emulator/clock", timeout=TIMEOUT).status_code == 200
    r = requests.delete(emu.base_url + "/_emulator/faults", timeout=TIMEOUT)
    assert r.json() == {"faults": []}
    assert _get(emu, "unabated").status_code == 200


def test_set_fault_api(emu):
    emu.set_fault("playnow_events", "status", count=1, status=500)
    assert _get(emu, "playnow_events").status_code == 500
    assert _get(emu, "playnow_events").status_code == 200
    with pytest.raises(ValueError):
        emu.set_fault("unabated", "schema_drift", drift="extra_tab")


def test_truth_endpoints_agree_with_vendor_payloads(emu):
    base = emu.base_url
    players = requests.get(base + "/_emulator/truth/players", timeout=TIMEOUT).json()
    ahos = [p for p in players["players"] if p["name"] == "Sebastian Aho"]
    assert len(ahos) == 2 and ahos[0]["unabated_person_id"] != ahos[1]["unabated_person_id"]
    assert {p["team_history"][0]["team"] for p in ahos} == {"CAR", "NYI"}
    assert players["trade"]["player_ids"]
    game = emu.league.games[90]
    emu.set_clock(game.end_utc + timedelta(hours=1))
    truth = requests.get(f"{base}/_emulator/truth/games/{game.game_id}", timeout=TIMEOUT).json()
    box = requests.get(f"{base}/v1/gamecenter/{game.game_id}/boxscore", timeout=TIMEOUT).json()
    assert (truth["away_score"], truth["home_score"]) == (box["awayTeam"]["score"],
                                                          box["homeTeam"]["score"])
    dressed = {s["player_id"]: (s["goals"], s["assists"], s["sog"], s["blocks"])
               for s in truth["skaters"] if s["dressed"]}
    boxed = {p["playerId"]: (p["goals"], p["assists"], p["sog"], p["blockedShots"])
             for side in ("awayTeam", "homeTeam")
             for grp in ("forwards", "defense") for p in box["playerByGameStats"][side][grp]}
    assert dressed == boxed
    day = requests.get(f"{base}/_emulator/truth/games?date={game.slate_date}",
                       timeout=TIMEOUT).json()
    assert game.game_id in {g["game_id"] for g in day["games"]}
    probs = requests.get(f"{base}/_emulator/truth/probabilities/{game.game_id}",
                         timeout=TIMEOUT).json()
    sog = probs["players"][0]["markets"]["SOG"]
    assert sog["p_at_least"][0] == 1.0 and sog["p_at_least"] == sorted(sog["p_at_least"],
                                                                         reverse=True)
    emu.set_clock(game.start_utc - timedelta(hours=6))
    quotes = requests.get(f"{base}/_emulator/truth/quotes/{game.game_id}?book=pinnacle",
                          timeout=TIMEOUT).json()["quotes"]
    assert quotes and {q["book"] for q in quotes} == {"pinnacle"}
    books = requests.get(f"{base}/_emulator/truth/books", timeout=TIMEOUT).json()["books"]
    assert {"pinnacle", "draftkings", "underdog", "playnow"} <= {b["key"] for b in books}


def test_cli_prints_url_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from helpers.demo.server import main; "
         "sys.exit(main(sys.argv[1:]))", "--seed", "3", "--port", "0", "--days", "10",
         "--now", "2025-10-10T15:00:00Z"],
        stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:")
        health = requests.get(line + "/_emulator/health", timeout=TIMEOUT).json()
        assert health == {"ok": True, "seed": 3, "now": "2025-10-10T15:00:00Z"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_two_emulators_same_seed_same_bytes():
    now = datetime(2025, 10, 20, 15, tzinfo=UTC)
    bodies = []
    for seed in (5, 5, 6):
        with Emulator(seed=seed, days=20, now=now) as emu:
            bodies.append([_get(emu, r).content for r in ("nhl_schedule", "playnow_event_list",
                                                          "oddsshark")])
    assert bodies[0] == bodies[1]
    assert all(a != b for a, b in zip(bodies[0], bodies[2], strict=True))


def test_postponed_fault_renders_ppd_and_the_truth_says_so(emu):
    """A postponed game, as api-web shows one: in the schedule on its date and in its
    boxscore, gameState FUT and gameScheduleState PPD, no score and no player stats, even
    after its start; the vendors keep listing it (a board captured before the
    announcement); the truth says it was postponed. The other games are untouched."""
    game = emu.league.games[90]
    other = next(g for g in emu.league.games_on(game.slate_date) if g is not game)
    emu.set_clock(game.end_utc + timedelta(hours=1))
    _fault(emu, route="nhl_schedule", kind="postponed", game_id=game.game_id)
    _fault(emu, route="nhl_boxscore", kind="postponed", game_id=game.game_id)
    base = emu.base_url
    week = requests.get(f"{base}/v1/schedule/{game.slate_date}", timeout=TIMEOUT).json()
    listed = {g["id"]: g for g in week["gameWeek"][0]["games"]}
    assert (listed[game.game_id]["gameState"], listed[game.game_id]["gameScheduleState"]) == (
        "FUT", "PPD")
    assert "score" not in listed[game.game_id]["homeTeam"]
    assert (listed[other.game_id]["gameState"], listed[other.game_id]["gameScheduleState"]) == (
        "OFF", "OK")
    box = requests.get(f"{base}/v1/gamecenter/{game.game_id}/boxscore", timeout=TIMEOUT).json()
    assert (box["gameState"], box["gameScheduleState"]) == ("FUT", "PPD")
    assert "playerByGameStats" not in box and "score" not in box["awayTeam"]
    assert box["gameDate"] == game.slate_date.isoformat()
    other_box = requests.get(f"{base}/v1/gamecenter/{other.game_id}/boxscore",
                             timeout=TIMEOUT).json()
    assert other_box["gameState"] == "OFF" and "playerByGameStats" in other_box

    truth = requests.get(f"{base}/_emulator/truth/games/{game.game_id}", timeout=TIMEOUT).json()
    assert truth["postponed"] is True and truth["schedule_state"] == "PPD"
    day = requests.get(f"{base}/_emulator/truth/games?date={game.slate_date}",
                       timeout=TIMEOUT).json()["games"]
    assert {g["game_id"] for g in day if g["postponed"]} == {game.game_id}

    # the odds vendors still list the game's props
    emu.set_clock(game.start_utc - timedelta(hours=6))
    unabated = requests.get(base + PATHS["unabated"], timeout=TIMEOUT).json()
    events = {p["eventId"] for props in unabated["odds"].values() for p in props}
    from helpers.demo import render_unabated
    assert render_unabated.event_id(game) in events

    # only an NHL route can postpone, and only a game of the league
    r = requests.post(base + "/_emulator/faults",
                      json={"route": "unabated", "kind": "postponed"}, timeout=TIMEOUT)
    assert r.status_code == 400
    with pytest.raises(ValueError):
        emu.set_fault("nhl_schedule", "postponed", game_id=1)

    emu.clear_faults()  # the fault gone, the game is played as simulated
    emu.set_clock(game.end_utc + timedelta(hours=1))
    box = requests.get(f"{base}/v1/gamecenter/{game.game_id}/boxscore", timeout=TIMEOUT).json()
    assert (box["gameState"], box["gameScheduleState"]) == ("OFF", "OK")


def test_absurd_price_fault_rewrites_ten_unabated_goals_overs_and_nothing_else(emu):
    """Ten GOALS overs, DraftKings' (ms1) main price of the first ten GOALS props, served at
    americanPrice 100000 (price and sourcePrice alike); every other price, alternate line,
    prop and key exactly as the clean board."""
    clean = _get(emu, "unabated").json()
    _fault(emu, route="unabated", kind="absurd_price", count=1)
    absurd = _get(emu, "unabated").json()
    assert _get(emu, "unabated").json() == clean  # count 1: cleared

    def prices(board: dict) -> dict:
        out = {}
        for group, props in board["odds"].items():
            for i, prop in enumerate(props):
                for side, books in prop["sides"].items():
                    for ms, price in books.items():
                        out[(group, i, side, ms)] = price
        return out

    before, after = prices(clean), prices(absurd)
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert len(changed) == 10
    props = clean["odds"]["lg6:pt1:pregame"]
    for group, i, side, ms in changed:
        assert props[i]["betTypeId"] == 129 and side.startswith("si0:") and ms == "ms1"
        was, now = before[(group, i, side, ms)], after[(group, i, side, ms)]
        assert now["americanPrice"] == now["price"] == now["sourcePrice"] == 100000
        assert now["alternateLines"] == was["alternateLines"]
        assert {k: v for k, v in now.items() if k not in ("americanPrice", "price",
                                                           "sourcePrice")} == \
            {k: v for k, v in was.items() if k not in ("americanPrice", "price",
                                                       "sourcePrice")}
    # the first ten GOALS props DraftKings prices, one each
    first_ten = [i for i, p in enumerate(props) if p["betTypeId"] == 129
                 and p["sides"][f"si0:pid{p['personId']}"].get("ms1", {}).get("americanPrice")
                 is not None][:10]
    assert sorted(i for _, i, _, _ in changed) == first_ten
    for key in ("people", "marketSources", "teams"):
        assert absurd[key] == clean[key]
    # only the Unabated board can carry it
    r = requests.post(emu.base_url + "/_emulator/faults",
                      json={"route": "oddsshark", "kind": "absurd_price"}, timeout=TIMEOUT)
    assert r.status_code == 400


def test_hostile_kinds_look_as_a_hostile_proxy_would_make_them(emu):
    """The fault matrix's hostile kinds, seen from a plain client: a redirect to another host
    name of this server, a gzip body that expands far past its size on the wire, a body that
    arrives a byte at a time, and the OddsShark page with 200,000 unclosed <div>."""
    import zlib

    from helpers.demo.faults import BOMB_BYTES, WEDGE_DIVS, parse_fault

    clean = _get(emu, "oddsshark").content
    try:
        _fault(emu, route="unabated", kind="redirect", count=1)
        moved = requests.get(_url(emu, "unabated"), timeout=TIMEOUT, allow_redirects=False)
        assert moved.status_code == 302
        assert moved.headers["Location"].startswith(f"http://localhost:{emu.port}/markets/")

        _fault(emu, route="oddsshark", kind="bomb", count=1)
        bomb = requests.get(_url(emu, "oddsshark"), timeout=TIMEOUT, stream=True)
        assert bomb.headers["Content-Encoding"] == "gzip"
        wire = bomb.raw.read(decode_content=False)
        assert len(wire) < 2 * 1024 ** 2
        assert len(zlib.decompressobj(31).decompress(wire, 64 * 1024 ** 2)) == 64 * 1024 ** 2
        assert BOMB_BYTES == 1024 ** 3  # what the whole body expands to

        _fault(emu, route="oddsshark", kind="drip", count=1)
        drip = requests.get(_url(emu, "oddsshark"), timeout=TIMEOUT, stream=True)
        assert "Content-Length" not in drip.headers
        assert drip.raw.read(3) == clean[:3]  # a byte at a time, but the real page
        drip.close()

        _fault(emu, route="oddsshark", kind="wedge", count=1)
        wedged = _get(emu, "oddsshark").content
        assert wedged.count(b"<div>") - clean.count(b"<div>") == WEDGE_DIVS
        assert wedged.endswith(clean[-200:])
    finally:
        emu.clear_faults()
    with pytest.raises(ValueError, match="applies to"):
        parse_fault({"route": "unabated", "kind": "wedge"})


def test_prefetch_renders_the_boards_of_a_new_clock_with_the_same_bytes(league):
    """The demo's emulator renders a new clock's boards ahead, as a real vendor has them
    ready: the bytes served are those of an emulator that renders on request."""
    now = datetime(2025, 10, 20, 15, tzinfo=UTC)
    with Emulator(seed=league.seed, days=20, now=now, prefetch=True) as fetching, \
            Emulator(seed=league.seed, days=20, now=now) as plain:
        later = now + timedelta(hours=3)
        fetching.set_clock(later)
        plain.set_clock(later)
        deadline = time.monotonic() + 60
        while len(fetching._cache) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(key[0] for key in fetching._cache) == sorted(
            ["unabated", "oddsshark", "playnow_event_list"])
        assert all(key[2] == later for key in fetching._cache)
        for route in ("unabated", "oddsshark", "playnow_event_list"):
            assert _get(fetching, route).content == _get(plain, route).content


def test_a_response_being_rendered_is_rendered_once_for_every_request_waiting_on_it(emu):
    import threading

    calls: list[int] = []
    started = threading.Event()

    def slow_render():
        calls.append(1)
        started.set()
        time.sleep(0.3)
        return 200, "text/plain", b"x"

    key = ("test-route", (), emu.now, None, frozenset())
    results = []
    threads = [threading.Thread(target=lambda: results.append(emu.cached(key, slow_render)))
               for _ in range(4)]
    threads[0].start()
    started.wait(5)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1
    assert results == [(200, "text/plain", b"x")] * 4


def test_a_failed_render_is_not_cached_and_the_next_request_renders_again(emu):
    attempts: list[int] = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("render failed")
        return 200, "text/plain", b"ok"

    key = ("test-flaky", (), emu.now, None, frozenset())
    with pytest.raises(RuntimeError):
        emu.cached(key, flaky)
    assert emu.cached(key, flaky) == (200, "text/plain", b"ok")
    assert len(attempts) == 2
