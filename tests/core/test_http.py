"""The HTTP client against a real local server (pytest-httpserver on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from helpers.core.errors import VendorError
from helpers.core.http import MIB, VendorClient, http_date, redact_url, retry_after_seconds
from helpers.core.settings import load_settings


def _client(httpserver: HTTPServer, sleeps: list[float], **env: str) -> VendorClient:
    settings = load_settings({"UNABATED_BASE_URL": httpserver.url_for("").rstrip("/"),
                              "HTTP_BACKOFF_SECONDS": "0.5", **env})
    return VendorClient(settings, "UNABATED", run_id="r1", sleep=sleeps.append)


def test_success_returns_exact_bytes_and_logs_one_attempt(httpserver: HTTPServer) -> None:
    body = b'{"b": 1,  "a": [1, 2]}\n'
    httpserver.expect_request("/markets/v2/league/6/propodds.json").respond_with_data(body)
    sleeps: list[float] = []
    client = _client(httpserver, sleeps)
    assert client.get("propodds", "/markets/v2/league/6/propodds.json") == body
    (attempt,) = client.attempts
    assert attempt.status_code == 200 and attempt.attempt == 1 and attempt.bytes == len(body)
    assert attempt.error is None and attempt.run_id == "r1" and attempt.vendor == "UNABATED"
    assert sleeps == []


def test_retries_5xx_with_exponential_backoff_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/x").respond_with_data("busy", status=502)
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    sleeps: list[float] = []
    client = _client(httpserver, sleeps)
    assert client.get("x", "/x") == b"ok"
    assert [a.status_code for a in client.attempts] == [503, 502, 200]
    assert [a.attempt for a in client.attempts] == [1, 2, 3]
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_max_attempts_with_a_typed_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("down", status=500)
    sleeps: list[float] = []
    client = _client(httpserver, sleeps)
    with pytest.raises(VendorError, match=r"UNABATED x: HTTP 500 after 3 attempt"):
        client.get("x", "/x")
    assert len(client.attempts) == 3 and len(sleeps) == 2


def test_429_honours_retry_after_with_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "120"}))
    httpserver.expect_ordered_request("/x").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "2"}))
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    sleeps: list[float] = []
    client = _client(httpserver, sleeps, HTTP_RETRY_AFTER_CAP_SECONDS="7")
    assert client.get("x", "/x") == b"ok"
    assert sleeps == [7.0, 2.0]


def test_404_is_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("nope", status=404)
    sleeps: list[float] = []
    client = _client(httpserver, sleeps)
    with pytest.raises(VendorError, match="HTTP 404 after 1 attempt"):
        client.get("x", "/x")
    assert len(client.attempts) == 1 and sleeps == []


def test_connection_refused_is_retried_and_logged() -> None:
    settings = load_settings({"UNABATED_BASE_URL": "http://127.0.0.1:9",  # discard port
                              "HTTP_BACKOFF_SECONDS": "0"})
    client = VendorClient(settings, "UNABATED", sleep=lambda s: None)
    with pytest.raises(VendorError, match="ConnectionError"):
        client.get("x", "/x")
    assert [a.status_code for a in client.attempts] == [None, None, None]
    assert all("ConnectionError" in a.error for a in client.attempts)


def test_forced_failure_travels_the_request_path(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    sleeps: list[float] = []
    client = _client(httpserver, sleeps, FORCE_UNABATED_FAILURE="1")
    with pytest.raises(VendorError, match="forced failure"):
        client.get("x", "/x")
    assert len(client.attempts) == 3 and len(httpserver.log) == 0  # never reached the server
    other = VendorClient(load_settings({"FORCE_VENDOR_FAILURE": "PLAYNOW",
                                        "UNABATED_BASE_URL": httpserver.url_for("/")[:-1]}),
                         "UNABATED", sleep=sleeps.append)
    assert other.get("x", "/x") == b"ok"


def test_secrets_never_reach_the_log(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("nope", status=403)
    sleeps: list[float] = []
    client = _client(httpserver, sleeps, PLAYNOW_COOKIE="sessid=abc123secret")
    with pytest.raises(VendorError) as info:
        client.get("x", "/x", params={"api_key": "k-999", "q": "sessid=abc123secret"})
    logged = repr(client.attempts) + str(info.value)
    assert "k-999" not in logged and "abc123secret" not in logged
    assert "api_key=***" in client.attempts[0].url_redacted


def test_redact_url_and_retry_after_parsing() -> None:
    assert redact_url("http://h/p?token=t1&x=1") == "http://h/p?token=***&x=1"
    assert retry_after_seconds("5", cap=30) == 5
    assert retry_after_seconds("500", cap=30) == 30
    assert retry_after_seconds("garbage", cap=30) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", cap=30) == 0.0


class _DatedHandler(BaseHTTPRequestHandler):
    """Answers every GET with b"board" and exactly the Date header it is given (none when
    None): pytest-httpserver's werkzeug always adds a second, wall-clock Date."""

    date: str | None = None

    def do_GET(self) -> None:
        self.send_response_only(200)
        if self.date is not None:
            self.send_header("Date", self.date)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"board")

    def log_message(self, fmt: str, *args: object) -> None:
        pass


