"""`runner backfill-unabated` against an archive (the emulator's snapshots, served by
pytest-httpserver so that every request is counted) and against a directory: five days equal
the same snapshots captured one by one; a rerun adds nothing; a cap of N requests stops
after exactly N and the next run completes; a SIGKILL mid-run leaves no partial payload and
the rerun completes to the same table; a dry run writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import requests

from helpers.core import db, rawstore
from helpers.demo.server import Emulator
from helpers.odds.capture import capture_vendor

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAYS = [date(2025, 12, 1) + timedelta(days=k) for k in range(5)]
CLOCK = datetime(2025, 12, 6, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], pd.DataFrame]:
    """The archive's morning snapshot of each of the five days ({'YYYY/MM/DD/<file>':
    bytes}; one a day keeps the test quick: each is ~9 MB), and the reference: the same
    moments captured one by one from the live endpoint."""
    home = tmp_path_factory.mktemp("reference")
    snapshots = {}
    with Emulator() as emu:
        emu.set_clock(CLOCK)
        base = f"{emu.base_url}/archive/unabated"
        for day in DAYS:
            names = requests.get(f"{base}/{day:%Y/%m/%d}/index.json", timeout=30).json()["files"]
            for name in sorted(names)[:1]:
                key = f"{day:%Y/%m/%d}/{name}"
                snapshots[key] = requests.get(f"{base}/{key}", timeout=60).content
        settings = emu.settings(home)
        con = db.connect(settings.paths.db_path)
        for key in sorted(snapshots):
            at = datetime.strptime(key[:11] + key[11:17], "%Y/%m/%d/%H%M%S")
            emu.set_clock(at.replace(tzinfo=UTC))
            report = capture_vendor(con, settings, "UNABATED", at, run_id="one-by-one")
            assert report.error is None, report.error
        reference = odds_rows(con)
        con.close()
    assert len(snapshots) == len(DAYS)
    return snapshots, reference


def odds_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute("SELECT * FROM fact_prop_odds").df()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def table(home: Path) -> pd.DataFrame:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        return odds_rows(con)
    finally:
        con.close()


def backfill(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "FORCE_"))}
    env["OPS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "runner", "backfill-unabated",
                           "--start-date", str(DAYS[0]), "--end-date", str(DAYS[-1]), *args],
                          cwd=home, env=env, capture_output=True, text=True, timeout=600)


def serve(httpserver, snapshots: dict[str, bytes]) -> str:
    for day in DAYS:
        names = sorted(k.rsplit("/", 1)[1] for k in snapshots if k.startswith(f"{day:%Y/%m/%d}"))
        httpserver.expect_request(f"/archive/{day:%Y/%m/%d}/index.json").respond_with_json(
            {"files": names})
    for key, body in snapshots.items():
        httpserver.expect_request(f"/archive/{key}").respond_with_data(
            body, content_type="application/json")
    return httpserver.url_for("/archive")


def test_archive_backfill_is_bounded_resumable_and_equals_one_by_one(archive, httpserver,
                                                                     tmp_path: Path) -> None:
    snapshots, reference = archive
    url = serve(httpserver, snapshots)
    home = tmp_path / "home"
    home.mkdir()

    dry = backfill(home, "--source-url", url, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.count("1 snapshots, 0 already ingested, 1 to fetch") == 5
    assert list(home.iterdir()) == []  # no database, no lock, no raw file

    httpserver.clear_log()
    capped = backfill(home, "--source-url", url, "--max-requests", "7")
    assert capped.returncode == 3, capped.stderr[-2000:]
    assert len(httpserver.log) == 7  # (index, file) x 3, index
    assert "stopped: request cap reached (7 requests)" in capped.stderr
    assert "after 2025/12/03/150000_unabated_propodds.json" in capped.stderr

    rest = backfill(home, "--source-url", url)
    assert rest.returncode == 0, rest.stderr[-2000:]
    assert "2 snapshots loaded" in rest.stderr
    pd.testing.assert_frame_equal(table(home), reference)

    httpserver.clear_log()
    again = backfill(home, "--source-url", url)
    assert again.returncode == 0 and "0 snapshots loaded (0 rows)" in again.stderr
    assert len(httpserver.log) == 0  # every day completed: nothing to read
    pd.testing.assert_frame_equal(table(home), reference)
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT status, error_summary FROM fact_run_registry "
                           "WHERE step = 'backfill' ORDER BY started_ts_utc").fetchall()
        captured = {t for (t,) in con.execute(
            "SELECT DISTINCT capture_ts_utc FROM fact_prop_odds").fetchall()}
    finally:
        con.close()
    assert [s for s, _ in runs] == ["partial", "success", "success"]
    # every snapshot keeps its own capture time: none is labelled with another day's
    assert sorted(captured) == sorted(
        datetime.strptime(k[:11] + k[11:17], "%Y/%m/%d/%H%M%S") for k in snapshots)


def test_directory_backfill_survives_a_kill_and_rejects_bad_input(archive,
                                                                  tmp_path: Path) -> None:
    snapshots, reference = archive
    source = tmp_path / "saved" / "UNABATED"
    for key, body in snapshots.items():
        path = source / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        path.with_name(path.name + ".sha256").write_text(rawstore.sha256_hex(body) + "\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "FORCE_"))}
    env["OPS_HOME"] = str(home)
    proc = subprocess.Popen([sys.executable, "-m", "runner", "backfill-unabated",
                             "--start-date", str(DAYS[0]), "--end-date", str(DAYS[-1]),
                             "--source-dir", str(source)], cwd=home, env=env,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # killed once the first day is in, mid-way through the second
        if line.startswith(f"backfill {DAYS[0]}:"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)

    done = backfill(home, "--source-dir", str(source))
    assert done.returncode == 0, done.stderr[-2000:]
    pd.testing.assert_frame_equal(table(home), reference)
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        states = con.execute("SELECT load_state, count(*) FROM raw_payloads "
                             "GROUP BY 1").fetchall()
        statuses = [s for (s,) in con.execute(
            "SELECT status FROM fact_run_registry WHERE step = 'backfill' "
            "ORDER BY started_ts_utc").fetchall()]
    finally:
        con.close()
    assert states == [("loaded", len(DAYS))]  # no pending, no duplicate payload
    assert statuses == ["interrupted", "success"]  # the killed run, marked by the next

    # a snapshot that does not match its .sha256 is counted as failed, not loaded
    bad = source / "2025/12/06/150000_unabated_propodds.json"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"{}")
    bad.with_name(bad.name + ".sha256").write_text("0" * 64)
    corrupt = backfill(home, "--source-dir", str(source), "--end-date", "2025-12-06")
    assert corrupt.returncode == 3 and "does not match its .sha256" in corrupt.stderr
    # ... and its day is not complete: once the file is restored, the same command loads it
    # (a trailing space gives the restored board its own hash; it files under 12-06 15:00)
    restored = snapshots[max(snapshots)] + b" "
    bad.write_bytes(restored)
    bad.with_name(bad.name + ".sha256").write_text(rawstore.sha256_hex(restored) + "\n")
    repaired = backfill(home, "--source-dir", str(source), "--end-date", "2025-12-06")
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert "1 snapshots loaded" in repaired.stderr and "0 failed" in repaired.stderr
    settled = backfill(home, "--source-dir", str(source), "--end-date", "2025-12-06")
    assert settled.returncode == 0 and "0 snapshots loaded (0 rows)" in settled.stderr
    assert "0 requests" in settled.stderr  # every day complete now: nothing read again

    for args, needle in ((["--source-dir", str(source), "--end-date", "2025-11-01"],
                          "before --start-date"),
                         (["--source-dir", str(tmp_path / "nowhere")], "is not a directory"),
                         (["--source-url", "ftp://x"], "not an http(s) URL"),
                         (["--source-dir", str(source), "--max-requests", "0"], "at least 1"),
                         ([], "one of the arguments --source-dir --source-url is required")):
        bad_usage = backfill(home, *args)
        assert bad_usage.returncode == 2 and needle in bad_usage.stderr, (args, bad_usage.stderr)
