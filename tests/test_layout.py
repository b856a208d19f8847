"""The package rules of docs/architecture.md, held by the imports and the SQL themselves."""

from __future__ import annotations

import ast
import re
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


# The world (the simulated league and the emulator) may use core only: if it shared code with
# a stage, a bug there would be in both the data and the parser and no test would see it.
WORLD = "demo"
HARNESS = "harness"  # runs and referees the pipeline on the world: may use everything


def world_offenders(paths: list[Path]) -> list[str]:
    offenders = []
    for path in paths:
        for module in imports_of(path):
            parts = module.split(".")
            if parts[0] == "helpers" and len(parts) > 1 and parts[1] not in ("core", WORLD):
                offenders.append(f"{path.name} imports {module}")
    return offenders


def test_the_world_imports_no_stage_and_no_harness() -> None:
    assert world_offenders(sorted((HELPERS / WORLD).rglob("*.py"))) == []


def test_the_world_rule_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "render_x.py"
    module.write_text("from helpers.odds.prices import devig_pair\n"
                      "from helpers.harness import referee\nfrom helpers.core import clock\n")
    assert sorted(world_offenders([module])) == ["render_x.py imports helpers.harness",
                                                 "render_x.py imports helpers.odds.prices"]


def test_only_the_harness_and_the_notebook_context_use_the_world() -> None:
    users = sorted(str(p.relative_to(HELPERS)) for p in all_modules()
                   if package_of(p) not in (WORLD, HARNESS)
                   and any(m.startswith(f"helpers.{WORLD}") for m in imports_of(p)))
    assert users == []


# ---- the reader rule -------------------------------------------------------------------
# Each table belongs to the step that writes it. A step's packages query their own tables;
# another step's tables only through the owner's readers (the `read` modules), so that the
# SQL of a concept ("a slate's vendor rows", "the snapshot that counts", "a settled bet")
# exists once. Core's tables (the run registry, the fetch log, the raw archive) are the
# house's own and readable everywhere through core's helpers.
STEP_OF_PACKAGE = {"odds": "odds_ingestion", "nhl": "production", "model": "production",
                   "ev": "ev", "grading": "outcomes", "evidence": "diagnostics", "core": "core"}
TABLE_OWNER = {
    **dict.fromkeys(("fact_prop_odds", "fact_rejected_odds", "dim_books", "dim_markets",
                     "backfill_checkpoints"), "odds_ingestion"),
    **dict.fromkeys(("dim_games", "dim_players", "fact_skater_games", "fact_goalie_games",
                     "dim_scheduled_games", "dim_slates", "map_events", "map_players",
                     "fact_prob_snapshot"), "production"),
    **dict.fromkeys(("fact_ev_candidates", "fact_price_blend_fits"), "ev"),
    **dict.fromkeys(("fact_prop_outcomes", "fact_bet_results", "fact_outcome_corrections"),
                    "outcomes"),
    **dict.fromkeys(("fact_odds_coverage_daily", "fact_mapping_quality_daily",
                     "fact_ev_summary_daily", "fact_forecast_accuracy_daily",
                     "fact_calibration_daily", "fact_market_comparison_daily",
                     "fact_anomaly_checks"), "diagnostics"),
    **dict.fromkeys(("fact_run_registry", "fact_vendor_fetch_log", "raw_payloads"), "core"),
}
# (module, table): why it may read another step's table directly.
READER_EXCEPTIONS = {
    ("ev/read.py", "fact_prop_outcomes"):
        "the blend learns from the outcomes of earlier slates, which grading (a later step "
        "that EV may not import) wrote; the walk-forward rule is in the query itself",
}
QUERIED = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z][a-z0-9_]*)", re.IGNORECASE)


def queried_tables(path: Path) -> set[str]:
    """The tables a module's string constants query (FROM / JOIN / INTO / UPDATE), docstrings
    left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            found |= {t.lower() for t in QUERIED.findall(node.value) if t.lower() in TABLE_OWNER}
    return found


def reader_offenders(paths: list[Path], root: Path = HELPERS) -> list[str]:
    offenders = []
    for path in paths:
        relative = path.relative_to(root)
        step = STEP_OF_PACKAGE.get(relative.parts[0]) if len(relative.parts) > 1 else None
        if step is None:
            continue  # the world, the harness, notebook.py: beside the stages
        for table in sorted(queried_tables(path)):
            owner = TABLE_OWNER[table]
            if owner in (step, "core") or (str(relative), table) in READER_EXCEPTIONS:
                continue
            offenders.append(f"{relative} queries {table} ({owner}'s): use its read module")
    return offenders


def test_every_table_has_an_owner() -> None:
    sql = "\n".join(p.read_text() for p in (HELPERS / "core").glob("*.sql"))
    tables = set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)", sql))
    migration_copies = {t for t in tables if re.search(r"_v\d+$", t)}  # renamed, then dropped
    assert tables - migration_copies - set(TABLE_OWNER) == set()


def test_a_stage_queries_another_steps_tables_only_through_its_readers() -> None:
    assert reader_offenders(all_modules()) == []


def test_the_reader_rule_can_fail(tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    module = tmp_path / "ev" / "step.py"
    module.write_text('"""Reads FROM fact_prop_odds in words only."""\n'
                      'SQL = "SELECT * FROM fact_prob_snapshot s JOIN fact_ev_candidates c"\n')
    assert reader_offenders([module], root=tmp_path) == [
        "ev/step.py queries fact_prob_snapshot (production's): use its read module"]


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
