"""The README's configuration table lists every variable with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.core.settings import DEFAULTS, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rows() -> dict[str, str]:
    """variable -> the default cell of its row in the configuration table."""
    text = README.read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[1]
    return rows


def shown(default: str) -> str:
    return "empty" if default == "" else f"`{default}`"


def test_every_variable_is_in_the_readme_with_its_default() -> None:
    rows = readme_rows()
    assert sorted(set(DEFAULTS) - set(rows)) == []
    assert sorted(set(rows) - set(DEFAULTS)) == []
    wrong = {name: (rows[name], shown(default)) for name, default in DEFAULTS.items()
             if rows[name] != shown(default)}
    assert wrong == {}


def test_the_documented_defaults_are_what_settings_use(tmp_path: Path) -> None:
    effective = load_settings({"OPS_HOME": str(tmp_path)}).effective()
    for name, default in DEFAULTS.items():
        if default.startswith("<") or name == "OPS_HOME":
            continue
        assert effective[name] == default, name
