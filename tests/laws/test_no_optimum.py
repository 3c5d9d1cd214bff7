"""A fitted Chinchilla law whose alpha or beta came out <= 0 has no compute-optimal allocation (eq. 4 of
Hoffmann et al. 2022 needs both > 0). G's base alpha A / (beta B) is then negative, and Python's float power
of a negative base made N_opt complex: `fit --budgets` ended with "n_params=(22360.05-0.84j) is not a
number", and a sweep's report page failed after its runs had trained (the leftsweep2 helper's find).
Now optimal() gives NaN (shown as "-"), and the inverses and plan() refuse naming the law and the reason.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import TEST_DATA, run_cli, write_runs_loss_growing_with_n
from tokenplan.errors import InvalidInputError
from tokenplan.laws import ChinchillaLaw
from tokenplan.plan import plan

# 1 / (alpha + beta) = 1 / 0.18 is not a whole number: the old G was complex
NEG = ChinchillaLaw(name="neg", E=1.5, A=10.0, B=400.0, alpha=-0.12, beta=0.3)


def test_optimal_is_nan_not_complex():
    assert not NEG.has_optimum and math.isnan(NEG.G)
    a = NEG.optimal(1e20)
    assert math.isnan(a.n_params) and math.isnan(a.n_tokens) and math.isnan(a.loss)
    arr = NEG.optimal(np.array([1e18, 1e20])).n_params
    assert arr.dtype == float and np.isnan(arr).all()
    assert ChinchillaLaw(name="ok", E=1.5, A=10.0, B=400.0, alpha=0.3, beta=0.3).has_optimum


@pytest.mark.parametrize(
    "call",
    [
        lambda: NEG.optimal_tokens(1e9),
        lambda: NEG.optimal_params(1e10),
        lambda: NEG.optimal_for_loss(3.0),
        lambda: plan(flops=1e20, law=NEG),
        lambda: plan(target_loss=3.0, law=NEG),
    ],
)
def test_budgets_are_refused_naming_the_law_and_the_reason(call):
    with pytest.raises(
        InvalidInputError, match=r"has no compute-optimal allocation: its alpha=-0\.12"
    ) as e:
        call()
    assert e.value.param == "law"


def test_a_run_of_your_own_is_still_planned_without_a_comparison():
    p = plan(n_params=1e9, n_tokens=2e10, law=NEG)
    assert p.mode == "run" and p.vs_optimum is None
    assert p.loss == pytest.approx(float(NEG.loss(1e9, 2e10)))


def test_a_nan_allocation_lies_nowhere_in_a_fitted_range():
    """max(1.0, nan, nan) is 1.0: the NaN optimum read as inside the fitted runs on every axis."""
    from tokenplan.laws import get_law

    rng = get_law("epoch2024").fitted_range
    assert rng.extrapolation(math.nan, math.nan) == {}
    assert rng.extrapolation(1e9, 2e10)["n_params"] == 1.0  # a real point still gets its factors


def test_the_sweep_page_shows_no_optimum_as_nan():
    from tokenplan.report.sweep_page import _budget_lines

    fit = SimpleNamespace(law=NEG)
    (row,) = _budget_lines([("approach 3", fit)], [{"flops_budget": "1e18"}])
    n_opt, d_opt, in_range = row["approach 3"]
    assert math.isnan(n_opt) and math.isnan(d_opt) and in_range == "no: no optimum (exponent <= 0)"


def test_the_sweep_pages_lead_says_why_a_fit_has_no_optimum(tmp_path, monkeypatch):
    """The sweep page's lead read "Approach 3, form chinchilla: N_opt ∝ C^1.200" for a fitted law with
    alpha < 0 (no optimum; its budget rows were already "-"); it now says so in the fit page's words, and
    a fit with an optimum keeps its exponent."""
    import re

    pytest.importorskip("altair")
    from helpers import REPO
    from tokenplan.fit.isoflop import fit_isoflop
    from tokenplan.fit.report import FitOptions, run_fit
    from tokenplan.report import sweep_page
    from tokenplan.runs import read_runs
    from tokenplan.sweep import SweepResult, load_spec

    neg = run_fit(
        read_runs(write_runs_loss_growing_with_n(tmp_path / "neg.csv")),
        FitOptions(form="chinchilla", n_boot=0),
    ).fits["3"]
    demo = REPO / "docs" / "results" / "cpu-demo"
    iso = fit_isoflop(read_runs(demo / "results.csv"))
    fits = [("Approach 2", iso), ("Approach 3, form chinchilla", neg)]
    monkeypatch.setattr(sweep_page, "_fits", lambda result, spec: (fits, []))
    result = SweepResult(
        out_dir=str(demo), results_csv=str(demo / "results.csv"),
        curves_csv=str(demo / "curves.csv"), best_lr_csv=None, n_runs=23, n_skipped=23, n_trained=0,
    )  # fmt: skip
    html = sweep_page.sweep_report(result, load_spec(demo / "sweep.yaml"))
    lead = re.search(r'<p class="lead".*?</p>', html, re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", "", lead).replace("&gt;", ">").replace("&#39;", "'").split())
    assert f"The runs imply Approach 2: N_opt ∝ C^{iso.exponents[0]:.3f}. " in text, text
    assert (
        "Approach 3, form chinchilla: the fitted law has no compute-optimal allocation, so no N_opt or "
        f"D_opt: {neg.law.no_optimum_reason}." in text
    ), text
    assert text.count("N_opt ∝") == 1


def test_fit_prints_and_reports_a_law_without_an_optimum(tmp_path):
    """20 runs whose loss grows with N (L = 1.5 + 0.2 N^0.05 + 400/D^0.3): alpha < 0. The fit is printed
    with its warning, the allocation rows say why they are empty, and the page is written. The page's lead
    read "N_opt ∝ C^1.200, D_opt ∝ C^-0.200. At 1e+18 FLOPs: - parameters on - tokens": it now says in
    words that the law has no compute-optimal allocation and why, as the console does."""
    import re

    runs = write_runs_loss_growing_with_n(tmp_path / "neg.csv")
    page = tmp_path / "neg.html"
    r = run_cli(
        "fit", str(runs), "--form", "chinchilla", "--bootstrap", "0", "--budgets", "1e18,1e20",
        "--report", str(page), env={"COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("no: no optimum (exponent <= 0)") == 2
    assert "a non-positive exponent" in r.stdout and page.is_file()
    (said,) = [x for x in r.stdout.splitlines() if "has no compute-optimal allocation" in x]
    reason = said.removeprefix("the saved law has no compute-optimal allocation: ").removesuffix(
        "."
    )
    assert reason.startswith("its alpha=-0.0") and "eq. 4 needs both > 0" in reason, said
    lead = re.search(r'<p class="lead".*?</p>', page.read_text(), re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", "", lead).replace("&gt;", ">").replace("&#39;", "'").split())
    assert "parameters on" not in text and "N_opt ∝" not in text, text
    assert (
        "The fitted law has no compute-optimal allocation, so no N_opt or D_opt at 1e+18, 1e+20 "
        f"FLOPs: {reason}." in text
    ), text
    assert 'data-key="allocations.1.flops"' in lead


def test_json_and_markdown_say_why_there_is_no_optimum(tmp_path):
    """`no_optimum_reason` in FitReport.to_dict() (`fit --json`, what the page reads) and a line of the
    Markdown summary; null and no line for a law with an optimum."""
    from tokenplan.fit.report import FitOptions, run_fit
    from tokenplan.runs import read_runs

    runs = write_runs_loss_growing_with_n(tmp_path / "neg.csv")
    report = run_fit(read_runs(runs), FitOptions(form="chinchilla", n_boot=0))
    reason = report.to_dict()["no_optimum_reason"]
    assert reason == report.law.no_optimum_reason and reason.startswith("its alpha=-0.0")
    assert f"It has no compute-optimal allocation: {reason}." in report.to_markdown()
    ok = run_fit(
        read_runs(TEST_DATA / "fit" / "results.csv"), FitOptions(form="chinchilla", n_boot=0)
    )
    assert ok.to_dict()["no_optimum_reason"] is None and "compute-optimal" not in ok.to_markdown()


def test_a_runs_same_loss_optimum_under_one_parameter_is_dropped():
    """1M parameters on one token: its loss is reached by a compute-optimal 'model' of under one parameter,
    which is no plan; vs_optimum keeps the split of its FLOPs and drops that comparison."""
    vs = plan(n_params=1e6, n_tokens=1).vs_optimum
    assert vs.same_loss is None and vs.compute_ratio is None
    assert float(vs.optimum.n_params) > 0


def test_a_run_compared_under_a_law_without_an_optimum_keeps_its_columns():
    """compare() of a run under epoch2024 and such a law: the law has no vs_optimum, and its row in the
    console table and the page's table shows "-" in the optimum's columns (both failed on it before:
    a short row, and "'None' has no attribute 'optimum'")."""
    from rich.console import Console

    from tokenplan import get_law
    from tokenplan.cli.plan import _comparison_table
    from tokenplan.plan import compare
    from tokenplan.report.plan_page import plan_report

    comp = compare(laws=["epoch2024", NEG], n_params=8e9, n_tokens=15e12)
    assert comp["neg"].vs_optimum is None and comp["epoch2024"].vs_optimum is not None
    console = Console(width=100, record=True)
    console.print(_comparison_table(comp.plans, comp.plans[0], same_hours=True, title="t"))
    (neg_row,) = [line for line in console.export_text().splitlines() if "│ neg" in line]
    cells = [c.strip() for c in neg_row.split("│")[1:-1]]
    assert cells[0] == "neg" and cells[3:] == ["-", "-"]  # law, N ∝ C^a, loss, N_opt, FLOPs/opt
    pytest.importorskip("altair")
    html = plan_report(comp.plans[0], law=get_law("epoch2024"), comparison=comp)
    assert 'data-key="plans.0.vs_optimum.compute_ratio"' in html


def test_the_kaplan_form_on_runs_whose_loss_grows_with_n_is_one_line_not_an_overflow(tmp_path):
    """On these runs the Kaplan L(N, D) fit sends log N_c past 709, and exp() overflowed: `fit RUNS`
    (auto form, which backtests kaplan) stopped with "a value is too large to compute with (math range
    error)". The kaplan fit now refuses in words; auto skips the form with that warning and goes on."""
    from tokenplan.fit import fit_kaplan
    from tokenplan.runs import read_runs

    runs = write_runs_loss_growing_with_n(tmp_path / "neg.csv")
    with pytest.raises(
        InvalidInputError, match="kaplan form does not fit these runs: its scale N_c"
    ):
        fit_kaplan(read_runs(runs))
    r = run_cli("fit", str(runs), "--bootstrap", "0", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "backtest of form kaplan skipped: the kaplan form does not fit these runs" in r.stdout
    r = run_cli("fit", str(runs), "--form", "kaplan", "--bootstrap", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # one error line; on a loaded machine the fit passes 10 s and its progress lines come first (the
    # progress is held back for 10 s so that an early error stays the only line)
    *progress, error = r.stderr.strip().splitlines()
    assert error.startswith("tokenplan: error: ") and "ran off to infinity" in error, r.stderr
    assert all(line.startswith("fit: ") for line in progress), r.stderr


def test_optimal_of_draws_is_one_vectorised_call(monkeypatch):
    """The allocation interval evaluates the 1,000 bootstrap draws in one call with array-valued constants
    (docs/benchmarks.md, cold start). has_optimum's `alpha > 0 and beta > 0` raised on arrays, so since the
    no-optimum change every plan fell back to 2,000 law objects (~45 ms of `plan --flops 1e22`'s 0.33 s).
    A draw without an optimum is NaN, as one call per draw gives."""
    from dataclasses import replace

    from tokenplan.laws import get_law
    from tokenplan.laws.prediction import _value_or_nan, uncertainty_of

    law = get_law("epoch2024")
    unc = replace(uncertainty_of(law), draws=np.array(uncertainty_of(law).draws, dtype=float))
    unc.draws[:3, unc.names.index("alpha")] = -0.1
    unc.draws[3, unc.names.index("beta")] = 0.0
    per_draw = np.array(
        [_value_or_nan(lambda o: o.optimal(1e22).n_tokens, o) for o in unc.draw_laws(law)]
    )
    monkeypatch.setattr(type(unc), "draw_laws", lambda *a: pytest.fail("looped over the draws"))
    vec = unc.draw_values(law, lambda o: o.optimal(1e22).n_tokens)
    assert np.isnan(vec[:4]).all() and np.isfinite(vec[4:]).all()
    np.testing.assert_allclose(vec, per_draw, rtol=1e-12)
    assert get_law("epoch2024").optimal_interval(1e22).kind == "bootstrap"


def test_a_kaplan_scale_run_off_to_zero_is_said_in_words(tmp_path, monkeypatch):
    """When the Kaplan L(N, D) fit drove log N_c below the smallest float's log, exp() gave N_c = 0.0 and
    the law's own check surfaced as the reason ('KaplanNDLaw 'fit-kaplan' has N_c=0.0; it must be a finite
    number > 0.', seen as fit's backtest-skip warning on a 15-run sweep): no word of what happened or what
    to do. The fit now says the scale ran off to zero and names another form, as for infinity."""
    import scipy.optimize

    from tokenplan.fit import fit_kaplan
    from tokenplan.runs import read_runs

    runs = read_runs(write_runs_loss_growing_with_n(tmp_path / "r.csv"))
    monkeypatch.setattr(
        scipy.optimize,
        "minimize",
        lambda *a, **k: SimpleNamespace(fun=0.01, x=np.array([-800.0, 20.0, 0.1, 0.1])),
    )
    with pytest.raises(InvalidInputError) as e:
        fit_kaplan(runs)
    assert str(e.value) == (
        "the kaplan form does not fit these runs: its scale N_c ran off to zero (e^-800), which drops "
        "the N term, as when the loss does not depend on N; use another form (--form chinchilla or auto)."
    )
