"""Odds capture: fetch each vendor, save raw first, parse, and load into fact_prop_odds.

Per payload: hash the bytes; a hash already in `raw_payloads` is only re-sighted (not saved,
parsed or inserted again); otherwise save it (file + .sha256), parse it with the vendor's
pure parser, and in ONE transaction register it, insert its rows (idempotent), its counted
rejections, and keep `dim_books` / `dim_markets` current. Vendors are isolated: any failure
of one (network, HTTP, malformed payload, parser crash) is recorded in its report and the
fetch log, and the other vendors still land.
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

from helpers import db, rawstore
from helpers.clock import utcnow
from helpers.errors import SchemaDriftError, VendorError
from helpers.http import FetchAttempt, VendorClient
from helpers.settings import Settings, redact
from helpers.vendors import vendor_module
from helpers.vendors.base import ODDS_KEY, Fetched, RawPayload, Rejections
from helpers.vendors.parsing import ParseResult

log = logging.getLogger(__name__)

REJECTION_KEY = ("raw_payload_hash", "source_vendor", "reason", "parser_version")
FETCH_LOG_COLUMNS = ("run_id", "vendor", "endpoint", "url_redacted", "request_ts_utc",
                     "attempt", "status_code", "elapsed_ms", "bytes", "error")


@dataclass
class PayloadOutcome:
    kind: str
    sha256: str
    path: str
    size: int
    # loaded | duplicate | parse_failed | resumed (an interrupted capture's payload, loaded
    # now) | abandoned (an interrupted capture's payload whose raw file was never written)
    status: str
    rows_parsed: int = 0
    rows_inserted: int = 0
    rows_rejected: int = 0
    error: str | None = None


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

    @property
    def rows_inserted(self) -> int:
        return sum(p.rows_inserted for p in self.payloads)

    @property
    def rows_parsed(self) -> int:
        return sum(p.rows_parsed for p in self.payloads)


def capture(con: duckdb.DuckDBPyConnection, settings: Settings, capture_ts_utc: datetime,
            run_id: str | None = None, vendors: Iterable[str] | None = None) -> list[VendorReport]:
    """One capture of every selected vendor; never raises for a vendor's failure."""
    reports = []
    for vendor in vendors if vendors is not None else settings.vendors:
        reports.append(capture_vendor(con, settings, vendor, capture_ts_utc, run_id))
    return reports


def capture_vendor(con: duckdb.DuckDBPyConnection, settings: Settings, vendor: str,
                   capture_ts_utc: datetime, run_id: str | None = None) -> VendorReport:
    module = vendor_module(vendor)
    report = VendorReport(vendor=vendor)
    # Each attempt reaches the fetch log as it happens, so a run killed mid-capture still
    # leaves a row for every request it made.
    client = VendorClient(settings, vendor, run_id, headers=module.request_headers(settings),
                          on_attempt=lambda attempt: write_fetch_attempt(con, attempt))
    try:
        report.payloads.extend(resume_pending(con, settings, module, run_id, report))
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
    return report


@dataclass(frozen=True)
class KnownPayload:
    path: str
    capture_ts_utc: datetime
    load_state: str  # pending | loaded | parse_failed
    parse_error: str | None


