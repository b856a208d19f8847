"""Odds capture: fetch each vendor and save every payload raw before it is parsed.

Per payload: hash the bytes; a payload this vendor already sent (same hash and kind) is only
re-sighted - and fails again if it could not be parsed then; otherwise register it
(`pending`), save it (file + .sha256) while the vendor's pure parser runs, and store the
result (`load.store_parsed`). Pending payloads of an interrupted capture are finished after
every vendor's fresh board has landed, so that one which cannot be finished never stands
in a fresh fetch's way; each parse is counted before it starts, and a payload whose parse
never finished twice (the process killed inside the parser) is quarantined: kept raw,
named in the step's summary and the daily report, parsed again only by `renormalize`.
Vendors are isolated: any failure of one (network, HTTP, malformed payload, parser crash) is
recorded in its report and the fetch log, and the other vendors still land.

A vendor serves its present board only, and every payload is filed under the capture time
(the run's as-of). So each response's `Date` (the vendor's clock) must agree with that time
within CAPTURE_MAX_CLOCK_SKEW_SECONDS; a response that does not is refused before it is
saved: a failure of its vendor like any other. Past boards come from an archive
(`backfill`), which files each snapshot under its own time and is not checked here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd

from helpers.core import rawstore
from helpers.core.clock import iso_z
from helpers.core.errors import SchemaDriftError, VendorError
from helpers.core.http import VendorClient, write_fetch_attempt
from helpers.core.settings import Settings, redact
from helpers.core.slate import Slate
from helpers.odds.load import (
    PayloadOutcome,
    parse_payload,
    quarantine,
    register_pending,
    start_parse,
    store_parsed,
    unregister_pending,
)
from helpers.odds.vendors import vendor_module
from helpers.odds.vendors.base import Fetched, RawPayload, Rejections

log = logging.getLogger(__name__)

# A payload left pending after this many parses is quarantined, not parsed again: the first
# unfinished parse may be bad luck (a kill for another reason), the second is the payload.
MAX_UNFINISHED_PARSES = 2


@dataclass
class VendorReport:
    vendor: str
    status: str = "success"  # success | failed
    error: str | None = None
    requests: int = 0
    retries: int = 0
    payloads: list[PayloadOutcome] = field(default_factory=list)
    rejections: Rejections = field(default_factory=Rejections)
    sample: pd.DataFrame | None = None
    note: str | None = None  # worth knowing, not a failure (a response without a Date)

    @property
    def rows_inserted(self) -> int:
        return sum(p.rows_inserted for p in self.payloads)

    @property
    def rows_parsed(self) -> int:
        return sum(p.rows_parsed for p in self.payloads)

    @property
    def quarantined(self) -> list[PayloadOutcome]:
        return [p for p in self.payloads if p.status == "quarantined"]


def capture(con: duckdb.DuckDBPyConnection, settings: Settings, capture_ts_utc: datetime,
            run_id: str | None = None, vendors: Iterable[str] | None = None) -> list[VendorReport]:
    """One capture of every selected vendor, then what interrupted captures left pending;
    never raises for a vendor's failure."""
    reports = [capture_vendor(con, settings, vendor, capture_ts_utc, run_id, resume=False)
               for vendor in (vendors if vendors is not None else settings.vendors.enabled)]
    for report in reports:
        finish_pending(con, settings, report, run_id)
    return reports


def run_odds_ingestion(con: duckdb.DuckDBPyConnection, settings: Settings, slate: Slate,
                       run_id: str) -> list[VendorReport]:
    """Step 1: one capture of every enabled vendor at the slate's as-of. A capture takes the
    whole board a vendor shows at that moment (today's games and later ones), so the slate's
    date itself plays no part here."""
    return capture(con, settings, slate.as_of, run_id=run_id)


