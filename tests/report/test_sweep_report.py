"""`tokenplan sweep --report FILE.html`: curves, IsoFLOP view, run status and the fitted law, in a browser."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from helpers import REPO, run_cli
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

CPU_DEMO = REPO / "docs" / "results" / "cpu-demo"


def shipped_sweep(tmp_path, *, fail_one=False):
    """The shipped cpu-demo sweep (23 runs, 3 budgets) as a SweepResult: 20 resumed, 3 trained now."""
    from tokenplan.sweep import load_spec

    out = tmp_path / "cpu-demo"
    shutil.copytree(CPU_DEMO, out)
    rows = list(csv.DictReader(open(out / "results.csv", newline="")))
    if fail_one:
        rows[-1].update(status="failed", loss="", error="diverged: loss <script>nan</script>")
        with open(out / "results.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return _result_of(out, rows, n_trained=3, wall_seconds=612.0), load_spec(out / "sweep.yaml")


def _result_of(out, rows, *, n_trained: int, wall_seconds: float):
    """The SweepResult of the sweep folder ``out`` whose results.csv holds ``rows``: its first ``n_trained``
    rows trained by this call (not the last: rows are in grid order), the others resumed."""
    from tokenplan.sweep import SweepResult

    status = [r["status"] for r in rows]
    return SweepResult(
        out_dir=str(out),
        results_csv=str(out / "results.csv"),
        curves_csv=str(out / "curves.csv"),
        best_lr_csv=None,
        n_runs=len(rows),
        n_skipped=len(rows) - n_trained,
        n_trained=n_trained,
        trained_ids=tuple(r["run_id"] for r in rows[:n_trained]),
        counts={
            "runs": len(rows),
            **{s: status.count(s) for s in ("ok", "failed", "too_few_steps")},
        },
        wall_seconds=wall_seconds,
    )


def test_sweep_report_from_the_shipped_sweep(tmp_path, open_report):
    from tokenplan.report.sweep_page import write_sweep_report

    result, spec = shipped_sweep(tmp_path, fail_one=True)
    path = write_sweep_report(tmp_path / "sweep.html", result, spec)
    assert path.stat().st_size <= 5_000_000
    view = open_report(path)
    assert_healthy(view, {"curves", "isoflop"})
    assert_numbers_match(view, {"sweep": result.to_dict()})
    assert markers_outside(view) == {"curves": [], "isoflop": []}  # the lowest loss was cut in half
    assert_legible(view)
    # the budgets in order of FLOPs (as text, 1e+12 came first and took the darkest colour)
    assert chart_legibility(view)["isoflop"]["legend"][:3] == ["3e+11", "1e+12", "3e+12"]
    assert (
        overflowing(open_report(path, width=400)) == []
    )  # a phone: charts and tables scroll in place
    table = view.page.inner_text("#runs-table")
    assert table.count("finished earlier") == result.n_runs - 3
    assert table.count("\ttrained") == 3
    trained = [line.split("\t")[0] for line in table.splitlines() if "\ttrained" in line]
    assert trained == list(result.trained_ids)
    assert "failed" in table and "<script>nan</script>" in table  # the error text, escaped
    # the law of those runs, as `tokenplan fit` gets it
    from tokenplan import fit as fitlib
    from tokenplan.runs import read_runs

    iso = fitlib.fit_isoflop(read_runs(result.results_csv).fresh_only())  # as `fit --approach 2`
    lead = view.page.inner_text("#answer")
    assert f"Approach 2: N_opt ∝ C^{iso.exponents[0]:.3f}" in lead
    fitted = fitlib.run_fit(read_runs(result.results_csv))  # `tokenplan fit results.csv`'s default
    a = fitted.law.exponents[0]
    assert f"Approach 3, form {fitted.form}: N_opt ∝ C^{a:.3f}" in lead


def test_sweep_page_fits_approach_3_as_tokenplan_fit_does(tmp_path):
    """The page said 'Fitted as `tokenplan fit results.csv` does by default' but fitted the 5-parameter
    Chinchilla form, where `tokenplan fit` backtests the forms and may keep another: on a 9-run chitchat
    sweep the page showed A = 1.4e57, alpha = 15 (a = 0.005), the command A = 6.6e-22 (shared-exponent)."""
    from tokenplan import fit as fitlib
    from tokenplan.report.sweep_page import _fits
    from tokenplan.runs import read_runs

    result, spec = shipped_sweep(tmp_path)
    fits = dict(_fits(result, spec)[0])
    fitted = fitlib.run_fit(read_runs(result.results_csv))
    page = fits[f"Approach 3, form {fitted.form}"]
    assert page.to_dict()["params"] == pytest.approx(fitted.fits["3"].to_dict()["params"])


def test_sweep_page_fits_approach_2_on_the_fresh_runs_as_tokenplan_fit_does(tmp_path):
    """The page fitted Approach 2 on every ok run, the 5 of cpu-demo's 23 that repeat data too, and said
    N_opt ∝ C^0.394 where `tokenplan fit --approach all` (docs/sweep.md) says 0.278: that fit leaves repeated
    runs out of Approaches 1-3. The page now leaves them out as well, and says so."""
    from tokenplan.report.sweep_page import _fits

    result, spec = shipped_sweep(tmp_path)
    fits, notes = _fits(result, spec)
    assert dict(fits)["Approach 2"].exponents[0] == pytest.approx(0.27798, abs=1e-5)
    assert "5 runs repeat data and are left out of Approaches 2 and 3" in " ".join(notes)


def test_sweep_page_says_how_far_each_optimum_lies_outside_the_runs(tmp_path):
    """The budget table gave each approach's N_opt and D_opt at the grid's budgets with no word on range:
    on cpu-demo, D_opt at 3e12 is 13.6M tokens where the fresh runs reach 4.75M. Each approach now has an
    'in range' column in `tokenplan fit`'s words."""
    from tokenplan.report.sweep_page import write_sweep_report

    result, spec = shipped_sweep(tmp_path)
    html = write_sweep_report(tmp_path / "sweep.html", result, spec).read_text(encoding="utf-8")
    table = re.search(r'<table id="budget-table">(.*?)</table>', html, re.S).group(1)
    assert table.count('<th class="r">in range</th>') == 2
    cells = re.findall(r"<td class=\"r\">(yes|[\d.]+x out)</td>", table)
    assert cells == ["yes", "yes", "1.30x out", "1.36x out", "2.87x out", "2.36x out"]


