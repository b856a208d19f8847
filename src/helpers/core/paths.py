"""Checks that the configured paths are usable, made before a command creates anything.

A read-only OPS_HOME, a read-only outputs/ or an OPS_DB_PATH that is not a DuckDB file must
stop a run with one line naming the path, not with a traceback after the database has been
created and migrated.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from helpers.core.errors import PathError

DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
DUCKDB_MAGIC_OFFSET = 8


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable_dir(path: Path, what: str) -> None:
    """`path` (or, when it does not exist yet, the folder it would be created in) must be a
    directory this process can create files in. Tested by creating one: permission bits do
    not tell the whole story (read-only mounts, root)."""
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise PathError(f"{what} {path}: {existing} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".ops-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PathError(f"{what} {path}: cannot create files in {existing} ({reason})") from None


def check_database_file(path: Path) -> None:
    """An existing database path must be a readable and writable DuckDB file."""
    if not path.exists():
        return
    if not path.is_file():
        raise PathError(f"OPS_DB_PATH {path} is not a file")
    try:
        with path.open("rb") as handle:
            header = handle.read(DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except OSError as exc:
        raise PathError(f"OPS_DB_PATH {path} cannot be read ({exc.strerror})") from None
    if header[DUCKDB_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        raise PathError(f"OPS_DB_PATH {path} is not a DuckDB database file; point OPS_DB_PATH "
                        "at a DuckDB file or at a path that does not exist yet")
    if not os.access(path, os.W_OK):
        raise PathError(f"OPS_DB_PATH {path} is not writable")


def check_run_paths(db_path: Path, outputs_dir: Path) -> None:
    """Everything a daily run writes: the database (and its lock files beside it) and
    outputs/ (executed notebooks, raw payloads, reports)."""
    check_database_file(db_path)
    check_writable_dir(db_path.parent, "the database folder")
    check_writable_dir(outputs_dir, "the outputs folder")
