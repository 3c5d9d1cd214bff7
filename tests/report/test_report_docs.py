"""docs/report.md stays true: its commands run, its screenshots exist and stay small, its Python runs."""

from __future__ import annotations

import re
import shlex

import pytest

from helpers import REPO
from report_browser import cli_in_process

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

DOC = REPO / "docs" / "report.md"


def test_screenshots_exist_and_are_small():
    text = DOC.read_text()
    shots = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert {"report-plan.png", "report-fit.png", "report-sweep.png", "report-select.png"} <= set(
        shots
    )
    for name in shots:
        path = DOC.parent / name
        assert path.is_file(), name
        assert path.stat().st_size < 300_000, name


def test_the_plan_command_of_the_doc_runs(tmp_path, monkeypatch):
    block = re.search(r"```bash\n(.*?)```", DOC.read_text(), re.S).group(1)
    line = next(x for x in block.splitlines() if x.startswith("tokenplan plan "))
    monkeypatch.chdir(tmp_path)
    _, stderr = cli_in_process(*shlex.split(line)[1:])
    assert "report written to plan.html" in stderr
    assert (tmp_path / "plan.html").stat().st_size > 500_000


def test_the_python_example_of_the_doc_runs(tmp_path, monkeypatch):
    code = re.search(r"## Python.*?```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {})
    assert (tmp_path / "plan.html").read_text().startswith("<!DOCTYPE html>")