@pytest.mark.slow
def test_sweep_cli_report_in_browser(tmp_path, open_report):
    """The real command: the micro preset trained serially, then its page."""
    pytest.importorskip("torch")
    page = tmp_path / "sweep.html"
    stdout, stderr = cli_in_process(
        "sweep",
        "--preset",
        "micro",
        "--out",
        str(tmp_path / "micro"),
        "--executor",
        "serial",
        "--quiet",
        "--report",
        str(page),
        "--json",
    )
    assert f"report written to {page}" in stderr
    data = json.loads(stdout)
    view = open_report(page)
    assert_healthy(view, {"curves", "isoflop"})
    assert assert_numbers_match(view, data) >= 8
    body = view.page.inner_text("body")
    assert "Approach 3 not fitted" in body  # 4 runs cannot fit 5 parameters
    # the fit's advice in `tokenplan fit`'s flags, not its Python argument names ('`approach` 1 ...')
    assert "allocation only: --approach 1 with the training curves (--curves FILE)" in body
    assert "`approach`" not in body and "`curves`" not in body


def test_the_runs_this_call_trained_are_marked_by_id(tmp_path):
    """results.csv is rebuilt in grid order (kind, budget, size), yet the page took its last n_trained rows
    as this call's: a resumed sweep whose unfinished run sorts first marked that run 'resumed (finished
    earlier)' and a run finished long before 'trained'. Runs are now marked by id."""
    pytest.importorskip("torch")
    import shutil as sh

    from tokenplan.report.sweep_page import _mark_this_call
    from tokenplan.sweep import read_results, run_sweep, spec_from_dict

    spec = spec_from_dict(
        {"kind": "isoflop", "budgets": [4e8], "sizes": ["L1-d16-h1", "L1-d24-h1"], "seq_len": 16,
         "batch_size": 4, "n_evals": 1, "eval_tokens": 256, "min_steps": 1}
    )  # fmt: skip
    out = tmp_path / "s"
    run_sweep(spec, out, executor="serial")
    first = read_results(out / "results.csv")[0]["run_id"]  # the smaller model: first in grid order
    sh.rmtree(out / "runs" / first)  # as docs/sweep.md says to retry a run
    result = run_sweep(spec, out, executor="serial")
    assert result.trained_ids == (first,) and result.n_skipped == 1
    rows = read_results(result.results_csv)
    _mark_this_call(rows, result.trained_ids)
    assert [(r["run_id"] == first, r["this_call"]) for r in rows] == [
        (True, "trained"),
        (False, "finished earlier"),
    ]


def test_sweep_report_path_refused_before_training(tmp_path):
    old = tmp_path / "old.html"
    old.write_text("mine")
    r = run_cli("sweep", "--preset", "micro", "--out", str(tmp_path / "s"), "--report", str(old))
    assert r.returncode == 2 and "--overwrite" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s").exists()  # nothing trained
    assert old.read_text() == "mine"


