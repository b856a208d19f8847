"""The README's test command runs every notebook in notebooks/ under nbval: a notebook that
no longer runs top to bottom with its default parameters fails the suite."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_collects_every_notebook_under_nbval() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "notebooks" in config["testpaths"]
    assert "--nbval-lax" in config["addopts"].split()
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0",
                           "notebooks"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    collected = {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}
    notebooks = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert len(notebooks) == 6 and collected == notebooks
