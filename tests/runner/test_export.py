"""The Parquet copies (`runner/export.py`): a partition reads back as the table's rows, a
rerun replaces it, an export killed before its rename leaves the old partition whole, and
`runner export --since` rebuilds them or refuses bad input in one line, writing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.settings import load_settings
from runner.export import (
    EXPORTED,
    export_slates,
    parquet_root,
    partition_file,
    remove_leftovers,
    slates_after_run,
)
from runner.registry import StepRecord, write_records

SLATES = [date(2025, 12, 1), date(2025, 12, 2)]


def home_with_runs(home: Path) -> object:
    """A database whose registry holds a run on each slate (every exported table exists)."""
    settings = load_settings({"OPS_HOME": str(home)})
    db.connect(settings.paths.db_path).close()  # the schema
    write_records(settings.paths.db_path, [
        StepRecord(run_id=f"run-{slate}-{step}", slate_date=slate,
                   as_of_ts_utc=datetime(slate.year, slate.month, slate.day, 15),
                   step=step, step_order=order, status="success", duration_s=1.5 * order)
        for slate in SLATES for order, step in enumerate(("run", "odds_ingestion", "ev"))])
    return settings


def read_copies(settings, table: str) -> pd.DataFrame:
    pattern = str(parquet_root(settings) / table / "*" / "*.parquet")
    return duckdb.connect().execute(
        f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true) "
        f"ORDER BY ALL").df()


def read_table(settings, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(settings.paths.db_path), read_only=True)
    try:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name <> 'slate_date' ORDER BY ordinal_position", [table]).fetchall()]
        # the copies put the partition column last
        return con.execute(f"SELECT {', '.join(columns)}, slate_date FROM {table} "
                           f"ORDER BY ALL").df()
    finally:
        con.close()


def test_every_table_reads_back_from_its_partitions_as_sql_over_the_database(
        tmp_path: Path) -> None:
    settings = home_with_runs(tmp_path)
    summary = export_slates(settings, SLATES)
    assert (summary.tables, summary.slates, summary.rows) == (len(EXPORTED), 2, 6)
    for table in EXPORTED:
        assert partition_file(parquet_root(settings), table, SLATES[0]).exists()
        pd.testing.assert_frame_equal(read_copies(settings, table), read_table(settings, table),
                                      obj=table, check_dtype=False)
    assert len(read_copies(settings, "fact_run_registry")) == 6
    empty = pd.read_parquet(parquet_root(settings) / "fact_ev_candidates")
    assert empty.empty and "ev" in empty.columns  # an empty partition still has its columns


def test_a_rerun_replaces_its_partition_and_leaves_the_others(tmp_path: Path) -> None:
    settings = home_with_runs(tmp_path)
    export_slates(settings, SLATES)
    untouched = partition_file(parquet_root(settings), "fact_run_registry", SLATES[0])
    before = untouched.stat().st_mtime_ns
    con = duckdb.connect(str(settings.paths.db_path))
    con.execute("DELETE FROM fact_run_registry WHERE slate_date = ? AND step = 'ev'",
                [SLATES[1]])
    con.execute("UPDATE fact_run_registry SET status = 'failed' WHERE slate_date = ? "
                "AND step = 'run'", [SLATES[1]])
    con.close()
    export_slates(settings, [SLATES[1]])
    copies = read_copies(settings, "fact_run_registry")
    second = copies[copies.slate_date == pd.Timestamp(SLATES[1])]
    assert sorted(second.step) == ["odds_ingestion", "run"]  # the deleted row is gone
    assert second.set_index("step").status["run"] == "failed"
    assert len(copies[copies.slate_date == pd.Timestamp(SLATES[0])]) == 3
    assert untouched.stat().st_mtime_ns == before


def test_an_export_killed_before_its_rename_leaves_the_old_partition_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = home_with_runs(tmp_path)
    export_slates(settings, SLATES)
    target = partition_file(parquet_root(settings), "fact_run_registry", SLATES[0])
    old = target.read_bytes()
    con = duckdb.connect(str(settings.paths.db_path))
    con.execute("UPDATE fact_run_registry SET status = 'failed' WHERE slate_date = ?",
                [SLATES[0]])
    con.close()

    def killed(self: Path, other: object) -> Path:
        raise KeyboardInterrupt("killed between the write and the rename")

    monkeypatch.setattr(Path, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        export_slates(settings, SLATES)
    monkeypatch.undo()
    assert target.read_bytes() == old  # readers still see the whole old partition
    leftovers = list(target.parent.glob(".data.parquet.tmp-*"))
    assert len(leftovers) == 1  # the new file, beside it, under a name no glob reads
    assert set(read_copies(settings, "fact_run_registry").status) == {"success"}

    export_slates(settings, SLATES)
    assert not list(target.parent.glob(".data.parquet.tmp-*"))
    statuses = read_copies(settings, "fact_run_registry").groupby("slate_date").status.agg(set)
    assert statuses[pd.Timestamp(SLATES[0])] == {"failed"}
    assert remove_leftovers(tmp_path / "nothing-here") == 0


def test_a_run_exports_its_slate_and_the_slates_grading_revisits(tmp_path: Path) -> None:
    settings = load_settings({"OPS_HOME": str(tmp_path), "OUTCOMES_LOOKBACK_DAYS": "2"})
    assert slates_after_run(settings, date(2025, 12, 3)) == [
        date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3)]


def runner(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=home,
                          env={**env, "OPS_HOME": str(home)}, capture_output=True, text=True,
                          timeout=120)


def test_export_since_rebuilds_deleted_copies_and_refuses_bad_input(tmp_path: Path) -> None:
    settings = home_with_runs(tmp_path)
    root = parquet_root(settings)
    bad = runner(tmp_path, "export", "--since", "2025-13-01")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: --since '2025-13-01' is not a date in the form YYYY-MM-DD"]
    assert not root.exists()  # nothing written
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner(empty, "export", "--since", "2025-12-01")
    assert missing.returncode == 2 and "no database" in missing.stderr
    assert list(empty.iterdir()) == []

    done = runner(tmp_path, "export", "--since", "2025-12-02")
    assert done.returncode == 0, done.stderr
    assert "1 slates" in done.stderr
    assert sorted(p.parent.name for p in root.glob("fact_run_registry/*/*.parquet")) == [
        "slate_date=2025-12-02"]
    done = runner(tmp_path, "export", "--since", "2025-11-30")
    assert done.returncode == 0, done.stderr
    assert len(read_copies(settings, "fact_run_registry")) == 6
    later = runner(tmp_path, "export", "--since", "2025-12-03")
    assert later.returncode == 0 and "nothing to export" in later.stderr


def test_export_that_cannot_write_fails_in_one_line(tmp_path: Path) -> None:
    settings = home_with_runs(tmp_path)
    parquet_root(settings).parent.mkdir(parents=True, exist_ok=True)
    parquet_root(settings).write_text("a file where the copies' folder should be")
    failed = runner(tmp_path, "export", "--since", "2025-12-01")
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert lines[0].startswith("export: 2 slates") and len(lines) == 2
    assert lines[1].startswith("error: parquet export failed - ")


@pytest.mark.slow
def test_a_run_whose_export_fails_says_so_on_its_row_and_exits_1(warm_home) -> None:
    from tests.conftest import WARM_MORNING, WARM_SLATE
    from tests.runner.test_rerun import daily, registry, run_env

    emu, home = warm_home
    (home / "outputs").mkdir(exist_ok=True)
    (home / "outputs" / "parquet").write_text("a file where the copies' folder should be")
    proc = daily(run_env(home, emu), "--run-odds-ingestion")
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "parquet export failed - " in proc.stderr
    run = registry(home).set_index("step").loc["run"]
    assert (run.status, run.error_type) == ("failed", "ParquetExportError")
    assert run.error_summary.startswith("1 success; parquet export failed: ")
    assert (run.slate_date.date(), run.as_of_ts_utc) == (WARM_SLATE, WARM_MORNING)
