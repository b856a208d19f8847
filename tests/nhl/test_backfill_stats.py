"""`runner backfill-stats` on the emulator: the final games of a date range, capped and
resumed, equal to the emulator's schedule; a rerun loads nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import requests

from helpers.demo.server import Emulator

pytestmark = pytest.mark.slow


def test_backfill_stats_is_capped_resumable_and_complete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with Emulator() as emu:
        emu.set_clock(datetime(2025, 11, 1, 15, tzinfo=UTC))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "FORCE_"))}
        env.update({"OPS_HOME": str(home), "NHL_API_BASE_URL": emu.base_url,
                    "HTTP_BACKOFF_SECONDS": "0"})

        def backfill(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "runner", "backfill-stats",
                                   "--start-date", "2025-10-20", "--end-date", "2025-10-24",
                                   *args], cwd=home, env=env, capture_output=True, text=True,
                                  timeout=300)

        capped = backfill("--max-requests", "4")
        assert capped.returncode == 3, capped.stderr[-2000:]
        assert "stopped at the request cap" in capped.stderr
        rest = backfill()
        assert rest.returncode == 0, rest.stderr[-2000:]
        # the season-load progress reaches the terminal: a line every 25 games and the last
        assert re.search(r"stats: (\d+) of \1 games loaded \(\d+ requests\)", rest.stderr)
        again = backfill()
        assert again.returncode == 0 and "0 games loaded" in again.stderr
        week = requests.get(f"{emu.base_url}/v1/schedule/2025-10-20", timeout=30).json()
    expected = {g["id"] for day in week["gameWeek"] if "2025-10-20" <= day["date"] <= "2025-10-24"
                for g in day["games"]}
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        stored = {g for (g,) in con.execute(
            "SELECT game_id FROM dim_games WHERE state IN ('OFF', 'FINAL')").fetchall()}
        # the first run by its start: two runs can share a second, and with it the run id's
        # time part, so min(run_id) may name the second one
        attempts = con.execute("SELECT count(*) FROM fact_vendor_fetch_log WHERE run_id = "
                               "(SELECT run_id FROM fact_run_registry WHERE step = 'backfill' "
                               "ORDER BY started_ts_utc LIMIT 1)").fetchall()[0][0]
        skaters = con.execute("SELECT count(DISTINCT game_id) FROM fact_skater_games"
                              ).fetchall()[0][0]
        statuses = [s for (s,) in con.execute("SELECT status FROM fact_run_registry ORDER BY "
                                              "started_ts_utc").fetchall()]
    finally:
        con.close()
    assert stored == expected and skaters == len(expected) > 10
    assert attempts == 4  # the capped run made exactly its four requests
    assert statuses == ["partial", "success", "success"]
