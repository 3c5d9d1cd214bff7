"""Booleans are not numbers (issue 17): ``True`` passes ``float(True) == 1.0``, so every place that checks a
number refuses it by name instead of planning a budget of one FLOP or a model of one parameter."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tokenplan import _checks
from tokenplan.errors import InvalidInputError


@pytest.mark.parametrize(
    "check",
    [
        lambda v: _checks.positive("x", v),
        lambda v: _checks.positive("x", v, allow_zero=True),
        lambda v: _checks.positive_int("x", v),
        lambda v: _checks.in_range("x", v, 0.0, 2.0),
        lambda v: _checks.no_booleans("x", v),
    ],
    ids=["positive", "positive-allow-zero", "positive_int", "in_range", "no_booleans"],
)
@pytest.mark.parametrize("value", [True, False, np.bool_(True)], ids=["True", "False", "np.True_"])
def test_every_number_check_refuses_booleans(check, value):
    with pytest.raises(InvalidInputError) as info:
        check(value)
    assert info.value.param == "x"


def test_the_checks_still_take_numbers():
    assert _checks.positive("x", 1) == 1.0 and _checks.positive_int("x", 3) == 3
    assert _checks.in_range("x", 1, 0.0, 2.0) == 1.0
    _checks.no_booleans("x", [1.0, 2, np.float64(3.0)])
    _checks.no_booleans("x", np.array([1.0, 2.0]))


@pytest.mark.parametrize(
    "values",
    [
        [1e9, True],
        (1e9, False),
        np.array([True, True]),
        np.array([1e9, True], dtype=object),
        [[1.0, True]],
    ],
)
def test_no_booleans_looks_inside_sequences_and_arrays(values):
    with pytest.raises(InvalidInputError, match="holds a boolean"):
        _checks.no_booleans("n_params", values)


def _law_loss(n_params):
    from tokenplan.laws import get_law

    return get_law("chinchilla").loss(n_params, 1e9)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: _law_loss(True), "n_params"),
        (lambda: _law_loss([1e9, True]), "n_params"),
        (lambda: _law_loss(np.array([True, True])), "n_params"),
        (lambda: __import__("tokenplan.plan").plan.plan(flops=True), "flops"),
        (lambda: __import__("tokenplan.plan").plan.repeat(25e9, [1, True]), "epochs"),
        (lambda: __import__("tokenplan.plan").plan.optimal_table([True]), "n_params"),
        (
            lambda: __import__("tokenplan.runs").runs.runs_from_arrays(
                [True, 2e6, 3e6], [3.0, 2.9, 2.8], n_tokens=[1e9] * 3
            ),
            "n_params",
        ),
        (
            lambda: __import__("tokenplan.flops").flops.ModelShape(
                n_layers=True, d_model=64, n_heads=4, vocab_size=100
            ),
            "n_layers",
        ),
    ],
    ids=["loss-scalar", "loss-list", "loss-array", "plan", "repeat", "table", "runs", "shape"],
)
def test_public_functions_refuse_booleans(call, name):
    with pytest.raises(InvalidInputError) as info:
        call()
    assert name in str(info.value)


@pytest.mark.parametrize(
    "filters",
    [{"min_score": True}, {"min_score": "ten"}, {"min_score": float("nan")}, {"min_chars": True}],
)
def test_select_filters_refuse_booleans_and_text_that_is_no_number(filters):
    from tokenplan.select.filters import FilterConfig

    with pytest.raises(InvalidInputError, match="min_"):
        FilterConfig(**filters)
    assert FilterConfig(min_score=-2.5).min_score == -2.5  # negative scores stay valid
    assert (
        FilterConfig(min_score="10").min_score == 10.0
    )  # a number written as text (docs/safety.md)


def test_a_recipe_fraction_of_true_is_refused():
    from tokenplan.select.pipeline import Recipe

    with pytest.raises(InvalidInputError, match="fraction"):
        Recipe.from_dict({"input": "pool.jsonl", "fraction": True})


def test_name_keys_refuses_the_keys_yaml_makes_of_question_marks_and_numbers():
    _checks.name_keys("recipe", {"n_select": 3}, "n_select: 100")  # names pass
    for data, shown in (({None: None}, "None"), ({"a": 1, 1: 2}, "1")):
        with pytest.raises(InvalidInputError, match=f"recipe key {shown} is not a name") as err:
            _checks.name_keys("recipe", data, "n_select: 100", param="recipe")
        assert err.value.param == "recipe" and "e.g. n_select: 100" in str(err.value)


@pytest.mark.parametrize(
    ("inclusive", "inside", "outside", "shown"),
    [
        (True, [0.0, 0.5, 1.0], [-0.1, 1.1, float("nan")], "[0, 1]"),
        (False, [0.5], [0.0, 1.0, float("nan")], "(0, 1)"),
        ("high", [0.5, 1.0], [0.0, 1.1, float("nan")], "(0, 1]"),  # a share: whole, never empty
    ],
)
def test_in_range_closed_open_and_half_open(inclusive, inside, outside, shown):
    for v in inside:
        assert _checks.in_range("x", v, 0.0, 1.0, inclusive=inclusive) == v
    for v in outside:
        with pytest.raises(InvalidInputError, match=rf"must lie in {re.escape(shown)}\.") as info:
            _checks.in_range("x", v, 0.0, 1.0, inclusive=inclusive)
        assert info.value.param == "x"


ARRAYS = {  # name -> (module, maker): pandas is an extra, so its cases skip without it
    "series-1": ("pandas", lambda pd: pd.Series([1e21])),
    "series-2": ("pandas", lambda pd: pd.Series([1.0, 2.0])),
    "dataframe": ("pandas", lambda pd: pd.DataFrame({"a": [1.0]})),
    "array-2": ("numpy", lambda np: np.array([1e21, 2e21])),
}


@pytest.mark.parametrize("kind", ARRAYS)
@pytest.mark.parametrize(
    "check",
    [lambda v: _checks.positive("flops", v), lambda v: _checks.in_range("flops", v, 0.0, 1.0)],
    ids=["positive", "in_range"],
)
def test_an_array_where_a_number_is_wanted_is_one_line(check, kind):
    """A pandas Series' repr spans lines ('flops=0    1.000000e+21\\ndtype: float64 is not a number.')."""
    module, make = ARRAYS[kind]
    value = make(pytest.importorskip(module))
    with pytest.raises(InvalidInputError) as info:
        check(value)
    assert "\n" not in str(info.value) and f"<{type(value).__name__} of shape" in str(info.value)


