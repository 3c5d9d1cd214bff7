"""A printed report page keeps every chart whole: on paper nothing scrolls.

On screen a chart wider than the window scrolls sideways in its own box (the pages fit a phone). Printed,
that box clipped the chart at the paper's width: the fit page's frontier lost its right third and its legend
(which law is which line), and every chart of the four pages lost its right edge on A4 or Letter. In print
the charts now shrink to the page's width, keeping their shape."""

from __future__ import annotations

import pytest

from helpers import REPO, TEST_DATA
from report_browser import cli_in_process

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

PRINT_WIDTH = 718  # CSS px of a Letter page less Chromium's default margins (A4 is 730)

_CLIPPED_JS = """
() => [...document.querySelectorAll("figure.chart")].map(f => {
  const c = f.querySelector("canvas"), r = c.getBoundingClientRect();
  return [f.querySelector(".vis").id, f.scrollWidth - f.clientWidth, r.width, r.height,
          c.width / c.height];
})
"""


def _page(kind: str, tmp_path):
    page = tmp_path / f"{kind}.html"
    if kind == "plan":
        cli_in_process("plan", "--flops", "1e22", "--unique-tokens", "25B", "--report", str(page))
    elif kind == "fit":
        cli_in_process("fit", str(TEST_DATA / "fit" / "results.csv"), "--report", str(page), "-q")
    elif kind == "select":
        args = ("select", "--example", "chatterbot", "--n", "20", "--embedder", "tfidf")
        cli_in_process(*args, "--no-cache", "--quiet", "--report", str(page))
    else:
        import shutil

        from tokenplan.report.sweep_page import write_sweep_report
        from tokenplan.sweep import SweepResult, load_spec

        out = shutil.copytree(REPO / "docs" / "results" / "cpu-demo", tmp_path / "cpu-demo")
        result = SweepResult(
            out_dir=str(out),
            results_csv=str(out / "results.csv"),
            curves_csv=str(out / "curves.csv"),
            best_lr_csv=None,
            n_runs=23,
            n_skipped=23,
            n_trained=0,
            counts={"runs": 23, "ok": 23},
            wall_seconds=1.0,
        )
        write_sweep_report(page, result, load_spec(out / "sweep.yaml"))
    return page


@pytest.mark.parametrize("kind", ["plan", "fit", "sweep", "select"])
def test_every_chart_prints_whole(tmp_path, open_report, kind):
    view = open_report(_page(kind, tmp_path))
    assert view.state == "yes"
    view.page.emulate_media(media="print")
    view.page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
    charts = view.page.evaluate(_CLIPPED_JS)
    assert charts
    for name, clipped, width, height, shape in charts:
        assert clipped <= 1 and width <= PRINT_WIDTH, (name, clipped, width)
        assert width / height == pytest.approx(shape, rel=0.02), name  # shrunk, not squashed
