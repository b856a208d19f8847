"""`runner backup` and the restore procedure of docs/operations.md, on real databases.

The restore test runs the recipe exactly as the document prints it (its paths replaced by
the test's), so the document cannot drift from what works. Bad input to `backup` (exit 2,
one line, nothing written) is in test_bad_input.py with every other command's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers.core import db
from helpers.core.settings import DEFAULTS
from helpers.core.vendors import NHL_API, VENDORS
from runner.lock import RunLock
from tests.runner.nbfactory import write_step_notebooks

pytestmark = pytest.mark.slow

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens: no command here reaches a vendor
TRUNCATED_BYTES = 4 * 4096  # the file's headers survive, so it still looks like DuckDB


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in DEFAULTS and not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env["OPS_HOME"] = str(home)
    env.update({f"{name}_BASE_URL": CLOSED_PORT_URL for name in (*VENDORS, NHL_API)})
    env.update(extra)
    return env


def runner(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=home,
                          env=clean_env(home, **extra), capture_output=True, text=True,
                          timeout=240)


def row_counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchall()[0][0]
                for s, t in tables}
    finally:
        con.close()


def recipe(marker: str) -> str:
    """The shell block that follows `<!-- marker -->` in docs/operations.md."""
    text = OPERATIONS.read_text()
    found = re.search(rf"<!-- {marker} -->\n```(?:bash|sh)\n(.*?)\n```", text, re.S)
    assert found, f"no {marker} block in {OPERATIONS.name}"
    return found.group(1)


def commit_then_die(database: Path, run_id: str) -> None:
    """A writer killed right after a commit: the commit is left in ops.duckdb.wal."""
    writer = ("import os, signal, sys\n"
              "from helpers.core import db\n"
              "con = db.connect(sys.argv[1])\n"
              "con.execute(\"INSERT INTO fact_run_registry (run_id, slate_date, as_of_ts_utc, "
              "step, step_order, status) VALUES (?, DATE '2025-12-01', "
              "TIMESTAMP '2025-12-01 15:00', 'run', 0, 'running')\", [sys.argv[2]])\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", writer, str(database), run_id], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert database.with_name(database.name + ".wal").stat().st_size > 0


def test_backup_then_restore_by_the_documented_recipe(warm_home, tmp_path: Path) -> None:
    """A database with a season of stats, a morning's odds and a run in its registry is
    backed up; the original is then damaged (a killed writer's log beside it, the file
    truncated)
    and restored by the recipe of docs/operations.md: every table has the rows it had, and
    `runner runs` lists the run again."""
    _, home = warm_home
    notebooks = write_step_notebooks(tmp_path / "nb", {})
    ran = runner(home, "daily", "--run-ev", "--date", "2025-12-01", "--as-of",
                 "2025-12-01T15:00:00Z", OPS_NOTEBOOK_DIR=str(notebooks))
    assert ran.returncode == 0, ran.stderr[-3000:]
    listed = runner(home, "runs", "--days", "30", "--json")
    assert listed.returncode == 0, listed.stderr
    (run,) = json.loads(listed.stdout)
    database = home / "data" / "ops.duckdb"
    counts = row_counts(database)
    assert counts["main.fact_prop_odds"] > 10_000 and counts["main.fact_skater_games"] > 1_000
    assert counts["main.fact_run_registry"] == 6  # the run and its five steps

    backups = tmp_path / "backups"
    made = runner(home, "backup", "--to", str(backups))
    assert made.returncode == 0, made.stderr[-3000:]
    (backup,) = backups.iterdir()  # the backup and nothing else: no partial file, no log
    assert re.fullmatch(r"ops-\d{8}T\d{6}Z\.duckdb", backup.name)
    assert made.stdout == ""
    assert made.stderr.splitlines()[-1].startswith(
        f"backup: {backup} ({len(counts)} tables, {sum(counts.values()):,} rows, ")
    assert row_counts(backup) == counts

    # After the backup, a run is killed mid-write (its commit left in the write-ahead log),
    # then the file is cut short: a disk full, a partial copy.
    commit_then_die(database, "killed-after-the-backup")
    damaged = database.read_bytes()[:TRUNCATED_BYTES]
    database.write_bytes(damaged)
    broken = runner(home, "runs")
    assert broken.returncode == 2 and "damaged or truncated" in broken.stderr, broken.stderr

    script = recipe("restore-recipe")
    assert "cd /srv/nhl-props-ops\n" in script and re.search(r"^backup=/\S+$", script, re.M)
    script = script.replace("/srv/nhl-props-ops", str(home))
    script = script.replace(".venv/bin/python", sys.executable)
    script = re.sub(r"^backup=\S+$", f"backup={backup}", script, flags=re.M)
    assert "/srv/" not in script
    restored = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                              env=clean_env(home), capture_output=True, text=True, timeout=240)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert run["run_id"] in restored.stdout  # the recipe's `runner runs` lists the run

    assert row_counts(database) == counts
    again = runner(home, "runs", "--days", "30", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == [run], again.stderr
    kept = home / "data" / "damaged"
    assert (kept / "ops.duckdb").read_bytes() == damaged  # kept aside, not lost
    assert (kept / "ops.duckdb.wal").exists() and not database.with_name("ops.duckdb.wal").exists()


def test_a_backup_holds_what_a_killed_run_left_in_the_write_ahead_log(tmp_path: Path) -> None:
    """A run killed right after a commit leaves the commit in ops.duckdb.wal: a copy of the
    file alone misses it, the backup has it, as one file."""
    home = tmp_path / "home"
    database = home / "data" / "ops.duckdb"
    db.connect(database).close()
    commit_then_die(database, "killed-mid-run")

    def run_ids(path: Path) -> list[str]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return [r for (r,) in con.execute("SELECT run_id FROM fact_run_registry")
                    .fetchall()]
        finally:
            con.close()

    plain = tmp_path / "plain-copy.duckdb"
    shutil.copyfile(database, plain)
    assert run_ids(plain) == []  # what `cp` would have kept

    backups = tmp_path / "backups"
    made = runner(home, "backup", "--to", str(backups))
    assert made.returncode == 0, made.stderr[-3000:]
    (backup,) = backups.iterdir()
    assert run_ids(backup) == ["killed-mid-run"]


def test_a_backup_waits_for_a_run_or_a_writer_then_exits_2_writing_nothing(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = home / "data" / "ops.duckdb"
    db.connect(database).close()
    backups = tmp_path / "backups"

    with RunLock(database, 0) as lock:
        lock.acquire("20251201T150000Z-abcdef")
        locked = runner(home, "backup", "--to", str(backups), RUN_LOCK_WAIT_SECONDS="1")
    assert locked.returncode == 2, locked.stderr
    (line,) = locked.stderr.splitlines()
    assert "another daily run holds" in line and "20251201T150000Z-abcdef" in line
    assert not backups.exists()

    holder = db.connect(database)  # an analyst's read-write connection, in this process
    try:
        held = runner(home, "backup", "--to", str(backups), RUN_LOCK_WAIT_SECONDS="1")
    finally:
        holder.close()
    assert held.returncode == 2, held.stderr
    assert "in use by another process" in held.stderr.splitlines()[-1]
    assert not backups.exists()
