"""Every matplotlib figure is drawn through the object API: no backend is chosen and pyplot is never
imported, so a user's interactive session keeps its backend and its list of open figures (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

DRAW_EVERY_FIGURE = r"""
import sys
import matplotlib
import numpy as np

before = matplotlib.rcParams._get_backend_or_none()
out = sys.argv[1]

from tokenplan.plan import repeat
from tokenplan.report import plot_fit, plot_repeat
from tokenplan.report.backtest_plot import plot_backtest
from tokenplan.runs import runs_from_arrays
from tokenplan.select.plot import plot_selection

plot_repeat(repeat(25e9, n_params=1e9), f"{out}/repeat.png")
plot_selection(np.random.default_rng(0).normal(size=(50, 8)), np.arange(5), f"{out}/select.png")
N = np.repeat([1e7, 3e7, 1e8, 3e8], 4)
D = np.tile([1e9, 3e9, 1e10, 3e10], 4)
loss = 1.7 + 400 / N**0.34 + 410 / D**0.28
runs = runs_from_arrays(N, loss, n_tokens=D)
plot_fit(f"{out}/fit.svg", runs=runs)
assert "matplotlib.pyplot" not in sys.modules, "a plot imported pyplot"
after = matplotlib.rcParams._get_backend_or_none()
assert after == before, f"the backend changed from {before!r} to {after!r}"
print("ok")
"""


def test_plots_leave_matplotlib_global_state_alone(tmp_path):
    pytest.importorskip("matplotlib")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("MPLBACKEND", None)
    r = subprocess.run(
        [sys.executable, "-c", DRAW_EVERY_FIGURE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
    for name in ("repeat.png", "select.png", "fit.svg"):
        assert (tmp_path / name).stat().st_size > 1000, name


def test_no_backend_switch_in_the_source():
    """No ``matplotlib.use(...)`` call and no pyplot import anywhere in the package."""
    import ast

    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if isinstance(node.func.value, ast.Name) and node.func.value.id == "matplotlib":
                    names = [f"matplotlib.{node.func.attr}()"]
            if any(n.startswith(("matplotlib.pyplot", "matplotlib.use()")) for n in names):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("writer", ["fit", "backtest"])
def test_a_figure_writer_refuses_a_suffix_it_cannot_save_before_drawing(tmp_path, writer):
    """Both --plot writers take the format from the suffix through one check (report/_figure.py), which
    names the flag; nothing is written."""
    from tokenplan.errors import InvalidInputError
    from tokenplan.report._figure import figure_format

    assert [figure_format(f"f.{s}") for s in ("png", "PDF", "svg")] == ["png", "pdf", "svg"]
    out = tmp_path / "fig.docx"
    with pytest.raises(InvalidInputError, match=r"^--plot .*fig\.docx: use a \.png") as exc:
        if writer == "fit":
            from tokenplan.report import plot_fit

            plot_fit(out, runs=None)
        else:
            from tokenplan.report.backtest_plot import plot_backtest

            plot_backtest(out, {})
    assert exc.value.param == "plot"
    assert list(tmp_path.iterdir()) == []
