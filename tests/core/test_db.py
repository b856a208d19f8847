import re
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.errors import SchemaError


def _declared_tables() -> set[str]:
    """Tables created by the schema and its migrations (a rebuilt copy `t_v3` becomes `t`)."""
    names: set[str] = set()
    for sql in resources.files("helpers.core").iterdir():
        if sql.name.endswith(".sql"):
            names |= {re.sub(r"_v\d+$", "", n)
                      for n in re.findall(r"CREATE TABLE (\w+)", sql.read_text())}
    return names


def _live_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def test_schema_matches_declaration_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    con = db.connect(path)
    tables = _live_tables(con)
    assert _declared_tables() | {"schema_version"} == tables
    assert {"fact_prop_odds", "fact_run_registry", "fact_odds_coverage_daily",
            "fact_forecast_accuracy_daily", "raw_payloads"} <= tables
    con.close()
    con = db.connect(path)  # second open: no-op
    latest = len(db.MIGRATIONS)
    assert con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0] == latest
    assert db.ensure_schema(con) == latest
    assert con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0] == "UTC"
    con.close()


def test_older_schema_is_migrated_forward_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    con = db.connect(path)  # the current version
    con.execute("INSERT INTO dim_players VALUES (8478427, 'Sebastian Aho', 'C', 'CAR', now())")
    con.close()

    def add_column(c: duckdb.DuckDBPyConnection) -> None:
        c.execute("ALTER TABLE dim_players ADD COLUMN shoots VARCHAR")

    nxt = len(db.MIGRATIONS) + 1
    v2 = (*db.MIGRATIONS, db.Migration(nxt, "players: shoots", add_column))
    con = db.connect(path, migrations=v2)
    assert db.schema_version(con) == nxt
    assert con.execute("SELECT name, shoots FROM dim_players").fetchall() == [
        ("Sebastian Aho", None)]
    con.close()
    # The code of version 1 refuses a database it does not understand.
    with pytest.raises(SchemaError, match="newer than this code"):
        db.connect(path)
    # A reader at v2 code works read-only; a reader at v1 code is told to upgrade.
    db.connect(path, read_only=True, migrations=v2).close()


def test_version_1_database_is_migrated_to_2_keeping_payloads_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    con = db.connect(path, migrations=db.MIGRATIONS[:1])
    con.execute("INSERT INTO raw_payloads VALUES ('h1', 'UNABATED', 'propodds', now(), 'a.json',"
                " 10, 'unabated-1', 5, 5, 0, NULL, 'r1', now(), now(), 1), "
                "('h2', 'UNABATED', 'propodds', now(), 'b.json', 0, 'unabated-1', 0, 0, 0, "
                "'SchemaDriftError: empty body', 'r1', now(), now(), 1)")
    con.execute("INSERT INTO fact_run_registry (run_id, slate_date, as_of_ts_utc, step, "
                "step_order, status) VALUES ('r1', DATE '2025-12-01', now(), "
                "'odds_ingestion', 1, 'partial')")
    con.close()
    con = db.connect(path, migrations=db.MIGRATIONS[:2])
    assert db.schema_version(con) == 2
    assert con.execute("SELECT payload_hash, load_state FROM raw_payloads ORDER BY 1"
                       ).fetchall() == [("h1", "loaded"), ("h2", "parse_failed")]
    # the same hash from another vendor is another payload now
    con.execute("INSERT INTO raw_payloads SELECT * REPLACE ('PLAYNOW' AS vendor) "
                "FROM raw_payloads WHERE payload_hash = 'h1'")
    assert con.execute("SELECT status FROM fact_run_registry").fetchall() == [("partial",)]
    con.execute("UPDATE fact_run_registry SET status = 'interrupted'")  # allowed from v2
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO fact_run_registry (run_id, slate_date, as_of_ts_utc, step, "
                    "step_order, status) VALUES ('r1', DATE '2025-12-01', now(), "
                    "'odds_ingestion', 1, 'success')")  # (run_id, step) is unique
    con.close()


def test_failed_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    db.connect(path).close()

    def broken(c: duckdb.DuckDBPyConnection) -> None:
        c.execute("CREATE TABLE half_done (x INTEGER)")
        c.execute("SELECT * FROM no_such_table")

    latest = len(db.MIGRATIONS)
    with pytest.raises(duckdb.Error):
        db.connect(path, migrations=(*db.MIGRATIONS, db.Migration(latest + 1, "broken", broken)))
    con = db.connect(path)
    assert db.schema_version(con) == latest
    assert "half_done" not in _live_tables(con)
    con.close()


