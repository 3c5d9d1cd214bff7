"""docs/fit.md stays true: every `$ tokenplan fit ...` and `$ tokenplan predict ...` line in a ```console
block is run through the real entry point (from the repository root, at 100 columns) and its output must
match the document. The examples use the data shipped in the package (`--example`), never ../shared.

After an intended change, regenerate with `TOKENPLAN_UPDATE_DOCS=1 python -m pytest -q
tests/fit/test_fit_docs.py` and review the diff.
"""

from __future__ import annotations

import os
import re
import shlex

import pytest

from helpers import (
    CONSOLE_BLOCK,
    REPO,
    console_commands,
    documented_commands,
    normalise_output,
    run_cli,
    run_documented,
    run_python_example,
    update_document,
)

DOC = REPO / "docs" / "fit.md"


def _owned(cmd: str) -> bool:
    return cmd.startswith(("tokenplan fit", "tokenplan predict"))


if os.environ.get("TOKENPLAN_UPDATE_DOCS"):
    update_document(DOC, _owned)


@pytest.mark.parametrize(
    ("cmd", "shown"),
    [pytest.param(c, shown, id=c[14:70]) for c, shown in documented_commands(DOC, _owned)],
)
def test_documented_output_is_real(cmd, shown):
    assert "../shared" not in cmd, "docs examples must run without ../shared (use --example)"
    assert run_documented(cmd) == normalise_output(shown), f"docs/fit.md: output of `{cmd}` changed"


def test_docs_cover_every_approach():
    cmds = [
        c for block in CONSOLE_BLOCK.findall(DOC.read_text()) for c, _ in console_commands(block)
    ]
    flags = {p for c in cmds for p in shlex.split(c)}
    assert {"--approach", "--bootstrap", "--reduction", "--law", "--columns", "--curves"} <= flags


def test_python_example_runs():
    """The documented Python example runs and recovers the law its runs were simulated from.

    tests/data/fit/results.csv comes from E=1.6, A=80, B=400, alpha=0.32, beta=0.34 plus 0.2% noise
    (tests/data/fit/make_fixtures.py), so the frontier exponent is a = beta/(alpha+beta) = 0.5152.
    """
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    cwd = os.getcwd()
    try:
        os.chdir(REPO)
        ns = run_python_example(code.replace("print(", "(lambda *a: a)("), "docs/fit.md")
    finally:
        os.chdir(cwd)
    a_true = 0.34 / (0.32 + 0.34)
    assert ns["fit"].exponents[0] == pytest.approx(a_true, abs=0.02)
    assert ns["iso"].exponents[0] == pytest.approx(a_true, abs=0.03)
    lo, hi = ns["boot"].intervals["a"]
    assert lo <= ns["fit"].exponents[0] <= hi and hi - lo < 0.2
    # and shows the step a notebook user is after: planning with the fitted law
    assert ns["p"].law == ns["report"].law.name


def _backtest_rows():
    """The rows of the backtest table under 'How far can I trust this': (command, expected cells)."""
    text = DOC.read_text()
    start = text.index("| runs | command | fitted / held out |")
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        yield pytest.param(cells[1].strip("`"), cells[2:], id=cells[0][:40])


@pytest.mark.parametrize(("cmd", "cells"), list(_backtest_rows()))
def test_backtest_table_is_real(cmd, cells):
    """Each row of the backtest table is what its command's backtest gives (--bootstrap 0: same backtest)."""
    import json

    assert "../shared" not in cmd
    r = run_cli(*shlex.split(cmd)[1:], "--bootstrap", "0", "--json", cwd=REPO)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    b = d["backtests"][d["form"]]
    got = [
        f"{b['n_train']} / {b['n_heldout']}",
        f"{b['flops_factor']:.3g}x",
        d["form"],
        f"{100 * b['mean_abs_error']:.2f}%",
        f"{100 * b['max_abs_error']:.2f}%",
        "-" if b["coverage"] is None else f"{100 * b['coverage']:.0f}% of {b['n_checked']}",
    ]
    assert got == cells, f"docs/fit.md backtest table, `{cmd}`"