def _known_payload(con: duckdb.DuckDBPyConnection, vendor: str, kind: str,
                   digest: str) -> KnownPayload | None:
    found = con.execute(
        "SELECT path, capture_ts_utc, load_state, parse_error FROM raw_payloads "
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
        if known.load_state == "parse_failed":
            return PayloadOutcome(
                fetched.kind, digest, known.path, len(fetched.body), "parse_failed",
                error=f"the same payload failed to parse before ({known.parse_error}); fix the "
                      f"parser, then run `runner renormalize --vendor {vendor}`")
        return PayloadOutcome(fetched.kind, digest, known.path, len(fetched.body), "duplicate")

    if known is None:
        saved = rawstore.plan_save(settings.ops_home, settings.raw_dir, vendor, fetched.kind,
                                   fetched.body, capture_ts_utc, fetched.ext, sha256=digest)
        raw = RawPayload(vendor=vendor, kind=fetched.kind, body=fetched.body,
                         capture_ts_utc=capture_ts_utc, sha256=digest, path=saved.relative_path)
        # Registered before its file is written: a capture killed from here on leaves a
        # pending row that the next capture finishes (resume_pending), never an orphan file.
        _register_pending(con, raw, run_id)
    else:  # pending: an interrupted capture registered it; finish it with these bytes
        saved = _saved_at(settings, known.path, digest, len(fetched.body))
        raw = RawPayload(vendor=vendor, kind=fetched.kind, body=fetched.body,
                         capture_ts_utc=known.capture_ts_utc, sha256=digest, path=known.path)
    return _save_parse_store(con, module, raw, saved, run_id, report)


def _saved_at(settings: Settings, relative_path: str, digest: str,
              size: int) -> rawstore.SavedPayload:
    path = Path(relative_path)
    full = path if path.is_absolute() else settings.ops_home / path
    return rawstore.SavedPayload(path=full, relative_path=relative_path, sha256=digest,
                                 size=size)


def _save_parse_store(con: duckdb.DuckDBPyConnection, module: ModuleType, raw: RawPayload,
                      saved: rawstore.SavedPayload, run_id: str | None,
                      report: VendorReport | None) -> PayloadOutcome:
    # The raw file is written (and fsynced) by a thread while the parser runs - file IO
    # releases the GIL - and nothing reaches the database until the write has finished:
    # a write error propagates from .result() and the parse result is thrown away.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rawstore") as pool:
        written = pool.submit(rawstore.write_planned, saved, raw.body)
        result, error = parse_payload(module, raw)
        try:
            written.result()
        except BaseException:
            _unregister_pending(con, raw)  # nothing of a payload that was not saved remains
            raise
    outcome = store_parsed(con, raw, module.PARSER_VERSION, result, error, run_id)
    if report is not None and result is not None:
        report.rejections.merge(result.rejections)
        if len(result.rows) and (report.sample is None or report.sample.empty):
            report.sample = result.rows.head(5)
    return outcome


def parse_payload(module: ModuleType, raw: RawPayload) -> tuple[ParseResult | None, str | None]:
    """The vendor parser's result, or None and the reason it could not parse the payload.
    Ingest and renormalize treat a parser failure the same way through this."""
    try:
        return module.parse(raw), None
    except SchemaDriftError as exc:
        return None, f"SchemaDriftError: {exc}"
    except Exception as exc:
        log.exception("%s parser crashed on %s", raw.vendor, raw.path)
        return None, f"{type(exc).__name__}: {exc}"


def store_parsed(con: duckdb.DuckDBPyConnection, raw: RawPayload, parser_version: str,
                 result: ParseResult | None, error: str | None,
                 run_id: str | None) -> PayloadOutcome:
    """The one place a parse result is stored: its rows (idempotent), counted rejections and
    dimensions, and the payload's raw_payloads row (counts, parser version, load state), in
    one transaction. `result` None stores the parse failure `error` instead."""
    outcome = PayloadOutcome(raw.kind, raw.sha256, raw.path, len(raw.body), "loaded")
    with db.transaction(con):
        if result is None:
            outcome.status, outcome.error = "parse_failed", error
        else:
            outcome.rows_parsed = len(result.rows)
            outcome.rows_rejected = result.rejections.total()
            outcome.rows_inserted = db.insert_new_rows(con, "fact_prop_odds", result.rows,
                                                       ODDS_KEY, prune_column="capture_ts_utc")
            insert_rejections(con, raw, result.rejections, parser_version, run_id)
            update_dimensions(con, result.rows, result.markets)
        con.execute(
            "UPDATE raw_payloads SET parser_version = ?, rows_parsed = ?, rows_inserted = ?, "
            "rows_rejected = ?, parse_error = ?, load_state = ? "
            "WHERE payload_hash = ? AND vendor = ? AND kind = ?",
            [parser_version, outcome.rows_parsed, outcome.rows_inserted, outcome.rows_rejected,
             outcome.error, outcome.status, raw.sha256, raw.vendor, raw.kind]).fetchall()
    return outcome


def _register_pending(con: duckdb.DuckDBPyConnection, raw: RawPayload,
                      run_id: str | None) -> None:
    con.execute(
        "INSERT INTO raw_payloads (payload_hash, vendor, kind, capture_ts_utc, path, bytes, "
        "run_id, registered_ts_utc, last_seen_ts_utc, times_seen, load_state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'pending')",
        [raw.sha256, raw.vendor, raw.kind, raw.capture_ts_utc, raw.path, len(raw.body), run_id,
         utcnow(), raw.capture_ts_utc]).fetchall()


def _unregister_pending(con: duckdb.DuckDBPyConnection, raw: RawPayload) -> None:
    con.execute("DELETE FROM raw_payloads WHERE payload_hash = ? AND vendor = ? AND kind = ? "
                "AND load_state = 'pending'", [raw.sha256, raw.vendor, raw.kind]).fetchall()


def resume_pending(con: duckdb.DuckDBPyConnection, settings: Settings, module: ModuleType,
                   run_id: str | None, report: VendorReport | None = None) -> list[PayloadOutcome]:
    """Finish the payloads an interrupted capture of this vendor registered but never
    loaded: load those whose raw file is complete (bytes match the hash), and drop the
    registration of those whose file was never written (their request is in the fetch log;
    the bytes are gone). Each is reported; nothing is dropped silently."""
    pending = con.execute(
        "SELECT payload_hash, kind, capture_ts_utc, path, bytes FROM raw_payloads "
        "WHERE vendor = ? AND load_state = 'pending' ORDER BY capture_ts_utc",
        [module.VENDOR]).fetchall()
    outcomes = []
    for digest, kind, capture_ts, path, size in pending:
        saved = _saved_at(settings, path, digest, size)
        body = saved.path.read_bytes() if saved.path.exists() else None
        if body is None or rawstore.sha256_hex(body) != digest:
            _unregister_pending(con, RawPayload(module.VENDOR, kind, b"", capture_ts, digest))
            outcomes.append(PayloadOutcome(
                kind, digest, path, size, "abandoned",
                error="an interrupted capture registered this payload but its raw file was "
                      "never completely written; the registration was dropped"))
            log.warning("%s: dropped pending payload %s (raw file incomplete)", module.VENDOR,
                        path)
            continue
        raw = RawPayload(vendor=module.VENDOR, kind=kind, body=body, capture_ts_utc=capture_ts,
                         sha256=digest, path=path)
        outcome = _save_parse_store(con, module, raw, saved, run_id, report)
        outcome.status = "resumed" if outcome.status == "loaded" else outcome.status
        log.info("%s: finished interrupted payload %s (%s)", module.VENDOR, path, outcome.status)
        outcomes.append(outcome)
    return outcomes


def insert_rejections(con: duckdb.DuckDBPyConnection, raw: RawPayload, rejections: Rejections,
                       parser_version: str, run_id: str | None) -> int:
    if not rejections.counts:
        return 0
    frame = pd.DataFrame({
        "raw_payload_hash": raw.sha256,
        "source_vendor": raw.vendor,
        "capture_ts_utc": raw.capture_ts_utc,
        "reason": list(rejections.counts),
        "n_rejected": list(rejections.counts.values()),
        "example": [rejections.examples.get(r) for r in rejections.counts],
        "parser_version": parser_version,
        "run_id": run_id,
    })
    return db.insert_new_rows(con, "fact_rejected_odds", frame, REJECTION_KEY)


def update_dimensions(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame,
                      markets: dict[str, str] | None = None) -> None:
    """Upsert the books and markets this payload used (first/last seen kept).

    `markets` (ParseResult.markets) names the vendor's market kinds when the rows'
    vendor_market_id is not one: PlayNow's market ids are per event, and recording them
    would grow dim_markets by a row per player market per capture."""
    if rows.empty:
        return
    books = rows[["source_vendor", "book_id_vendor", "book_name_raw", "book_type",
                  "capture_ts_utc"]]
    if markets is None:
        market_rows = rows[["source_vendor", "vendor_market_id", "market_type",
                            "capture_ts_utc"]]
    else:
        vendors = rows["source_vendor"].unique()
        if len(vendors) != 1:
            raise ValueError(f"update_dimensions: market kinds given for rows of {vendors}")
        lo, hi = rows["capture_ts_utc"].min(), rows["capture_ts_utc"].max()
        market_rows = pd.DataFrame({
            "source_vendor": vendors[0], "vendor_market_id": list(markets) * 2,
            "market_type": list(markets.values()) * 2,
            "capture_ts_utc": [lo] * len(markets) + [hi] * len(markets)})
    con.register("_dim_books", books)
    con.register("_dim_markets", market_rows)
    try:
        con.execute("""
            INSERT INTO dim_books
            SELECT source_vendor, book_id_vendor, any_value(book_name_raw), any_value(book_type),
                   min(capture_ts_utc), max(capture_ts_utc)
            FROM _dim_books WHERE book_id_vendor IS NOT NULL
            GROUP BY source_vendor, book_id_vendor
            ON CONFLICT (source_vendor, book_id_vendor) DO UPDATE SET
                book_name = excluded.book_name, book_type = excluded.book_type,
                first_seen_ts_utc = least(dim_books.first_seen_ts_utc, excluded.first_seen_ts_utc),
                last_seen_ts_utc = greatest(dim_books.last_seen_ts_utc, excluded.last_seen_ts_utc)
        """).fetchall()
        con.execute("""
            INSERT INTO dim_markets
            SELECT source_vendor, coalesce(vendor_market_id, market_type), market_type,
                   min(capture_ts_utc), max(capture_ts_utc)
            FROM _dim_markets GROUP BY ALL
            ON CONFLICT (source_vendor, vendor_market_id, market_type) DO UPDATE SET
                first_seen_ts_utc = least(dim_markets.first_seen_ts_utc,
                                          excluded.first_seen_ts_utc),
                last_seen_ts_utc = greatest(dim_markets.last_seen_ts_utc,
                                            excluded.last_seen_ts_utc)
        """).fetchall()
    finally:
        con.unregister("_dim_books")
        con.unregister("_dim_markets")


def write_fetch_attempt(con: duckdb.DuckDBPyConnection, attempt: FetchAttempt) -> None:
    """One row of fact_vendor_fetch_log, committed at once."""
    values = vars(attempt)
    con.execute(f"INSERT INTO fact_vendor_fetch_log ({', '.join(FETCH_LOG_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(FETCH_LOG_COLUMNS))})",
                [values[c] for c in FETCH_LOG_COLUMNS]).fetchall()


def summarize(reports: list[VendorReport]) -> pd.DataFrame:
    """One line per vendor for the notebook and the step status."""
    return pd.DataFrame([{
        "vendor": r.vendor, "status": r.status, "requests": r.requests, "retries": r.retries,
        "payloads": len(r.payloads),
        "duplicates": sum(p.status == "duplicate" for p in r.payloads),
        "rows_parsed": r.rows_parsed, "rows_inserted": r.rows_inserted,
        "rejected": r.rejections.total(), "error": r.error,
    } for r in reports])


def rejections_frame(reports: list[VendorReport]) -> pd.DataFrame:
    rows = [{"vendor": r.vendor, "reason": reason, "count": n,
             "example": r.rejections.examples.get(reason, "")}
            for r in reports for reason, n in sorted(r.rejections.counts.items())]
    return pd.DataFrame(rows, columns=["vendor", "reason", "count", "example"])


def step_outcome(reports: list[VendorReport]) -> tuple[str, str]:
    """The ingestion step's status: success, partial (some vendors failed), or raise when
    every vendor failed — nothing landed, so the step failed."""
    failed = [r for r in reports if r.status != "success"]
    detail = "; ".join(f"{r.vendor}: {r.error}" for r in failed)
    if reports and len(failed) == len(reports):
        raise VendorError(f"every vendor failed - {detail}")
    inserted = sum(r.rows_inserted for r in reports)
    if failed:
        return "partial", f"{len(failed)} of {len(reports)} vendors failed - {detail}"
    return "success", f"{inserted} rows inserted from {len(reports)} vendors"


def payloads_frame(reports: list[VendorReport]) -> pd.DataFrame:
    rows = [{"vendor": r.vendor, **vars(p)} for r in reports for p in r.payloads]
    return pd.DataFrame(rows, columns=["vendor", "kind", "status", "rows_parsed",
                                       "rows_inserted", "rows_rejected", "size", "path",
                                       "error"])
