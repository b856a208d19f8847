"""The Parquet copies (`runner/export.py`): a partition reads back as the table's rows, a
rerun replaces it, an export killed before its rename leaves the old partition whole,
`runner export --since` rebuilds them or refuses bad input in one line, writing nothing, and
the driver exports at a run's end (a failed export fails the run)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.errors import DatabaseBusyError
from helpers.core.settings import load_settings
from runner.export import (
    EXPORTED,
    export_after_run,
    export_slates,
    parquet_root,
    partition_file,
    remove_leftovers,
    slates_after_run,
    slates_since,
)
from runner.registry import StepRecord, write_records
from tests.runner.nbfactory import write_step_notebooks

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


# Values the tables' CHECK constraints accept; every other column gets a value of its type.
CONSTRAINED = {"side": "'OVER'", "result": "'WIN'", "scope": "'own'", "status": "'success'",
               "exclusion_reason": "NULL", "is_eligible": "true"}
BY_TYPE = {"VARCHAR": "'{column}-{slate}-' || i", "DOUBLE": "i + 0.25", "INTEGER": "i::INTEGER",
           "BIGINT": "i * 1000000000000", "BOOLEAN": "i % 2 = 0",
           "TIMESTAMP": "TIMESTAMP '{slate} 15:00:00.123456' + i * INTERVAL 1 MINUTE",
           "DATE": "DATE '{slate}' - i::INTEGER"}


def fill(con: duckdb.DuckDBPyConnection, table: str, slate: date, n: int) -> None:
    """`n` rows of `slate` in `table`, a value of its type in every column (NULL in the first
    row where the column may be NULL). A type not in BY_TYPE fails here: give it a value."""
    values = []
    for column, kind, nullable in con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall():
        value = (f"DATE '{slate}'" if column == "slate_date" else CONSTRAINED.get(column)
                 or BY_TYPE[kind].format(column=column, slate=slate))
        if nullable == "YES" and column not in CONSTRAINED:
            value = f"CASE WHEN i = 0 THEN NULL ELSE {value} END"
        values.append(f"{value} AS {column}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT {', '.join(values)} FROM range({n}) r(i)")


def test_every_table_reads_back_from_its_partitions_as_sql_over_the_database(
        tmp_path: Path) -> None:
    """Rows in every exported table, of every column type: DuckDB over the copies returns the
    database's rows and column types (slate_date a DATE from the path, last), pandas the
    same rows."""
    settings = load_settings({"OPS_HOME": str(tmp_path)})
    con = db.connect(settings.paths.db_path)
    for table in EXPORTED:
        fill(con, table, SLATES[0], 3)
        fill(con, table, SLATES[1], 2)
    con.close()
    quiet = date(2025, 12, 3)  # no rows anywhere: every table gets an empty file
    lines: list[str] = []
    summary = export_slates(settings, [*SLATES, quiet, SLATES[0]], lines.append)
    assert (summary.tables, summary.slates, summary.rows) == (len(EXPORTED), 3, 5 * len(EXPORTED))
    assert [line.split(":")[0] for line in lines] == list(EXPORTED)  # a progress line a table
    assert all(": 3 slates, 5 rows (" in line for line in lines)

    memory = duckdb.connect()
    memory.execute("ATTACH ? AS ops (READ_ONLY)", [str(settings.paths.db_path)])
    for table in EXPORTED:
        copies = (f"read_parquet('{parquet_root(settings) / table}/*/*.parquet', "
                  "hive_partitioning = true)")
        database = f"(SELECT * EXCLUDE (slate_date), slate_date FROM ops.{table})"
        types = "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {})"
        assert memory.execute(types.format(copies)).fetchall() == \
            memory.execute(types.format(database)).fetchall(), table
        assert memory.execute(f"SELECT count(*) FROM {copies}").fetchone()[0] == 5, table
        for a, b in ((copies, database), (database, copies)):
            assert memory.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL "
                                  f"SELECT * FROM {b})").fetchone()[0] == 0, table
        empty = partition_file(parquet_root(settings), table, quiet)
        assert memory.execute(f"SELECT count(*) FROM '{empty}'").fetchone()[0] == 0, table
        pd.testing.assert_frame_equal(read_copies(settings, table), read_table(settings, table),
                                      obj=table, check_dtype=False)
        frame = pd.read_parquet(parquet_root(settings) / table)
        assert len(frame) == 5 and frame["slate_date"].astype(str).value_counts().to_dict() == \
            {str(SLATES[0]): 3, str(SLATES[1]): 2}, table
    memory.close()
    empty = pd.read_parquet(partition_file(parquet_root(settings), "fact_ev_candidates", quiet))
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

    con = duckdb.connect(str(settings.paths.db_path))
    con.execute("DELETE FROM fact_run_registry WHERE slate_date = ?", [SLATES[1]])
    con.close()
    export_slates(settings, [SLATES[1]])  # no rows left: an empty file replaces the old one
    copies = read_copies(settings, "fact_run_registry")
    assert set(copies.slate_date) == {pd.Timestamp(SLATES[0])}
    assert partition_file(parquet_root(settings), "fact_run_registry", SLATES[1]).exists()


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
    assert sorted(p.name for p in settings.paths.db_path.parent.iterdir()) == ["ops.duckdb"]
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner(empty, "export", "--since", "2025-12-01")
    assert missing.returncode == 2 and "no database" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert list(empty.iterdir()) == []

    done = runner(tmp_path, "export", "--since", "2025-12-02")
    assert done.returncode == 0, done.stderr
    assert "1 slates" in done.stderr
    for table in EXPORTED:  # a progress line per table
        assert f"export: {table}: 1 slates, " in done.stderr, table
    assert sorted(p.parent.name for p in root.glob("fact_run_registry/*/*.parquet")) == [
        "slate_date=2025-12-02"]
    # deleted: rebuilt from an early date, starting at the oldest slate the database holds
    shutil.rmtree(root)
    done = runner(tmp_path, "export", "--since", "2000-01-01")
    assert done.returncode == 0, done.stderr
    assert "2 slates, 2025-12-01 to 2025-12-02" in done.stderr
    assert sorted(p.parent.name for p in root.glob("fact_bet_results/*/*.parquet")) == [
        "slate_date=2025-12-01", "slate_date=2025-12-02"]
    pd.testing.assert_frame_equal(read_copies(settings, "fact_run_registry"),
                                  read_table(settings, "fact_run_registry"), check_dtype=False)
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
    failed = [x for x in proc.stderr.splitlines() if "parquet export failed" in x]
    assert len(failed) == 1 and "Error: " in failed[0]  # one line, the error's type named
    run = registry(home).set_index("step").loc["run"]
    assert (run.status, run.error_type) == ("failed", "ParquetExportError")
    assert run.error_summary.startswith("1 success; parquet export failed: ")
    assert (run.slate_date.date(), run.as_of_ts_utc) == (WARM_SLATE, WARM_MORNING)


def test_export_since_rewrites_a_copied_slate_the_database_no_longer_holds(
        tmp_path: Path) -> None:
    settings = home_with_runs(tmp_path)
    export_slates(settings, [*SLATES, date(2025, 12, 5)])
    con = duckdb.connect(str(settings.paths.db_path))
    con.execute("UPDATE fact_run_registry SET slate_date = DATE '2025-12-04' WHERE slate_date = ?",
                [SLATES[1]])
    con.close()
    assert slates_since(settings, SLATES[1]) == [
        SLATES[1], date(2025, 12, 3), date(2025, 12, 4), date(2025, 12, 5)]
    export_slates(settings, slates_since(settings, SLATES[1]))
    copies = read_copies(settings, "fact_run_registry")
    assert copies.slate_date.astype(str).value_counts().to_dict() == {
        "2025-12-01": 3, "2025-12-04": 3}  # 12-02's old rows are gone


def registry_copy(home: Path, slate: date) -> dict[str, str]:
    """step -> status in the Parquet copy of a slate's registry rows."""
    frame = pd.read_parquet(partition_file(home / "outputs" / "parquet", "fact_run_registry",
                                           slate))
    return dict(zip(frame.step, frame.status, strict=True))


