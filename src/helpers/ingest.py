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
from types import ModuleType

import duckdb
import pandas as pd

from helpers import db, rawstore
from helpers.clock import utcnow
from helpers.errors import SchemaDriftError, VendorError
from helpers.http import VendorClient
from helpers.settings import Settings, redact
from helpers.vendors import vendor_module
from helpers.vendors.base import ODDS_KEY, Fetched, RawPayload, Rejections

log = logging.getLogger(__name__)

REJECTION_KEY = ("raw_payload_hash", "reason", "parser_version")
FETCH_LOG_COLUMNS = ("run_id", "vendor", "endpoint", "url_redacted", "request_ts_utc",
                     "attempt", "status_code", "elapsed_ms", "bytes", "error")


@dataclass
class PayloadOutcome:
    kind: str
    sha256: str
    path: str
    size: int
    status: str  # loaded | duplicate | parse_failed
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
    client = VendorClient(settings, vendor, run_id, headers=module.request_headers(settings))
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
        _write_fetch_log(con, client)
    if report.error:
        report.error = redact(report.error, settings.secret_values())
        log.warning("%s failed: %s", vendor, report.error)
    return report


def load_payload(con: duckdb.DuckDBPyConnection, settings: Settings, module: ModuleType,
                 fetched: Fetched, capture_ts_utc: datetime, run_id: str | None,
                 report: VendorReport | None = None) -> PayloadOutcome:
    vendor = module.VENDOR
    digest = rawstore.sha256_hex(fetched.body)
    known = con.execute("SELECT path FROM raw_payloads WHERE payload_hash = ?",
                        [digest]).fetchall()
    if known:
        con.execute("UPDATE raw_payloads SET last_seen_ts_utc = greatest(last_seen_ts_utc, ?), "
                     "times_seen = times_seen + 1 WHERE payload_hash = ?",
                     [capture_ts_utc, digest]).fetchall()
        return PayloadOutcome(fetched.kind, digest, known[0][0], len(fetched.body), "duplicate")

    saved = rawstore.plan_save(settings.ops_home, settings.raw_dir, vendor, fetched.kind,
                               fetched.body, capture_ts_utc, fetched.ext, sha256=digest)
    raw = RawPayload(vendor=vendor, kind=fetched.kind, body=fetched.body,
                     capture_ts_utc=capture_ts_utc, sha256=digest, path=saved.relative_path)
    outcome = PayloadOutcome(fetched.kind, digest, saved.relative_path, saved.size, "loaded")
    # The raw file is written (and fsynced) by a thread while the parser runs - file IO
    # releases the GIL - and nothing reaches the database until the write has finished:
    # a write error propagates from .result() and the parse result is thrown away.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rawstore") as pool:
        written = pool.submit(rawstore.write_planned, saved, fetched.body)
        try:
            result = module.parse(raw)
        except SchemaDriftError as exc:
            outcome.status, outcome.error = "parse_failed", f"SchemaDriftError: {exc}"
        except Exception as exc:
            outcome.status, outcome.error = "parse_failed", f"{type(exc).__name__}: {exc}"
            log.exception("%s parser crashed on %s", vendor, saved.relative_path)
        written.result()
    if outcome.status == "parse_failed":
        _register_payload(con, raw, module.PARSER_VERSION, outcome, run_id)
        return outcome

    with db.transaction(con):
        outcome.rows_parsed = len(result.rows)
        outcome.rows_rejected = result.rejections.total()
        outcome.rows_inserted = db.insert_new_rows(con, "fact_prop_odds", result.rows, ODDS_KEY,
                                                   prune_column="capture_ts_utc")
        insert_rejections(con, raw, result.rejections, module.PARSER_VERSION, run_id)
        update_dimensions(con, result.rows, result.markets)
        _register_payload(con, raw, module.PARSER_VERSION, outcome, run_id)
    if report is not None:
        report.rejections.merge(result.rejections)
        if len(result.rows) and (report.sample is None or report.sample.empty):
            report.sample = result.rows.head(5)
    return outcome


def _register_payload(con: duckdb.DuckDBPyConnection, raw: RawPayload, parser_version: str,
                      outcome: PayloadOutcome, run_id: str | None) -> None:
    now = utcnow()
    con.execute(
        "INSERT INTO raw_payloads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [raw.sha256, raw.vendor, raw.kind, raw.capture_ts_utc, raw.path, len(raw.body),
         parser_version, outcome.rows_parsed, outcome.rows_inserted, outcome.rows_rejected,
         outcome.error, run_id, now, raw.capture_ts_utc, 1]).fetchall()


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


def _write_fetch_log(con: duckdb.DuckDBPyConnection, client: VendorClient) -> None:
    if not client.attempts:
        return
    frame = pd.DataFrame([vars(a) for a in client.attempts], columns=list(FETCH_LOG_COLUMNS))
    con.register("_fetch_log", frame)
    try:
        con.execute(f"INSERT INTO fact_vendor_fetch_log ({', '.join(FETCH_LOG_COLUMNS)}) "
                    f"SELECT * FROM _fetch_log").fetchall()
    finally:
        con.unregister("_fetch_log")


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
