"""What a capture tells its notebook and the driver: per-vendor summary, rejections,
payloads, and the step status (success, partial, or an error when every vendor failed)."""

from __future__ import annotations

import pandas as pd

from helpers.core.errors import VendorError
from helpers.odds.capture import VendorReport


def summarize(reports: list[VendorReport]) -> pd.DataFrame:
    """One line per vendor for the notebook and the step status."""
    return pd.DataFrame([{
        "vendor": r.vendor, "status": r.status, "requests": r.requests, "retries": r.retries,
        "payloads": len(r.payloads),
        "duplicates": sum(p.status == "duplicate" for p in r.payloads),
        "quarantined": len(r.quarantined),
        "rows_parsed": r.rows_parsed, "rows_inserted": r.rows_inserted,
        "rejected": r.rejections.total(), "error": r.error, "note": r.note,
    } for r in reports])


# What a person reads in a parsed row (vendor keys, hashes and paths stay in the table)
SAMPLE_COLUMNS = ["player_name_raw", "player_team", "event_name_raw", "event_start_ts_utc",
                  "market_type", "line", "side", "book_name_raw", "odds_american",
                  "odds_decimal", "odds_quoted_format", "capture_ts_utc"]


def sample_rows(report: VendorReport) -> pd.DataFrame | None:
    """The first rows parsed from the vendor's capture, in the columns a person reads."""
    if report.sample is None:
        return None
    return report.sample[SAMPLE_COLUMNS]


def rejections_table(reports: list[VendorReport]) -> pd.DataFrame:
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
    # A payload set aside in this capture is news once: the step reads partial and says so,
    # although the fresh boards landed.
    quarantined = "; ".join(f"{r.vendor}: payload {p.path} {p.error}" for r in reports
                            for p in r.quarantined)
    if failed:
        summary = f"{len(failed)} of {len(reports)} vendors failed - {detail}"
        return "partial", summary + (f"; {quarantined}" if quarantined else "")
    if quarantined:
        return "partial", f"{inserted} rows inserted from {len(reports)} vendors; {quarantined}"
    return "success", f"{inserted} rows inserted from {len(reports)} vendors"


def payloads_frame(reports: list[VendorReport]) -> pd.DataFrame:
    rows = [{"vendor": r.vendor, **vars(p)} for r in reports for p in r.payloads]
    return pd.DataFrame(rows, columns=["vendor", "kind", "status", "rows_parsed",
                                       "rows_inserted", "rows_rejected", "size", "path",
                                       "error"])
