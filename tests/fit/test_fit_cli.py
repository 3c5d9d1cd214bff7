"""`tokenplan fit` through the real entry point: the sweep's results.csv, --save round trip, errors."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import shutil

import pytest

from helpers import TEST_DATA, run_cli, write_runs_loss_growing_with_n
from tokenplan import datasets
from tokenplan.laws import ChinchillaLaw, DataConstrainedLaw, PowerLawAllocation, get_law

RESULTS = TEST_DATA / "fit" / "results.csv"


def test_sweep_results_just_work_and_save_round_trips(tmp_path):
    save = tmp_path / "fit.json"
    r = run_cli("fit", str(RESULTS), "--save", str(save), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["runs"]["n_used"] == 20 and out["runs"]["n_dropped"] == 2
    assert out["fits"]["3"]["n_runs"] == 20
    saved = json.loads(save.read_text())
    assert set(saved) == {"format", "law", "fit"} and saved["fit"]["runs"]["n_dropped"] == 2
    law = get_law(str(save))  # what `tokenplan plan --law fit.json` does
    assert isinstance(law, ChinchillaLaw)
    assert law.alpha == pytest.approx(out["law"]["alpha"])
    assert law.loss(1e6, 1e9) == pytest.approx(
        out["law"]["E"]
        + out["law"]["A"] / 1e6 ** out["law"]["alpha"]
        + out["law"]["B"] / 1e9 ** out["law"]["beta"]
    )


def test_approach_all_picks_up_curves_next_to_results(tmp_path):
    shutil.copy(RESULTS, tmp_path / "results.csv")
    shutil.copy(TEST_DATA / "fit" / "curves.csv", tmp_path / "curves.csv")
    save = tmp_path / "a1.json"
    r = run_cli(
        "fit", str(tmp_path / "results.csv"), "--approach", "1", "--save", str(save), "--json"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert any("curves found next to the results" in n for n in out["notes"])
    assert isinstance(get_law(str(save)), PowerLawAllocation)
    r = run_cli("fit", str(tmp_path / "results.csv"), "--approach", "all", "--json")
    out = json.loads(r.stdout)
    assert set(out["fits"]) == {"1", "2", "3"}


def test_a_sweep_folder_given_for_a_file_names_the_file_in_it():
    """`tokenplan fit sweeps/cpu-demo` said "File 'sweeps/cpu-demo' is a directory." and left the user to
    look inside; a folder holding the file names it (RUNS: results.csv, --curves: curves.csv)."""
    from helpers import REPO

    folder = REPO / "docs" / "results" / "cpu-demo"
    for args, name in (
        ((str(folder),), "results.csv"),
        ((str(RESULTS), "--curves", str(folder)), "curves.csv"),
    ):
        r = run_cli("fit", *args, "--approach", "1")
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
        assert f"{str(folder)!r} is a folder; give the {name} in it: {folder / name}" in r.stderr


def test_approach2_bootstrap_and_table_output():
    r = run_cli("fit", str(RESULTS), "--approach", "2", "--bootstrap", "50", "--budgets", "1e16")
    assert r.returncode == 0, r.stderr
    assert "Approach 2" in r.stdout and "IsoFLOP minima" in r.stdout and "80% interval" in r.stdout


def test_parametric_bootstrap_json_has_intervals():
    r = run_cli("fit", str(RESULTS), "--bootstrap", "40", "--budgets", "1e16", "--json")
    out = json.loads(r.stdout)
    iv = out["fits"]["3"]["intervals"]["intervals"]
    assert {"E", "A", "B", "alpha", "beta", "a", "b", "n_params_opt@1e+16"} <= set(iv)
    assert out["allocations"][0]["n_params_interval"] is not None


def test_budget_allocations_say_how_far_they_extrapolate():
    """--budgets 5.76e23 on the Chinchilla runs (largest 1.3e22 FLOPs) printed N_opt/D_opt with no word that
    it is 44x beyond the fitted compute; each row now carries the factor per axis, like predict."""
    args = ["fit", "--example", "chinchilla", "--drop-highest", "5", "--form", "chinchilla"]
    args += ["--bootstrap", "0", "--budgets", "1e20,5.76e23"]
    r = run_cli(*args, "--json")
    assert r.returncode == 0, r.stderr
    inside, far = json.loads(r.stdout)["allocations"]
    assert max(inside["extrapolation"].values()) == 1.0
    law = get_law("epoch2024")  # fitted on the same 240 runs: the same range
    expected = law.fitted_range.extrapolation(far["n_params"], far["n_tokens"])
    assert far["extrapolation"] == pytest.approx(expected)
    assert far["extrapolation"]["flops"] == pytest.approx(5.76e23 / 1.2956023e22, rel=1e-3)
    table = run_cli(*args).stdout
    assert "in range" in table and "44.5x out" in table


def test_columns_option_selects_the_param_convention():
    r = run_cli("fit", str(RESULTS), "--columns", "n_params=n_params_non_embedding", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["runs"]["param_column"] == "n_params_non_embedding"


def test_data_constrained_cli(tmp_path):
    save = tmp_path / "dc.json"
    r = run_cli(
        "fit",
        str(datasets.path("datablations_c4")),
        "--law",
        "data-constrained",
        "--save",
        str(save),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["law"]["R_D_star"] == pytest.approx(15.4, abs=0.2)
    assert isinstance(get_law(str(save)), DataConstrainedLaw)


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fit.png"
    r = run_cli("fit", str(RESULTS), "--approach", "all", "--plot", str(png), "--json")
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 10_000


def test_plot_of_a_data_constrained_approach_3_draws_its_fit(tmp_path):
    """--form auto picks the data-constrained form for runs that repeat data (datablations): the figure
    draws that fit's frontier and residuals; it said "no loss-predicting fit: Approaches 1 and 2 fit the
    allocation only" and drew no fitted frontier."""
    pytest.importorskip("matplotlib")
    svg = tmp_path / "fit.svg"
    r = run_cli("fit", "--example", "datablations", "--plot", str(svg), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["form"] == "data-constrained"
    text = svg.read_text()  # matplotlib writes each line of text as an SVG comment
    assert "no loss-predicting fit" not in text
    assert "data-constrained base (a=" in text and "residuals (RMS" in text


def test_plot_of_a_kaplan_form_approach_3_draws_its_fit(tmp_path):
    """Approach 3 of the kaplan form (--form auto picked it on 8 of these runs) was left out of the figure:
    no approach-3 frontier, and "no loss-predicting fit" where its residuals belong."""
    pytest.importorskip("matplotlib")
    svg = tmp_path / "fit.svg"
    r = run_cli("fit", str(RESULTS), "--form", "kaplan", "--plot", str(svg), "-q")
    assert r.returncode == 0, r.stderr
    text = svg.read_text()  # matplotlib writes each line of text as an SVG comment
    assert "no loss-predicting fit" not in text
    assert "approach 3 (a=" in text and "residuals (RMS" in text


def test_plot_marks_a_law_counting_non_embedding_parameters(tmp_path):
    """The frontier panel drew Kaplan's N_opt (non-embedding) on the total-parameter axis, labelled only
    'kaplan (a=0.73)'; its line says which N it counts, as do fitted lines on non-embedding runs."""
    pytest.importorskip("matplotlib")
    svg = tmp_path / "fit.svg"
    r = run_cli("fit", str(RESULTS), "--plot", str(svg), "-q")
    assert r.returncode == 0, r.stderr
    text = svg.read_text()  # matplotlib writes each line of text as an SVG comment
    assert "kaplan, non-embedding N (a=0.73)" in text and "kaplan (a=" not in text
    assert "N_opt (total parameters; non-embedding where marked)" in text
    assert "chinchilla-a1 (a=0.50)" in text and "approach 3 (a=" in text
    svg = tmp_path / "ne.svg"
    r = run_cli(
        "fit",
        str(RESULTS),
        "--columns",
        "n_params=n_params_non_embedding",
        "--plot",
        str(svg),
        "-q",
    )
    assert r.returncode == 0, r.stderr
    assert "approach 3, non-embedding N (a=" in svg.read_text()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("size,toks,c4\n1,2,3\n", "columns found: size, toks, c4"),
        (
            "params,tokens,loss\n1e8,2e9,nan\n",
            "loss must be finite and > 0 at row 1 (empty or NaN)",
        ),
        # an empty cell is read as NaN: it said '(nan)', and the user looked for a 'nan' in the file
        ("params,tokens,loss\n1e8,2e9,\n", "loss must be finite and > 0 at row 1 (empty or NaN)"),
        ("run_id,params,flops,loss\na,1e8,1e18,3\na,1e8,1e18,2.9\n", "duplicate runs a"),
        ("params,tokens,loss\n", "empty"),
        ("params,tokens,loss\n1e8,2e9,3\n2e8,2e9,2.9\n", "at least 5 runs"),
    ],
)
def test_bad_tables_exit_2_with_one_line(tmp_path, text, needle):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    r = run_cli("fit", str(p))
    assert r.returncode == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("columns", "needle"),
    [
        (
            "loss=Eval Loss,loss=Params",
            "--columns: field 'loss' is given twice ('Eval Loss' and 'Params')",
        ),
        (
            "n_params=Params,n_tokens=Params",
            "--columns: n_params and n_tokens both name column 'Params'",
        ),
    ],
)
def test_columns_naming_a_field_or_a_column_twice_is_refused(tmp_path, columns, needle):
    """The later pair replaced the earlier one, and the message then blamed a missing n_params column
    (taken by loss=Params); one column read as both N and D fitted D = N without a word."""
    p = tmp_path / "runs.csv"
    p.write_text(
        "Params,Tokens,Eval Loss\n"
        + "".join(f"{n}M,{20 * n}M,{3 - n / 100}\n" for n in range(1, 8))
    )
    r = run_cli("fit", str(p), "--columns", columns)
    assert r.returncode == 2 and needle in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_save_never_overwrites_without_flag(tmp_path):
    save = tmp_path / "fit.json"
    save.write_text("precious")
    r = run_cli("fit", str(RESULTS), "--save", str(save))
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert save.read_text() == "precious"


