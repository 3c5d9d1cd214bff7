"""Test helpers: the path to ../shared/data (reference data we may read but never copy)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TOKENPLAN_SHARED_DATA", REPO.parent / "shared" / "data"))
TEST_DATA = Path(__file__).resolve().parent / "data"
SELECT_DATA = TEST_DATA / "select"  # the select tests' small pools
# Texts the embedding tests share: two pairs of near-paraphrases (bread, gravity), then two strays.
SAMPLE_TEXTS = (
    "How do I bake sourdough bread at home?",
    "What is a good recipe for homemade sourdough?",
    "Explain the theory of general relativity.",
    "How does gravity bend spacetime according to Einstein?",
    "Tell me a joke about cats.",
    "Write a haiku about the sea.",
)


def shared_file(name: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(
            f"reference data {path} is not present (it lives in ../shared/data beside the repo)"
        )
    return path


def write_runs_loss_growing_with_n(path: Path) -> Path:
    """20 runs whose loss grows with N, L = 1.5 + 0.2 N^0.05 + 400/D^0.3 (N 1M..100M, D 100M..3B): an
    Approach 3 fit on them returns alpha < 0, a law without a compute-optimal allocation. Returns ``path``."""
    rows = [
        f"{n:.0f},{d:.0f},{1.5 + 0.2 * n**0.05 + 400 / d**0.3:.5f}"
        for n in (1e6, 3e6, 1e7, 3e7, 1e8)
        for d in (1e8, 3e8, 1e9, 3e9)
    ]
    path.write_text("n_params,n_tokens,loss\n" + "\n".join(rows) + "\n")
    return path


def run_cli(
    *args: str, input: str | None = None, env: dict | None = None, cwd=None
) -> subprocess.CompletedProcess:
    """Run the real entry point (`python -m tokenplan ...`) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tokenplan", *args],
        capture_output=True,
        text=True,
        input=input,
        env=full_env,
        cwd=cwd,
        timeout=600,
    )


# --- documented console sessions -------------------------------------------------------------------
# Docs show real output in ```console blocks: `$ tokenplan ...` lines, each followed by what it printed
# (rich tables at 100 columns). The docs tests re-run them and compare.
def _blas_kernels() -> dict[str, str]:
    """The docs' numbers were produced with OpenBLAS's Haswell (AVX2) kernels. OpenBLAS picks its kernels
    by CPU (DYNAMIC_ARCH): on an AVX-512 CPU its SkylakeX kernels round differently, which moves near-ties
    in K-Means and facility location (`select --example belle-eval --fields question, --n 20 --embedder
    tfidf`: clusters hit 0.36 with Haswell's kernels, 0.82 with SkylakeX's, on one AMD EPYC machine). The
    docs' commands run with Haswell's kernels wherever the CPU has AVX2, so the check is of our code, not
    of the CPU. They were produced on 2 cores, and OpenBLAS and scikit-learn's K-Means (OpenMP) split their
    work by thread count (one thread selects otherwise there too: the same command under OMP_NUM_THREADS=1
    hits 0.32 of the clusters against 0.36), so both thread counts are pinned to 2 as well."""
    env = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
    except OSError:
        return env
    return env | ({"OPENBLAS_CORETYPE": "Haswell"} if re.search(r"\bavx2\b", cpu) else {})


