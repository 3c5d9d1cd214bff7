"""run_fit and FitOptions as a notebook user calls them: options spelled as Python allows (2, not "2";
"Data-Constrained"; numpy seeds), the wrong types named at the boundary, and a FitReport whose to_dict() the
standard json module writes as it is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tokenplan import datasets
from tokenplan.errors import InvalidInputError
from tokenplan.fit import FitOptions, run_fit
from tokenplan.laws import ChinchillaLaw
from tokenplan.runs import read_runs, runs_from_arrays

# pandas comes with the fit and select extras, not the core
pd = pytest.importorskip("pandas")

LAW = ChinchillaLaw(E=1.8, A=500.0, B=1500.0, alpha=0.35, beta=0.35)


def _runs():
    N = np.repeat(np.logspace(6.5, 8.5, 6), 4)
    D = N * np.tile([5.0, 20.0, 40.0, 80.0], 6)
    L = LAW.loss(N, D) * np.exp(np.random.default_rng(0).normal(0.0, 0.002, len(N)))
    return runs_from_arrays(N, L, n_tokens=D)


def test_fit_report_to_dict_is_plain_json():
    """BacktestRow.inside was a numpy bool: json.dumps(report.to_dict()) raised TypeError."""
    report = run_fit(_runs(), FitOptions(n_boot=10))
    assert report.backtest is not None and report.backtest.rows
    text = json.dumps(report.to_dict(), allow_nan=False)
    rows = json.loads(text)["backtest"]["rows"]
    # a run with too few nearer held-out runs to calibrate on has no interval: inside is None
    assert {type(r["inside"]) for r in rows} <= {bool, type(None)}
    assert sum(type(r["inside"]) is bool for r in rows) == report.backtest.n_checked


def test_names_are_stored_as_checked():
    """law="Data-Constrained" passed the case-insensitive check but run_fit compared it exactly and fitted
    the Chinchilla law instead; approach=2 and form="Chinchilla" raised KeyError deep inside."""
    o = FitOptions(
        approach=2, law="Data-Constrained", form="Chinchilla", reduction="SUM", profile="Cubic"
    )
    assert (o.approach, o.law, o.form, o.reduction, o.profile) == (
        "2", "data-constrained", "chinchilla", "sum", "cubic",
    )  # fmt: skip
    report = run_fit(datasets.load("datablations_c4"), FitOptions(law="Data-Constrained", n_boot=0))
    assert report.primary == "data-constrained"
    assert run_fit(_runs(), FitOptions(form="Chinchilla", n_boot=0)).form == "chinchilla"


def test_numpy_values_are_taken_and_stored_as_python_numbers():
    o = FitOptions(seed=np.int64(3), n_boot=np.int64(5), budgets=np.array([1e20, 1e21]))
    assert (o.seed, o.n_boot, o.budgets) == (3, 5, (1e20, 1e21))
    assert type(o.seed) is int and type(o.n_boot) is int


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"budgets": 1e20}, "budgets"),  # was TypeError: 'float' object is not iterable
        ({"budgets": (1e20, -1.0)}, "budgets"),  # was param 'flops'
        ({"profile": "bad"}, "profile"),  # was accepted
        ({"reduction": "bad"}, "reduction"),  # was raised by fit_parametric, param None
        ({"seed": 2.5}, "seed"),
        ({"seed": np.float32(2.5)}, "seed"),
        ({"fit_base": "no"}, "fit_base"),  # was kept: a truthy 'no' refits E, A, B, alpha, beta
        ({"backtest": "false"}, "backtest"),  # was kept, and truthy
    ],
)
def test_bad_options_name_their_parameter(kwargs, param):
    with pytest.raises(InvalidInputError) as info:
        FitOptions(**kwargs)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("args", "param"),
    [
        ((pd.DataFrame({"n_params": [1e7], "n_tokens": [1e8], "loss": [3.0]}),), "runs"),
        (("results.csv",), "runs"),
        ((None, {"n_boot": 10}), "options"),
    ],
)
def test_run_fit_names_a_wrong_type(args, param):
    """A DataFrame, a path or a dict of options failed with AttributeError inside run_fit."""
    args = tuple(_runs() if a is None else a for a in args)
    with pytest.raises(InvalidInputError, match="must be a") as info:
        run_fit(*args)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n_params": ["1e7", "big"]}, "n_params"),  # was numpy's ValueError: could not convert
        ({"run_id": ["a"]}, "run_id"),  # was accepted: a RunTable of 2 runs with 1 id
        ({"flops_budget": [1e17]}, "flops_budget"),  # was accepted, lengths differ
        ({"unique_tokens": [1e9, 1e9, 1e9]}, "unique_tokens"),  # was numpy's broadcast ValueError
        ({"loss": [3.0, float("nan")]}, "loss"),  # was param None
    ],
)
def test_runs_from_arrays_names_the_bad_column(kwargs, param):
    args = {"n_params": [1e7, 2e7], "loss": [3.0, 2.9], "n_tokens": [1e8, 2e8], **kwargs}
    with pytest.raises(InvalidInputError) as info:
        runs_from_arrays(args.pop("n_params"), args.pop("loss"), **args)
    assert info.value.param == param


def test_runs_from_arrays_takes_dataframe_columns_and_read_runs_points_to_it():
    df = pd.DataFrame({"n_params": [1e7, 2e7], "n_tokens": [1e8, 2e8], "loss": [3.0, 2.9]})
    runs = runs_from_arrays(df["n_params"], df["loss"], n_tokens=df["n_tokens"], unique_tokens=5e7)
    assert list(runs.unique_tokens) == [5e7, 5e7]
    with pytest.raises(InvalidInputError, match=r"not DataFrame; .*runs_from_arrays") as info:
        read_runs(df)
    assert "\n" not in str(info.value)  # the type, not the DataFrame's many-line repr


def test_a_shared_exponent_fit_says_its_a_and_b_are_fixed():
    """form shared-exponent printed 'a 0.5, 80% interval 0.5 .. 0.5' and the fit page highlighted a = 0.500
    beside Approaches 1 and 2, read as a measured exponent; it is the form's alpha = beta."""
    shared = run_fit(_runs(), FitOptions(n_boot=0, form="shared-exponent"))
    assert shared.law.exponents == pytest.approx((0.5, 0.5))
    (note,) = [n for n in shared.notes if "fixes alpha = beta" in n]
    assert "a = b = 0.5" in note and "not measured" in note
    free = run_fit(_runs(), FitOptions(n_boot=0, form="chinchilla"))
    assert not [n for n in free.notes if "fixes alpha = beta" in n]


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        # was TypeError: 'float' object is not iterable
        ({"budgets": 1e16}, "budgets", "must be a list"),
        # was NaN intervals at budget -1
        ({"budgets": [-1.0]}, "budgets", "must be > 0"),
        # were AttributeError
        ({"resampling": {"n_boot": 5}}, "resampling", "must be a Resampling, not dict"),
        ({"fit": None}, "fit", "must be the ParametricFit to bootstrap, not NoneType"),
    ],
)
def test_bootstrap_arguments_are_named_before_any_refit(kwargs, param, message):
    from tokenplan.fit import Resampling, bootstrap_parametric, fit_parametric

    runs = _runs()
    call = {"fit": fit_parametric(runs), "resampling": Resampling(n_boot=5), **kwargs}
    with pytest.raises(InvalidInputError, match=message) as info:
        bootstrap_parametric(runs, **call)
    assert info.value.param == param