def test_text_the_cli_reads_gets_the_number_to_pass():
    """Python takes numbers: float() read plan(flops='1e21') while plan(n_params='7B') said only "is not a
    number", with nothing on what to pass. Text the CLI reads as a quantity now gets the number."""
    from tokenplan import plan

    with pytest.raises(InvalidInputError) as e:
        plan(n_params="7B")
    assert str(e.value) == (
        "n_params='7B' is not a number; pass the number 7e+09 (the CLI's 7B; "
        "tokenplan.units.parse_quantity reads such text)."
    )
    assert e.value.param == "n_params"
    with pytest.raises(InvalidInputError, match=r"^n_params='seven' is not a number\.$"):
        plan(n_params="seven")


def test_a_large_whole_count_is_kept_exact():
    """'select --n 99999999999999999999' was refused as 'n_select=100,000,000,000,000,000,000 is more than
    the 40 candidates': the count went through a float. An int is returned as it is; the checks hold."""
    assert _checks.positive_int("n_select", 99999999999999999999) == 99999999999999999999
    assert _checks.positive_int("seed", 0, allow_zero=True) == 0
    for bad, kw in ((0, {}), (-1, {"allow_zero": True}), (True, {})):
        with pytest.raises(InvalidInputError):
            _checks.positive_int("n", bad, **kw)
