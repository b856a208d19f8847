"""The ingestion notebook's sample rows: the columns a person reads, not all 29."""

from __future__ import annotations

import pandas as pd

from helpers.odds.capture import VendorReport
from helpers.odds.report import SAMPLE_COLUMNS, sample_rows
from helpers.odds.vendors.base import ODDS_COLUMNS


def test_sample_rows_keep_the_columns_a_person_reads() -> None:
    parsed = pd.DataFrame([dict.fromkeys(ODDS_COLUMNS, "x")] * 3)
    sample = sample_rows(VendorReport("PLAYNOW", sample=parsed))
    assert list(sample.columns) == SAMPLE_COLUMNS and len(sample) == 3
    assert not {"raw_payload_hash", "raw_payload_path", "vendor_outcome_key"} & set(sample)


def test_no_sample_when_nothing_was_parsed() -> None:
    assert sample_rows(VendorReport("PLAYNOW")) is None
