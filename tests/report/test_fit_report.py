"""`tokenplan fit --report FILE.html`: runs, IsoFLOP profiles, frontier with bootstrap bands, residuals and
parameter intervals, in a real browser; every number equal to `tokenplan fit --json`."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from helpers import TEST_DATA, run_cli
from report_browser import (
    assert_healthy,
    assert_legible,
    assert_numbers_match,
    chart_legibility,
    cli_in_process,
    markers_outside,
    overflowing,
)

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

RESULTS = TEST_DATA / "fit" / "results.csv"
CURVES = TEST_DATA / "fit" / "curves.csv"


def page_specs(path) -> dict:
    html = path.read_text()
    m = re.search(
        r'<script type="application/json" id="tokenplan-charts">(.*?)</script>', html, re.S
    )
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fit")
    # a run id holding markup: it is shown (hover text) but never runs
    text = RESULTS.read_text().replace("\nr01,", "\n<script>window.__pwned=1</script>r01,", 1)
    runs = tmp / "results.csv"
    runs.write_text(text)
    page = tmp / "fit.html"
    stdout, stderr = cli_in_process(
        "fit",
        str(runs),
        "--approach",
        "all",
        "--curves",
        str(CURVES),
        "--bootstrap",
        "60",
        "--budgets",
        "1e21",
        "--backtest",
        "--report",
        str(page),
        "--json",
    )
    assert f"report written to {page}" in stderr
    return page, json.loads(stdout)


def test_fit_report_in_browser(fitted, open_report):
    page, data = fitted
    assert page.stat().st_size <= 5_000_000
    view = open_report(page)
    assert_healthy(view, {"runs", "isoflop", "frontier", "residuals", "backtest"})
    assert assert_numbers_match(view, data) >= 20
    # the form comparison: every backtested form, the chosen one marked
    table = view.page.inner_text("#backtest-table")
    for form in data["backtests"]:
        assert form in table
    assert view.page.inner_text("#backtest-table tr.chosen").startswith(data["form"])
    # no marker cut at an axis: the first run's FLOPs, the lowest loss, the smallest minimum lay on the
    # edge of the runs, frontier, residuals, IsoFLOP and backtest charts, half drawn
    assert markers_outside(view) == {k: [] for k in view.charts}
    # the runs' log axis kept 7e+14 and 8e+14 1.7 px apart; the frontier's legend took the bootstrap bands'
    # 0.22 opacity; the budgets were listed (and coloured) as text: 1e+14 1e+15 3e+14 3e+15
    assert_legible(view)
    assert chart_legibility(view)["isoflop"]["legend"] == ["1e+14", "3e+14", "1e+15", "3e+15"]
    assert view.page.evaluate("window.__pwned === undefined")
    assert "<script>window.__pwned" not in page.read_text()
    # every parameter of the saved law has its interval on the page
    table = view.page.inner_text("#params-3")
    for name in ("E", "A", "B", "alpha", "beta"):
        assert re.search(rf"^{name}\t", table, re.M), name


def test_the_size_legends_print_sizes_in_the_tables_units(fitted, open_report):
    """The runs' and residuals' colour legends (params N) read '200,000 ... 10,000,000' where the page's
    tooltips, axes and tables print 200K and 10M (docs/report.md: legends print sizes in the tables' units)."""
    from tokenplan.units import format_quantity, parse_quantity

    page, _ = fitted
    legends = chart_legibility(open_report(page))
    for chart in ("runs", "residuals"):
        labels = legends[chart]["legend"]
        assert labels and not [t for t in labels if "," in t], (chart, labels)
        assert [format_quantity(parse_quantity(t)) for t in labels] == labels, (chart, labels)


def test_fit_report_fits_a_phone(fitted, open_report):
    """At 400 px: the title (a long run-table path) and the charts no longer widen the page."""
    page, _ = fitted
    view = open_report(page, width=400)
    assert view.state == "yes"
    assert overflowing(view) == []


def test_frontier_band_holds_the_fitted_line(fitted):
    """The Approach-3 band is the bootstrap spread of N_opt(C): it brackets the fitted N_opt(C)."""
    page, _ = fitted
    spec = page_specs(page)["frontier"]
    layers = spec["layer"]
    band = [r for r in layers[0]["data"]["values"] if r["law"] == "fit: Approach 3"]
    line = {
        r["flops"]: r["n_params"]
        for r in layers[1]["data"]["values"]
        if r["law"] == "fit: Approach 3"
    }
    assert len(band) >= 50
    inside = [b["lo"] <= line[b["flops"]] <= b["hi"] for b in band]
    assert np.mean(inside) > 0.9
    # and it widens away from the data (extrapolation is less certain)
    widths = [np.log(b["hi"] / b["lo"]) for b in band]
    assert widths[-1] > widths[len(widths) // 4]


def test_frontier_marks_a_law_counting_non_embedding_parameters(fitted):
    """Kaplan's N_opt counts non-embedding parameters: its line says so, as the PNG's legend does."""
    page, _ = fitted
    spec = page_specs(page)["frontier"]
    laws = {r.get("law") for layer in spec["layer"] for r in layer["data"]["values"]}
    assert "kaplan (non-embedding N)" in laws and "kaplan" not in laws
    assert {"chinchilla-a1", "fit: Approach 3"} <= laws
    assert "N_opt (total parameters; non-embedding where marked)" in json.dumps(spec)


def test_residuals_are_those_of_the_saved_law(fitted):
    from tokenplan import ChinchillaLaw
    from tokenplan.runs import read_runs

    page, data = fitted
    p = data["fits"]["3"]["params"]
    law = ChinchillaLaw(name="x", E=p["E"], A=p["A"], B=p["B"], alpha=p["alpha"], beta=p["beta"])
    runs = read_runs(RESULTS)
    spec = page_specs(page)["residuals"]
    rows = {r["flops"] * 1.0: r for r in spec["layer"][0]["data"]["values"]}
    want = np.log(law.loss(runs.n_params, runs.n_tokens)) - np.log(runs.loss)
    got = sorted(r["residual"] for r in rows.values())
    assert len(spec["layer"][0]["data"]["values"]) == len(runs)
    assert sorted(r["residual"] for r in spec["layer"][0]["data"]["values"]) == pytest.approx(
        sorted(want.tolist()), abs=1e-9
    )
    assert got


def test_residuals_of_a_data_constrained_approach_3_count_the_repeats(tmp_path):
    """datablations: --form auto picks the data-constrained form; the page predicted every run as if its
    tokens were fresh (RMS 0.105; with the unique tokens 0.0965, as `fit --plot` draws them)."""
    from tokenplan import datasets
    from tokenplan.laws import get_law

    page, save = tmp_path / "fit.html", tmp_path / "law.json"
    cli_in_process("fit", "--example", "datablations", "--report", str(page), "--save", str(save))
    law = get_law(str(save))
    runs = datasets.load(datasets.FIT_EXAMPLES["datablations"])
    U = np.minimum(runs.unique_tokens, runs.n_tokens)
    want = np.log(law.loss(runs.n_params, runs.n_tokens, U)) - np.log(runs.loss)
    rows = page_specs(page)["residuals"]["layer"][0]["data"]["values"]
    assert sorted(r["residual"] for r in rows) == pytest.approx(sorted(want.tolist()), abs=1e-9)


def test_fit_report_refuses_the_runs_file(tmp_path):
    r = run_cli("fit", str(RESULTS), "--report", str(RESULTS))
    assert r.returncode == 2 and "--report" in r.stderr and "input" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_lead_counts_the_runs_the_saved_law_was_fitted_on(tmp_path):
    """docs/results/cpu-demo: 23 runs read, 5 of them on repeated data, which Approach 3's
    Chinchilla-family forms leave out. The lead said "fitted on 23 runs"; it says 18 of the 23."""
    from helpers import REPO

    page = tmp_path / "fit.html"
    runs = REPO / "docs" / "results" / "cpu-demo" / "results.csv"
    cli_in_process("fit", str(runs), "--bootstrap", "0", "--report", str(page), "-q")
    text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
    assert "fitted on 18 of the 23 runs from" in text
    # the runs chart draws all 23; its caption said "every run used" (the fit used 18)
    assert "every run used" not in text
    assert (
        "every run read (23; the dropped ones are not drawn, and the saved law was fitted on 18"
        in text
    )


def test_the_lead_says_how_far_each_allocation_extrapolates(tmp_path):
    """The lead printed "At 1e+11 FLOPs: 16.4K parameters on 1.01M tokens." where the CLI's table says the
    same allocation is "4.21x out" of the fitted runs. Each allocation now says it, in the CLI's words."""
    from helpers import REPO

    page = tmp_path / "fit.html"
    runs = REPO / "docs" / "results" / "cpu-demo" / "results.csv"
    stdout, _ = cli_in_process(
        "fit", str(runs), "--bootstrap", "0", "--budgets", "3e11,1e14", "--report", str(page)
    )
    rows = re.findall(r"│ (\de[+-]\d+) │ +\S+ │ +\S+ │ +([^│]+?) │\n", stdout)  # FLOPs .. in range
    assert rows == [("3e+11", "yes"), ("1e+14", "39.2x out")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
    found = re.findall(
        r"At (\S+) FLOPs: [^;]*; in range of the fitted runs: (yes|[\d.]+x out)\.", text
    )
    assert found == rows


def test_the_frontier_marks_where_the_runs_end(fitted):
    """The frontier runs to 1e4 x the largest run's compute and nothing on either picture showed where the
    runs end and the extrapolation starts. A dotted vertical rule at the largest run's FLOPs does, on the
    page and in the PNG."""
    from tokenplan.report.fit_plots import fit_figure
    from tokenplan.runs import read_runs

    page, _ = fitted
    rules = [
        layer
        for layer in page_specs(page)["frontier"]["layer"]
        if "rule" in json.dumps(layer["mark"])
    ]
    runs = read_runs(RESULTS)
    assert [r["data"]["values"] for r in rules] == [[{"flops": float(runs.flops.max())}]]
    assert "right of the dotted vertical line" in page.read_text(encoding="utf-8")
    ax = fit_figure(runs=runs).axes[1]
    (line,) = [x for x in ax.get_lines() if x.get_label().startswith("largest run")]
    assert line.get_xdata()[0] == float(runs.flops.max())


def frontier_caption(page) -> str:
    import html

    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())
    return text.split("Compute-optimal frontier ", 1)[1].split(" Residuals ", 1)[0]


def test_the_frontier_caption_tells_what_is_drawn(tmp_path):
    """The caption said 'with its bootstrap band when --bootstrap was given' and 'black dots are the
    IsoFLOP minima' whatever was drawn: `fit results.csv` (no --bootstrap; Approach 3 refits 200 times by
    default) drew a band, and no dots (no Approach 2); `--approach 2` drew dots and no band. It now names
    the lines with a band and its level, and the dots only where Approach 2 ran."""
    default, iso = tmp_path / "default.html", tmp_path / "iso.html"
    cli_in_process("fit", str(RESULTS), "--report", str(default), "--quiet")
    cli_in_process("fit", str(RESULTS), "--approach", "2", "--report", str(iso), "--quiet")
    caption = frontier_caption(default)
    assert "--bootstrap was given" not in caption and "IsoFLOP minima" not in caption
    assert (
        "the shaded band of fit: Approach 3 is the middle 80% of N_opt(C) over its 200" in caption
    )
    caption = frontier_caption(iso)
    assert "band" not in caption and "black dots are the IsoFLOP minima" in caption


def test_every_chart_says_what_it_shows_to_a_screen_reader(fitted, open_report):
    """Each chart's aria-label was Vega's default, 'Vega visualization', five times over (the select page's
    charts were given theirs; the fit page's were not)."""
    from tokenplan.report.fit_page import DESCRIPTIONS

    page, _ = fitted
    labels = open_report(page).page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.vis')].map("
        "e => [e.id, e.getAttribute('aria-label')]))"
    )
    assert labels == {k: DESCRIPTIONS[k] for k in labels} and len(labels) == 5
    assert labels["frontier"].startswith("Line chart of the compute-optimal model size N_opt")
