"""Two anti-hang rules of the spec, read from the source with `ast` (nothing is executed):

1. "DuckDB inspection uses SQL with LIMIT <= 50": every SQL query whose rows a notebook
   shows ends in a top-level `LIMIT n` with n <= 50. A query that cannot carry such a LIMIT
   (its rows feed a computation or a chart, it is a fragment other queries wrap, ...) is
   named in `EXEMPT` with the reason, never passed over by a guess.
2. "No unbounded recursive scans (depth <= 4; exclude outputs/** and data/**)": no code in
   src/, runner/, benchmarks/ or the notebooks walks a directory tree without a depth bound.

What executed notebooks really show (rows, bytes) is checked on the demo's outputs by
tests/runner/test_demo.py::test_every_executed_notebook_has_bounded_outputs.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_LIMIT = 50  # the spec's bound on the rows a query may show (markdown.MAX_ROWS)

# ---------------------------------------------------------------------------------------
# Rule 1: every query a notebook shows has a LIMIT
# ---------------------------------------------------------------------------------------

# The modules whose functions make what the notebooks show, besides the notebooks' own code
# cells: the step notebooks display the report modules' tables, the report notebook the
# `daily` and `rolling` sections (through `markdown`), which read the evidence tables
# through `tables`; notebook 05 also shows `tables.collect`'s frames.
DISPLAY_MODULES = (
    "helpers.odds.report",
    "helpers.model.report",
    "helpers.ev.report",
    "helpers.grading.report",
    "helpers.evidence.daily",
    "helpers.evidence.rolling",
    "helpers.evidence.claims",
    "helpers.evidence.comparison",
    "helpers.evidence.pricing",
    "helpers.evidence.markdown",
    "helpers.evidence.tables",
)

# Modules the notebooks (or the display modules) import that hold SQL which is not an
# inspection: it is the pipeline's own work. Their queries are not scanned; what a step
# notebook shows of their results is cut in the cell (`.head(50)`) or by a report function.
COMPUTATION_MODULES = {
    "helpers.odds.capture": "the ingestion step: known payloads, pending loads",
    "helpers.ev.step": "the EV step: the snapshot, the odds and the games it prices",
    "helpers.evidence.anomalies": "the anomaly checks: trailing counts the checks compare",
    "helpers.ev.read": "the rule for a slate's bets (a subquery the display modules wrap) "
                       "and the graded props the EV step's blend is fitted on",
    "helpers.odds.read": "the owner's reader of the odds: fragments the steps and the "
                         "evidence wrap (a slate's rows, the latest price) and the slate's "
                         "vendor events and players for production",
    "helpers.model.read": "the owner's reader of snapshots and the identity map: fragments "
                          "(which snapshot counts, the games known) and one-snapshot reads",
    "helpers.nhl.read": "the warehouse's reader: names of the given ids, skater rows of the "
                        "given games, games per slate",
    "helpers.grading.read": "the rule for a settled eligible bet (fragments the display "
                            "modules wrap) and the graded props grading and diagnostics score",
    "helpers.core.db": "schema, migrations and inserts",
    "helpers.core.runs": "the rule for which run's rows count: SQL fragments the readers wrap",
}

# Why a query without a top-level LIMIT <= 50 is fine, by kind:
NOT_SHOWN = "not shown as rows"        # feeds a computation, a chart or a write
BOUNDED = "bounded by construction"    # one row per member of a small fixed key set
PARAMETER = "bounded by a parameter"   # LIMIT ? with a bound the function keeps <= 50
FRAGMENT = "fragment"                  # SQL text other queries wrap; they carry the bound
WRAPPER = "wrapper"                    # executes the SQL its callers pass (checked there)
HELPER = "query helper"                # runs SQL of its own for its callers: each call is
#                                        a query to account for, listed under the caller

# (module or notebook, function or assigned name) -> (kind, reason)
EXEMPT: dict[tuple[str, str], tuple[str, str]] = {
    # --- daily report sections
    ("helpers.evidence.daily", "_df"): (WRAPPER, "runs the literal SQL each section passes"),
    ("helpers.evidence.daily", "day_steps"): (
        NOT_SHOWN, "the slate's registry rows feed the repair rule; the frame it returns is "
                   "cut to 50 rows after it"),
    ("helpers.evidence.daily", "_newest_ev_run"): (
        NOT_SHOWN, "one value: the id of the slate's newest EV run"),
    ("helpers.evidence.daily", "ev_funnel"): (
        NOT_SHOWN, "counts per exclusion reason, summed into the funnel's stages; a LIMIT "
                   "could only falsify the totals"),
    ("helpers.evidence.daily", "snapshot_summary"): (
        FRAGMENT, "the one-row cutoffs relation (the slate, no cutoff) that "
                  "model.read.newest_snapshots_sql wraps; the summary itself ends in LIMIT 50"),
    ("helpers.evidence.daily", "top_bets"): (
        PARAMETER, "LIMIT ? binds n: 10 by default, clamped to markdown.MAX_ROWS (50)"),
    ("helpers.evidence.daily", "last_graded_slate"): (
        NOT_SHOWN, "one value: the newest graded slate before the report's"),
    ("helpers.evidence.daily", "anomaly_checks"): (
        BOUNDED, "newest_per_slate of one slate: its newest run's checks, one per check and "
                 "subject (a vendor, vendor/market, vendor/book, vendor/entity or step); the "
                 "report's table shows at most 50"),
    ("helpers.evidence.daily", "coverage_table"): (
        NOT_SHOWN, "newest_per_slate rows pooled per vendor and market in pandas; the table "
                   "shown has one row per vendor and market"),
    ("helpers.evidence.daily", "clv_notes_markdown"): (
        NOT_SHOWN, "the slate's eligible bets feed grading.report.clv_notes, which shows a "
                   "line per market or book at most"),
    ("helpers.evidence.daily", "mapping_table"): (
        BOUNDED, "newest_per_slate of one slate: one row per vendor and entity "
                 "(event, player)"),
    ("helpers.evidence.daily", "ev_by_book"): (
        BOUNDED, "newest_per_slate of one slate: one row per vendor, book and market; the "
                 "report shows at most 20 of them (max_rows=20)"),
    ("helpers.evidence.daily", "graded_accuracy"): (
        NOT_SHOWN, "newest_per_slate rows pooled per market and source in pandas"),
    # --- rolling report: per-slate series over a date range (at most 60 slates), pooled into
    # windows_table's metrics or drawn in a chart; none is shown as rows
    ("helpers.evidence.rolling", "_query"): (WRAPPER, "runs the literal SQL each series passes"),
    ("helpers.evidence.rolling", "daily_registry"): (
        NOT_SHOWN, "per slate: pooled into the windows table, drawn in run_status"),
    ("helpers.evidence.rolling", "daily_step_durations"): (
        NOT_SHOWN, "per slate and step: drawn in run_status"),
    ("helpers.evidence.rolling", "daily_odds_rows"): (
        NOT_SHOWN, "per slate and vendor: pooled into the windows table, drawn in "
                   "rows_per_vendor"),
    ("helpers.evidence.rolling", "daily_mapping"): (
        NOT_SHOWN, "per slate, vendor and entity: pooled into the windows table, drawn in "
                   "mapping_rate"),
    ("helpers.evidence.rolling", "daily_ev"): (
        NOT_SHOWN, "per slate: pooled into the windows table, drawn in ev_counts"),
    ("helpers.evidence.rolling", "daily_accuracy"): (
        NOT_SHOWN, "per slate, source and market: pooled into the windows table, drawn in "
                   "log_loss"),
    ("helpers.evidence.rolling", "calibration_bins"): (
        NOT_SHOWN, "per source, market and bin: pooled into ECE, drawn in calibration"),
    ("helpers.evidence.rolling", "daily_clv"): (
        NOT_SHOWN, "per slate: pooled into the windows table, drawn in clv"),
    ("helpers.evidence.rolling", "clv_histogram"): (
        NOT_SHOWN, "one row per histogram bin (40): drawn in clv"),
    ("helpers.evidence.rolling", "daily_vendor_health"): (
        NOT_SHOWN, "per slate and vendor: drawn in vendor_health"),
    # --- rolling report: claimed against realized
    ("helpers.evidence.pricing", "blend_fits"): (
        NOT_SHOWN, "five rows per slate of the window: the day's five are the table, the "
                   "window is drawn in blend_weights"),
    ("helpers.evidence.claims", "window_bets"): (
        NOT_SHOWN, "the window's recommended settled bets, pooled into one row per claimed-EV "
                   "bucket, market and price band and drawn in the claims chart"),
    # --- evidence tables
    ("helpers.evidence.tables", "newest_sql"): (
        FRAGMENT, "each slate's newest run of an evidence table, a subquery the rolling "
                  "series aggregate and newest_per_slate runs"),
    ("helpers.evidence.tables", "newest_per_slate"): (
        HELPER, "newest_sql over [lo, hi] as a frame; its callers are listed one by one"),
    ("helpers.evidence.tables", "coverage"): (
        NOT_SHOWN, "the run's coverage evidence, written whole to fact_odds_coverage_daily; "
                   "notebook 05 shows .head(50) of it"),
    ("helpers.evidence.tables", "mapping_quality"): (
        BOUNDED, "one row per vendor and entity (GROUP BY source_vendor, entity); "
                 "notebook 05 shows it whole"),
    ("helpers.evidence.tables", "ev_summary"): (
        NOT_SHOWN, "the run's EV summary evidence, written whole to fact_ev_summary_daily"),
    # --- notebooks
}

# Calls that run SQL: DuckDB's connection methods (and pandas' readers).
EXECUTE_METHODS = {"execute", "executemany", "sql", "query", "read_sql", "read_sql_query"}
ROW_KEYWORDS = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE",
                "PRAGMA", "EXPLAIN", "CALL"}
WRITE_KEYWORDS = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "ATTACH",
                  "DETACH", "BEGIN", "COMMIT", "ROLLBACK", "CHECKPOINT", "SET", "RESET",
                  "INSTALL", "LOAD", "USE", "VACUUM", "EXPORT", "IMPORT", "TRUNCATE",
                  "ANALYZE"}
SELECT_WORD = re.compile(r"\bselect\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    source: str  # module or notebook
    scope: str   # function (dotted when nested), or the name a module-level value is bound to
    line: int
    problem: str

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.scope

    def __str__(self) -> str:
        return f"{self.source}:{self.line} ({self.scope}): {self.problem}"


def module_path(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def code_cells(notebook: Path) -> list[str]:
    """The notebook's code cells as Python (IPython magics and shell lines dropped)."""
    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if c["cell_type"] == "code"]
    return ["\n".join(line for line in s.splitlines() if not line.lstrip().startswith(("%", "!")))
            for s in sources]