def test_curves_legend_lists_the_real_model_sizes(tmp_path):
    """The training-curves legend showed round values (10,000, 20,000 ... 800,000) between the sweep's
    sizes; it now lists the sizes of the runs themselves, as read from curves.csv."""
    import altair as alt

    from tokenplan.report.sweep_page import _curves_chart
    from tokenplan.runs import read_curves

    result, _ = shipped_sweep(tmp_path)
    color = _curves_chart(alt, result).to_dict()["encoding"]["color"]
    sizes = sorted({float(n) for n in read_curves(result.curves_csv).n_params})
    assert color["legend"]["values"] == sizes and len(sizes) == 9


def test_an_extended_sweeps_page_describes_every_grid(tmp_path):
    """After --extend the page gave the latest spec's description alone, over '4 runs in the isoflop grid:
    8 ok': results.csv holds the runs of every spec trained into the folder, and the page lists each."""
    pytest.importorskip("torch")
    import html
    import re

    from tokenplan.report.sweep_page import sweep_report
    from tokenplan.sweep import run_sweep, spec_from_dict

    out = tmp_path / "sw"
    first, second = (
        spec_from_dict({"preset": "micro"}),
        spec_from_dict({"preset": "micro", "seeds": [1]}),
    )
    assert run_sweep(first, out, executor="serial").grids == (first.description,)
    result = run_sweep(second, out, executor="serial", extend=True)
    assert result.grids == (first.description, second.description)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", sweep_report(result, second))).split())
    assert "8 runs in results.csv from 2 grids (--extend): 8 ok" in text
    assert "This call's grid has 4 runs: it trained 4" in text
    assert first.description in text and second.description in text
    # a folder written before grids were recorded starts from its sweep.yaml (the latest spec)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["grids"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert run_sweep(second, out, executor="serial").grids == (second.description,)


def test_the_lead_points_to_a_fits_warning(tmp_path):
    """The lead stated 'The runs imply Approach 2: N_opt ∝ C^1.599' as the sweep's answer while the page's
    Approach 2 section warned that an exponent outside 0..1 is not meaningful. cpu-demo's losses are
    replaced by IsoFLOP valleys whose minima move as C^1.6; the lead now sends the reader to the warning,
    and says nothing more where a fit has none (the shipped sweep's Approach 3)."""
    import math

    from tokenplan.report.sweep_page import write_sweep_report

    result, spec = shipped_sweep(tmp_path)
    plain = write_sweep_report(tmp_path / "plain.html", result, spec).read_text(encoding="utf-8")
    plain_lead = re.sub(r"<[^>]+>", "", re.search(r'id="answer">(.*?)</p>', plain, re.S)[1])
    assert "Approach 2: N_opt ∝ C^0.278 (but read its 3 warnings below)" in plain_lead
    assert plain_lead.rstrip().endswith("form shared-exponent: N_opt ∝ C^0.500.")  # no warning
    path = tmp_path / "cpu-demo" / "results.csv"
    rows = list(csv.DictReader(open(path, newline="")))
    ok = [r for r in rows if r["status"] == "ok"]
    c_mid = math.sqrt(min(float(r["flops"]) for r in ok) * max(float(r["flops"]) for r in ok))
    n_mid = math.sqrt(min(float(r["n_params"]) for r in ok) * max(float(r["n_params"]) for r in ok))
    for r in ok:
        c, n = float(r["flops"]), float(r["n_params"])
        valley = (math.log(n) - math.log(n_mid * (c / c_mid) ** 1.6)) ** 2
        r["loss"] = f"{3.0 + 0.3 * valley - 0.1 * math.log(c / c_mid):.6f}"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    html = write_sweep_report(tmp_path / "sweep.html", result, spec).read_text(encoding="utf-8")
    lead = re.sub(
        r"<[^>]+>", "", re.search(r'<p class="lead" id="answer">(.*?)</p>', html, re.S)[1]
    )
    assert "Approach 2: N_opt ∝ C^1.599 (but read its warning below)" in lead
    assert "is outside 0..1" in html and "not meaningful" in html


def test_the_epochs_axis_is_not_rounded_out_to_powers_of_ten(tmp_path, open_report):
    """The repetition page's epochs axis ran 0.1 .. 100 for the shipped repeat sweep's 1 .. 64 epochs (a
    'nice' log scale rounded out to powers of ten, an empty decade left of the first run); docs/report.md
    says the sweep page pads its axes 10 px beyond the data instead, as the IsoFLOP view does."""
    from tokenplan.report.sweep_page import write_sweep_report
    from tokenplan.sweep import load_spec

    out = tmp_path / "repeat"
    shutil.copytree(REPO / "docs" / "results" / "repeat", out)
    rows = list(csv.DictReader(open(out / "results.csv", newline="")))
    result = _result_of(out, rows, n_trained=0, wall_seconds=1.0)  # every run ok, resumed
    page = write_sweep_report(tmp_path / "r.html", result, load_spec(out / "sweep.yaml"))
    view = open_report(page)
    assert_healthy(view, {"curves", "repeat"})
    lo, hi = view.page.evaluate("window.tokenplanViews.repeat.scale('x').domain()")
    epochs = [float(r["epochs"]) for r in rows]
    assert min(epochs) / 1.5 < lo < min(epochs) and max(epochs) < hi < max(epochs) * 1.5, (lo, hi)
    assert markers_outside(view)["repeat"] == []