def capture_vendor(con: duckdb.DuckDBPyConnection, settings: Settings, vendor: str,
                   capture_ts_utc: datetime, run_id: str | None = None,
                   resume: bool = True) -> VendorReport:
    """The vendor's fresh board, then (unless `resume` is False: `capture` does it once
    every vendor's board is in) its payloads an interrupted capture left pending."""
    module = vendor_module(vendor)
    report = VendorReport(vendor=vendor)
    undated: list[str] = []

    def check_clock(endpoint: str, server_now: datetime | None) -> str | None:
        if server_now is None:  # some servers omit Date: nothing to compare, so accepted
            undated.append(endpoint)
            return None
        return clock_refusal(f"{vendor} {endpoint}", server_now, capture_ts_utc,
                             settings.vendors.max_clock_skew_seconds)

    # Each attempt reaches the fetch log as it happens, so a run killed mid-capture still
    # leaves a row for every request it made.
    client = VendorClient(settings, vendor, run_id, headers=module.request_headers(settings),
                          on_attempt=lambda attempt: write_fetch_attempt(con, attempt),
                          check_server_clock=check_clock)
    try:
        for fetched in module.fetch(client):
            outcome = load_payload(con, settings, module, fetched, capture_ts_utc, run_id,
                                   report)
            report.payloads.append(outcome)
            if outcome.status == "parse_failed":
                raise SchemaDriftError(outcome.error or "payload could not be parsed")
    except (VendorError, OSError) as exc:
        report.status, report.error = "failed", str(exc)
    except Exception as exc:
        report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
        log.exception("%s capture crashed", vendor)
    finally:
        client.close()
        report.requests = len(client.attempts)
        report.retries = sum(1 for a in client.attempts if a.attempt > 1)
    if report.error:
        report.error = redact(report.error, settings.secret_values())
        log.warning("%s failed: %s", vendor, report.error)
    if resume:
        finish_pending(con, settings, report, run_id)
    if undated:
        # The fetch log's only free-text column is `error`, which the reports count as
        # failures; an accepted response is not one, so the note lives in the report.
        report.note = (f"no readable Date header on {', '.join(dict.fromkeys(undated))}: the "
                       f"vendor's clock could not be checked against the capture time")
        log.warning("%s: %s", vendor, report.note)
    return report


def finish_pending(con: duckdb.DuckDBPyConnection, settings: Settings, report: VendorReport,
                   run_id: str | None) -> None:
    """Finish (or quarantine) the vendor's payloads that interrupted captures left pending,
    into its report; a failure here is the vendor's failure like any other."""
    try:
        report.payloads.extend(resume_pending(con, settings, vendor_module(report.vendor),
                                              run_id, report))
    except Exception as exc:
        log.exception("%s: finishing pending payloads failed", report.vendor)
        report.status = "failed"
        report.error = redact("; ".join(filter(None, [report.error, f"pending payloads: "
                                                      f"{type(exc).__name__}: {exc}"])),
                              settings.secret_values())
    for payload in report.quarantined:
        log.warning("%s: payload %s quarantined: %s", report.vendor, payload.path,
                    payload.error)


def clock_refusal(source: str, server_now: datetime, capture_ts_utc: datetime,
                  max_skew_seconds: float) -> str | None:
    """Why a response whose server clock reads `server_now` cannot be filed under
    `capture_ts_utc` (both naive UTC), in one line short enough for a step summary; None
    when they agree within the tolerance."""
    skew = (server_now - capture_ts_utc).total_seconds()
    if abs(skew) <= max_skew_seconds:
        return None
    later = skew > 0
    # A day or more off is a wrong as-of, not a tolerance to tune: the variable is named
    # only when tuning it could be the answer.
    tolerance = (f" (more than CAPTURE_MAX_CLOCK_SKEW_SECONDS={max_skew_seconds:g})"
                 if abs(skew) < 86_400 else "")
    message = (f"{source}: the vendor's clock (Date {server_now:%Y-%m-%d %H:%M:%S}Z) is "
               f"{_span(abs(skew))} {'after' if later else 'before'} this run's as-of "
               f"{iso_z(capture_ts_utc)}{tolerance}: a capture is always of the present board, "
               f"never of a {'past' if later else 'future'} time; ")
    if later:
        return message + "past boards: python -m runner backfill-unabated"
    return message + "capture now: run without --as-of"