def scoped_nodes(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """Every node with its scope: the enclosing function or class (dotted), or at module
    level the name the enclosing assignment binds (else '<module>')."""
    out: list[tuple[ast.AST, str]] = []

    def walk(node: ast.AST, scope: str, in_def: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_scope, child_in_def = scope, in_def
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                child_scope = f"{scope}.{child.name}" if in_def else child.name
                child_in_def = True
            elif not in_def and isinstance(child, ast.Assign | ast.AnnAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                if isinstance(targets[0], ast.Name):
                    child_scope = targets[0].id
            out.append((child, child_scope))
            walk(child, child_scope, child_in_def)

    walk(tree, "<module>", False)
    return out


def module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level names bound to a str or int literal: f-strings that use them are read
    with their value (`LIMIT {WORST_DAYS_MAX}` is `LIMIT 10`)."""
    found: dict[str, object] = {}
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if isinstance(value, ast.Constant) and isinstance(value.value, str | int):
            found |= {t.id: value.value for t in targets if isinstance(t, ast.Name)}
        elif isinstance(value, ast.JoinedStr):
            found |= {t.id: render(value, found) for t in targets if isinstance(t, ast.Name)}
    return found


def render(node: ast.AST, constants: dict[str, object]) -> str:
    """A string literal's text; in an f-string a module constant is filled in and any other
    expression stays `{expression}`."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    parts = []
    for part in node.values:  # ast.JoinedStr
        if isinstance(part, ast.Constant):
            parts.append(str(part.value))
        elif isinstance(part.value, ast.Name) and part.value.id in constants:
            parts.append(str(constants[part.value.id]))
        else:
            parts.append("{" + ast.unparse(part.value) + "}")
    return "".join(parts)


def top_level(sql: str) -> str:
    """The SQL with quoted text and comments removed and everything inside parentheses
    blanked: what is left is the outermost statement's own clauses."""
    sql = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)
    sql = re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"", "''", sql)
    depth, kept = 0, []
    for char in sql:
        if char == "(":
            depth += 1
        kept.append(char if depth == 0 else " ")
        if char == ")":
            depth = max(depth - 1, 0)
    return "".join(kept)


def query_problem(sql: str) -> str | None:
    """Why this SQL text may show too many rows; None when every row-returning statement in
    it ends in LIMIT n with n <= 50, or when it only writes."""
    for statement in top_level(sql).split(";"):
        words = statement.split()
        if not words:
            continue
        first = words[0].upper()
        if first in WRITE_KEYWORDS:
            continue
        if first not in ROW_KEYWORDS:
            return f"a fragment or a statement whose start is not visible ({words[0][:40]!r})"
        limit = re.search(r"\bLIMIT\s+([^\s,;]+)", statement, re.IGNORECASE)
        if limit is None:
            return "no top-level LIMIT"
        bound = limit.group(1)
        if bound.isdigit():
            if int(bound) > MAX_LIMIT:
                return f"LIMIT {bound} is over {MAX_LIMIT}"
        else:
            return f"LIMIT {bound} is not a literal bound"
    return None


def execution_sql(call: ast.Call, wrappers: set[str]) -> list[ast.AST] | None:
    """The arguments of a call that runs SQL (None when the call does not run SQL)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if (name in EXECUTE_METHODS and isinstance(func, ast.Attribute)) or name in wrappers:
        return [*call.args, *(k.value for k in call.keywords)]
    return None


def is_text(node: ast.AST, constants: dict[str, object]) -> bool:
    if isinstance(node, ast.Name):  # a module constant
        return isinstance(constants.get(node.id), str)
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, str))


def check_source(source: str, code: str, helpers: set[str] = frozenset(),
                 wrappers: set[str] = frozenset()) -> list[Finding]:
    """Every query in `code` that may show more than 50 rows: a SQL literal whose
    row-returning statement has no top-level LIMIT <= 50; a call that runs SQL the scan
    cannot read (a variable, an f-string that starts with an expression); and a call of a
    `helpers` function (one that runs SQL of its own and returns the rows)."""
    tree = ast.parse(code)
    constants = module_constants(tree)
    nodes = scoped_nodes(tree)
    # strings that are not SQL text: docstrings and other bare strings, f-string pieces
    skipped = {id(n.value) for n, _ in nodes
               if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    skipped |= {id(v) for n, _ in nodes if isinstance(n, ast.JoinedStr) for v in n.values}
    skipped |= {id(n.format_spec) for n, _ in nodes
                if isinstance(n, ast.FormattedValue) and n.format_spec is not None}

    sql_nodes: dict[int, tuple[ast.AST, str]] = {}
    findings = []
    for node, scope in nodes:
        if (is_text(node, constants) and not isinstance(node, ast.Name)
                and id(node) not in skipped and SELECT_WORD.search(render(node, constants))):
            sql_nodes[id(node)] = (node, scope)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called in helpers:
            findings.append(Finding(source, scope, node.lineno,
                                    f"rows of {called}(), which has no LIMIT of its own"))
        arguments = execution_sql(node, set(wrappers))
        if arguments is None:
            continue
        texts = [a for a in arguments if is_text(a, constants)]
        if not texts:
            findings.append(Finding(source, scope, node.lineno,
                                    f"{called}() runs SQL the scan cannot read"))
            continue
        text = texts[0]
        if isinstance(text, ast.Name):  # a module constant: read at the call
            problem = query_problem(str(constants[text.id]))
            if problem:
                findings.append(Finding(source, scope, node.lineno, problem))
        else:
            sql_nodes[id(text)] = (text, scope)

    for node, scope in sql_nodes.values():
        problem = query_problem(render(node, constants))
        if problem:
            findings.append(Finding(source, scope, node.lineno, problem))
    return sorted(findings, key=lambda f: (f.source, f.line))


def display_sources() -> list[tuple[str, str]]:
    """(name, code) of every display module and every notebook code cell."""
    sources = [(m, module_path(m).read_text()) for m in DISPLAY_MODULES]
    for notebook in NOTEBOOKS:
        name = notebook.relative_to(ROOT).as_posix()
        sources += [(name, cell) for cell in code_cells(notebook)]
    return sources


def unbounded_queries() -> list[Finding]:
    helpers = {scope for (_, scope), (kind, _) in EXEMPT.items() if kind == HELPER}
    wrappers = {scope for (_, scope), (kind, _) in EXEMPT.items() if kind == WRAPPER}
    findings = []
    for name, code in display_sources():
        findings += check_source(name, code, helpers, wrappers)
    return findings


def test_every_query_a_notebook_shows_has_a_limit_of_at_most_50() -> None:
    unexplained = [str(f) for f in unbounded_queries() if f.key not in EXEMPT]
    assert unexplained == []


def test_every_exemption_names_a_query_that_is_still_there() -> None:
    """An entry whose query got a LIMIT, moved or was removed must go: the list stays the
    exact set of queries shown without a LIMIT."""
    found = {f.key for f in unbounded_queries()}
    assert sorted(set(EXEMPT) - found) == []


def helpers_imports(code: str) -> set[str]:
    """The helpers modules `code` imports (`from helpers.x import y` counts helpers.x.y
    when y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("helpers.")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names
                      if module_path(f"{node.module}.{a.name}")}
    return {m for m in found if module_path(m)}


def has_sql(code: str) -> bool:
    tree = ast.parse(code)
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
               and SELECT_WORD.search(n.value) for n in ast.walk(tree))


