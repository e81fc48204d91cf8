"""The package's shape (docs/architecture.md): typed and mypy-clean, no import cycle, the engine,
outcomes and config never import the model, every module at most 400 lines, ``py.typed`` shipped.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
MAX_LINES = 400
NO_MODEL = ("engine", "outcomes", "config")  # sim/<these>/ never import sim.model


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = sorted(SIM.rglob("*.py"))
MODULES = {_module_name(p): p for p in FILES}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _ancestors(module: str) -> set[str]:
    """The packages Python imports before ``module`` (``sim.a.b`` -> ``sim``, ``sim.a``)."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _toplevel_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: module level and class bodies, through if /
    try / with blocks; not inside functions, not under ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.ClassDef):
            yield from _toplevel_imports(node.body)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _toplevel_imports(node.body)
            yield from _toplevel_imports(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _toplevel_imports(block)
            for handler in node.handlers:
                yield from _toplevel_imports(handler.body)
        elif isinstance(node, ast.With | ast.AsyncWith):
            yield from _toplevel_imports(node.body)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
            yield from _toplevel_imports(node.body)
            yield from _toplevel_imports(node.orelse)


def _from_base(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of ``from <base> import ...`` in ``module``."""
    if node.level == 0:
        return node.module or ""
    package = module if _is_package(module) else module.rpartition(".")[0]
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The sim modules whose code runs for this import statement: the named module (or, for
    ``from pkg import name``, the submodule ``pkg.name`` if there is one, else ``pkg`` itself,
    ``name`` being an attribute of its ``__init__``), and every package on the way that is not
    already an ancestor of ``module``."""
    named: set[str] = set()
    if isinstance(node, ast.Import):
        named = {alias.name for alias in node.names}
    else:
        base = _from_base(module, node)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            named.add(sub if sub in MODULES else base)
    out = {m for m in named if m in MODULES and m != module}
    for name in named:
        out |= {p for p in _ancestors(name)
                if p in MODULES and p != module and p not in _ancestors(module)}
    return out


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def import_graph() -> dict[str, set[str]]:
    """Module-level imports between sim's modules."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        graph[module] = set()
        for node in _toplevel_imports(_tree(path).body):
            graph[module] |= _targets(module, node)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle (``[a, b, ..., a]``) of ``graph``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


# --- the checker checks itself on small graphs ---------------------------------------------

def test_find_cycle_on_small_graphs() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_import_resolution() -> None:
    def targets(module: str, src: str) -> set[str]:
        return set().union(*(_targets(module, n) for n in _toplevel_imports(ast.parse(src).body)))

    # a submodule, an attribute of a package's __init__, relative levels, parents run first
    assert targets("sim.calibrate.fit", "from . import local") == {"sim.calibrate.local"}
    assert targets("sim.io.figures", "from ..outcomes import registry") == \
        {"sim.outcomes", "sim.outcomes.registry"}
    assert targets("sim.engine.state", "from .levels import Level") == {"sim.engine.levels"}
    assert targets("sim.engine", "from .state import CityState") == {"sim.engine.state"}
    assert targets("sim.cli", "from sim import run") == {"sim"}
    assert targets("sim.io.report", "import sim.engine.levels") == \
        {"sim.engine", "sim.engine.levels"}
    # not at import time
    assert targets("sim.io.report", "from typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from sim.model import CityModel\n"
                   "def f():\n    from sim.model import CityModel\n") == set()


# --- the package -------------------------------------------------------------------------

def test_no_import_cycle() -> None:
    graph = import_graph()
    assert "sim.model" in graph and graph["sim.model"], "import graph looks empty"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _all_imports(module: str, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every import anywhere in the file (functions, TYPE_CHECKING included), as absolute names
    (``from pkg import name`` gives ``pkg.name``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(module, node)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


@pytest.mark.parametrize("folder", NO_MODEL)
def test_engine_outcomes_config_never_import_the_model(folder: str) -> None:
    bad = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {name}"
           for m in MODULES if m.startswith(f"sim.{folder}")
           for line, name in _all_imports(m, _tree(MODULES[m]))
           if name == "sim.model" or name.startswith("sim.model.")]
    assert not bad, "\n".join(bad)


def test_modules_at_most_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in FILES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_py_typed_shipped() -> None:
    assert (SIM / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["sim"]


@pytest.mark.slow  # ~20 s with a cold mypy cache (~1 s warm)
def test_mypy_clean() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install -e '.[test]')")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["files"] == ["sim"]
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout
