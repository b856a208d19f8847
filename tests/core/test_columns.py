"""Every column list written in code matches the live schema (schema.sql + migrations), and
no INSERT relies on column positions."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from helpers.core import db
from helpers.core.http import FETCH_LOG_COLUMNS, FetchAttempt
from helpers.odds.load import rejections_frame
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, RawPayload, Rejections
from runner.registry import StepRecord

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    connection = db.connect(tmp_path_factory.mktemp("schema") / "ops.duckdb")
    yield connection
    connection.close()


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def test_odds_columns_are_fact_prop_odds_in_order(con: duckdb.DuckDBPyConnection) -> None:
    assert list(ODDS_COLUMNS) == columns(con, "fact_prop_odds")
    assert set(ODDS_KEY) <= set(ODDS_COLUMNS)


def test_registry_record_is_fact_run_registry_in_order(con: duckdb.DuckDBPyConnection) -> None:
    fields = [f.name for f in dataclasses.fields(StepRecord)]
    assert fields == columns(con, "fact_run_registry")


def test_fetch_attempt_is_fact_vendor_fetch_log(con: duckdb.DuckDBPyConnection) -> None:
    fields = [f.name for f in dataclasses.fields(FetchAttempt)]
    assert fields == list(FETCH_LOG_COLUMNS) == columns(con, "fact_vendor_fetch_log")


def test_rejections_frame_is_fact_rejected_odds(con: duckdb.DuckDBPyConnection) -> None:
    rejections = Rejections()
    rejections.add("bad_price", "+5")
    raw = RawPayload("UNABATED", "propodds", b"{}", datetime(2025, 12, 1), "ab" * 32, "x.json")
    frame = rejections_frame(raw, rejections, "unabated-1", "run")
    assert list(frame.columns) == columns(con, "fact_rejected_odds")


# INSERT INTO <table> followed directly by VALUES or SELECT: a positional insert.
_POSITIONAL = re.compile(r"INSERT\s+(?:OR\s+\w+\s+)?INTO\s+\w+\s+(?:VALUES|SELECT)", re.I)


def test_no_insert_depends_on_column_positions() -> None:
    offenders = []
    for folder in ("src", "runner"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            # the SQL may be split over f-string pieces; join adjacent literals roughly
            flat = re.sub(r'"\s*\n\s*f?"', "", text)
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                          for m in _POSITIONAL.finditer(flat)]
    for path in (ROOT / "src").rglob("*.sql"):
        offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                      for m in _POSITIONAL.finditer(path.read_text())
                      if "_v2" not in m.group(0)]  # migration copies keep the old order
    assert offenders == []
