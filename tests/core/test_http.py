"""The HTTP client against a real local server (pytest-httpserver on 127.0.0.1)."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from helpers.core.errors import VendorError
from helpers.core.http import VendorClient, redact_url, retry_after_seconds
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
