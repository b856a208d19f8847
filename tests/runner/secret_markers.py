"""Every secret variable set to a marker, and the check that a run left the marker nowhere.

A marker that reaches a file, a path, a database row or the console is a leak: a cookie or
an API key in a report, a notebook or a log is read by everyone who opens it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from helpers.core.settings import SECRET_VARS

SECRET_MARKERS = {"PLAYNOW_COOKIE": "session=MARKER-pn-c00kie-5ecret",
                  "UNABATED_API_KEY": "MARKER-unabated-k3y-5ecret"}
assert set(SECRET_MARKERS) == set(SECRET_VARS), "a secret variable without a marker"


def assert_no_secret_anywhere(home: Path, texts: list[str]) -> None:
    """Every file under the home (the database, raw payloads and their paths, executed
    notebooks, spec.json, worker logs, reports, charts) and every console line."""
    markers = [m.encode() for m in SECRET_MARKERS.values()] + [b"MARKER-"]
    files = [p for p in home.rglob("*") if p.is_file()]  # a test's tmp home: bounded
    assert any(p.suffix == ".duckdb" for p in files) and any(p.suffix == ".ipynb" for p in files)
    for path in files:
        data = path.read_bytes()
        for marker in markers:
            assert marker not in data and marker.decode() not in str(path), (path, marker)
    for text in texts:
        assert "MARKER-" not in text
    # DuckDB may compress strings on disk: ask it too, every text column of every table
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE data_type = 'VARCHAR'").fetchall()
        for table, column in columns:
            hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE '
                               f"'%MARKER-%'").fetchall()[0][0]
            assert hits == 0, (table, column)
    finally:
        con.close()
    assert not re.search(r"c00kie|unabated-k3y", "".join(texts))
