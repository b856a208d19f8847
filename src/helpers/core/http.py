"""The one HTTP client of the pipeline (docs/architecture.md).

`VendorClient` wraps a requests Session for one vendor: connect/read timeouts, at most
`http_max_attempts` attempts with exponential backoff on connection errors, timeouts, 429
and 5xx, Retry-After honoured up to a cap, and one `FetchAttempt` logged per attempt (URL
redacted). A forced failure (FORCE_VENDOR_FAILURE / FORCE_<VENDOR>_FAILURE) is injected as
a connection error inside the transport, so it travels the same path as a real outage.
A caller may vet each successful response's `Date` (the server's clock, `check_server_clock`):
a refused response is logged with its reason and raised, never returned or retried.

Every attempt is bounded (the bounds table in docs/architecture.md): the whole attempt,
body included, within HTTP_TOTAL_DEADLINE_SECONDS (a body dripped byte by byte never trips
the read timeout, which bounds only the gap between two reads), and the body within the
source's <SOURCE>_MAX_BODY_MB, counted both as sent (compressed) and as decoded, read in
chunks so that a gzip bomb is refused before it is expanded. Redirects are followed, at most
MAX_REDIRECTS, only within the configured base URL's scheme, host and port; a redirect
anywhere else is refused and the fetch log names both hosts. An over-deadline attempt is
retried like a timeout; an oversized body or a refused redirect is a property of what the
server sends, so it is not retried.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import duckdb
import requests
import urllib3
from requests.adapters import HTTPAdapter

from helpers.core.clock import to_naive_utc, utcnow
from helpers.core.errors import VendorError
from helpers.core.settings import Settings, redact

log = logging.getLogger(__name__)

USER_AGENT = "nhl-props-ops/0.1 (+daily odds capture)"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024  # decoded bytes per read: a bomb expands at most this much at a time
MIB = 1024 * 1024
_SENSITIVE_QUERY_KEYS = ("key", "token", "cookie", "secret", "auth", "password", "sig")


@dataclass
class FetchAttempt:
    """One row of fact_vendor_fetch_log."""

    run_id: str | None
    vendor: str
    endpoint: str
    url_redacted: str
    request_ts_utc: datetime
    attempt: int
    status_code: int | None
    elapsed_ms: float
    bytes: int | None
    error: str | None


class DeadlineExceeded(requests.Timeout):
    """The attempt, body included, outlasted HTTP_TOTAL_DEADLINE_SECONDS: retried like a
    timeout. `status` and `received` (decoded bytes so far) go to the fetch log."""

    def __init__(self, message: str, status: int | None = None, received: int | None = None):
        super().__init__(message)
        self.status, self.received = status, received


class RefusedResponse(Exception):
    """What the server sent cannot be accepted (a body over the size cap, a redirect to
    another host): not retried, since asking again gets the same answer. `status` and
    `received` (decoded bytes read before the refusal) go to the fetch log."""

    def __init__(self, message: str, status: int | None = None, received: int | None = None):
        super().__init__(message)
        self.status, self.received = status, received


def origin(url: str) -> str:
    """'scheme://host:port' of a URL, the default port made explicit."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def read_body(response: requests.Response, max_bytes: int, deadline: float,
              source: str) -> bytes:
    """The body of a streamed response, refused (RefusedResponse) once it passes `max_bytes`
    as sent or as decoded, and abandoned (DeadlineExceeded) at `deadline`
    (time.monotonic()); `source` names the size setting in the message."""
    cap = f"{source}_MAX_BODY_MB={max_bytes / MIB:g}"
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise RefusedResponse(f"body of {int(declared):,} bytes (Content-Length) is over "
                              f"{cap}: refused unread", response.status_code)
    chunks, decoded = [], 0
    while chunk := _read_some(response):
        decoded += len(chunk)
        sent = response.raw.tell()
        if decoded > max_bytes or sent > max_bytes:
            response.close()
            raise RefusedResponse(f"body passed {cap} ({sent:,} bytes sent, {decoded:,} "
                                  f"decoded so far): refused", response.status_code, decoded)
        if time.monotonic() > deadline:
            response.close()
            raise DeadlineExceeded(f"body still arriving after the attempt's total deadline "
                                   f"({decoded:,} bytes so far)", response.status_code, decoded)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_some(response: requests.Response) -> bytes:
    """The next decoded bytes that have arrived, at most CHUNK_BYTES; b'' at the end.
    read1 returns what is there instead of waiting for a full chunk, so a drip reaches the
    deadline check between bytes. urllib3's errors become the requests errors the retry
    policy knows."""
    try:
        return response.raw.read1(CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        response.close()
        raise RefusedResponse(f"body could not be decoded "
                              f"({response.headers.get('Content-Encoding')}): {exc}") from None
    except (urllib3.exceptions.ProtocolError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None


class ForcedFailureAdapter(HTTPAdapter):
    """A transport that fails every request like an unreachable host."""

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        raise requests.ConnectionError(f"forced failure ({self.reason})", request=request)


def redact_url(url: str, secrets: tuple[str, ...] = ()) -> str:
    """Drop the values of credential-like query parameters and any known secret value."""
    parts = urlsplit(url)
    query = [(k, "***" if any(s in k.lower() for s in _SENSITIVE_QUERY_KEYS)
              else redact(v, secrets))
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    clean = urlunsplit(parts._replace(query=urlencode(query, safe=",:*")))
    return redact(clean, secrets)


def http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header (RFC 7231, or its obsolete RFC 850 / asctime forms) as naive UTC;
    None when it is absent or cannot be read."""
    if not value or not value.strip():
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return to_naive_utc(moment) if moment.tzinfo else moment


def retry_after_seconds(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), cap)


class VendorClient:
    """GET with the house retry policy for one vendor; `attempts` keeps the fetch log."""

    def __init__(self, settings: Settings, vendor: str, run_id: str | None = None,
                 headers: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_attempt: Callable[[FetchAttempt], None] | None = None,
                 check_server_clock: Callable[[str, datetime | None], str | None] | None = None):
        """`on_attempt` is called with each attempt as soon as it ends (the fetch log).
        `check_server_clock(endpoint, server_now)` sees the `Date` of each successful
        response (None when absent or unreadable) and returns a reason to refuse it, or
        None; a refusal is a property of the body, so it is not retried."""
        self.settings = settings
        self.on_attempt = on_attempt
        self.check_server_clock = check_server_clock
        self.vendor = vendor
        self.run_id = run_id
        self.sleep = sleep
        self.attempts: list[FetchAttempt] = []
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        if vendor in settings.vendors.forced_failures:
            reason = f"FORCE_VENDOR_FAILURE includes {vendor}"
            for prefix in ("http://", "https://"):
                self.session.mount(prefix, ForcedFailureAdapter(reason))

    @property
    def base_url(self) -> str:
        return self.settings.vendors.base_urls[self.vendor]

    @property
    def max_body_bytes(self) -> int:
        return self.settings.vendors.max_body_mb[self.vendor] * MIB

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, endpoint: str, path: str, params: Mapping[str, str] | None = None) -> bytes:
        """The body of a successful GET, exactly as received. Raises VendorError when the
        last attempt fails; every attempt is in `self.attempts`."""
        url = self.base_url + path
        timeout = (self.settings.http.connect_timeout, self.settings.http.read_timeout)
        secrets = self.settings.secret_values()
        max_attempts = self.settings.http.max_attempts
        last_error = ""
        for attempt in range(1, max_attempts + 1):
            started, t0 = utcnow(), time.perf_counter()
            wait: float | None = None
            deadline = time.monotonic() + self.settings.http.total_deadline_seconds
            try:
                response, body = self._fetch(url, params, timeout, deadline)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                self._log(endpoint, url, params, started, t0, attempt,
                          getattr(exc, "status", None), getattr(exc, "received", None),
                          last_error)
                retry = True
            except RefusedResponse as exc:
                last_error = str(exc)
                self._log(endpoint, url, params, started, t0, attempt, exc.status,
                          exc.received, last_error)
                raise VendorError(f"{self.vendor} {endpoint}: "
                                  f"{redact(last_error, secrets)}") from None
            else:
                status = response.status_code
                request_url = response.url or url
                if status < 400:
                    refusal = None if self.check_server_clock is None else \
                        self.check_server_clock(endpoint, http_date(response.headers.get("Date")))
                    self._log(endpoint, request_url, None, started, t0, attempt, status,
                              len(body), refusal)
                    if refusal is not None:
                        raise VendorError(redact(refusal, secrets))
                    return body
                last_error = f"HTTP {status}"
                self._log(endpoint, request_url, None, started, t0, attempt, status, len(body),
                          last_error)
                retry = status in RETRYABLE_STATUS
                if status == 429:
                    wait = retry_after_seconds(response.headers.get("Retry-After"),
                                               self.settings.http.retry_after_cap_seconds)
            if not retry or attempt == max_attempts:
                break
            if wait is None:
                wait = self.settings.http.backoff_seconds * 2 ** (attempt - 1)
            log.info("%s %s attempt %d failed (%s); retrying in %.1f s", self.vendor, endpoint,
                     attempt, redact(last_error, secrets), wait)
            self.sleep(wait)
        raise VendorError(f"{self.vendor} {endpoint}: {redact(last_error, secrets)} "
                          f"after {attempt} attempt(s)")

    def _fetch(self, url: str, params: Mapping[str, str] | None,
               timeout: tuple[float, float], deadline: float) -> tuple[requests.Response, bytes]:
        """One attempt: the response and its body, following redirects only within the base
        URL's origin."""
        home = origin(self.base_url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self.session.get(url, params=params, timeout=timeout, stream=True,
                                        allow_redirects=False)
            if not response.is_redirect:
                return response, read_body(response, self.max_body_bytes, deadline,
                                           self.vendor)
            target = urljoin(response.url, response.headers["Location"])
            response.close()
            if origin(target) != home:
                raise RefusedResponse(
                    f"HTTP {response.status_code} redirect from {origin(response.url)} to "
                    f"another host, {origin(target)}, refused: only {home} (the configured "
                    f"{self.vendor}_BASE_URL) is followed", response.status_code)
            log.info("%s: HTTP %d redirect to %s (same host, followed)", self.vendor,
                     response.status_code, urlsplit(target).path)
            url, params = target, None
            if time.monotonic() > deadline:
                raise DeadlineExceeded("redirects still going at the attempt's total deadline")
        raise RefusedResponse(f"more than {MAX_REDIRECTS} redirects: refused")

    def _log(self, endpoint: str, url: str, params: Mapping[str, str] | None,
             started: datetime, t0: float, attempt: int, status: int | None,
             size: int | None, error: str | None) -> None:
        if params:
            url = url + ("&" if "?" in url else "?") + urlencode(params, safe=",:")
        secrets = self.settings.secret_values()
        record = FetchAttempt(
            run_id=self.run_id, vendor=self.vendor, endpoint=endpoint,
            url_redacted=redact_url(url, secrets), request_ts_utc=started, attempt=attempt,
            status_code=status, elapsed_ms=round((time.perf_counter() - t0) * 1000, 2),
            bytes=size, error=redact(error, secrets)[:500] if error else None)
        self.attempts.append(record)
        if self.on_attempt is not None:
            self.on_attempt(record)


FETCH_LOG_COLUMNS = ("run_id", "vendor", "endpoint", "url_redacted", "request_ts_utc",
                     "attempt", "status_code", "elapsed_ms", "bytes", "error")


def write_fetch_attempt(con: duckdb.DuckDBPyConnection, attempt: FetchAttempt) -> None:
    """One row of fact_vendor_fetch_log, committed at once: pass it as a client's
    `on_attempt` so that every request is logged as it happens, even if the process dies."""
    values = vars(attempt)
    con.execute(f"INSERT INTO fact_vendor_fetch_log ({', '.join(FETCH_LOG_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(FETCH_LOG_COLUMNS))})",
                [values[c] for c in FETCH_LOG_COLUMNS]).fetchall()
