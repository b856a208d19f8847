"""Quiet days and outages through the real driver (`runner daily`, the five notebooks, the
reports) on a fresh home against the demo emulator: a day with no games is an ordinary
success, and a vendor that captured nothing has a failed freshness check of its own.

The demo league's season starts on 2025-11-01: the day before has no games (the cheapest
off day there is: no stats to load), and on its first day a run is a small one."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from helpers.demo.server import Emulator

pytestmark = pytest.mark.slow

SEASON_START = date(2025, 11, 1)
OFF_DAY = date(2025, 10, 31)


EMULATOR_WORLD = {"season_start": SEASON_START, "days": 10}  # conftest's `emulator`


def run_daily(emu: Emulator, home: Path, slate: date, morning: datetime, *flags: str,
              **extra: str) -> subprocess.CompletedProcess:
    emu.set_clock(morning)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": emu.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}, **extra})
    return subprocess.run([sys.executable, "-m", "runner", "daily", *flags, "--date",
                           slate.isoformat(), "--as-of", f"{morning:%Y-%m-%dT%H:%M:%S}Z"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=600)


def query(home: Path, sql: str, *params: object) -> list[tuple]:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def attention(text: str) -> str:
    return text.split("## Needs attention")[1].split("## Runs")[0]


def test_a_day_with_no_games_is_a_success_and_its_report_says_off_day(
        emulator: Emulator, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(emulator, home, OFF_DAY, datetime(2025, 10, 31, 15, 0), "--all")
    assert proc.returncode == 0, proc.stderr[-4000:]
    steps = dict(query(home, "SELECT step, status || ': ' || coalesce(error_summary, '') "
                             "FROM fact_run_registry WHERE step NOT IN ('run', 'report')"))
    assert all(s.startswith("success") for s in steps.values()), steps
    for step in ("production", "ev"):
        assert f"success: no games on {OFF_DAY}: nothing to" in steps[step], steps[step]
    assert query(home, "SELECT status FROM fact_run_registry WHERE step = 'run'") == [
        ("success",)]
    # the anomaly checks did not hold the missing odds of a day without games against it
    assert query(home, "SELECT count(*) FROM fact_anomaly_checks WHERE NOT passed") == [(0,)]
    freshness = query(home, "SELECT subject, detail FROM fact_anomaly_checks "
                            "WHERE check_name = 'freshness' ORDER BY subject")
    assert freshness == [(v, f"not checked: no games on {OFF_DAY}")
                         for v in ("ODDSSHARK", "PLAYNOW", "UNABATED")]

    text = (home / "outputs" / "monitoring" / f"daily_report_{OFF_DAY}.md").read_text()
    assert f"**An off day**: no games on {OFF_DAY}" in text.split("## Needs attention")[0]
    assert attention(text).strip() == "Nothing needs attention."


def test_a_vendor_that_captured_nothing_fails_its_freshness_check(
        emulator: Emulator, tmp_path: Path) -> None:
    """PlayNow forced down on the season's first morning: ingestion is partial, and PlayNow,
    with no capture of the slate at all, has a failed freshness row (before, it had none and
    the other vendors' rows read "0 failed")."""
    home = tmp_path / "home"
    home.mkdir()
    proc = run_daily(emulator, home, SEASON_START, datetime(2025, 11, 1, 15, 0),
                     "--run-odds-ingestion", "--run-diagnostics",
                     FORCE_VENDOR_FAILURE="PLAYNOW")
    assert proc.returncode == 3, proc.stderr[-4000:]
    freshness = dict(query(home, "SELECT subject, passed FROM fact_anomaly_checks "
                                 "WHERE check_name = 'freshness'"))
    assert freshness == {"PLAYNOW": False, "UNABATED": True, "ODDSSHARK": True}
    summary = query(home, "SELECT error_summary FROM fact_run_registry "
                          "WHERE step = 'diagnostics'")[0][0]
    assert summary.endswith("1 failed"), summary
    text = (home / "outputs" / "monitoring" / f"daily_report_{SEASON_START}.md").read_text()
    assert (f"Anomaly **freshness** on PLAYNOW: no capture of the slate by {SEASON_START} "
            "15:00 UTC.") in attention(text)
    row = next(line for line in text.split("## Anomaly checks")[1].splitlines()
               if line.startswith("| freshness | PLAYNOW |"))
    assert "| **NO** |" in row, row