def test_resampling_seed_is_checked_like_every_seed():
    """Resampling(seed='x') raised a bare ValueError from int(), seed=-1 numpy's ValueError at the first
    draw, and seed=2.7 was cut to 2."""
    from tokenplan.fit import Resampling

    for seed in ("x", -1, 2.7):
        with pytest.raises(InvalidInputError, match="must be a whole number") as info:
            Resampling(seed=seed)
        assert info.value.param == "seed"
    assert Resampling(seed=np.int64(3)).seed == 3


def test_a_fit_report_repr_is_a_summary_not_every_field():
    """repr(run_fit(...)) printed the dataclass: every field, the law's fitted range and citation, each
    form's fit and bootstrap (~2,000 characters for 20 runs) where every other result has a short repr."""
    report = run_fit(_runs(), FitOptions(n_boot=10))
    text = repr(report)
    assert text.startswith(f"FitReport(law='fit-approach3', form={report.form!r}, runs=24, fit=")
    assert repr(report.fits["3"]) in text and repr(report.backtest) in text
    assert "fitted_range" not in text and len(text) < 500


@pytest.mark.parametrize(
    "name",
    [
        "fit_parametric",
        "fit_isoflop",
        "fit_kaplan",
        "fit_data_constrained",
        "fit_form",
        "backtest",
        "bootstrap_parametric",
        "bootstrap_isoflop",
        "bootstrap_data_constrained",
        "fit_envelope",
        "bootstrap_envelope",
    ],
)
@pytest.mark.parametrize("value", ["results.csv", [1.0, 2.0]], ids=["path", "list"])
def test_every_fit_function_names_a_run_table_it_was_not_given(name, value):
    """run_fit named a path or a DataFrame given as runs, but the functions under it failed on a missing
    attribute: fit_isoflop('results.csv') raised "'str' object has no attribute 'flops_budget'",
    fit_parametric([..]) "'list' object has no attribute 'require_points'"."""
    import tokenplan.fit as fitlib

    fn = getattr(fitlib, name)
    extra = {"fit_form": ("chinchilla",), "backtest": ("chinchilla",)}.get(name, ())
    if name in ("bootstrap_parametric", "bootstrap_data_constrained"):
        extra = (None,)
    param = "curves" if "envelope" in name else "runs"
    kind = "Curves" if "envelope" in name else "RunTable"
    with pytest.raises(InvalidInputError, match=rf"{param} must be a {kind}, not ") as info:
        fn(value, *extra)
    assert info.value.param == param


