"""docs/plan.md and README.md stay true: every `$ tokenplan plan|table|repeat ...` line in a ```console block
is run through the real entry point and its output must match what the document shows.

The outputs are rich tables at 100 columns. After an intended change, regenerate them with
`TOKENPLAN_UPDATE_DOCS=1 python -m pytest -q tests/plan/test_plan_docs.py` and review the diff.
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
    run_documented,
    run_python_example,
    update_document,
)

DOCS = ("docs/plan.md", "README.md")
OWNED = (
    "plan",
    "table",
    "repeat",
)  # commands this area documents; other console blocks are left alone


def _owned(cmd: str) -> bool:
    parts = shlex.split(cmd)
    return len(parts) >= 2 and parts[0] == "tokenplan" and parts[1] in OWNED


def _cases():
    for doc in DOCS:
        path = REPO / doc
        if path.exists():
            for cmd, shown in documented_commands(path, _owned):
                yield pytest.param(doc, cmd, shown, id=f"{doc}:{cmd[10:60]}")


if os.environ.get("TOKENPLAN_UPDATE_DOCS"):
    for _doc in DOCS:
        if (REPO / _doc).exists():
            update_document(REPO / _doc, _owned)


@pytest.mark.parametrize(("doc", "cmd", "shown"), list(_cases()))
def test_documented_output_is_real(doc, cmd, shown):
    assert run_documented(cmd) == normalise_output(shown), (
        f"{doc}: output of `{cmd}` changed; see module docstring"
    )


def test_docs_show_every_mode():
    """docs/plan.md runs an example of every budget and option of the issue, and both other commands."""
    text = (REPO / "docs" / "plan.md").read_text()
    cmds = [cmd for block in CONSOLE_BLOCK.findall(text) for cmd, _ in console_commands(block)]
    flags = {part for cmd in cmds for part in shlex.split(cmd) if part.startswith("--")}
    assert flags >= {
        "--flops",
        "--gpu-hours",
        "--gpu",
        "--params",
        "--tokens",
        "--target-loss",
        "--unique-tokens",
        "--inference-tokens",
        "--compare",
        "--law",
    }
    assert {shlex.split(c)[1] for c in cmds} >= {"plan", "table", "repeat"}


@pytest.mark.parametrize("doc", DOCS)
def test_python_examples_run(doc):
    """The ```python blocks that plan (tokenplan.plan, or plan from the top level) run as written, and every
    value a line shows in its comment (``p.epochs  # 9.10``) is what the code returns, to the digits shown."""
    text = (REPO / doc).read_text()
    plans = re.compile(r"tokenplan\.plan|from tokenplan import .*\bplan\b")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if plans.search(b)]
    assert blocks or doc == "README.md"
    for block in blocks:
        run_python_example(block, f"<{doc}>")
