"""Every test can fail: each `test_*` function asserts something.

A test passes this check when its body (nested functions included) has an `assert`, a
`pytest.raises` / `pytest.warns` block, a call whose name starts with `assert` (e.g.
`pd.testing.assert_frame_equal`), or a call to a function of the same file, or of a
conftest / helper module under tests/, that itself passes this check. A test that only
runs code and expects no exception says nothing when it passes; make it check the result.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def _asserts_directly(body: ast.AST) -> bool:
    for node in ast.walk(body):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _called_name(node) or ""
            if name.startswith("assert") or name in ("raises", "warns", "fail"):
                return True
    return False


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def helper_functions(root: Path = TESTS) -> dict[str, ast.FunctionDef]:
    """Functions of the shared test modules (conftest and non-test modules under tests/)."""
    found: dict[str, ast.FunctionDef] = {}
    for path in root.rglob("*.py"):
        if not path.name.startswith("test_"):
            found.update(_functions(ast.parse(path.read_text())))
    return found


def silent_tests(path: Path, helpers: dict[str, ast.FunctionDef]) -> list[str]:
    """The test functions of `path` that assert nothing, directly or through a helper."""
    tree = ast.parse(path.read_text())
    local = {**helpers, **_functions(tree)}
    verdicts: dict[str, bool] = {}

    def asserts(function: ast.FunctionDef, seen: frozenset[str]) -> bool:
        if function.name in verdicts:
            return verdicts[function.name]
        result = _asserts_directly(function) or any(
            asserts(local[name], seen | {name})
            for node in ast.walk(function) if isinstance(node, ast.Call)
            for name in [_called_name(node)]
            if name in local and name not in seen and local[name] is not function)
        verdicts[function.name] = result
        return result

    return [f"{path.relative_to(path.parents[1])}::{f.name}" for f in tree.body
            if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")
            and not asserts(f, frozenset({f.name}))] + [
        f"{path.relative_to(path.parents[1])}::{c.name}.{f.name}" for c in tree.body
        if isinstance(c, ast.ClassDef) for f in c.body
        if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")
        and not asserts(f, frozenset({f.name}))]


def test_every_test_function_asserts_something() -> None:
    helpers = helper_functions()
    offenders = [name for path in sorted(TESTS.rglob("test_*.py"))
                 for name in silent_tests(path, helpers)]
    assert offenders == []


def test_the_check_finds_a_test_that_asserts_nothing(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    module = tmp_path / "tests" / "test_x.py"
    module.write_text(
        "import pytest\n\n"
        "def check(v):\n    assert v > 0\n\n"
        "def test_runs_only():\n    sum([1, 2])\n\n"
        "def test_asserts():\n    assert sum([1, 2]) == 3\n\n"
        "def test_through_a_helper():\n    check(3)\n\n"
        "def test_expects_an_error():\n    with pytest.raises(ValueError):\n"
        "        int('x')\n")
    assert silent_tests(module, {}) == ["tests/test_x.py::test_runs_only"]
