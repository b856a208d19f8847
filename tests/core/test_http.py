"""The HTTP client against a real local server (pytest-httpserver on 127.0.0.1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from helpers.core.errors import VendorError
from helpers.core.http import VendorClient, http_date, redact_url, retry_after_seconds
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
    handler = type("Handler", (_DatedHandler,), {"date": date})
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