def test_backtest_of_an_unknown_form_lists_the_forms():
    """backtest(runs, form='x') raised a bare KeyError: 'x'."""
    from tokenplan.errors import UnknownNameError
    from tokenplan.fit import backtest

    with pytest.raises(UnknownNameError, match="valid names: chinchilla, data-constrained") as info:
        backtest(_runs(), "x")
    assert info.value.param == "form"
    assert backtest(_runs(), "Chinchilla").form == "chinchilla"


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"drop_highest": -1}, "drop_highest"),  # dropped nothing without a word
        ({"drop_highest": 2.5}, "drop_highest"),  # TypeError: slice indices must be integers
        (
            {"drop_highest": "3"},
            None,
        ),  # TypeError: '<=' not supported (now 3, as a count's text is)
        ({"drop_invalid": "no"}, "drop_invalid"),  # truthy: dropped the invalid rows
        (
            {"columns": "loss=val_loss"},
            "columns",
        ),  # AttributeError: 'str' object has no attribute 'items'
    ],
)
def test_read_runs_options_are_checked_before_reading(kwargs, param):
    for read in (
        lambda: read_runs(Path(__file__).parents[1] / "data/fit/results.csv", **kwargs),
        lambda: datasets.load("chinchilla_fig4", **kwargs),
    ):
        if param is None:
            assert read().n_dropped >= 3
            continue
        with pytest.raises(InvalidInputError) as info:
            read()
        assert info.value.param == param


def test_every_fit_report_field_is_documented():
    """FitReport's docstring said only 'Everything one tokenplan fit produced': what `primary`, `fits`
    (keyed '1', '2', '3'), `runs_info` or `allocations` hold was left to reading the source."""
    import dataclasses

    from tokenplan.fit import FitReport

    doc = FitReport.__doc__
    assert [f.name for f in dataclasses.fields(FitReport) if f"``{f.name}``" not in doc] == []
