"""The --plot figures read at a glance whatever the run table: no two tick labels touch, every log axis names
at least two ticks, every marker is drawn whole inside its axes. Measured on the drawn figure (matplotlib's
own bounding boxes), not against a golden image."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers import TEST_DATA

pytest.importorskip("matplotlib")

RESULTS = TEST_DATA / "fit" / "results.csv"


def _runs(rows):
    from tokenplan.runs import read_runs

    runs = read_runs(RESULTS, drop_invalid=True)
    return runs.take(np.asarray(rows))


def _fit_figure(rows, approach):
    from tokenplan.fit import ParametricFit
    from tokenplan.fit.report import FitOptions, no_loss_fit_reason, run_fit
    from tokenplan.report.fit_plots import fit_figure

    runs = _runs(rows)
    report = run_fit(runs, FitOptions(approach=approach, form="chinchilla"))
    three = report.fits.get("3")
    return fit_figure(
        runs=runs,
        parametric=three if isinstance(three, ParametricFit) else None,
        isoflop=report.fits.get("2"),
        no_fit_reason=no_loss_fit_reason(report.warnings),
    )


def _tick_labels(axis, renderer):
    """(text, box) of the tick labels drawn inside the axis's view, in tick order."""
    lo, hi = sorted(axis.get_view_interval())
    k = 0 if axis.axis_name == "x" else 1
    drawn = [
        t
        for t in axis.get_ticklabels(which="both")
        if t.get_visible()
        and t.get_text()
        and lo * (1 - 1e-9) <= t.get_position()[k] <= hi * (1 + 1e-9)
    ]
    drawn.sort(key=lambda t: t.get_position()[k])
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn]


def _problems(fig):
    """Every touching pair of tick labels, log axis with fewer than 2 labels, and marker cut by its axes."""
    from matplotlib.collections import PathCollection

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = _tick_labels(axis, renderer)
            found += [
                f"{ax.get_title()!r} {axis.axis_name}: {a!r} overlaps {b!r}"
                for (a, box_a), (b, box_b) in itertools.pairwise(labels)
                if box_a.overlaps(box_b)
            ]
            if axis.get_scale() == "log" and len(labels) < 2:
                found.append(f"{ax.get_title()!r} {axis.axis_name}: only {len(labels)} labels")
        box = ax.get_window_extent(renderer)
        marks = []  # (display xy, radius in px)
        for c in ax.collections:
            if isinstance(c, PathCollection) and len(c.get_offsets()):
                radius = np.sqrt(c.get_sizes().max()) / 2 * fig.dpi / 72
                marks.append((c.get_offset_transform().transform(c.get_offsets()), radius))
        for line in ax.get_lines():
            if line.get_marker() not in (None, "None", "", " "):
                radius = line.get_markersize() / 2 * fig.dpi / 72
                marks.append((line.get_transform().transform(line.get_xydata()), radius))
        for xy, r in marks:
            cut = (
                (xy[:, 0] - r < box.x0)
                | (xy[:, 0] + r > box.x1)
                | (xy[:, 1] - r < box.y0)
                | (xy[:, 1] + r > box.y1)
            )
            if cut.any():
                found.append(f"{ax.get_title()!r}: {int(cut.sum())} markers cut by the axes")
    return found


@pytest.mark.parametrize(
    ("rows", "approach"),
    [
        (
            range(5),
            "3",
        ),  # 5 runs of one budget: N spans 1.2 decades (was 2×10^5 3×10^5 4×10^5 6×10^5 run together)
        ([0, 5, 10, 15, 2, 7, 12], "3"),  # 7 runs over four budgets
        (range(5, 13), "all"),  # 8 runs, two budgets: profiles over 1.3 decades
        ([1, 2, 3, 16, 17, 18], "all"),  # 6 runs, two far-apart budgets
        (range(20), "all"),  # the whole sweep
    ],
)
def test_fit_figure_of_few_runs_is_legible(rows, approach):
    fig = _fit_figure(list(rows), approach)
    assert _problems(fig) == []


@pytest.mark.parametrize(
    "epochs",
    [
        (1, 2, 3),  # a third of a decade: plain 1 2 3, not 10^0 2×10^0 3×10^0
        (1, 2, 4, 10, 16, 40, 100),  # the default list
        (
            1,
            10,
            100,
            1000,
            10_000,
            100_000,
        ),  # D'/D falls to ~0: its markers sat half under the axis
    ],
)
def test_repeat_figure_is_legible(epochs):
    from tokenplan.plan import repeat
    from tokenplan.report.repeat_plot import repeat_figure

    fig = repeat_figure(repeat(25e9, epochs=list(epochs), n_params=1e9))
    assert _problems(fig) == []
    if max(epochs) < 1e4:  # epochs read as plain numbers
        texts = [t for t, _ in _tick_labels(fig.axes[0].xaxis, fig.canvas.get_renderer())]
        assert "1" in texts and "2" in texts and not any("10^" in t for t in texts)


def test_runs_of_one_budget_written_by_hand_get_one_colour_and_no_offset():
    """Six runs of one budget whose 6ND differ by the rounding of N and D (43.1M x 387B: 0.01% apart) drew
    the colour bar as '+1.9e1' over ticks 0.0000 .. 0.0008, every run a different colour as if another
    budget, and spread the residuals over an axis of that width. The panels now span at least half a
    decade of compute, and the bar never uses an offset."""
    from tokenplan.fit import FitOptions, run_fit
    from tokenplan.laws import ChinchillaLaw
    from tokenplan.report.fit_plots import fit_figure
    from tokenplan.runs import runs_from_arrays

    N = np.array([2.01e7, 4.31e7, 9.28e7, 2.0e8, 4.31e8, 9.28e8])
    D = np.round(1e19 / (6 * N), -7)  # as a user writes 1e19 FLOPs' tokens: 3 significant digits
    truth = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    runs = runs_from_arrays(
        N, truth.loss(N, D) * np.exp([0.004, -0.003, 0.002, 0, -0.001, 0.003]), n_tokens=D
    )
    report = run_fit(runs, FitOptions(form="chinchilla", n_boot=0))
    fig = fit_figure(runs=runs, parametric=report.fits["3"])
    fig.canvas.draw()
    runs_ax, bar_ax = fig.axes[0], fig.axes[-1]
    vmin, vmax = runs_ax.collections[0].get_clim()
    assert vmax - vmin == pytest.approx(0.5)
    assert bar_ax.yaxis.get_offset_text().get_text() == ""
    lo, hi = fig.axes[2].get_xlim()
    assert np.log10(hi / lo) == pytest.approx(0.5)
    assert _problems(fig) == []
