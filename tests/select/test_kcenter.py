"""KCenterGreedy by hand on 2-D points, against a brute-force reference, and K-Means."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenplan.errors import InvalidInputError
from tokenplan.select.cluster import assign, kmeans
from tokenplan.select.kcenter import kcenter_greedy


def _unit(deg):
    a = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def test_hand_computed_on_the_unit_circle():
    """Points at 0, 10, 90, 180, 200 degrees, seed 0 deg. Farthest from {0}: 180 (chord 2). Then the
    nearest-selected angles are 10->10, 90->90, 200->20, so 90 is next (chord 2 sin 45 deg = 1.414). Then
    10->10, 200->20: 200 (chord 2 sin 10 deg = 0.347). Budget 4 = the seed + 3 picks."""
    x = _unit([0, 10, 90, 180, 200])
    res = kcenter_greedy(x, 4, seed_index=0)
    assert res.indices.tolist() == [0, 3, 2, 4]
    assert np.isnan(res.pick_d2[0])
    np.testing.assert_allclose(
        np.sqrt(res.pick_d2[1:]),
        [2.0, 2 * np.sin(np.pi / 4), 2 * np.sin(np.deg2rad(10))],
        atol=1e-5,
    )
    # the only point left is 10 deg, 10 deg from 0: coverage radius = chord(10 deg)
    assert res.coverage_radius == pytest.approx(2 * np.sin(np.deg2rad(5)), abs=1e-5)


def test_seed_counts_against_the_budget_and_picks_are_distinct_even_with_copies():
    x = np.repeat(_unit([0, 90]), 3, axis=0)  # three copies of each point
    res = kcenter_greedy(x, 5, seed_index=1)
    assert len(res.indices) == 5 and len(set(res.indices.tolist())) == 5
    assert res.indices[0] == 1
    assert kcenter_greedy(x, 1, seed_index=4).indices.tolist() == [4]
    assert len(kcenter_greedy(x, 6).indices) == 6


def test_already_selected_points_count_for_coverage_not_budget():
    x = _unit([0, 10, 90, 180, 200])
    res = kcenter_greedy(x, 2, already_selected=np.array([0, 3]))
    assert res.indices.tolist() == [2, 4]


def test_bad_arguments():
    x = _unit([0, 90])
    with pytest.raises(InvalidInputError, match="budget=3 should be <= n_samples=2"):
        kcenter_greedy(x, 3)
    with pytest.raises(InvalidInputError, match="budget"):
        kcenter_greedy(x, 0)
    with pytest.raises(InvalidInputError, match="seed_index"):
        kcenter_greedy(x, 1, seed_index=5)


def _reference(x, budget, seed):
    """The textbook algorithm with a full distance matrix (float64)."""
    d = np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0))
    sel = [seed]
    while len(sel) < budget:
        sel.append(int(np.argmax(d[:, sel].min(axis=1))))
    return sel


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    d=st.integers(2, 8),
    seed=st.integers(0, 10_000),
    frac=st.floats(0.05, 1.0),
)
def test_matches_the_full_distance_matrix_reference(n, d, seed, frac):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    budget = max(1, int(frac * n))
    got = kcenter_greedy(x, budget, seed_index=seed % n, chunk=7).indices.tolist()
    want = _reference(x.astype(np.float64), budget, seed % n)
    # ties between equal distances may break differently in float32: compare the covering radius
    if got != want:
        cov = lambda s: np.sqrt(((x[:, None] - x[s][None]) ** 2).sum(-1)).min(1).max()  # noqa: E731
        assert cov(got) == pytest.approx(cov(want), abs=1e-4)
    else:
        assert got == want


def _blobs(seed=0, k=4, per=50, d=8):
    rng = np.random.default_rng(seed)
    centers = np.eye(d, dtype=np.float32)[:k] * 5
    x = np.concatenate([c + rng.normal(scale=0.3, size=(per, d)) for c in centers]).astype(
        np.float32
    )
    return x, np.repeat(np.arange(k), per)


@pytest.mark.parametrize("backend", ["numpy", "faiss"])
def test_kmeans_recovers_well_separated_blobs(backend):
    if backend == "faiss":
        pytest.importorskip("faiss")
    x, truth = _blobs()
    km = kmeans(x, 4, seed=0, backend=backend)
    assert km.backend == backend and km.centroids.shape == (4, 8)
    # a perfect partition: every true blob maps to exactly one cluster
    assert all(len(np.unique(km.labels[truth == b])) == 1 for b in range(4))
    assert len(np.unique(km.labels)) == 4
    assert km.sizes().tolist() == [50] * 4
    assert "KMeansResult(n_clusters=4" in repr(km)


def test_kmeans_is_deterministic_and_validates():
    x, _ = _blobs(seed=1)
    a = kmeans(x, 3, seed=7, backend="numpy")
    b = kmeans(x, 3, seed=7, backend="numpy")
    np.testing.assert_array_equal(a.labels, b.labels)
    with pytest.raises(InvalidInputError, match="n_clusters=500 should be <= n_samples=200"):
        kmeans(x, 500)
    with pytest.raises(InvalidInputError, match="backend"):
        kmeans(x, 2, backend="cuml")


def test_assign_matches_brute_force():
    rng = np.random.default_rng(3)
    x, c = rng.normal(size=(300, 5)).astype(np.float32), rng.normal(size=(7, 5)).astype(np.float32)
    labels, d2 = assign(x, c, chunk=64)
    full = ((x[:, None] - c[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, full.argmin(1))
    np.testing.assert_allclose(d2, full.min(1), rtol=1e-4, atol=1e-4)


def test_kcenter_from_center_seeds_at_the_row_nearest_the_center():
    from tokenplan.select.kcenter import kcenter_from_center

    x = _unit([0, 10, 90, 180, 200])
    picks, cos = kcenter_from_center(
        x, 3, np.array([np.cos(0.3), np.sin(0.3)])
    )  # ~17 deg: nearest is 10
    assert picks.tolist() == [1, 3, 2]  # then 180 (farthest from 10), then 90
    np.testing.assert_allclose(cos[0], np.cos(np.deg2rad(10) - 0.3), atol=1e-6)


def test_select_modules_import_no_cycle():
    """issue 17: methods <-> ray_backend was a cycle; kcenter_from_center now serves both."""
    import ast
    from pathlib import Path

    import tokenplan.select as pkg

    root = Path(pkg.__file__).parent
    graph = {}
    for f in root.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "tokenplan.select."
            ):
                deps.add(node.module.rsplit(".", 1)[1])
        graph[f.stem] = deps - {"__init__"}

    def reach(a, seen):
        for b in graph.get(a, ()):
            if b not in seen:
                seen.add(b)
                reach(b, seen)
        return seen

    cycles = sorted(m for m in graph if m != "__init__" and m in reach(m, set()))
    assert cycles == [], f"import cycles through {cycles}"


def test_weights_make_a_populated_far_region_beat_a_lone_outlier():
    """Selected {0 deg}. A lone row at 180 deg (chord^2 4) and a pair at 100/101 deg (chord^2 2.35, 2.38).
    Unweighted, 180 is next; with weight 0.1 for the loner and 1 for the pair, 0.1 * 4 < 2.38: 101 deg."""
    x = _unit([0, 180, 100, 101])
    assert kcenter_greedy(x, 1, already_selected=np.array([0])).indices.tolist() == [1]
    w = np.array([1.0, 0.1, 1.0, 1.0])
    assert kcenter_greedy(x, 1, already_selected=np.array([0]), weights=w).indices.tolist() == [3]
    with pytest.raises(InvalidInputError, match="one value per row"):
        kcenter_greedy(x, 1, weights=np.ones(3))


@pytest.mark.parametrize(
    "kwargs, param, message",
    [
        (
            {"weights": np.full(8, np.nan)},
            "weights",
            r"finite and >= 0; bad at rows \[0, 1",
        ),  # 0,0,0,0
        ({"weights": -np.ones(8)}, "weights", r"finite and >= 0"),  # floored without a word
        ({"already_selected": [True, False]}, "already_selected", "not bool values"),  # rows 1, 0
        ({"already_selected": [1.5]}, "already_selected", "not float64 values"),  # row 1
        ({"already_selected": [[1, 2]]}, "already_selected", r"of shape \(1, 2\)"),  # flattened
    ],
    ids=["nan-weights", "negative-weights", "mask", "float", "nested"],
)
def test_greedy_extras_that_would_be_misread_are_named(kwargs, param, message):
    """NaN weights made kcenter_greedy pick row 0 five times ([0 0 0 0 0]); a boolean mask, 1.5 or a
    nested list as already_selected were cast to positions without a word (facility_location too)."""
    from tokenplan.select import facility_location

    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    calls = [kcenter_greedy] + ([facility_location] if "already_selected" in kwargs else [])
    for call in calls:
        with pytest.raises(InvalidInputError, match=message) as info:
            call(x, 3, **kwargs)
        assert info.value.param == param