def test_the_isoflop_caption_says_when_no_profile_is_drawn(tmp_path):
    """With Approach 2 not fitted (a micro grid: 2 sizes per budget) the IsoFLOP view drew the runs alone, and
    its caption still said 'lines are the Approach-2 profiles (a parabola in log N) and diamonds their
    minima'; it now says that none are drawn and why."""
    import html

    from tokenplan.report.sweep_page import sweep_report

    result, spec = shipped_sweep(tmp_path)
    rows = list(csv.DictReader(open(result.results_csv, newline="")))
    per_budget: dict[str, list[dict]] = {}
    for r in rows:
        per_budget.setdefault(r["flops_budget"], []).append(r)
    two = [r for runs in per_budget.values() for r in runs[:2]]
    with open(result.results_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(two)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", sweep_report(result, spec))).split())
    assert "Approach 2 not fitted" in text
    assert "lines are the Approach-2 profiles" not in text
    assert (
        "Approach 2 was not fitted (the note above says why), so no profile or minimum is drawn"
        in text
    )


def test_every_chart_says_what_it_shows_to_a_screen_reader(tmp_path, open_report):
    """Each chart's aria-label was Vega's default, 'Vega visualization' (the select page's charts were given
    theirs; the sweep page's were not)."""
    from tokenplan.report.sweep_page import write_sweep_report

    result, spec = shipped_sweep(tmp_path)
    page = write_sweep_report(tmp_path / "s.html", result, spec)
    labels = open_report(page).page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.vis')].map("
        "e => [e.id, e.getAttribute('aria-label')]))"
    )
    assert labels["curves"].startswith("Line chart of each run's held-out loss against the FLOPs")
    assert labels["isoflop"].startswith("Scatter plot of each run's final held-out loss")
    assert "with the Approach-2 profiles and their minima" in labels["isoflop"]


def test_a_failed_runs_curve_is_left_out_of_the_curves_chart(tmp_path):
    """A run that diverged (held-out loss 343 nats at mid-run, byte-level) set the curves chart's linear
    axis and pressed the other 22 runs' curves into a flat line at its foot; failed runs' curves are left
    out, and the caption says so (the table lists the run and its error)."""
    import math

    import altair as alt

    from tokenplan.report.sweep_page import _curves_chart, write_sweep_report

    result, spec = shipped_sweep(tmp_path, fail_one=True)
    failed = next(r for r in csv.DictReader(open(result.results_csv)) if r["status"] == "failed")
    path = tmp_path / "cpu-demo" / "curves.csv"
    rows = list(csv.DictReader(open(path, newline="")))
    for r in rows:
        if r["run_id"] == failed["run_id"]:
            r["loss"] = "343.1"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    html = write_sweep_report(tmp_path / "s.html", result, spec).read_text(encoding="utf-8")
    assert "The 1 failed run&#39;s curve is left out (a diverged loss would set the axis)" in html
    values = _curves_chart(alt, result, leave_out=frozenset({failed["run_id"]})).to_dict()
    points = (
        values["datasets"][values["data"]["name"]]
        if "datasets" in values
        else values["data"]["values"]
    )
    assert {p["run"] for p in points} == {r["run_id"] for r in rows} - {failed["run_id"]}
    assert max(p["loss"] for p in points) < math.log(256)


def test_the_page_counts_diverged_runs_apart_from_failures(tmp_path):
    """The CLI's summary says '4 failed (4 diverged)' and exits 0 for runs that diverged (a result of their
    settings), 1 for runs that failed with an error; the page said '1 failed' for both."""
    import dataclasses

    from tokenplan.report.sweep_page import write_sweep_report

    result, spec = shipped_sweep(tmp_path, fail_one=True)
    html = write_sweep_report(tmp_path / "a.html", result, spec).read_text(encoding="utf-8")
    assert "diverged: a result of their settings" not in html  # an error, not a divergence
    result = dataclasses.replace(result, n_diverged=1)
    html = write_sweep_report(tmp_path / "b.html", result, spec).read_text(encoding="utf-8")
    assert "of them diverged: a result of their settings, not an error)" in html