def _span(seconds: float) -> str:
    """A duration in its largest whole unit: '367 days', '1 hour', '16 minutes'."""
    unit, size = next((u, n) for u, n in (("day", 86_400), ("hour", 3_600), ("minute", 60),
                                          ("second", 1)) if seconds >= n or n == 1)
    count = int(seconds // size)
    return f"{count} {unit}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class KnownPayload:
    path: str
    capture_ts_utc: datetime
    load_state: str  # pending | loaded | parse_failed | quarantined
    parse_error: str | None
    parse_attempts: int


def _known_payload(con: duckdb.DuckDBPyConnection, vendor: str, kind: str,
                   digest: str) -> KnownPayload | None:
    found = con.execute(
        "SELECT path, capture_ts_utc, load_state, parse_error, parse_attempts FROM raw_payloads "
        "WHERE payload_hash = ? AND vendor = ? AND kind = ?", [digest, vendor, kind]).fetchall()
    return KnownPayload(*found[0]) if found else None


def load_payload(con: duckdb.DuckDBPyConnection, settings: Settings, module: ModuleType,
                 fetched: Fetched, capture_ts_utc: datetime, run_id: str | None,
                 report: VendorReport | None = None) -> PayloadOutcome:
    """Register, save raw and load one fetched body. A body this vendor already sent (same
    hash and kind) is only re-sighted; if it could not be parsed then, it fails again now."""
    vendor = module.VENDOR
    digest = rawstore.sha256_hex(fetched.body)
    known = _known_payload(con, vendor, fetched.kind, digest)
    if known is not None and known.load_state != "pending":
        con.execute("UPDATE raw_payloads SET last_seen_ts_utc = greatest(last_seen_ts_utc, ?), "
                    "times_seen = times_seen + 1 WHERE payload_hash = ? AND vendor = ? "
                    "AND kind = ?", [capture_ts_utc, digest, vendor, fetched.kind]).fetchall()
        if known.load_state in ("parse_failed", "quarantined"):
            what = "failed to parse" if known.load_state == "parse_failed" else "is quarantined"
            return PayloadOutcome(
                fetched.kind, digest, known.path, len(fetched.body), "parse_failed",
                error=f"the same payload {what} before ({known.parse_error}); fix the "
                      f"parser, then run `runner renormalize --vendor {vendor}`")
        return PayloadOutcome(fetched.kind, digest, known.path, len(fetched.body), "duplicate")

    if known is None:
        saved = rawstore.plan_save(settings.paths.ops_home, settings.paths.raw_dir, vendor, fetched.kind,
                                   fetched.body, capture_ts_utc, fetched.ext, sha256=digest)
        raw = RawPayload(vendor=vendor, kind=fetched.kind, body=fetched.body,
                         capture_ts_utc=capture_ts_utc, sha256=digest, path=saved.relative_path)
        # Registered before its file is written: a capture killed from here on leaves a
        # pending row that the next capture finishes (resume_pending), never an orphan file.
        register_pending(con, raw, run_id)
    else:  # pending: an interrupted capture registered it; finish it with these bytes
        saved = _saved_at(settings, known.path, digest, len(fetched.body))
        raw = RawPayload(vendor=vendor, kind=fetched.kind, body=fetched.body,
                         capture_ts_utc=known.capture_ts_utc, sha256=digest, path=known.path)
        if known.parse_attempts >= MAX_UNFINISHED_PARSES:
            return _quarantine(con, raw, known.parse_attempts)
    return _save_parse_store(con, module, raw, saved, run_id, report)


def _quarantine(con: duckdb.DuckDBPyConnection, raw: RawPayload,
                attempts: int) -> PayloadOutcome:
    reason = (f"quarantined: its parse never finished in {attempts} attempts (the process "
              f"was killed inside the parser); kept raw at {raw.path}; after a parser fix: "
              f"`runner renormalize --vendor {raw.vendor}`")
    quarantine(con, raw, reason)
    return PayloadOutcome(raw.kind, raw.sha256, raw.path, len(raw.body), "quarantined",
                          error=reason)


def _saved_at(settings: Settings, relative_path: str, digest: str,
              size: int) -> rawstore.SavedPayload:
    path = Path(relative_path)
    full = path if path.is_absolute() else settings.paths.ops_home / path
    return rawstore.SavedPayload(path=full, relative_path=relative_path, sha256=digest,
                                 size=size)


def _save_parse_store(con: duckdb.DuckDBPyConnection, module: ModuleType, raw: RawPayload,
                      saved: rawstore.SavedPayload, run_id: str | None,
                      report: VendorReport | None) -> PayloadOutcome:
    # The raw file is written (and fsynced) by a thread while the parser runs - file IO
    # releases the GIL - and nothing reaches the database until the write has finished:
    # a write error propagates from .result() and the parse result is thrown away.
    start_parse(con, raw)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rawstore") as pool:
        written = pool.submit(rawstore.write_planned, saved, raw.body)
        result, error = parse_payload(module, raw)
        try:
            written.result()
        except BaseException:
            unregister_pending(con, raw)  # nothing of a payload that was not saved remains
            raise
    outcome = store_parsed(con, raw, module.PARSER_VERSION, result, error, run_id)
    if report is not None and result is not None:
        report.rejections.merge(result.rejections)
        if result.n_rows and (report.sample is None or report.sample.empty):
            report.sample = result.head(5)
    return outcome


def resume_pending(con: duckdb.DuckDBPyConnection, settings: Settings, module: ModuleType,
                   run_id: str | None, report: VendorReport | None = None) -> list[PayloadOutcome]:
    """Finish the payloads an interrupted capture of this vendor registered but never
    loaded: load those whose raw file is complete (bytes match the hash), and drop the
    registration of those whose file was never written (their request is in the fetch log;
    the bytes are gone). Each is reported; nothing is dropped silently."""
    pending = con.execute(
        "SELECT payload_hash, kind, capture_ts_utc, path, bytes, parse_attempts "
        "FROM raw_payloads WHERE vendor = ? AND load_state = 'pending' ORDER BY capture_ts_utc",
        [module.VENDOR]).fetchall()
    outcomes = []
    for digest, kind, capture_ts, path, size, attempts in pending:
        saved = _saved_at(settings, path, digest, size)
        body = saved.path.read_bytes() if saved.path.exists() else None
        if body is None or rawstore.sha256_hex(body) != digest:
            unregister_pending(con, RawPayload(module.VENDOR, kind, b"", capture_ts, digest))
            outcomes.append(PayloadOutcome(
                kind, digest, path, size, "abandoned",
                error="an interrupted capture registered this payload but its raw file was "
                      "never completely written; the registration was dropped"))
            log.warning("%s: dropped pending payload %s (raw file incomplete)", module.VENDOR,
                        path)
            continue
        raw = RawPayload(vendor=module.VENDOR, kind=kind, body=body, capture_ts_utc=capture_ts,
                         sha256=digest, path=path)
        if attempts >= MAX_UNFINISHED_PARSES:
            outcomes.append(_quarantine(con, raw, attempts))
            continue
        outcome = _save_parse_store(con, module, raw, saved, run_id, report)
        outcome.status = "resumed" if outcome.status == "loaded" else outcome.status
        log.info("%s: finished interrupted payload %s (%s)", module.VENDOR, path, outcome.status)
        outcomes.append(outcome)
    return outcomes
