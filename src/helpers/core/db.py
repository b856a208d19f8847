"""The DuckDB file: connect, create / migrate the schema, and the one idempotent insert.

The schema is declared once in `schema.sql` (version 1); later changes are appended to
`MIGRATIONS` as forward-only steps. `schema_version` records what has been applied.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.errors import DatabaseBusyError, PathError, SchemaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _sql_file(name: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def apply(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(resources.files("helpers.core").joinpath(name).read_text())
    return apply


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _sql_file("schema.sql")),
    Migration(2, "payloads keyed per vendor and kind with a load state; registry statuses "
                 "running and interrupted", _sql_file("migration_0002.sql")),
    Migration(3, "EV candidates keep their vendor keys, push, consensus size, timing and "
                 "why they are suspicious", _sql_file("migration_0003.sql")),
    Migration(4, "bet results name their candidate and keep both sides of CLV; outcome "
                 "corrections are logged", _sql_file("migration_0004.sql")),
    Migration(5, "evidence: coverage keeps its first capture; forecast accuracy per source "
                 "and scope", _sql_file("migration_0005.sql")),
    Migration(6, "evidence: reliability bins per graded slate, source and market",
              _sql_file("migration_0006.sql")),
    Migration(7, "registry rows of a rerun name the run they repeat",
              _sql_file("migration_0007.sql")),
    Migration(8, "backfill checkpoints", _sql_file("migration_0008.sql")),
    Migration(9, "EV priced from a blend fitted on graded evidence; bet results keep their "
                 "claims", _sql_file("migration_0009.sql")),
    Migration(10, "evidence: model versions against the market and the production model, "
                  "with a bootstrap interval", _sql_file("migration_0010.sql")),
    Migration(11, "the slate's game count as production fetched it: an off day is known",
              _sql_file("migration_0011.sql")),
    Migration(12, "games keep api-web's gameScheduleState: a postponed or cancelled game is "
                  "known", _sql_file("migration_0012.sql")),
    Migration(13, "payloads count their parse attempts; one whose parse never finished twice "
                  "is quarantined", _sql_file("migration_0013.sql")),
)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration; 0 for a database without a schema_version table."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def ensure_schema(con: duckdb.DuckDBPyConnection,
                  migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every migration newer than the database, each in its own transaction.

    Running it twice is a no-op. A database newer than this code is refused rather than
    written to with an older idea of the tables.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
        " applied_ts_utc TIMESTAMP NOT NULL)"
    )
    current = schema_version(con)
    latest = max(m.version for m in migrations)
    if current > latest:
        raise SchemaError(
            f"database schema version {current} is newer than this code's {latest}; "
            "upgrade the code before writing to this database"
        )
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= current:
            continue
        with transaction(con):
            migration.apply(con)
            con.execute("INSERT INTO schema_version (version, description, applied_ts_utc) "
                        "VALUES (?, ?, ?)",
                        [migration.version, migration.description, _utcnow()])
        log.info("applied schema migration %s: %s", migration.version, migration.description)
    return latest


# Rows per row group of the ops database (DuckDB's default is 122,880). A bulk insert is
# written to disk in parallel only when each thread fills whole row groups of its own: at the
# default, a ~150k-row odds capture is one full group plus a remainder and is written by one
# thread. At 30,720 rows a capture's insert uses both cores (bench_ingest: 0.27 -> 0.15 s).
# DuckDB does not store this in the file, so every connection attaches with it.
ROW_GROUP_ROWS = 30_720
CATALOG = "ops"


def connect(path: str | Path, read_only: bool = False,
            migrations: Sequence[Migration] = MIGRATIONS,
            wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the ops database with TimeZone UTC; read-write opens create and migrate it.

    When another process holds the file, retry for up to `wait_seconds`, then raise
    DatabaseBusyError naming the holder.
    """
    path = Path(path)
    if read_only:
        if not path.exists():
            raise SchemaError(f"no database at {path}: run `python -m runner daily` first")
        con = _attach_waiting(path, True, wait_seconds)
        version, latest = schema_version(con), max(m.version for m in migrations)
        if version != latest:
            con.close()
            raise SchemaError(f"database {path} is at schema version {version}, code expects "
                              f"{latest}: open it once read-write to migrate")
        return con
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _attach_waiting(path, False, wait_seconds)
    try:
        ensure_schema(con, migrations)
    except BaseException:
        con.close()
        raise
    return con