@contextmanager
def dated_server(date: str | None) -> Iterator[str]:
    with local_server(type("Handler", (_DatedHandler,), {"date": date})) as url:
        yield url


@contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded server on 127.0.0.1 (one thread per request, unlike pytest-httpserver)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_server_clock_check_sees_the_date_header_and_its_refusal_is_not_retried() -> None:
    seen: list[tuple[str, datetime | None]] = []

    def refuse(endpoint: str, server_now: datetime | None) -> str | None:
        seen.append((endpoint, server_now))
        return "UNABATED x: the vendor's clock is a year off"

    sleeps: list[float] = []
    logged: list = []
    with dated_server("Fri, 04 Dec 2026 16:20:05 GMT") as url:
        settings = load_settings({"UNABATED_BASE_URL": url})
        client = VendorClient(settings, "UNABATED", run_id="r1", sleep=sleeps.append,
                              check_server_clock=refuse, on_attempt=logged.append)
        with pytest.raises(VendorError, match=r"^UNABATED x: the vendor's clock is a year off$"):
            client.get("x", "/x")
        client.close()
    assert seen == [("x", datetime(2026, 12, 4, 16, 20, 5))]
    (attempt,) = client.attempts
    assert logged == [attempt]  # the refusal reaches the fetch log as it happens
    assert attempt.status_code == 200 and attempt.bytes == len(b"board")
    assert attempt.error == "UNABATED x: the vendor's clock is a year off"
    assert sleeps == []


@pytest.mark.parametrize("date_header", [None, "not a date", "Fri, 99 Foo 2026 99:99:99 GMT"])
def test_a_missing_or_unreadable_date_reaches_the_check_as_none(date_header: str | None) -> None:
    seen: list[datetime | None] = []
    with dated_server(date_header) as url:
        client = VendorClient(load_settings({"UNABATED_BASE_URL": url}), "UNABATED",
                              check_server_clock=lambda endpoint, now: seen.append(now))
        assert client.get("x", "/x") == b"board"
        client.close()
    assert seen == [None] and client.attempts[0].error is None


def test_http_date_reads_rfc_7231_and_its_obsolete_forms() -> None:
    expected = datetime(1994, 11, 6, 8, 49, 37)
    assert http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected
    assert http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected
    assert http_date("Sun Nov  6 08:49:37 1994") == expected
    assert http_date("Sun, 06 Nov 1994 09:49:37 +0100") == expected
    # a repeated header arrives joined by a comma: the first value is read
    assert http_date("Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT") == expected
    assert http_date(None) is None and http_date("") is None and http_date("soon") is None


# ---- hostile servers: every attempt is bounded in time, size and where it goes ----


