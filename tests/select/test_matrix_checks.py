"""Embedding matrices given from Python: a NaN or inf row is named before KCenterGreedy, facility location
or K-Means run (they returned a NaN radius or objective, or faiss stopped with a C++ RuntimeError), and a
Recipe given a DataFrame as its input says it needs a path."""

from __future__ import annotations

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.select import Recipe, facility_location, kcenter_greedy, kmeans

# pandas comes with the fit and select extras, not the core
pd = pytest.importorskip("pandas")


def _x(bad=None):
    x = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if bad is not None:
        x[[3, 7], 2] = bad
    return x


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
@pytest.mark.parametrize(
    "call",
    [
        lambda x: kcenter_greedy(x, 5),
        lambda x: facility_location(x, 5),
        lambda x: kmeans(x, 4),
        lambda x: kmeans(x, 4, backend="numpy"),
    ],
    ids=["kcenter", "facility", "kmeans", "kmeans-numpy"],
)
def test_non_finite_rows_are_named(call, bad):
    with pytest.raises(
        InvalidInputError, match=r"NaN or inf values in 2 row\(s\), first \[3, 7\]"
    ) as info:
        call(_x(bad))
    assert info.value.param == "x"


def test_finite_matrices_still_work_in_any_float_type():
    for x in (_x(), _x().astype(np.float64), pd.DataFrame(_x())):
        assert len(kcenter_greedy(x, 5).indices) == 5
    assert kmeans(_x(), 4).labels.shape == (40,)


def test_text_in_a_matrix_is_named():
    with pytest.raises(InvalidInputError) as info:
        kcenter_greedy(np.array([["a", "b"], ["c", "d"]]), 1)
    assert info.value.param == "x"


def test_a_dataframe_input_is_named_not_a_pandas_error():
    """Recipe(input=DataFrame) raised pandas' 'truth value of a DataFrame is ambiguous'."""
    df = pd.DataFrame({"instruction": ["a"] * 3, "output": ["b"] * 3})
    with pytest.raises(InvalidInputError, match=r"input must be a path .*not DataFrame"):
        Recipe(input=df, n_select=1)


@pytest.mark.parametrize("recipe", [{"input": "pool.jsonl", "n_select": 5}, None, "recipe.yaml"])
def test_run_given_no_recipe_names_it(recipe):
    """select.run({...}) or run(None) raised AttributeError ('dict' object has no attribute 'cache_dir')."""
    from tokenplan.select import run

    with pytest.raises(InvalidInputError, match=r"recipe must be a Recipe, not ") as info:
        run(recipe)
    assert info.value.param == "recipe"
