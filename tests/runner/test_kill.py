"""SIGKILL of a real daily run (emulator, real ingestion notebook) at several moments.

After each kill: the worker and its kernel are gone within seconds, the next run exits 0 at
once, it marks the killed run interrupted, and the registry accounts for every run_id that
reached raw_payloads and the fetch log. Nothing is half loaded or duplicated.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from helpers.demo.server import Emulator
from helpers.odds.vendors.base import ODDS_KEY

pytestmark = pytest.mark.slow

DAY = datetime(2025, 12, 1, 15, 0)


def _env(home: Path, emulator: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": emulator.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
    return env


def _daily(home: Path, emulator: Emulator, at: datetime, **popen: object) -> list[str]:
    emulator.set_clock(at)
    return [sys.executable, "-m", "runner", "daily", "--run-odds-ingestion",
            "--date", at.date().isoformat(), "--as-of", at.strftime("%Y-%m-%dT%H:%M:%SZ")]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _new_file(home: Path, pattern: str) -> Callable[[], bool]:
    """True once a file matching `pattern` exists that did not exist when this was made."""
    before = set(home.glob(pattern))
    return lambda: any(p not in before for p in home.glob(pattern))


# Three moments of a run: the worker is being started (its spec is written and the step's
# registry row says running); mid-capture (Unabated's payload is on disk, OddsShark to
# come); the last vendor's payload is being loaded.
MOMENTS = {
    "step_starting": "outputs/runs/*/*/01_odds_ingest.spec.json",
    "mid_capture": "outputs/odds/raw/UNABATED/**/*.json",
    "last_vendor": "outputs/odds/raw/ODDSSHARK/**/*.html",
}


def _kill_at(home: Path, argv: list[str], env: dict[str, str], moment: str,
             whole_tree: bool) -> tuple[int, list[int]]:
    ready = _new_file(home, MOMENTS[moment])
    proc = subprocess.Popen(argv, cwd=home, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, f"the run ended before {moment}: {proc.stderr.read()[-2000:]}"
    family = descendants(proc.pid)
    if whole_tree:
        for pid in [proc.pid, *family]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    else:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver's group: the worker has its own
    proc.wait(timeout=10)
    proc.stderr.close()
    return proc.pid, family


def _check_database(home: Path) -> None:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        registered = {r[0] for r in con.execute(
            "SELECT DISTINCT run_id FROM fact_run_registry").fetchall()}
        for table in ("raw_payloads", "fact_vendor_fetch_log"):
            ids = {r[0] for r in con.execute(f"SELECT DISTINCT run_id FROM {table}").fetchall()}
            assert ids <= registered, (table, ids - registered)
        keys = ", ".join(ODDS_KEY)
        dupes = con.execute(f"SELECT count(*) FROM (SELECT {keys} FROM fact_prop_odds "
                            f"GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]
        assert dupes == 0
        half = con.execute(
            "SELECT count(*) FROM raw_payloads p WHERE load_state = 'loaded' AND rows_inserted "
            "<> (SELECT count(*) FROM fact_prop_odds o WHERE o.raw_payload_hash = p.payload_hash"
            " AND o.source_vendor = p.vendor)").fetchall()[0][0]
        assert half == 0  # every loaded payload has all of its rows
        assert con.execute("SELECT count(*) FROM fact_run_registry WHERE status = 'running'"
                           ).fetchall()[0][0] == 0
    finally:
        con.close()


@pytest.mark.parametrize("whole_tree", [False, True], ids=["driver_group", "whole_tree"])
def test_sigkill_at_three_moments_then_the_next_run_recovers(
        emulator: Emulator, tmp_path: Path, whole_tree: bool) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home, emulator)
    at = DAY
    for moment in MOMENTS:
        _, family = _kill_at(home, _daily(home, emulator, at), env, moment, whole_tree)
        # The worker and its kernel die with the driver (within the kernel's 1 s poll).
        deadline = time.monotonic() + 10
        while any(alive(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in family), (moment, [p for p in family if alive(p)])

        at += timedelta(minutes=30)
        started = time.monotonic()
        nxt = subprocess.run(_daily(home, emulator, at), cwd=home, env=env,
                             capture_output=True, text=True, timeout=180)
        assert nxt.returncode == 0, (moment, nxt.stderr[-3000:])
        assert "as interrupted" in nxt.stderr, moment
        assert time.monotonic() - started < 90
        _check_database(home)
        at += timedelta(minutes=30)

    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT status, count(*) FROM fact_run_registry WHERE step = 'run' "
                           "GROUP BY 1").fetchall()
    finally:
        con.close()
    assert dict(runs) == {"interrupted": 3, "success": 3}