_BUSY_POLL_SECONDS = 0.2
_HOLDER_RE = re.compile(r"Conflicting lock is held in (.*?)(?:\. See also|$)")


def check_opens(path: Path) -> None:
    """An existing database file must open: a damaged or truncated one raises PathError here,
    before a writing command takes the run lock or creates anything beside the file. A file
    another process holds passes: the caller waits for it and names the holder."""
    if not path.exists():
        return
    try:
        con = _attach_waiting(path, True, wait_seconds=0)
    except DatabaseBusyError:
        return
    con.close()


def _attach_waiting(path: Path, read_only: bool,
                    wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return _attach(path, read_only)
        except duckdb.Error as exc:
            if "not a valid DuckDB database" in str(exc):
                raise PathError(f"{path} is not a DuckDB database file") from None
            if "Could not set lock" not in str(exc):
                # One line naming the path instead of a traceback from inside DuckDB.
                if path.is_dir():
                    raise PathError(f"{path} is a folder, not a DuckDB database file") from None
                reason = str(exc).strip().splitlines()[0]
                raise PathError(f"{path} cannot be opened as a DuckDB database ({reason}); "
                                "is it damaged or truncated?") from None
            if time.monotonic() >= deadline:
                holder = _HOLDER_RE.search(str(exc))
                raise DatabaseBusyError(
                    f"database {path} is in use by another process "
                    f"({holder.group(1) if holder else 'holder unknown'}); waited "
                    f"{wait_seconds:g} s - close that connection (an open notebook, duckdb "
                    f"shell or SQL client) and rerun") from None
            time.sleep(_BUSY_POLL_SECONDS)


def _attach(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the file at `path`, attached with
    ROW_GROUP_ROWS (an attach option, so it cannot be given to duckdb.connect)."""
    con = duckdb.connect()
    try:
        mode = "READ_ONLY, " if read_only else ""
        con.execute(f"ATTACH ? AS {CATALOG} ({mode}ROW_GROUP_SIZE {ROW_GROUP_ROWS})",
                    [str(path)])
        con.execute(f"USE {CATALOG}")
        con.execute("SET TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


# Depth of transaction() per connection, so that a helper called inside a caller's
# transaction joins it instead of failing on a nested BEGIN.
_transaction_depth: dict[int, int] = {}


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN/COMMIT, ROLLBACK on any exception; nested uses join the outer transaction."""
    key = id(con)
    depth = _transaction_depth.get(key, 0)
    if depth == 0:
        con.execute("BEGIN TRANSACTION")
    _transaction_depth[key] = depth + 1
    try:
        yield con
    except BaseException:
        _transaction_depth[key] = depth
        if depth == 0:
            con.execute("ROLLBACK")
        raise
    _transaction_depth[key] = depth
    if depth == 0:
        con.execute("COMMIT")


def _arrow_source(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> pa.Table:
    """`rows` plus their order `_ord`, cut into one record batch per DuckDB thread: DuckDB
    scans an Arrow table batch by batch, so a single batch is scanned - and its rows
    written - by one thread (see ROW_GROUP_ROWS)."""
    arrow = rows.append_column("_ord", pa.array(np.arange(rows.num_rows))).combine_chunks()
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    per_thread = -(-rows.num_rows // max(threads, 1))
    return pa.Table.from_batches(arrow.to_batches(max_chunksize=per_thread), arrow.schema)


def distinct_non_null(column: pa.ChunkedArray) -> bool:
    """Whether every value of the column is non-null and differs from every other."""
    if column.null_count:
        return False
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return pc.count_distinct(column).as_py() == len(column)


def insert_new_rows(con: duckdb.DuckDBPyConnection, table: str,
                    frame: pd.DataFrame | pa.Table, key: Sequence[str], *,
                    prune_column: str | None = None, unique_column: str | None = None) -> int:
    """Insert the rows of `frame` (a DataFrame, or an Arrow table: DuckDB's zero-copy path)
    whose `key` is not yet in `table`; return how many.

    The key comparison is NULL-safe (IS NOT DISTINCT FROM), duplicates inside the batch keep
    their first occurrence, and the whole insert is one transaction: it lands completely or
    not at all. `prune_column` (e.g. capture_ts_utc, which grows with time) restricts the
    anti-join to existing rows within the batch's min/max of that column, so the cost follows
    the batch, not the size of the table (DuckDB skips row groups by their min/max).
    `unique_column` names a key column that is usually distinct within a batch (the odds'
    vendor_outcome_key): when it is, no two rows can share a key, and the in-batch duplicate
    check is skipped.
    """
    rows = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(
        frame, preserve_index=False)
    if rows.num_rows == 0:
        return 0
    missing = [k for k in key if k not in rows.column_names]
    if missing:
        raise ValueError(f"insert_new_rows({table}): key columns missing from frame: {missing}")
    columns = list(rows.column_names)
    column_list = ", ".join(f'"{c}"' for c in columns)
    key_list = ", ".join(f's."{k}"' for k in key)
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM s."{k}"' for k in key)
    view = f"_incoming_{table}"
    con.register(view, _arrow_source(con, rows))
    try:
        prune_sql, params = "", []
        if prune_column is not None:
            lo, hi, has_null = con.execute(
                f'SELECT min("{prune_column}"), max("{prune_column}"), '
                f'bool_or("{prune_column}" IS NULL) FROM {view}').fetchall()[0]
            clauses = []
            if lo is not None:
                clauses.append(f't."{prune_column}" BETWEEN ? AND ?')
                params = [lo, hi]
            if has_null:
                clauses.append(f't."{prune_column}" IS NULL')
            prune_sql = " AND (" + " OR ".join(clauses) + ")"
        # Rows with equal keys (NULLs included) hash equally, so fewer distinct hashes than
        # rows is necessary for an in-batch duplicate; a hash collision only costs the exact
        # dedup below, never a lost row. Half the cost of a DISTINCT over the key tuple.
        duplicates = 0 if unique_column and distinct_non_null(rows.column(unique_column)) \
            else con.execute(f"SELECT count(*) - count(DISTINCT hash({key_list})) "
                             f"FROM {view} s").fetchall()[0][0]
        source = view
        if duplicates:
            # Keep the first occurrence of each key, in the frame's order.
            source = (f"(SELECT * FROM (SELECT *, row_number() OVER "
                      f"(PARTITION BY {key_list.replace('s.', '')} ORDER BY _ord) AS _rn "
                      f"FROM {view}) WHERE _rn = 1)")
        sql = f"""
            INSERT INTO {table} ({column_list})
            SELECT {column_list} FROM {source} s
            WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match}{prune_sql})
        """
        with transaction(con):
            inserted = con.execute(sql, params).fetchall()[0][0]
    finally:
        con.unregister(view)
    return int(inserted)


def upsert_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Insert the rows of `frame`, each replacing the row with the same primary key (a
    registry row finishing its 'running' row, a stat correction, a refreshed mapping).
    For the append-only fact tables use `insert_new_rows`. Returns the rows written."""
    if frame.empty:
        return 0
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    view = f"_upsert_{table}"
    con.register(view, frame)
    try:
        con.execute(f"INSERT OR REPLACE INTO {table} ({columns}) "
                    f"SELECT {columns} FROM {view}").fetchall()
    finally:
        con.unregister(view)
    return len(frame)
