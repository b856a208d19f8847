"""Renormalize: a parser bug stored wrong rows; re-parsing the raw archive repairs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from helpers.core import db
from helpers.core.errors import DataCheckError
from helpers.core.settings import Settings, load_settings
from helpers.demo.server import Emulator
from helpers.odds import capture as ingest
from helpers.odds.renormalize import renormalize
from helpers.odds.vendors import unabated
from helpers.odds.vendors.parsing import ParseResult

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

CAPTURE = datetime(2025, 12, 1, 15, 0)
ROW = ("player_name_raw", "market_type", "line", "side", "book_id_vendor", "odds_american")


EMULATOR_CLOCK = CAPTURE  # conftest's `emulator` starts at it


def _settings(emulator: Emulator, home: Path) -> Settings:
    return load_settings({"OPS_HOME": str(home), "VENDORS": "UNABATED",
                          "UNABATED_BASE_URL": emulator.base_url})


def _rows(con: duckdb.DuckDBPyConnection) -> Counter:
    return Counter(con.execute(f"SELECT {', '.join(ROW)} FROM fact_prop_odds").fetchall())


def _inverted_parse(real_parse):
    """The historical bug (docs/domain.md): si0 read as UNDER."""
    def parse(raw):
        result: ParseResult = real_parse(raw)
        flipped = result.rows.assign(side=result.rows["side"].map({"OVER": "UNDER",
                                                                  "UNDER": "OVER"}))
        return ParseResult(flipped, result.rejections, result.items, "unabated-0-inverted",
                           result.stats)
    return parse


def test_side_inversion_is_repaired_from_raw(emulator: Emulator, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    reference_settings = _settings(emulator, tmp_path / "reference")
    ref = db.connect(reference_settings.paths.db_path)
    ingest.capture(ref, reference_settings, CAPTURE)
    correct = _rows(ref)
    ref.close()

    settings = _settings(emulator, tmp_path / "buggy")
    con = db.connect(settings.paths.db_path)
    with monkeypatch.context() as patch:
        patch.setattr(unabated, "parse", _inverted_parse(unabated.parse))
        patch.setattr(unabated, "PARSER_VERSION", "unabated-0-inverted")
        (report,) = ingest.capture(con, settings, CAPTURE)
    assert report.status == "success" and report.rows_inserted > 0
    wrong = _rows(con)
    assert wrong != correct and wrong.total() == correct.total()

    summary = renormalize(con, settings, "UNABATED")
    assert summary.payloads == 1 and summary.rows_before == summary.rows_after == correct.total()
    assert _rows(con) == correct
    versions = con.execute("SELECT DISTINCT parser_version FROM fact_prop_odds").fetchall()
    assert versions == [(unabated.PARSER_VERSION,)]
    assert con.execute("SELECT parser_version FROM raw_payloads").fetchall() == [
        (unabated.PARSER_VERSION,)]
    # Rejections were replaced, not doubled.
    rejected = con.execute("SELECT sum(n_rejected) FROM fact_rejected_odds").fetchall()[0][0]
    assert rejected == summary.rejected_after
    con.close()


def test_tampered_raw_file_changes_nothing(emulator: Emulator, tmp_path: Path) -> None:
    settings = _settings(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    ingest.capture(con, settings, CAPTURE)
    before = _rows(con)
    (path,) = con.execute("SELECT path FROM raw_payloads").fetchall()[0]
    (tmp_path / path).write_bytes(b"{}")
    with pytest.raises(DataCheckError, match="no longer matches its hash"):
        renormalize(con, settings, "UNABATED")
    assert _rows(con) == before
    con.close()


def test_cli_renormalize(emulator: Emulator, tmp_path: Path) -> None:
    settings = _settings(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    ingest.capture(con, settings, CAPTURE)
    n = con.execute("SELECT count(*) FROM fact_prop_odds").fetchall()[0][0]
    con.close()
    env = {**os.environ, "OPS_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "runner", "renormalize", "--vendor", "unabated",
                           "--since", "2025-12-01"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"rows {n} -> {n}" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "runner", "renormalize", "--vendor", "BETFAIR"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--vendor" in bad.stderr


def test_cli_refuses_a_tampered_archive_with_exit_1(emulator: Emulator, tmp_path: Path) -> None:
    settings = _settings(emulator, tmp_path)
    con = db.connect(settings.paths.db_path)
    ingest.capture(con, settings, CAPTURE)
    (path,) = con.execute("SELECT path FROM raw_payloads").fetchall()[0]
    con.close()
    (tmp_path / path).write_bytes(b"{}")
    env = {**os.environ, "OPS_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "runner", "renormalize", "--vendor", "UNABATED"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "no longer matches its hash" in proc.stderr and "nothing was changed" in proc.stderr
    missing = subprocess.run([sys.executable, "-m", "runner", "renormalize", "--vendor",
                              "UNABATED"], env={**env, "OPS_HOME": str(tmp_path / "none")},
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no database" in missing.stderr
