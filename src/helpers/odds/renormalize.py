"""Rebuild a vendor's odds rows from the raw archive with the current parser.

The repair path for a parser bug (docs/domain.md: an Unabated side inversion stayed in the
stored rows; only re-parsing raw fixed it). Every payload file is first checked against its
registered hash; then, in ONE transaction, the old rows and rejections of those payloads are
replaced by the current parser's, and `raw_payloads` records the new parser_version and
counts. Any error rolls the whole repair back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

import duckdb

from helpers.core import db, rawstore
from helpers.core.errors import DataCheckError
from helpers.core.settings import Settings
from helpers.odds.capture import parse_payload, store_parsed
from helpers.odds.vendors import vendor_module
from helpers.odds.vendors.base import RawPayload

log = logging.getLogger(__name__)


@dataclass
class RenormalizeSummary:
    vendor: str
    parser_version: str
    payloads: int
    parse_failures: int
    rows_before: int
    rows_after: int
    rejected_after: int


def renormalize(con: duckdb.DuckDBPyConnection, settings: Settings, vendor: str,
                since: date | None = None) -> RenormalizeSummary:
    module = vendor_module(vendor)
    since_ts = datetime.combine(since, time()) if since else datetime(1970, 1, 1)
    payloads = con.execute(
        "SELECT payload_hash, kind, capture_ts_utc, path FROM raw_payloads WHERE vendor = ? "
        "AND capture_ts_utc >= ? AND load_state <> 'pending' ORDER BY capture_ts_utc, path",
        [vendor, since_ts]).fetchall()
    for digest, _kind, _ts, path in payloads:
        full = settings.paths.ops_home / path
        if not full.exists():
            raise DataCheckError(f"raw payload {path} is missing; nothing was changed")
        if rawstore.sha256_hex(full.read_bytes()) != digest:
            raise DataCheckError(f"raw payload {path} no longer matches its hash {digest[:12]}; "
                                 "nothing was changed")
    hashes = [p[0] for p in payloads]
    summary = RenormalizeSummary(vendor, module.PARSER_VERSION, len(payloads), 0,
                                 rows_before=_count_rows(con, vendor, hashes), rows_after=0,
                                 rejected_after=0)
    with db.transaction(con):
        if payloads:
            con.execute("DELETE FROM fact_prop_odds WHERE source_vendor = ? AND raw_payload_hash "
                        "IN (SELECT unnest(?))", [vendor, hashes]).fetchall()
            con.execute("DELETE FROM fact_rejected_odds WHERE source_vendor = ? AND "
                        "raw_payload_hash IN (SELECT unnest(?))", [vendor, hashes]).fetchall()
        for digest, kind, capture_ts, path in payloads:
            body = (settings.paths.ops_home / path).read_bytes()
            raw = RawPayload(vendor=vendor, kind=kind, body=body, capture_ts_utc=capture_ts,
                             sha256=digest, path=path)
            result, error = parse_payload(module, raw)
            outcome = store_parsed(con, raw, module.PARSER_VERSION, result, error, None)
            if outcome.status == "parse_failed":
                summary.parse_failures += 1
            summary.rejected_after += outcome.rows_rejected
    summary.rows_after = _count_rows(con, vendor, hashes)
    log.info("renormalized %s: %s", vendor, summary)
    return summary


def _count_rows(con: duckdb.DuckDBPyConnection, vendor: str, hashes: list[str]) -> int:
    if not hashes:
        return 0
    return con.execute("SELECT count(*) FROM fact_prop_odds WHERE source_vendor = ? AND "
                       "raw_payload_hash IN (SELECT unnest(?))", [vendor, hashes]).fetchall()[0][0]

