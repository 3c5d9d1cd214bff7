"""docs/select.md stays true and runs on a fresh install: every ```console block that calls `tokenplan select`
is run line by line in an empty temporary folder (no ../shared beside it), with `tokenplan` and `python`
pointing at this interpreter, and each line's output must match what the page shows. The Python example runs
from the same kind of folder and must print what the page shows.

After an intended change, regenerate the shown outputs with
`TOKENPLAN_UPDATE_DOCS=1 python -m pytest -q tests/select/test_select_docs.py` and review the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from helpers import CONSOLE_BLOCK, DOC_ENV, REPO, console_commands, normalise_output

DOC = REPO / "docs" / "select.md"


def _blocks() -> list[str]:
    return [b for b in CONSOLE_BLOCK.findall(DOC.read_text()) if "$ tokenplan select" in b]


def _shell(tmp_path):
    """Run one command line in ``tmp_path`` with `tokenplan` and `python` resolving to this interpreter."""
    bin_dir = tmp_path / "_bin"
    bin_dir.mkdir(exist_ok=True)
    for name, args in (("tokenplan", "-m tokenplan"), ("python", "")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {args} "$@"\n')
        shim.chmod(0o755)
    env = {
        **os.environ,
        **DOC_ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "TOKENPLAN_CACHE": str(tmp_path / "_cache"),
        "HF_HUB_OFFLINE": "1",
    }

    def run(cmd: str) -> str:
        r = subprocess.run(
            ["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
        return normalise_output(r.stdout)

    return run


@pytest.mark.parametrize("i", range(len(_blocks())))
def test_console_examples_run_without_shared_data(i, tmp_path):
    run = _shell(tmp_path)
    block = _blocks()[i]
    if os.environ.get("TOKENPLAN_UPDATE_DOCS"):
        parts = [f"$ {cmd}\n{run(cmd)}".rstrip("\n") for cmd, _ in console_commands(block)]
        text = DOC.read_text()
        DOC.write_text(text.replace(block, "\n".join(parts) + "\n", 1))
        return
    for cmd, shown in console_commands(block):
        assert run(cmd) == normalise_output(shown), cmd


def test_python_example_prints_what_the_page_shows(tmp_path):
    page = DOC.read_text()
    code = re.search(r"### Python\n\n```python\n(.*?)```", page, flags=re.S).group(1)
    shown = re.search(
        r"### Python\n\n```python\n.*?```\n\n```text\n(.*?)```", page, flags=re.S
    ).group(1)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    ).stdout
    assert normalise_output(out) == normalise_output(shown)