def test_every_module_the_notebooks_reach_with_sql_is_scanned_or_named() -> None:
    """A module the notebooks import, or the display modules import, that holds SQL is
    either scanned (DISPLAY_MODULES) or named as the pipeline's own work
    (COMPUTATION_MODULES): a new module cannot slip past the scan."""
    reached = set()
    for _, code in display_sources():
        reached |= helpers_imports(code)
    with_sql = {m for m in reached if has_sql(module_path(m).read_text())}
    assert sorted(with_sql - set(DISPLAY_MODULES) - set(COMPUTATION_MODULES)) == []
    assert sorted(set(COMPUTATION_MODULES) - with_sql) == []  # no stale names


def test_the_query_check_can_fail() -> None:
    def problems(code: str) -> list[str]:
        return [f.problem for f in check_source("m", code)]

    assert problems('def f(con):\n    return con.execute("SELECT * FROM t").df()\n') == [
        "no top-level LIMIT"]
    assert problems('rows = con.execute("SELECT * FROM t LIMIT 51").df()\n') == [
        "LIMIT 51 is over 50"]
    # a LIMIT inside a subquery or a CTE does not bound the rows shown
    assert problems('q = "SELECT * FROM (SELECT * FROM t LIMIT 5) s"\n') == [
        "no top-level LIMIT"]
    assert problems('q = """WITH a AS (SELECT * FROM t LIMIT 5)\n SELECT * FROM a"""\n') == [
        "no top-level LIMIT"]
    # a LIMIT in a comment or in a quoted string is not one
    assert problems("q = \"SELECT 'LIMIT 5' AS s FROM t -- LIMIT 5\"\n") == [
        "no top-level LIMIT"]
    # lower case SQL is SQL
    assert problems('q = "select * from t"\n') == ["no top-level LIMIT"]
    # SQL the scan cannot read is reported, not assumed fine
    assert problems("def f(con, sql):\n    return con.execute(sql).df()\n") == [
        "execute() runs SQL the scan cannot read"]
    [problem] = problems('def f(con):\n    return con.execute(f"{base()} ORDER BY x").df()\n')
    assert problem.startswith("a fragment or a statement whose start is not visible")
    assert problems('q = "SELECT * FROM t LIMIT ?"\n') == ["LIMIT ? is not a literal bound"]
    # a helper's rows count at each call
    findings = check_source("m", "def f(con):\n    return rows_of(con)\n", helpers={"rows_of"})
    assert [(f.scope, f.problem) for f in findings] == [
        ("f", "rows of rows_of(), which has no LIMIT of its own")]


