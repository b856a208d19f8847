"""helpers.odds.load.insert_odds: the Arrow insert stores what db.insert_new_rows stores."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.core import db
from helpers.core.db import distinct_non_null
from helpers.odds.load import insert_odds
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY
from helpers.odds.vendors.parsing import Indexed, build_odds_table, frame_from_table


def _rows(n: int, capture: datetime, keys: list[str | None]) -> pa.Table:
    spec = {c: "x" for c in ODDS_COLUMNS}
    spec.update({
        "source_vendor": "UNABATED", "capture_ts_utc": capture, "event_start_ts_utc": capture,
        "market_type": Indexed(["SOG", "GOALS"], np.arange(n) % 2),
        "side": Indexed(["OVER", "UNDER"], np.arange(n) % 2),
        "line": np.arange(n) * 0.5, "odds_american": np.full(n, -110),
        "odds_decimal": np.full(n, 1.9), "odds_american_derived": False,
        "odds_decimal_derived": True, "is_live": False, "player_team": None,
        "odds_quoted_raw": [str(i) for i in range(n)], "vendor_outcome_key": keys,
    })
    return build_odds_table(n, spec)


def _both(tmp_path: Path, batches: list[pa.Table]) -> tuple[list[int], list[int], pd.DataFrame,
                                                              pd.DataFrame]:
    """Insert the batches in order with insert_odds and with db.insert_new_rows (each into its
    own database); the counts and the stored tables."""
    new_con = db.connect(tmp_path / "new.duckdb")
    old_con = db.connect(tmp_path / "old.duckdb")
    new = [insert_odds(new_con, batch) for batch in batches]
    old = [db.insert_new_rows(old_con, "fact_prop_odds", frame_from_table(batch), ODDS_KEY,
                              prune_column="capture_ts_utc") for batch in batches]
    query = "SELECT * FROM fact_prop_odds ORDER BY ALL"
    stored = new_con.execute(query).df(), old_con.execute(query).df()
    new_con.close()
    old_con.close()
    return new, old, *stored


def test_insert_odds_matches_insert_new_rows(tmp_path: Path) -> None:
    t0, t1 = datetime(2026, 1, 5, 15), datetime(2026, 1, 5, 16)
    first = _rows(4, t0, ["a", "b", "c", "d"])
    again = _rows(4, t0, ["a", "b", "c", "d"])  # the same rows: nothing added
    duplicated = pa.concat_tables([_rows(3, t1, ["a", None, None]),
                                   _rows(3, t1, ["a", None, "e"])])  # in-batch duplicates
    new, old, new_rows, old_rows = _both(tmp_path, [first, again, duplicated])
    assert new == old == [4, 0, 4]
    pd.testing.assert_frame_equal(new_rows, old_rows, check_exact=True)


def test_insert_odds_keeps_the_first_of_duplicates_and_ignores_an_empty_table(
        tmp_path: Path) -> None:
    t0 = datetime(2026, 1, 5, 15)
    one = _rows(1, t0, ["k"])
    twice = pa.concat_tables([one, one.set_column(
        ODDS_COLUMNS.index("odds_quoted_raw"), "odds_quoted_raw", pa.array(["second"], type=pa.large_string()))])
    new, old, new_rows, old_rows = _both(tmp_path, [_rows(0, t0, []), twice])
    assert new == old == [0, 1]
    assert new_rows["odds_quoted_raw"].tolist() == ["0"]
    pd.testing.assert_frame_equal(new_rows, old_rows, check_exact=True)


def testdistinct_non_null() -> None:
    assert distinct_non_null(pa.chunked_array([["a", "b"], ["c"]]))
    assert not distinct_non_null(pa.chunked_array([["a", "b"], ["a"]]))
    assert not distinct_non_null(pa.chunked_array([["a", None]]))
    assert distinct_non_null(pa.chunked_array([pa.array(["a", "b"]).dictionary_encode()]))
    assert not distinct_non_null(pa.chunked_array([pa.array(["a", "a"]).dictionary_encode()]))
