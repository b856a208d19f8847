"""The one place a parse result is stored (ingest and renormalize both call it).

`store_parsed` writes, in ONE transaction: the payload's rows into fact_prop_odds (idempotent
on the odds key), its counted rejections, the books and markets it used, and its
raw_payloads row (counts, parser version, load state). A payload is registered `pending`
(`register_pending`) before its raw file is written, so a crash in between leaves a row the
next capture finishes, never a file nobody knows about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.errors import SchemaDriftError
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, RawPayload, Rejections
from helpers.odds.vendors.parsing import ParseResult

log = logging.getLogger(__name__)

REJECTION_KEY = ("raw_payload_hash", "source_vendor", "reason", "parser_version")


@dataclass
class PayloadOutcome:
    kind: str
    sha256: str
    path: str
    size: int
    # loaded | duplicate | parse_failed | resumed (an interrupted capture's payload, loaded
    # now) | abandoned (an interrupted capture's payload whose raw file was never written) |
    # quarantined (its parse never finished, twice: kept raw, not parsed again by a capture)
    status: str
    rows_parsed: int = 0
    rows_inserted: int = 0
    rows_rejected: int = 0
    error: str | None = None


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
            outcome.rows_parsed = result.n_rows
            outcome.rows_rejected = result.rejections.total()
            rows = result.table
            outcome.rows_inserted = insert_odds(con, rows)
            insert_rejections(con, raw, result.rejections, parser_version, run_id)
            update_dimensions(con, rows, result.markets)
        con.execute(
            "UPDATE raw_payloads SET parser_version = ?, rows_parsed = ?, rows_inserted = ?, "
            "rows_rejected = ?, parse_error = ?, load_state = ? "
            "WHERE payload_hash = ? AND vendor = ? AND kind = ?",
            [parser_version, outcome.rows_parsed, outcome.rows_inserted, outcome.rows_rejected,
             outcome.error, outcome.status, raw.sha256, raw.vendor, raw.kind]).fetchall()
    return outcome


def insert_odds(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> int:
    """Insert the odds rows (`ParseResult.table`) whose ODDS_KEY is not yet in
    fact_prop_odds; return how many. A parse's vendor_outcome_keys are distinct as a rule,
    which spares the in-batch duplicate check (`db.insert_new_rows`)."""
    if tuple(rows.column_names) != ODDS_COLUMNS:
        raise ValueError(f"insert_odds: columns {rows.column_names} are not ODDS_COLUMNS")
    return db.insert_new_rows(con, "fact_prop_odds", rows, ODDS_KEY,
                              prune_column="capture_ts_utc", unique_column="vendor_outcome_key")


def register_pending(con: duckdb.DuckDBPyConnection, raw: RawPayload,
                      run_id: str | None) -> None:
    con.execute(
        "INSERT INTO raw_payloads (payload_hash, vendor, kind, capture_ts_utc, path, bytes, "
        "run_id, registered_ts_utc, last_seen_ts_utc, times_seen, load_state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'pending')",
        [raw.sha256, raw.vendor, raw.kind, raw.capture_ts_utc, raw.path, len(raw.body), run_id,
         utcnow(), raw.capture_ts_utc]).fetchall()


def start_parse(con: duckdb.DuckDBPyConnection, raw: RawPayload) -> None:
    """Count a parse attempt, committed before the parse starts: a parse that never
    finishes (the process killed inside it) leaves the count behind as its trace."""
    con.execute("UPDATE raw_payloads SET parse_attempts = parse_attempts + 1 "
                "WHERE payload_hash = ? AND vendor = ? AND kind = ?",
                [raw.sha256, raw.vendor, raw.kind]).fetchall()


def quarantine(con: duckdb.DuckDBPyConnection, raw: RawPayload, reason: str) -> None:
    """Set a pending payload aside: kept raw and registered, never parsed by a capture
    again; `renormalize` parses it after a parser fix."""
    con.execute("UPDATE raw_payloads SET load_state = 'quarantined', parse_error = ?, "
                "quarantined_ts_utc = ? WHERE payload_hash = ? AND vendor = ? AND kind = ? "
                "AND load_state = 'pending'",
                [reason, utcnow(), raw.sha256, raw.vendor, raw.kind]).fetchall()


def unregister_pending(con: duckdb.DuckDBPyConnection, raw: RawPayload) -> None:
    con.execute("DELETE FROM raw_payloads WHERE payload_hash = ? AND vendor = ? AND kind = ? "
                "AND load_state = 'pending'", [raw.sha256, raw.vendor, raw.kind]).fetchall()


def rejections_frame(raw: RawPayload, rejections: Rejections, parser_version: str,
                     run_id: str | None) -> pd.DataFrame:
    """The fact_rejected_odds rows of one payload: one per reason, with its first example."""
    return pd.DataFrame({
        "raw_payload_hash": raw.sha256,
        "source_vendor": raw.vendor,
        "capture_ts_utc": raw.capture_ts_utc,
        "reason": list(rejections.counts),
        "n_rejected": list(rejections.counts.values()),
        "example": [rejections.examples.get(r) for r in rejections.counts],
        "parser_version": parser_version,
        "run_id": run_id,
    })


def insert_rejections(con: duckdb.DuckDBPyConnection, raw: RawPayload, rejections: Rejections,
                      parser_version: str, run_id: str | None) -> int:
    if not rejections.counts:
        return 0
    frame = rejections_frame(raw, rejections, parser_version, run_id)
    return db.insert_new_rows(con, "fact_rejected_odds", frame, REJECTION_KEY)


def update_dimensions(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame | pa.Table,
                      markets: dict[str, str] | None = None) -> None:
    """Upsert the books and markets this payload used (first/last seen kept).

    `markets` (ParseResult.markets) names the vendor's market kinds when the rows'
    vendor_market_id is not one: PlayNow's market ids are per event, and recording them
    would grow dim_markets by a row per player market per capture. `rows` is the odds frame
    or its Arrow table (ParseResult.table)."""
    if isinstance(rows, pd.DataFrame):
        rows = pa.Table.from_pandas(rows, preserve_index=False)
    if rows.num_rows == 0:
        return
    books = rows.select(["source_vendor", "book_id_vendor", "book_name_raw", "book_type",
                         "capture_ts_utc"])
    if markets is None:
        market_rows = rows.select(["source_vendor", "vendor_market_id", "market_type",
                                   "capture_ts_utc"])
    else:
        vendors = pc.unique(rows.column("source_vendor").cast(pa.large_string())).to_pylist()
        if len(vendors) != 1:
            raise ValueError(f"update_dimensions: market kinds given for rows of {vendors}")
        bounds = pc.min_max(rows.column("capture_ts_utc"))
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        market_rows = pd.DataFrame({
            "source_vendor": vendors[0], "vendor_market_id": list(markets) * 2,
            "market_type": list(markets.values()) * 2,
            "capture_ts_utc": [lo] * len(markets) + [hi] * len(markets)})
    con.register("_dim_books", books)
    con.register("_dim_markets", market_rows)
    try:
        con.execute("""
            INSERT INTO dim_books (source_vendor, book_id_vendor, book_name, book_type,
                                   first_seen_ts_utc, last_seen_ts_utc)
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
            INSERT INTO dim_markets (source_vendor, vendor_market_id, market_type,
                                     first_seen_ts_utc, last_seen_ts_utc)
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
