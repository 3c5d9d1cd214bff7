"""House rules of STYLE.md that a machine can check over src/ (issue 17)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tokenplan"
MAX_LINES = 60
LONG = re.compile(r"#\s*long:\s*\S")


def long_functions(root: Path = PACKAGE) -> dict[str, int]:
    """{"file::function": lines} for every function longer than MAX_LINES (from ``def`` to its last line,
    decorators not counted) without a ``# long: why`` comment in it or on the line above it."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            n = node.end_lineno - node.lineno + 1
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            said = any(LONG.search(line) for line in lines[max(first - 2, 0) : node.end_lineno])
            if n > MAX_LINES and not said:
                out[f"{path.relative_to(root).as_posix()}::{node.name}"] = n
    return out


def test_no_function_over_60_lines_without_a_reason():
    found = long_functions()
    assert found == {}, (
        f"functions over {MAX_LINES} lines (split them or say why with '# long: ...')"
    )


def test_the_checker_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\ndef big():\n{body}\n")
    (tmp_path / "ok.py").write_text(f"def big_ok():  # long: a table\n{body}\n")
    assert long_functions(tmp_path) == {"m.py::big": MAX_LINES + 1}


def redefined(root: Path = PACKAGE) -> list[str]:
    """["file::name"] for every module-level function or class defined twice in one module (the second
    silently replaces the first; ruff 0.17.6 did not flag sweep/grid.py's two _fmt and _run_id)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        seen: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name in seen:
                    out.append(f"{path.relative_to(root).as_posix()}::{node.name}")
                seen.add(node.name)
    return out


def test_no_module_defines_a_name_twice(tmp_path):
    assert redefined() == []
    (tmp_path / "m.py").write_text(
        "def f():\n    pass\n\n\ndef g():\n    pass\n\n\ndef f():\n    pass\n"
    )
    assert redefined(tmp_path) == ["m.py::f"]