def daily(home: Path, notebooks: Path, slate: date) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "RUN_", "FAIL_"))}
    return subprocess.run(
        [sys.executable, "-m", "runner", "daily", "--run-odds-ingestion", "--date", str(slate),
         "--as-of", f"{slate}T15:00:00Z"], cwd=home, capture_output=True, text=True,
        env={**env, "OPS_HOME": str(home), "OPS_NOTEBOOK_DIR": str(notebooks)}, timeout=240)


@pytest.mark.slow
def test_a_run_exports_its_slates_and_those_of_the_runs_it_marked_interrupted(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings({"OPS_HOME": str(home)})
    killed = date(2025, 11, 1)  # a run killed long ago, outside the grading window
    write_records(settings.paths.db_path, [StepRecord(
        run_id="killed", slate_date=killed, as_of_ts_utc=datetime(2025, 11, 1, 15),
        step="run", step_order=0, status="running")])
    proc = daily(home, write_step_notebooks(tmp_path / "nb", {}), date(2025, 12, 1))
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if ": parquet: " in x)
    assert "parquet: 10 tables x 5 slates" in line  # the run's, 3 looked back, the killed one
    assert registry_copy(home, date(2025, 12, 1)) == {
        "run": "success", "odds_ingestion": "success", **{
            s: "skipped" for s in ("production", "ev", "outcomes", "diagnostics")}}
    assert registry_copy(home, killed) == {"run": "interrupted"}
    assert registry_copy(home, date(2025, 11, 28)) == {}  # looked back: an empty file


def test_an_export_refused_by_a_busy_database_is_named_before_the_registry_write_fails(
        tmp_path: Path) -> None:
    """An analyst holding the database read-write at the run's end: the export's failure is
    printed as such (not lost in the driver's 'registry could not be written')."""
    home_with_runs(tmp_path)
    settings = load_settings({"OPS_HOME": str(tmp_path), "RUN_LOCK_WAIT_SECONDS": "0"})
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); sys.stdin.read()", str(settings.paths.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        record = StepRecord(run_id="run-x", slate_date=SLATES[1],
                            as_of_ts_utc=datetime(2025, 12, 2, 15), step="run", step_order=0,
                            status="success", error_summary="1 success")
        err = io.StringIO()
        with pytest.raises(DatabaseBusyError):  # recording it needs the database too
            export_after_run(settings, record, err)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert err.getvalue().startswith("run run-x: parquet export failed - DatabaseBusyError: ")
    assert record.status == "failed" and "; parquet export failed: Database" in \
        record.error_summary
    assert not parquet_root(settings).exists()
