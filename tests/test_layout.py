"""The package rules of docs/architecture.md, held by the imports themselves."""

from __future__ import annotations

import ast
from pathlib import Path

HELPERS = Path(__file__).resolve().parents[1] / "src" / "helpers"
# Stages in pipeline order; a stage may import only itself, core and earlier stages.
STAGES = ("core", "odds", "nhl", "model", "ev", "grading", "evidence")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def package_of(path: Path) -> str:
    relative = path.relative_to(HELPERS)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def all_modules() -> list[Path]:
    return sorted(HELPERS.rglob("*.py"))


def test_no_helpers_module_imports_runner() -> None:
    offenders = [str(p.relative_to(HELPERS)) for p in all_modules()
                 if any(m == "runner" or m.startswith("runner.") for m in imports_of(p))]
    assert offenders == []


def test_a_stage_imports_only_core_itself_and_earlier_stages() -> None:
    offenders = []
    for path in all_modules():
        package = package_of(path)
        if package not in STAGES:
            continue  # demo, notebook.py: beside the stages, may use them
        allowed = STAGES[: STAGES.index(package) + 1]
        for module in imports_of(path):
            parts = module.split(".")
            if parts[0] != "helpers" or len(parts) < 2:
                continue
            if parts[1] not in allowed:
                offenders.append(f"{path.relative_to(HELPERS)} imports {module}")
    assert offenders == []


def test_the_rule_can_fail(tmp_path: Path) -> None:
    # the checker sees a lazy import inside a function
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from helpers.odds import capture\n")
    assert "helpers.odds" in imports_of(module)


def test_nothing_points_outside_the_repository() -> None:
    """The repository stands alone: no code, test or doc cites the planning documents."""
    root = HELPERS.parents[1]
    needles = ("../shared", "/work/shared", "DOMAIN.md", "DESIGN.md", "DOMAIN §", "DESIGN §")
    offenders = []
    for folder in ("src", "runner", "tests", "docs", "benchmarks", "notebooks"):
        for path in (root / folder).rglob("*"):
            if path.suffix not in {".py", ".md", ".ipynb", ".sql", ".html", ".toml"}:
                continue
            text = path.read_text(errors="replace")
            offenders += [f"{path.relative_to(root)}: {n}" for n in needles
                          if n in text and path.name != "test_layout.py"]
    readme = (root / "README.md").read_text()
    offenders += [f"README.md: {n}" for n in needles if n in readme]
    assert offenders == []


def test_every_package_is_listed_in_pyproject() -> None:
    """A package missing from pyproject.toml imports in an editable checkout but not from a
    normal install."""
    import tomllib

    root = HELPERS.parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root / "src").parts)
             for p in HELPERS.rglob("__init__.py")} | {"runner"}
    assert found == listed
