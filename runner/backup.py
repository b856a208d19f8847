"""`python -m runner backup --to DIR`: a consistent copy of the database, checked before it
is kept.

A DuckDB file copied while a run writes to it, or copied without the write-ahead log a
killed run left beside it, is not the database. So the backup

- holds the run lock: no daily run, rerun, backfill or renormalize starts meanwhile;
- opens the database read-only, which keeps any other process from opening it for writing
  until the copy is done (an analyst holding it read-write makes the backup wait, then
  exit 2, as a run would);
- lets DuckDB copy it (`COPY FROM DATABASE`) into a new file: every table with its rows,
  constraints and types, committed rows still in the write-ahead log included, the result
  checkpointed into one self-contained file;
- opens the copy and compares it with the original table by table (names and row counts)
  before giving it its final name, `ops-<UTC time>.duckdb`. A file of that name is a
  backup that opens; a failed one leaves nothing behind.

Restoring is copying a backup into place while nothing runs (docs/operations.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.errors import DataCheckError, UsageError
from helpers.core.paths import check_writable_dir
from helpers.core.settings import Settings
from runner.lock import RunLock

COPY_CATALOG = "backup_copy"


@dataclass(frozen=True)
class Backup:
    path: Path
    tables: int
    rows: int

    def line(self, source: Path) -> str:
        size = self.path.stat().st_size / 1e6
        return (f"backup: {self.path} ({self.tables} tables, {self.rows:,} rows, "
                f"{size:,.1f} MB): opened and counted against {source}")


def check_target(to: str) -> Path:
    """`--to`, checked before anything is locked or created: a folder this process can
    create files in, or one it can create."""
    if not to.strip():  # Path("") would be the working directory
        raise UsageError("--to is empty: give the folder the backup goes to")
    target = Path(to)
    check_writable_dir(target, "--to")
    return target


def run_backup(target: Path, settings: Settings) -> Backup:
    """Copy the database into `target` under the run lock; the copy, verified."""
    source = settings.paths.db_path
    wait = settings.run.lock_wait_seconds
    with RunLock(source, wait) as lock:
        lock.acquire("backup")
        # Not db.connect(read_only=True): it refuses a database at another schema version,
        # and the backup taken before an upgrade migrates it is the one most wanted.
        con = db._attach_waiting(source, read_only=True, wait_seconds=wait)
        try:
            final = target / f"{source.stem}-{utcnow():%Y%m%dT%H%M%SZ}{source.suffix}"
            if final.exists():
                raise UsageError(f"{final} exists already (a backup in the same second); "
                                 "try again")
            target.mkdir(parents=True, exist_ok=True)
            partial = target / f".{final.name}.partial"
            try:
                backup = _copy_and_check(con, partial)
                _durable_rename(partial, final)
            finally:
                for leftover in (partial, partial.with_name(partial.name + ".wal")):
                    leftover.unlink(missing_ok=True)
        finally:
            con.close()
    return Backup(path=final, tables=backup.tables, rows=backup.rows)


def _copy_and_check(con, partial: Path) -> Backup:  # type: ignore[no-untyped-def]
    con.execute(f"ATTACH ? AS {COPY_CATALOG} (ROW_GROUP_SIZE {db.ROW_GROUP_ROWS})",
                [str(partial)])
    con.execute(f"COPY FROM DATABASE {db.CATALOG} TO {COPY_CATALOG}")
    con.execute(f"CHECKPOINT {COPY_CATALOG}")
    con.execute(f"DETACH {COPY_CATALOG}")
    # Opened again from the file, as a restore would open it.
    con.execute(f"ATTACH ? AS {COPY_CATALOG} (READ_ONLY)", [str(partial)])
    try:
        original, copied = _row_counts(con, db.CATALOG), _row_counts(con, COPY_CATALOG)
    finally:
        con.execute(f"DETACH {COPY_CATALOG}")
    if original != copied:
        differ = sorted(name for name in original.keys() | copied.keys()
                        if original.get(name) != copied.get(name))
        raise DataCheckError(f"the copy differs from the database in {', '.join(differ)}; "
                             "no backup was kept")
    return Backup(path=partial, tables=len(original), rows=sum(original.values()))


def _row_counts(con, catalog: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    tables = [(schema, name) for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "ORDER BY 1, 2", [catalog]).fetchall()]
    return {f"{schema}.{name}": con.execute(
        f'SELECT count(*) FROM "{catalog}"."{schema}"."{name}"').fetchall()[0][0]
        for schema, name in tables}


def _durable_rename(partial: Path, final: Path) -> None:
    """The copy reaches the disk before it takes the name that says it is whole."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(final)
    folder = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
