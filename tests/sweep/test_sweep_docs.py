"""docs/sweep.md stays true: every `$ tokenplan ...` line in a ```console block is run through the real
entry point (from the repository root, at 100 columns) and its output must match the document. None of them
needs ../shared or writes anything.

After an intended change, regenerate with `TOKENPLAN_UPDATE_DOCS=1 python -m pytest -q
tests/sweep/test_sweep_docs.py` and review the diff.
"""

from __future__ import annotations

import os
import re
import shlex

import pytest

from helpers import CONSOLE_BLOCK, DOC_ENV, REPO, console_commands, normalise_output, run_cli

DOC = REPO / "docs" / "sweep.md"


def _run(cmd: str) -> str:
    r = run_cli(*shlex.split(cmd)[1:], env=DOC_ENV, cwd=REPO)
    if r.returncode == 2:  # documented errors: the one stderr line
        return normalise_output(r.stderr)
    assert r.returncode == 0, f"{cmd}: {r.stderr}"
    return normalise_output(r.stdout)


def _cases():
    for block in CONSOLE_BLOCK.findall(DOC.read_text()):
        for cmd, shown in console_commands(block):
            yield pytest.param(cmd, shown, id=cmd[10:60])


if os.environ.get("TOKENPLAN_UPDATE_DOCS"):

    def _fill(match: re.Match) -> str:
        parts = [f"$ {cmd}\n{_run(cmd)}" for cmd, _ in console_commands(match.group(1))]
        return "```console\n" + "\n\n".join(parts) + "\n```"

    DOC.write_text(CONSOLE_BLOCK.sub(_fill, DOC.read_text()))


def test_the_document_has_console_examples():
    assert len(list(_cases())) >= 4


@pytest.mark.parametrize(("cmd", "shown"), list(_cases()))
def test_documented_output_is_real(cmd, shown):
    before = sorted(p.name for p in REPO.iterdir())
    assert _run(cmd) == normalise_output(shown), f"docs/sweep.md: output of `{cmd}` changed"
    assert sorted(p.name for p in REPO.iterdir()) == before  # nothing written