def test_the_query_check_passes_bounded_queries() -> None:
    code = '''
"""A docstring that says SELECT is not SQL."""
TOP = 10
BIG = 500

def f(con):
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    a = con.execute("SELECT * FROM t ORDER BY x LIMIT 50").df()
    b = con.execute(f"""WITH s AS (SELECT * FROM t)
                        SELECT * FROM s WHERE x IN (SELECT x FROM t) LIMIT {TOP}""").df()
    return a, b
'''
    assert check_source("m", code) == []
    # a constant is read with its value: LIMIT {BIG} is LIMIT 500
    over = code.replace("LIMIT {TOP}", "LIMIT {BIG}")
    assert [f.problem for f in check_source("m", over)] == ["LIMIT 500 is over 50"]


# ---------------------------------------------------------------------------------------
# Rule 2: no unbounded recursive scan
# ---------------------------------------------------------------------------------------

MAX_DEPTH = 4
# The code the rule covers. tests/ is left out on purpose: tests may walk the small trees
# they build under tmp_path (and list the repository's own sources, as this module does).
WALK_FOLDERS = ("src", "runner", "benchmarks")
FILE_LISTERS = {"iterdir", "scandir", "listdir"}


def walk_problems(code: str) -> list[str]:
    """Recursive filesystem walks in `code` without a depth bound: `rglob`, `os.walk`
    (`Path.walk`, `os.fwalk`), `glob(..., recursive=True)`, a glob pattern with `**` or more
    than 4 levels (or one the scan cannot read), and a function that lists a directory and
    calls itself."""
    tree = ast.parse(code)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
            names = {c.func.attr if isinstance(c.func, ast.Attribute) else
                     getattr(c.func, "id", None) for c in calls}
            if names & FILE_LISTERS and node.name in names:
                problems.append(f"line {node.lineno}: {node.name}() lists a directory "
                                "and calls itself")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        receiver = func.value if isinstance(func, ast.Attribute) else None
        where = f"line {node.lineno}: {ast.unparse(node)[:80]}"
        if name == "rglob":
            problems.append(f"{where}: rglob walks every level")
        elif name in {"walk", "fwalk"} and not (isinstance(receiver, ast.Name)
                                                 and receiver.id == "ast"):
            problems.append(f"{where}: {name} walks every level")
        elif name in {"glob", "iglob"}:
            if any(k.arg == "recursive" and not (isinstance(k.value, ast.Constant)
                                                 and k.value.value is False)
                   for k in node.keywords):
                problems.append(f"{where}: recursive glob")
                continue
            pattern = node.args[0] if node.args else None
            if not (isinstance(pattern, ast.Constant) and isinstance(pattern.value, str)):
                problems.append(f"{where}: a glob pattern the scan cannot read")
            elif "**" in pattern.value:
                problems.append(f"{where}: '**' walks every level")
            elif len(pattern.value.strip("/").split("/")) > MAX_DEPTH:
                problems.append(f"{where}: deeper than {MAX_DEPTH} levels")
    return problems


