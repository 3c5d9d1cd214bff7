"""docs/select.md stays true: its Python example runs and prints what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys

from helpers import REPO, shared_file


def test_python_example_in_docs_prints_what_the_page_shows():
    shared_file("sft/alpaca_en_demo.json")
    page = (REPO / "docs" / "select.md").read_text()
    code = re.search(r"### Python\n\n```python\n(.*?)```", page, flags=re.S).group(1)
    shown = re.search(r"```python\n.*?```\n\n```text\n(.*?)```", page, flags=re.S).group(1)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    got, want = out.strip().splitlines(), shown.strip().splitlines()
    assert got[:2] == want[:2]  # the toy KCenterGreedy example, exactly
    assert got[3] == want[3]  # drop reasons of the pipeline run
    assert "n_candidates=254, n_selected=20" in got[2]