def test_a_dripped_body_is_cut_at_the_total_deadline_and_retried() -> None:
    """One byte every 50 ms never trips a 5 s read timeout; the attempt's total deadline
    ends it, and the next attempt gets the same bound."""
    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                for _ in range(400):  # 20 s if nothing stopped it
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:  # the client hung up: what the deadline is for
                pass

        def log_message(self, fmt: str, *args: object) -> None:
            pass

    with local_server(Drip) as url:
        settings = load_settings({"UNABATED_BASE_URL": url, "HTTP_BACKOFF_SECONDS": "0",
                                  "HTTP_READ_TIMEOUT_SECONDS": "5",
                                  "HTTP_TOTAL_DEADLINE_SECONDS": "1", "HTTP_MAX_ATTEMPTS": "2"})
        client = VendorClient(settings, "UNABATED")
        started = time.monotonic()
        with pytest.raises(VendorError, match=r"DeadlineExceeded.*after 2 attempt"):
            client.get("x", "/x")
        client.close()
    assert time.monotonic() - started < 6  # two attempts of ~1 s, not 2 x 20 s
    assert [a.attempt for a in client.attempts] == [1, 2]
    assert all("total deadline" in (a.error or "") for a in client.attempts)
    assert all(a.status_code == 200 and 0 < (a.bytes or 0) < 100 for a in client.attempts)


def test_a_gzip_bomb_is_refused_before_it_is_expanded(httpserver: HTTPServer) -> None:
    """128 MiB of zeros sent as ~128 KB of gzip, against a 1 MiB cap: refused after about a
    chunk beyond the cap, never held whole in memory, and not retried."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    bomb = b"".join(squeeze.compress(b"\0" * MIB) for _ in range(128)) + squeeze.flush()
    assert len(bomb) < MIB
    httpserver.expect_request("/x").respond_with_data(
        bomb, content_type="application/json", headers={"Content-Encoding": "gzip"})
    client = _client(httpserver, [], UNABATED_MAX_BODY_MB="1")
    tracemalloc.start()
    try:
        with pytest.raises(VendorError, match=r"passed UNABATED_MAX_BODY_MB=1"):
            client.get("x", "/x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MIB, f"peak {peak:,} bytes: the bomb was expanded"
    (attempt,) = client.attempts  # a property of the body: asking again gets the same
    assert "refused" in (attempt.error or "")
    # the fetch log keeps what came: a 200, and the decoded bytes read before the refusal
    assert attempt.status_code == 200 and MIB < (attempt.bytes or 0) < 4 * MIB


def test_a_body_declared_over_the_cap_is_refused_unread(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * (2 * MIB))
    httpserver.expect_request("/fits").respond_with_data(b"x" * (MIB - 1))
    client = _client(httpserver, [], UNABATED_MAX_BODY_MB="1")
    assert len(client.get("fits", "/fits")) == MIB - 1
    with pytest.raises(VendorError, match=r"2,097,152 bytes \(Content-Length\) is over "
                                          r"UNABATED_MAX_BODY_MB=1"):
        client.get("big", "/big")
    assert len(client.attempts) == 2


def test_redirects_are_followed_only_within_the_base_url_host(httpserver: HTTPServer) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request("/stolen").respond_with_data(b'{"planted": true}')
        httpserver.expect_request("/moved").respond_with_response(
            Response(status=302, headers={"Location": "/x"}))
        httpserver.expect_request("/x").respond_with_data(b'{"board": 1}')
        httpserver.expect_request("/away").respond_with_response(
            Response(status=301, headers={"Location": other.url_for("/stolen")}))
        # the same port under another name is another host too
        httpserver.expect_request("/renamed").respond_with_response(Response(
            status=307, headers={"Location": f"http://127.0.0.1:{httpserver.port}/x"}))
        httpserver.expect_request("/loop").respond_with_response(
            Response(status=302, headers={"Location": "/loop"}))
        client = _client(httpserver, [])

        assert client.get("moved", "/moved") == b'{"board": 1}'
        assert client.attempts[-1].url_redacted.endswith("/x")
        for path in ("/away", "/renamed"):
            with pytest.raises(VendorError, match="to another host"):
                client.get(path, path)
            error = client.attempts[-1].error or ""
            assert f"localhost:{httpserver.port}" in error and "refused" in error
        assert f"127.0.0.1:{other.port}" in (client.attempts[-2].error or "")
        assert f"127.0.0.1:{httpserver.port}" in (client.attempts[-1].error or "")
        assert other.log == []  # nothing was requested from the other host
        with pytest.raises(VendorError, match="more than 5 redirects"):
            client.get("loop", "/loop")
        assert len(client.attempts) == 4  # refusals are not retried
    finally:
        other.clear()
        other.stop()