def test_approach1_without_curves_is_a_clear_error(tmp_path):
    p = tmp_path / "r.csv"
    shutil.copy(RESULTS, p)
    r = run_cli("fit", str(p), "--approach", "1")
    assert r.returncode == 2 and "--curves" in r.stderr


def test_approach1_bootstrap_json():
    r = run_cli(
        "fit",
        str(RESULTS),
        "--approach",
        "1",
        "--curves",
        str(TEST_DATA / "fit" / "curves.csv"),
        "--bootstrap",
        "30",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["fits"]["1"]["intervals"]["intervals"]) >= {"a", "b", "k"}


def test_approach_all_skips_what_too_few_runs_cannot_fit(tmp_path):
    """`--approach all` on a 4-run smoke sweep fits what it can and says why the rest was skipped;
    `--approach 3` alone on the same table is an error (exit 2)."""
    lines = RESULTS.read_text().splitlines()
    small = tmp_path / "results.csv"
    small.write_text("\n".join(lines[:5]) + "\n")  # header + 4 runs, all at one budget
    shutil.copy(TEST_DATA / "fit" / "curves.csv", tmp_path / "curves.csv")
    r = run_cli("fit", str(small), "--approach", "all", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "3" not in out["fits"] and "2" not in out["fits"]
    assert any(w.startswith("Approach 3 skipped") and "5 runs" in w for w in out["warnings"])
    assert any(w.startswith("Approach 2 skipped") for w in out["warnings"])
    r = run_cli("fit", str(small), "--approach", "3")
    assert r.returncode == 2 and "5 runs" in r.stderr and "Traceback" not in r.stderr


def test_too_few_runs_names_the_file_and_the_fix(tmp_path):
    """4 runs (a micro sweep): the error names the file and says what fits them (more runs, or Approach 1
    on the curves); --approach all skips Approach 3 without backtest warnings advising a higher cut
    (no cut helps 4 runs) or saying the Chinchilla form is used (Approach 3 is skipped)."""
    lines = RESULTS.read_text().splitlines()
    small = tmp_path / "results.csv"
    small.write_text("\n".join(lines[:5]) + "\n")  # header + 4 runs
    r = run_cli("fit", str(small))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert f"{small}: Approach 3 needs at least 5 runs" in r.stderr
    assert (
        "Add runs" in r.stderr
        and "--approach 1 with the training curves (--curves FILE)" in r.stderr
    )
    shutil.copy(TEST_DATA / "fit" / "curves.csv", tmp_path / "curves.csv")
    r = run_cli("fit", str(small), "--curves", str(tmp_path / "curves.csv"))
    assert r.returncode == 2 and "--approach 1 (the envelope of the training curves)" in r.stderr
    r = run_cli("fit", str(small), "--approach", "all", "--json")
    assert r.returncode == 0, r.stderr
    warnings = json.loads(r.stdout)["warnings"]
    assert not any("backtest" in w or "used untested" in w for w in warnings), warnings
    assert any(w.startswith("Approach 3 skipped: Approach 3 needs at least 5") for w in warnings)


def test_too_few_runs_to_backtest_does_not_advise_a_cut(tmp_path):
    """5 runs fit the Chinchilla form but back-test no form, whatever the cut: the warnings say so."""
    lines = RESULTS.read_text().splitlines()
    five = tmp_path / "results.csv"
    five.write_text("\n".join(lines[:6]) + "\n")
    r = run_cli("fit", str(five), "--json")
    assert r.returncode == 0, r.stderr
    skipped = [w for w in json.loads(r.stdout)["warnings"] if w.startswith("backtest of form")]
    assert len(skipped) == 3
    assert all("whatever the cut; add runs" in w and "Raise the cut" not in w for w in skipped)


def test_plot_of_approach_all_without_approach_3_says_what_it_needs(tmp_path):
    """`--approach all --plot` on 4 runs: the residuals panel says Approach 3 needs 5 runs, not "use
    --approach 3" (which already ran and was skipped)."""
    pytest.importorskip("matplotlib")
    lines = RESULTS.read_text().splitlines()
    small = tmp_path / "results.csv"
    small.write_text("\n".join(lines[:5]) + "\n")
    shutil.copy(TEST_DATA / "fit" / "curves.csv", tmp_path / "curves.csv")
    svg = tmp_path / "fit.svg"
    r = run_cli("fit", str(small), "--approach", "all", "--plot", str(svg), "-q")
    assert r.returncode == 0, r.stderr
    text = svg.read_text()  # matplotlib writes each line of text as an SVG comment
    assert "use --approach 3" not in text
    assert "Approach 3 skipped: Approach 3 needs at" in text and "got 4." in text
    if importlib.util.find_spec("altair") is not None:  # the HTML report says the same
        page = tmp_path / "fit.html"
        r = run_cli("fit", str(small), "--approach", "all", "--report", str(page), "-q")
        assert r.returncode == 0, r.stderr
        text = page.read_text()
        assert "use --approach 3" not in text and "needs at least 5 runs" in text


def _rendered(table) -> str:
    from rich.console import Console

    con = Console(width=200, record=True, file=io.StringIO())
    con.print(table)
    return con.export_text()


def test_a_vanished_term_allocation_says_no_plan_not_infx():
    """A shared-exponent fit whose parameter term vanished (A = 4e-12, alpha = beta = 0.03: `tokenplan fit`
    on 9 runs whose loss barely moves with N) allocates 1.9e-195 parameters on 9e+203 tokens at 1e10
    FLOPs; D/N overflows, so the 'in range' column read 'infx out'. It now names the cause."""
    from dataclasses import replace
    from types import SimpleNamespace

    from tokenplan.cli.fit import _allocation_table
    from tokenplan.fit.report import _allocations
    from tokenplan.laws import FittedRange

    fitted = FittedRange.of_runs([7728.0, 69360.0], [16128.0, 405248.0], source="9 runs")
    law = replace(
        get_law("chinchilla"), name="fit-approach3", E=1.68e-06, A=4.03e-12, B=6.135,
        alpha=0.0306, beta=0.0306, fitted_range=fitted,
    )  # fmt: skip
    rows = _allocations(law, SimpleNamespace(budgets=(1e10, 1e12), level=0.8))
    assert rows[0]["n_params"] < 1e-150 and rows[0]["n_tokens"] / rows[0]["n_params"] == math.inf
    text = _rendered(_allocation_table(rows))
    assert "inf" not in text and text.count("no: N_opt < 1 parameter") == 2
    kaplan_like = dict(rows[0], n_params=6.4e-6, n_tokens=2.6e14)  # --form kaplan: '7.8e+17x out'
    kaplan_like["extrapolation"] = fitted.extrapolation(6.4e-6, 2.6e14)
    assert "no: N_opt < 1 parameter" in _rendered(_allocation_table([kaplan_like]))
    ok = dict(rows[0], n_params=2e4, n_tokens=8e4)
    ok["extrapolation"] = fitted.extrapolation(2e4, 8e4)
    assert " yes │" in _rendered(_allocation_table([ok]))
    overflow = dict(ok, extrapolation={"tokens_per_param": math.inf})
    assert "no: beyond float range" in _rendered(_allocation_table([overflow]))


def test_an_infinite_extrapolation_is_named_in_json():
    """JSON has no infinity: `fit --json` wrote the overflowed tokens_per_param factor as a bare null, which
    reads as "no number". The null stays (tokenplan's one encoder writes every non-finite number so) and
    `extrapolation_unbounded` names the axes that are infinitely far out."""
    from dataclasses import replace
    from types import SimpleNamespace

    from tokenplan._json import dumps
    from tokenplan.fit.report import _allocations
    from tokenplan.laws import FittedRange

    fitted = FittedRange.of_runs([7728.0, 69360.0], [16128.0, 405248.0], source="9 runs")
    law = replace(
        get_law("chinchilla"), name="fit-approach3", E=1.68e-06, A=4.03e-12, B=6.135,
        alpha=0.0306, beta=0.0306, fitted_range=fitted,
    )  # fmt: skip
    options = SimpleNamespace(budgets=(1e10,), level=0.8)
    (far,) = json.loads(dumps(_allocations(law, options)))
    assert far["extrapolation"]["tokens_per_param"] is None
    assert far["extrapolation_unbounded"] == ["tokens_per_param"]
    (near,) = json.loads(dumps(_allocations(get_law("chinchilla"), options)))
    assert near["extrapolation_unbounded"] == [] and None not in near["extrapolation"].values()


def test_a_law_its_own_loader_refuses_is_not_saved(tmp_path):
    """A fit whose alpha came out <= 0 (20 runs whose loss grows with N: L = 1.5 + 0.2 N^0.05 + 400/D^0.3)
    printed its result and 'saved the law to neg.json', a file that `plan --law neg.json` then refused
    ('has alpha=-0.0499...; it must be a finite number > 0'). fit now prints the result, writes nothing and
    ends with one line naming --save, exit 2."""
    runs = write_runs_loss_growing_with_n(tmp_path / "neg.csv")
    save = tmp_path / "neg.json"
    r = run_cli(
        "fit", str(runs), "--form", "chinchilla", "--bootstrap", "0", "--save", str(save),
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert r.returncode == 2 and not save.exists()
    assert "alpha" in r.stdout and "a non-positive exponent" in r.stdout  # the result is printed
    assert "saved the law" not in r.stdout and "Traceback" not in r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("tokenplan: error")]
    assert line.startswith(
        f"tokenplan: error: --save: law 'fit-approach3' is not written to '{save}': load_law"
    )
    assert "has alpha=-0.0" in line and "must be a finite number > 0" in line


def test_save_law_refuses_what_load_law_refuses(tmp_path):
    """save_law wrote a ChinchillaLaw with alpha < 0 (a law built in Python may hold one) that load_law
    refused; it now raises naming `save`, and writes nothing."""
    from dataclasses import replace

    from tokenplan.errors import InvalidInputError
    from tokenplan.laws import load_law, save_law

    law = replace(get_law("chinchilla"), name="neg", alpha=-0.05)
    path = tmp_path / "neg.json"
    with pytest.raises(InvalidInputError, match=r"has alpha=-0\.05; it must be") as info:
        save_law(law, path)
    assert info.value.param == "save" and not path.exists()
    assert load_law(save_law(get_law("chinchilla"), path)) == get_law("chinchilla")


def test_quiet_prints_nothing_but_json_and_errors(tmp_path):
    """`fit` had no -q/--quiet where select and sweep do: with it, no progress, result or warnings; --json
    still prints its one object, the law is still saved, and an error is still its one line."""
    args = ("fit", str(RESULTS), "--form", "chinchilla", "--bootstrap", "0")
    r = run_cli(*args, "-q", "--save", str(tmp_path / "law.json"))
    assert r.returncode == 0 and (r.stdout, r.stderr) == ("", "")
    assert (tmp_path / "law.json").is_file()
    r = run_cli(*args, "--quiet", "--json")
    assert r.returncode == 0 and r.stderr == "" and json.loads(r.stdout)["form"] == "chinchilla"
    r = run_cli(*args, "-q", "--ci", "120")
    assert r.returncode == 2 and r.stderr.startswith("tokenplan: error: --ci 120")
    loud = run_cli(*args)
    assert loud.stdout and "fit: " in loud.stderr


@pytest.mark.parametrize("ci", ["0.8", "0.9", "1"])
def test_ci_as_a_fraction_is_refused_with_the_percent_fix(ci):
    """fit's --ci is in percent; plan's and predict's --interval 0.8 typed here used to fit a 0.8%
    interval (every held-out run 'out') without a word. One line, the flag and the fix, exit 2."""
    r = run_cli("fit", str(RESULTS), "--bootstrap", "0", "--ci", ci)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"tokenplan: error: --ci {ci} is a percentage (a {ci}% interval); for 80% give --ci 80 "
        "(plan and predict take the fraction, --interval 0.8)."
    ]


def test_a_missing_curves_file_names_the_flag(tmp_path):
    """'curves file 'x' does not exist.' named no flag; the runs file's own error names its argument."""
    missing = tmp_path / "nope.csv"
    r = run_cli(
        "fit", str(TEST_DATA / "fit" / "results.csv"), "--curves", str(missing), "--approach", "1"
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (
        r.stderr.strip()
        == f"tokenplan: error: --curves: curves file {str(missing)!r} does not exist."
    )


def test_one_run_left_out_is_one_run():
    """The fit note and the sweep page said '1 runs repeat data and are left out' for one run."""
    from tokenplan.fit.report import runs_left_out

    assert runs_left_out(1) == "1 run repeats data and is left out"
    assert runs_left_out(1499) == "1,499 runs repeat data and are left out"
