"""Every test can fail: each `test_*` function under tests/ asserts something.

A test that only runs code and expects no exception says nothing when it passes; make it
check the result. A function *asserts* when its body (nested functions included) has

- an `assert` statement,
- a `pytest.raises` / `pytest.warns` block or call, or a `pytest.fail` call,
- a call to a function whose name starts with `assert` (`pd.testing.assert_frame_equal`,
  `mock.assert_called_once`, `assert_no_secret_anywhere`), or
- a call to a module-level function of a file under tests/ that itself asserts: a function
  of the same file (`check(v)`), one imported from a module under tests/
  (`from tests.runner.test_kill import alive`), or one reached through such a module
  (`from tests.odds.vendors import playnow_fixture as fx`, then `fx.page(...)`).

Calls are resolved by name within the file, so a method call on some object (`emu.check()`)
never counts as calling a local `check`. Fixtures do not count: a fixture that asserts
checks its own setup, not the test. `PENDING` names tests known to assert nothing that
live in files this check's author could not edit; each should leave the list when fixed.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# "tests/<file>::<test>" -> why it is allowed for now. Empty: every test asserts.
PENDING: dict[str, str] = {}

_PYTEST_CHECKS = ("raises", "warns", "fail")


def _asserts_directly(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and (
                func.id.startswith("assert") or func.id in _PYTEST_CHECKS):
            return True  # assert_frame_equal(...), or `from pytest import raises`
        if isinstance(func, ast.Attribute) and (
                func.attr.startswith("assert")
                or (func.attr in _PYTEST_CHECKS
                    and isinstance(func.value, ast.Name) and func.value.id == "pytest")):
            return True
    return False


def _module_path(dotted: str, root: Path) -> Path | None:
    """The file of a module under tests/ ("tests.runner.nbfactory"), or None."""
    parts = dotted.split(".")
    if parts[0] != root.name:
        return None
    base = root.parent.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class _Module:
    """One file under tests/: its module-level functions and what its names refer to."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text())
        self.functions = {node.name: node for node in self.tree.body
                          if isinstance(node, ast.FunctionDef)}
        self.imported_functions: dict[str, tuple[Path, str]] = {}  # local name -> (file, name)
        self.imported_modules: dict[str, Path] = {}  # local name -> file
        for node in ast.walk(self.tree):  # imports inside a test count too
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    local = alias.asname or alias.name
                    as_module = _module_path(f"{node.module}.{alias.name}", root)
                    if as_module is not None:
                        self.imported_modules[local] = as_module
                    elif (source := _module_path(node.module, root)) is not None:
                        self.imported_functions[local] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and (source := _module_path(alias.name, root)):
                        self.imported_modules[alias.asname] = source

    def callees(self, function: ast.AST) -> set[tuple[Path, str]]:
        """The module-level functions under tests/ that `function` calls, as (file, name)."""
        found: set[tuple[Path, str]] = set()
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                if func.id in self.functions:
                    found.add((self.path, func.id))
                elif func.id in self.imported_functions:
                    found.add(self.imported_functions[func.id])
            elif (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                  and func.value.id in self.imported_modules):
                found.add((self.imported_modules[func.value.id], func.attr))
        return found

    def tests(self) -> list[tuple[str, ast.FunctionDef]]:
        """(name shown, node) of each test function, in classes too."""
        found = [(node.name, node) for node in self.tree.body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
        for cls in self.tree.body:
            if isinstance(cls, ast.ClassDef):
                found += [(f"{cls.name}.{node.name}", node) for node in cls.body
                          if isinstance(node, ast.FunctionDef)
                          and node.name.startswith("test_")]
        return found


def silent_tests(root: Path = TESTS) -> list[str]:
    """Every test function under `root` that asserts nothing, directly or through a helper,
    as "<root name>/<file>::<test>"."""
    modules = {path: _Module(path, root) for path in sorted(root.rglob("*.py"))}
    # Which module-level functions assert: first those that do so themselves, then, until
    # nothing changes, those that call one that does (a fixpoint, so call cycles are fine).
    asserting = {(path, name) for path, module in modules.items()
                 for name, function in module.functions.items() if _asserts_directly(function)}
    calls = {(path, name): module.callees(function) for path, module in modules.items()
             for name, function in module.functions.items()}
    while grown := {key for key, callees in calls.items()
                    if key not in asserting and callees & asserting}:
        asserting |= grown

    silent = []
    for path, module in modules.items():
        if not path.name.startswith("test_"):
            continue
        for shown, test in module.tests():
            if not (_asserts_directly(test) or module.callees(test) & asserting):
                silent.append(f"{path.relative_to(root.parent).as_posix()}::{shown}")
    return silent


def test_every_test_function_asserts_something() -> None:
    silent = silent_tests()
    assert [name for name in silent if name not in PENDING] == [], \
        "these tests assert nothing (see this module's docstring for what counts)"
    # A pending test that asserts now (or is gone) should leave the list.
    assert sorted(set(PENDING) - set(silent)) == []


def test_the_check_finds_a_test_that_asserts_nothing(tmp_path: Path) -> None:
    root = tmp_path / "tests"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "checks.py").write_text(
        "def positive(v):\n    assert v > 0\n\n"
        "def prints(v):\n    print(v)\n")
    (root / "test_x.py").write_text(
        "import pytest\n"
        "from tests.shared.checks import positive, prints\n"
        "from tests.shared import checks\n\n"
        "def check(v):\n    assert v > 0\n\n"
        "def indirectly(v):\n    check(v)\n\n"
        "def test_runs_only():\n    sum([1, 2])\n\n"
        "def test_calls_a_helper_that_only_prints():\n    prints(3)\n\n"
        "def test_calls_a_method_named_like_a_helper(emu):\n    emu.check(3)\n\n"
        "def test_asserts():\n    assert sum([1, 2]) == 3\n\n"
        "def test_through_a_local_helper():\n    indirectly(3)\n\n"
        "def test_through_an_imported_helper():\n    positive(3)\n\n"
        "def test_through_a_helper_module():\n    checks.positive(3)\n\n"
        "def test_expects_an_error():\n    with pytest.raises(ValueError):\n"
        "        int('x')\n\n"
        "class TestGrouped:\n    def test_runs_only(self):\n        sum([1, 2])\n")
    assert silent_tests(root) == [
        "tests/test_x.py::test_runs_only",
        "tests/test_x.py::test_calls_a_helper_that_only_prints",
        "tests/test_x.py::test_calls_a_method_named_like_a_helper",
        "tests/test_x.py::TestGrouped.test_runs_only",
    ]