def test_read_only_on_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no database at"):
        db.connect(tmp_path / "absent.duckdb", read_only=True)
    assert not (tmp_path / "absent.duckdb").exists()


def _fetch_rows(**overrides: object) -> pd.DataFrame:
    base = {
        "run_id": ["r1", "r1", None, None],
        "vendor": ["UNABATED", "UNABATED", "PLAYNOW", "PLAYNOW"],
        "endpoint": ["propodds", "propodds", "event_list", "event_list"],
        "url_redacted": ["u1", "u1-dup", "u2", "u2-dup"],
        "request_ts_utc": pd.to_datetime(["2026-01-04 15:00"] * 4),
        "attempt": [1, 1, 1, 1],
    }
    base.update(overrides)
    return pd.DataFrame(base)


KEY = ("run_id", "vendor", "endpoint", "attempt")


def test_insert_new_rows_dedups_in_batch_and_on_rerun_with_nulls(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    frame = _fetch_rows()
    assert db.insert_new_rows(con, "fact_vendor_fetch_log", frame, KEY) == 2
    # First occurrence wins inside the batch.
    assert sorted(r[0] for r in con.execute(
        "SELECT url_redacted FROM fact_vendor_fetch_log").fetchall()) == ["u1", "u2"]
    # Rerun adds nothing, also for the row whose key has a NULL.
    assert db.insert_new_rows(con, "fact_vendor_fetch_log", frame, KEY) == 0
    assert db.insert_new_rows(con, "fact_vendor_fetch_log", frame, KEY,
                              prune_column="request_ts_utc") == 0
    # A genuinely new key lands.
    new = _fetch_rows(attempt=[2, 2, 2, 2])
    assert db.insert_new_rows(con, "fact_vendor_fetch_log", new, KEY,
                              prune_column="request_ts_utc") == 2
    assert con.execute("SELECT count(*) FROM fact_vendor_fetch_log").fetchall()[0][0] == 4


def test_prune_column_still_dedups_rows_with_null_in_it(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    frame = pd.DataFrame({"payload_hash": ["h1"], "source_vendor": ["ODDSSHARK"],
                          "capture_ts_utc": pd.to_datetime(["2026-01-04 15:00"]),
                          "reason": ["bad_price"], "n_rejected": [3], "example": [None],
                          "parser_version": ["p1"], "run_id": [None]})
    frame = frame.rename(columns={"payload_hash": "raw_payload_hash"})
    key = ("raw_payload_hash", "reason", "run_id")
    assert db.insert_new_rows(con, "fact_rejected_odds", frame, key, prune_column="run_id") == 1
    assert db.insert_new_rows(con, "fact_rejected_odds", frame, key, prune_column="run_id") == 0


def test_failure_mid_insert_leaves_no_partial_rows(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    rows = pd.DataFrame({
        "run_id": ["r1"] * 3, "slate_date": pd.to_datetime(["2026-01-04"] * 3).date,
        "as_of_ts_utc": pd.to_datetime(["2026-01-04 15:00"] * 3),
        "step": ["a", "b", "c"], "step_order": [1, 2, 3],
        "status": ["success", "success", "exploded"],  # the last violates the CHECK
    })
    with pytest.raises(duckdb.ConstraintException):
        db.insert_new_rows(con, "fact_run_registry", rows, ("run_id", "step"))
    assert con.execute("SELECT count(*) FROM fact_run_registry").fetchall()[0][0] == 0
    # The connection is usable afterwards (the transaction was rolled back).
    assert db.insert_new_rows(con, "fact_run_registry", rows.iloc[:2], ("run_id", "step")) == 2


def test_outer_transaction_rolls_back_nested_inserts(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    with pytest.raises(RuntimeError), db.transaction(con):
        db.insert_new_rows(con, "fact_vendor_fetch_log", _fetch_rows(), KEY)
        raise RuntimeError("payload failed after the insert")
    assert con.execute("SELECT count(*) FROM fact_vendor_fetch_log").fetchall()[0][0] == 0


def test_missing_key_column_is_a_clear_error(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    with pytest.raises(ValueError, match="key columns missing"):
        db.insert_new_rows(con, "fact_vendor_fetch_log", _fetch_rows(), ("nope",))


def test_large_insert_keeps_first_occurrence_across_arrow_batches(tmp_path: Path) -> None:
    """insert_new_rows cuts a frame into one Arrow batch per DuckDB thread; in-batch dedup
    must still keep the first occurrence in frame order, and rows land in whole row groups
    of db.ROW_GROUP_ROWS."""
    con = db.connect(tmp_path / "ops.duckdb")
    con.execute("SET threads = 2")
    n = 3 * db.ROW_GROUP_ROWS
    attempt = [i % (n // 2) for i in range(n)]  # the second half repeats the first half's keys
    frame = pd.DataFrame({
        "run_id": "r1", "vendor": "UNABATED", "endpoint": "propodds",
        "url_redacted": ["first" if i < n // 2 else "second" for i in range(n)],
        "request_ts_utc": pd.Timestamp("2026-01-04 15:00"), "attempt": attempt,
        "status_code": 200, "elapsed_ms": 1.0, "bytes": 10, "error": None,
    })
    assert db.insert_new_rows(con, "fact_vendor_fetch_log", frame, KEY) == n // 2
    assert con.execute("SELECT DISTINCT url_redacted FROM fact_vendor_fetch_log"
                       ).fetchall() == [("first",)]
    sizes = con.execute("SELECT DISTINCT count FROM pragma_storage_info('fact_vendor_fetch_log')"
                        " WHERE column_name = 'run_id'").fetchall()
    assert max(s[0] for s in sizes) == db.ROW_GROUP_ROWS
    con.close()
    read_only = db.connect(tmp_path / "ops.duckdb", read_only=True)
    assert read_only.execute("SELECT count(*) FROM fact_vendor_fetch_log").fetchall()[0][0] \
        == n // 2
    with pytest.raises(duckdb.Error):
        read_only.execute("DELETE FROM fact_vendor_fetch_log")


@pytest.mark.slow
def test_connect_waits_for_another_process_then_names_it(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from helpers.core.errors import DatabaseBusyError

    path = tmp_path / "ops.duckdb"
    db.connect(path).close()
    code = (f"import time; from helpers.core import db; c = db.connect({str(path)!r}); "
            f"print('held', flush=True); time.sleep(2); c.close()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseBusyError, match=f"in use by another process.*PID {holder.pid}"):
            db.connect(path, wait_seconds=0.3)
        t0 = time.monotonic()
        con = db.connect(path, wait_seconds=30)  # the holder lets go after ~2 s
        assert time.monotonic() - t0 < 25
        assert db.schema_version(con) == len(db.MIGRATIONS)
        con.close()
    finally:
        holder.kill()
        holder.wait()


def test_version_2_database_is_migrated_to_3_with_the_new_ev_candidates(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    db.connect(path, migrations=db.MIGRATIONS[:2]).close()
    con = db.connect(path, migrations=db.MIGRATIONS[:3])
    assert db.schema_version(con) == 3
    columns = {r[0] for r in con.execute("DESCRIBE fact_ev_candidates").fetchall()}
    assert {"player_key_vendor", "p_push", "suspicious_reasons", "minutes_to_start"} <= columns
    # eligibility and its reason cannot disagree
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO fact_ev_candidates (run_id, slate_date, as_of_ts_utc, "
                    "source_vendor, player_key_vendor, market_type, line, side, "
                    "capture_ts_utc, odds_decimal, is_eligible, exclusion_reason, "
                    "is_suspicious) VALUES ('r', DATE '2025-12-01', now(), 'UNABATED', 'k', "
                    "'SOG', 2.5, 'OVER', now(), 1.9, true, 'stale_odds', false)")
    con.close()


def test_version_3_database_is_migrated_to_4_with_graded_results(tmp_path: Path) -> None:
    path = tmp_path / "ops.duckdb"
    db.connect(path, migrations=db.MIGRATIONS[:3]).close()
    con = db.connect(path, migrations=db.MIGRATIONS[:4])
    assert db.schema_version(con) == 4
    columns = {r[0] for r in con.execute("DESCRIBE fact_bet_results").fetchall()}
    assert {"candidate_run_id", "actual", "p_fair_close", "clv_prob"} <= columns
    assert con.execute("SELECT count(*) FROM fact_outcome_corrections").fetchone() == (0,)
    con.close()
