"""The package's import graph has no cycles, and importing any module changes no global state.

Every ``import`` counts, including those inside functions (a lazy import still ties two modules together;
a cycle through one is a design knot even when it does not fail at import time). ``if TYPE_CHECKING:``
blocks are left out: they never run.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import tokenplan

SRC = Path(tokenplan.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {"tokenplan": SRC / "__init__.py"}
    for info in pkgutil.walk_packages([str(SRC)], prefix="tokenplan."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            out[info.name] = Path(spec.origin)
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, source: str | None = None) -> set[str]:
    """The tokenplan modules that ``name`` imports (anywhere in the file)."""
    return {m for m in _imported(name, path, source) if m in MODULES and m != name}


def _imported(name: str, path: Path, source: str | None = None) -> set[str]:
    """Every module ``name`` imports, anywhere in the file (``source``: the file's text, if given)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[tuple[str, ...]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(tuple(sorted(comp)))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_graph_sees_imports():
    # guards the walker itself: a known edge must be found, or an empty graph would pass
    assert "tokenplan.errors" in GRAPH["tokenplan._checks"]
    assert "tokenplan.laws.base" in GRAPH["tokenplan.laws"]
    assert len(MODULES) > 40


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]


def test_no_import_cycles():
    """Issue 17's goal: no loop between modules, lazy imports included."""
    assert _cycles(GRAPH) == [], f"import cycles: {_cycles(GRAPH)}"


#: what a CLI module must not import, even lazily: computation belongs to the library (issue 17)
NUMERIC = ("numpy", "scipy", "pandas", "torch", "sklearn")


def _numeric_imports(name: str, path: Path, source: str | None = None) -> list[str]:
    return sorted(m for m in _imported(name, path, source) if m.split(".")[0] in NUMERIC)


def test_the_cli_imports_no_numeric_library():
    """Issue 17's goal: the CLI modules parse, call the library and render; none imports numpy, scipy,
    pandas, torch or sklearn of its own (lazily inside a function included)."""
    cli = {
        n: p for n, p in MODULES.items() if n == "tokenplan.cli" or n.startswith("tokenplan.cli.")
    }
    assert len(cli) > 5
    found = {n: _numeric_imports(n, p) for n, p in cli.items()}
    assert {n: m for n, m in found.items() if m} == {}


def test_the_numeric_import_check_sees_a_lazy_import():
    source = "def f():\n    import numpy as np\n    from scipy import optimize\n"
    assert _numeric_imports("tokenplan.cli.x", SRC / "cli" / "x.py", source) == ["numpy", "scipy"]


# --- import-time side effects ------------------------------------------------------------------------------

_PROBE = r"""
import importlib, json, os, sys
def state():
    out = {"environ": dict(os.environ)}
    mpl = sys.modules.get("matplotlib")
    out["mpl_backend"] = mpl.rcParams._get_backend_or_none() if mpl else None
    torch = sys.modules.get("torch")
    out["torch_threads"] = torch.get_num_threads() if torch else None
    return out
import matplotlib
try:
    import torch
except ImportError:
    pass
before = state()
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as exc:  # an optional dependency that is not installed
        failed[name] = str(exc)
after = state()
print(json.dumps({"before": before, "after": after, "failed": failed}))
"""


def test_importing_every_module_changes_no_global_state():
    pytest.importorskip("matplotlib")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("MPLBACKEND", None)
    r = subprocess.run(
        [sys.executable, "-c", _PROBE, *sorted(m for m in MODULES if m != "tokenplan.__main__")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    import json

    data = json.loads(r.stdout.strip().splitlines()[-1])
    before, after = data["before"], data["after"]
    added = {k: v for k, v in after["environ"].items() if before["environ"].get(k) != v}
    removed = sorted(set(before["environ"]) - set(after["environ"]))
    assert added == {} and removed == [], f"import changed os.environ: {added} {removed}"
    assert after["mpl_backend"] == before["mpl_backend"], "import changed matplotlib's backend"
    assert after["torch_threads"] == before["torch_threads"], "import changed torch's threads"
