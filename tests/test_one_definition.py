"""Concepts that cross stages are defined once, in their owner's reader. Each test greps the
code for the shapes the old copies had and fails on a new one outside the owner.

- which vendor events belong to a slate: `core.slate.Slate` (its ET day's UTC bounds), used
  by `odds.read.slate_rows_sql`; no stage widens a date by a window and cuts it again;
- the vendor player key: `odds.read.PLAYER_KEY`;
- the snapshot that counts (newest by a cutoff, one tie-break): `model.read`;
- a settled eligible bet: `grading.read`;
- a slate's bets (its newest EV run): `ev.read`;
- notebooks run no SQL of their own: they call the step and its readers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "src" / "helpers"

# concept -> (a pattern its copies match, the modules allowed to hold it)
CONCEPTS = {
    "the slate's event window": (
        r"EVENT_WINDOW|timedelta\(days=2\)|AT TIME ZONE 'America/New_York'", set()),
    "the vendor player key": (
        r"coalesce\(\s*(?:\{alias\}\.|\w+\.)?player_id_vendor", {"odds/read.py"}),
    "the snapshot that counts": (
        r"arg_max\(\s*snapshot_id|snapshot_ts_utc\s+DESC|ts\s+DESC,\s*snapshot_id",
        {"model/read.py"}),
    "a settled eligible bet": (
        r"""["']WIN["'],\s*["']LOSS["'],\s*["']PUSH["']\s*[)\]]|result\s*<>\s*'VOID'""",
        {"grading/read.py"}),
    "a slate's newest EV run": (
        r"PARTITION BY slate_date ORDER BY \{NEWEST_FIRST\}", {"ev/read.py"}),
}


def holders(pattern: str, root: Path = HELPERS) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*.py")
            if re.search(pattern, p.read_text())}


def test_each_crossing_concept_is_defined_once_in_its_owner() -> None:
    found = {concept: holders(pattern) - allowed
             for concept, (pattern, allowed) in CONCEPTS.items()}
    assert {c: sorted(m) for c, m in found.items() if m} == {}


def test_each_owner_still_holds_its_definition() -> None:
    # a pattern that no longer matches its own definition would pass the test above vacuously
    for concept, (pattern, allowed) in CONCEPTS.items():
        assert holders(pattern) >= allowed, concept


def test_the_grep_finds_an_old_copy(tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "step.py").write_text(
        'EVENT_WINDOW = timedelta(days=2)\n'
        'KEY = "coalesce(player_id_vendor, player_name_raw)"\n'
        'SQL = "SELECT arg_max(snapshot_id, snapshot_ts_utc) FROM x"\n'
        'SETTLED = ["WIN", "LOSS", "PUSH"]\n')
    for concept in ("the slate's event window", "the vendor player key",
                    "the snapshot that counts", "a settled eligible bet"):
        assert holders(CONCEPTS[concept][0], tmp_path) == {"ev/step.py"}, concept


def test_notebooks_run_no_sql_of_their_own() -> None:
    offenders = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and re.search(r"\.execute\(|\.sql\(|\bSELECT\b",
                                                         source):
                offenders.append(path.name)
    assert offenders == []
