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


def shared_file(name: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(
            f"reference data {path} is not present (it lives in ../shared/data beside the repo)"
        )
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
DOC_ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def normalise_output(text: str) -> str:
    """Output as compared with a document: outer blank lines and trailing spaces removed."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def console_commands(block: str) -> list[tuple[str, str]]:
    """[(command line, shown output)] for each `$ ...` line of a console block."""
    out, cmd, lines = [], None, []
    for line in block.splitlines():
        if line.startswith("$ "):
            if cmd is not None:
                out.append((cmd, "\n".join(lines)))
            cmd, lines = line[2:], []
        else:
            lines.append(line)
    if cmd is not None:
        out.append((cmd, "\n".join(lines)))
    return out