DOC_ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", **_blas_kernels()}
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def normalise_output(text: str) -> str:
    """Output as compared with a document: outer blank lines and trailing spaces removed."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def console_commands(block: str) -> list[tuple[str, str]]:
    """[(command line, shown output)] for each `$ ...` line of a console block.

    A command continued with a trailing backslash takes its continuation lines (joined with spaces).
    """
    out, cmd, lines = [], None, []
    continued = False
    for line in block.splitlines():
        if continued:
            cmd = cmd[:-1].rstrip() + " " + line.strip()
            continued = cmd.endswith("\\")
            continue
        if line.startswith("$ "):
            if cmd is not None:
                out.append((cmd, "\n".join(lines)))
            cmd, lines = line[2:], []
            continued = cmd.endswith("\\")
        else:
            lines.append(line)
    if cmd is not None:
        out.append((cmd, "\n".join(lines)))
    return out


def run_documented(cmd: str) -> str:
    """What a documented ``$ tokenplan ...`` line prints, run through the real entry point from the
    repository root at 100 columns: its stdout, or the one stderr line of a documented error (exit 2)."""
    import shlex

    r = run_cli(*shlex.split(cmd)[1:], env=DOC_ENV, cwd=REPO)
    if r.returncode == 2:
        return normalise_output(r.stderr)
    assert r.returncode == 0, f"{cmd}: {r.stderr}"
    return normalise_output(r.stdout)


def documented_commands(doc: Path, keep=lambda cmd: True) -> list[tuple[str, str]]:
    """[(command line, shown output)] of the console blocks of ``doc`` that ``keep`` selects."""
    blocks = CONSOLE_BLOCK.findall(doc.read_text())
    return [(c, shown) for b in blocks for c, shown in console_commands(b) if keep(c)]


def update_document(doc: Path, keep=lambda cmd: True) -> None:
    """Rewrite the shown output of the commands ``keep`` selects (``TOKENPLAN_UPDATE_DOCS=1``); the
    other commands keep what the document shows."""

    def fill(match: re.Match) -> str:
        parts = []
        for cmd, shown in console_commands(match.group(1)):
            body = run_documented(cmd) if keep(cmd) else normalise_output(shown)
            parts.append(f"$ {cmd}\n{body}".rstrip("\n"))
        return "```console\n" + "\n\n".join(parts) + "\n```"

    doc.write_text(CONSOLE_BLOCK.sub(fill, doc.read_text()))


# --- documented Python examples -----------------------------------------------------------------------
_NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SHOWN = re.compile(rf"^\(?\s*{_NUMBER}(?:\s*,\s*{_NUMBER})*\s*,?\s*\)?(?:\s|$)")


def _tolerance(text: str) -> float:
    """Half a unit in the last digit shown: '6.82e9' -> 0.005e9, '9.10' -> 0.005, '0.931' -> 0.0005."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def run_python_example(code: str, name: str) -> dict:
    """Run a documented ```python block statement by statement and check every value it shows.

    A line ``expr  # 6.82e9`` or ``a, b  # (6.82e9, 2.274e11)`` states what ``expr`` evaluates to, to the
    digits shown; the value is compared within half a unit of the last digit. Comments that are not
    numbers (``# tuple of strings``) are prose. A comment that starts with the value's type and a
    parenthesis (``# Allocation(law='epoch2024', ...)``) is its repr, with ``...`` for any text. Returns
    the namespace, and raises AssertionError naming the line when a shown value is wrong. At least one
    value must be checked when the block shows any.
    """
    import ast
    import math

    lines = code.splitlines()
    tree = ast.parse(code)
    namespace: dict = {}
    for node in tree.body:
        src = ast.get_source_segment(code, node)
        comment = lines[node.end_lineno - 1].partition("  # ")[2].strip()
        shown = _SHOWN.match(comment)
        if isinstance(node, ast.Expr) and re.match(r"[A-Z]\w*\(", comment):
            value = eval(compile(ast.Expression(node.value), name, "eval"), namespace)
            if comment.startswith(f"{type(value).__name__}("):  # a repr, shown as printed
                pattern = ".*?".join(map(re.escape, comment.split("...")))
                assert re.fullmatch(pattern, repr(value)), (
                    f"{name}: `{src}` prints {value!r}, the document shows {comment}"
                )
        elif isinstance(node, ast.Expr) and shown:
            value = eval(compile(ast.Expression(node.value), name, "eval"), namespace)
            texts = re.findall(_NUMBER, shown.group(0))
            values = value if isinstance(value, tuple) else (value,)
            assert len(values) == len(texts), f"{name}: `{src}` gives {value!r}, shown {comment!r}"
            for got, text in zip(values, texts):
                want = float(text.replace("_", ""))
                assert math.isclose(float(got), want, abs_tol=_tolerance(text) * 1.0001), (
                    f"{name}: `{src}` gives {got!r}, the document shows {text}"
                )
        else:
            exec(compile(ast.Module([node], type_ignores=[]), name, "exec"), namespace)
    return namespace
