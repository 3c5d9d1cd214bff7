"""Console tables written to a pipe or a file: whole rows at the table's natural width, not cut to 80
columns. A terminal keeps its own width, and COLUMNS, when set, still wins (the docs' examples use it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


def _piped(*args: str, **env: str) -> str:
    """stdout of `tokenplan ARGS` into a pipe, with stdin a pipe too and COLUMNS unset unless given."""
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    r = subprocess.run(
        [sys.executable, "-m", "tokenplan", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**full, **env}, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_piped_plan_table_keeps_each_row_on_one_line():
    """`tokenplan plan --flops 1e21 | cat` wrapped the table into 80 columns: 'training memory' took two
    lines, its second line a row with an empty first cell."""
    out = _piped("plan", "--flops", "1e21")
    rows = [line for line in out.splitlines() if line.startswith("│")]
    (memory,) = [line for line in rows if "training memory" in line]
    assert memory.rstrip().endswith("(no activations) │"), memory
    assert all(line.split("│")[1].strip() for line in rows), "a row wrapped onto a second line"


def test_a_piped_sweep_dry_run_keeps_whole_run_ids(tmp_path):
    """The run ids of `sweep --dry-run | cat` were cut over three lines ('iso-C6e9-L1-d3', '2-h2-lr0...')."""
    out = _piped("sweep", "--preset", "micro", "--dry-run", "--out", str(tmp_path / "s"))
    ids = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert len(ids) == 4 and all(
        re.fullmatch(r"iso-C[36]e9-L1-d\d+-h\d-lr0\.003-s0-[0-9a-f]{6}", i) for i in ids
    ), ids


def test_columns_still_sets_the_width_of_piped_output():
    out = _piped("plan", "--flops", "1e21", COLUMNS="70")
    assert max(len(line) for line in out.splitlines() if line.startswith("│")) <= 70


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_keeps_its_width():
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 72, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenplan", "plan", "--flops", "1e21"],
        stdin=secondary, stdout=secondary, stderr=subprocess.DEVNULL, env={**env, "TERM": "xterm"},
    )  # fmt: skip
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0
    os.close(primary)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode())
    rows = [line.rstrip("\r") for line in text.splitlines() if line.startswith("│")]
    assert rows and max(len(line) for line in rows) == 72, rows