def walk_sources() -> list[tuple[str, str]]:
    # rglob over the source folders only (never outputs/ or data/), allowed in tests/
    sources = [(p.relative_to(ROOT).as_posix(), p.read_text())
               for folder in WALK_FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]
    for notebook in NOTEBOOKS:
        name = notebook.relative_to(ROOT).as_posix()
        sources += [(name, cell) for cell in code_cells(notebook)]
    return sources


def test_no_code_walks_a_directory_tree_without_a_depth_bound() -> None:
    sources = walk_sources()
    assert any(name.startswith("runner/") for name, _ in sources)  # the scan sees code
    problems = [f"{name} {p}" for name, code in sources for p in walk_problems(code)]
    assert problems == []


def test_the_walk_check_can_fail() -> None:
    assert walk_problems('def f(root):\n    return list(root.rglob("*"))\n') != []
    assert walk_problems("import os\nfor d, _, fs in os.walk(top):\n    pass\n") != []
    assert walk_problems('import glob\nglob.glob("a/*", recursive=True)\n') != []
    assert walk_problems('root.glob("**/*.json")\n') != []
    assert walk_problems('root.glob("*/*/*/*/*.json")\n') != []  # five levels
    assert walk_problems("root.glob(pattern)\n") != []
    assert walk_problems("def tree(p):\n    for c in p.iterdir():\n        tree(c)\n") != []
    # bounded: a fixed-depth pattern, one directory's listing, ast.walk
    assert walk_problems('root.glob("*/*/*.json")\n') == []
    assert walk_problems("def f(p):\n    return list(p.iterdir())\n") == []
    assert walk_problems("import ast\nnodes = list(ast.walk(tree))\n") == []
