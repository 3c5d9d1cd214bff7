"""Coverage report numbers by hand, and K-Center beating a random subset on coverage."""

from __future__ import annotations

import math
from math import comb

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.select.kcenter import kcenter_greedy
from tokenplan.select.metrics import (
    coverage,
    kl_divergence,
    nearest_selected_distance,
    random_expectation,
)


def _unit(deg):
    a = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def test_coverage_by_hand():
    """Points at 0, 60, 90, 180 degrees; selected {0, 180}. Chords: 0 -> 0; 60 -> 2 sin 30 = 1;
    90 -> 2 sin 45 = 1.414; 180 -> 0. Radius 1.414, mean 0.604, p95 by linear interpolation."""
    x = _unit([0, 60, 90, 180])
    d = nearest_selected_distance(x, np.array([0, 3]), chunk=3)
    np.testing.assert_allclose(d, [0, 1, math.sqrt(2), 0], atol=1e-4)
    rep = coverage(
        x,
        np.array([0, 3]),
        cluster_labels=np.array([0, 0, 1, 1]),
        n_clusters=3,
        domains=np.array(["a", "a", "b", "b"]),
        n_tokens=np.array([5, 6, 7, 8]),
    )
    assert rep.coverage_radius == pytest.approx(math.sqrt(2), abs=1e-4)
    assert rep.mean_distance == pytest.approx((1 + math.sqrt(2)) / 4, abs=1e-4)
    assert rep.p95_distance == pytest.approx(
        float(np.percentile([0, 1, math.sqrt(2), 0], 95)), abs=1e-4
    )
    assert rep.clusters_hit_share == pytest.approx(2 / 3)  # cluster 2 is empty in the pool: not hit
    assert rep.kl_clusters == pytest.approx(0.0, abs=1e-12)  # 1/2, 1/2 in both
    assert rep.per_domain == {"a": 1, "b": 1}
    assert (rep.domains_covered, rep.n_domains) == (2, 2)
    # a random pair of the 4 rows misses domain a only if both are b: C(2, 2) / C(4, 2) = 1/6, likewise b
    assert rep.domains_random_mean == pytest.approx(2 * (1 - 1 / 6))
    assert rep.n_tokens == 13
    assert "coverage_radius=1.4142" in repr(rep)
    assert rep.to_dict()["n_selected"] == 2


def test_kl_divergence_by_hand():
    # subset all in "a" (p = [1, 0]), pool a:b = 1:3 (q = [0.25, 0.75]): KL = 1 * ln(1/0.25) = ln 4
    assert kl_divergence(np.array(["a", "a"]), np.array(["a", "b", "b", "b"])) == pytest.approx(
        math.log(4)
    )
    assert kl_divergence(np.array([1, 2]), np.array([1, 2, 1, 2])) == pytest.approx(0.0)
    with pytest.raises(InvalidInputError, match="not in the pool"):
        kl_divergence(np.array(["z"]), np.array(["a", "b"]))


def test_bad_selections():
    x = _unit([0, 90])
    with pytest.raises(InvalidInputError, match="at least one"):
        coverage(x, np.array([], dtype=int))
    with pytest.raises(InvalidInputError, match=r"\[0, 2\)"):
        coverage(x, np.array([2]))


def test_kcenter_covers_a_clustered_pool_better_than_random():
    """On 20 tight blobs of very different sizes, farthest-first reaches every blob; random misses the
    small ones, so its coverage radius is far larger."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(20, 32))
    sizes = np.r_[np.full(2, 900), np.full(18, 5)]
    x = np.concatenate([c + 0.05 * rng.normal(size=(s, 32)) for c, s in zip(centers, sizes)])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    kc = kcenter_greedy(x, 25).indices
    rand = np.random.default_rng(1).choice(len(x), 25, replace=False)
    a, b = coverage(x, kc), coverage(x, rand)
    assert a.coverage_radius < 0.5 * b.coverage_radius


@pytest.mark.parametrize(
    "selected, message",
    [
        (np.array([True, False, True, False]), r"integer pool positions, not bool .*flatnonzero"),
        ([1.5], r"integer pool positions, not float64"),
        ([1, 1], r"a position more than once"),
        ([[0, 1]], r"a 1-D list"),
    ],
    ids=["bool-mask", "float", "repeated", "2-d"],
)
def test_coverage_refuses_positions_it_would_misread(selected, message):
    """A boolean mask was cast to positions 0 and 1 (n_selected=4/4 with row 1's radius), 1.5 read as 1
    and [1, 1] counted two picks: each gave a report without a word."""
    with pytest.raises(InvalidInputError, match=message) as info:
        coverage(_unit([0, 60, 90, 180]), selected)
    assert info.value.param == "selected"


def test_coverage_names_non_finite_rows_and_mismatched_labels():
    """A NaN row gave coverage_radius=nan (docs/select.md: a NaN row is an error, not a NaN radius), and
    labels of another length an IndexError or a silent report."""
    x = _unit([0, 60, 90, 180])
    x[2, 0] = np.nan
    with pytest.raises(
        InvalidInputError, match=r"NaN or inf values in 1 row\(s\), first \[2\]"
    ) as info:
        coverage(x, [0])
    assert info.value.param == "embeddings"
    for key in ("cluster_labels", "domains", "n_tokens"):
        with pytest.raises(
            InvalidInputError, match=rf"{key} has 3 values but embeddings has 4"
        ) as e:
            coverage(_unit([0, 60, 90, 180]), [0], **{key: np.array([0, 1, 1])})
        assert e.value.param == key


def test_every_selection_report_field_is_documented():
    """SelectionReport left n_rows, drop_reasons, selected, coverage (typed Any) ... to the source; each
    field now has a docstring, as Recipe's do."""
    import ast
    import inspect

    from tokenplan.select import pipeline

    tree = ast.parse(inspect.getsource(pipeline.SelectionReport))
    body = tree.body[0].body
    undocumented = [
        node.target.id
        for node, after in zip(body, [*body[1:], None])
        if isinstance(node, ast.AnnAssign)
        and not (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant))
    ]
    assert undocumented == []
    assert "Any" not in str(pipeline.SelectionReport.__annotations__["coverage"])


def test_random_expectation_is_the_hypergeometric_miss_probability():
    """A label of s rows out of N is missed by a uniform n-subset with probability C(N - s, n) / C(N, n)."""
    labels = np.array(["a"] * 5 + ["b"] * 2 + ["c"] * 1 + ["d"] * 92)
    n = 10
    want = sum(1 - comb(100 - s, n) / comb(100, n) for s in (5, 2, 1, 92))
    got = random_expectation(labels, n)
    assert got["labels"] == pytest.approx(want, rel=1e-12)
    # dense labels hold >= 2% of the pool: a (5), b (2), d (92); c (1) is not dense
    dense = [1 - comb(100 - s, n) / comb(100, n) for s in (5, 2, 92)]
    assert got["dense_recall"] == pytest.approx(sum(dense) / 3, rel=1e-12)


def test_random_expectation_without_a_dense_label_is_nan_and_silent():
    """79 even labels (StereoSet's targets): none holds 2% of the rows, so dense recall is undefined; it was
    numpy's 'Mean of empty slice' RuntimeWarning on the user's stderr (select --domain-field), now NaN."""
    import warnings

    labels = np.repeat(np.arange(79), 27)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = random_expectation(labels, 20)
    assert np.isnan(got["dense_recall"])
    assert got["labels"] == pytest.approx(79 * (1 - comb(79 * 27 - 27, 20) / comb(79 * 27, 20)))
