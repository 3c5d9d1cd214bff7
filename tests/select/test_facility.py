"""Facility location by hand, against brute force, and the lazy path against the exact one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tokenplan.select.facility as fl_mod
from tokenplan.errors import InvalidInputError
from tokenplan.select.facility import facility_location


def _unit(deg):
    a = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def _objective(x, picks):
    return float(np.max((1 + x @ x[list(picks)].T) / 2, axis=1).sum())


def test_hand_computed_on_the_unit_circle():
    """Points at 0, 10, 20 (a dense blob) and 180 degrees. s = (1 + cos) / 2. Alone, 10 deg represents the
    blob best: gains 1 + 2 cos^2(5 deg)... so pick 1 is 10 deg; with it chosen the blob is nearly covered
    and the far point 180 deg (s = (1 + cos 170) / 2 ~ 0.008 to it) gives the largest gain, ~0.992."""
    x = _unit([0, 10, 20, 180])
    res = facility_location(x, 2)
    assert res.indices.tolist() == [1, 3]
    s = (1 + np.cos(np.deg2rad(10))) / 2
    first = 1 + 2 * s + (1 + np.cos(np.deg2rad(170))) / 2
    assert res.gains[0] == pytest.approx(first, rel=1e-5)
    assert res.gains[1] == pytest.approx(1 - (1 + np.cos(np.deg2rad(170))) / 2, rel=1e-4)
    assert res.objective == pytest.approx((1 + 2 * s + 1) / 4, rel=1e-5)


def test_both_greedy_results_show_their_own_objective():
    """The repr names each picker's final objective (facility: F per client; k-center: the radius)."""
    from tokenplan.select.kcenter import kcenter_greedy

    x = _unit([0, 10, 20, 180])
    fl, kc = facility_location(x, 2), kcenter_greedy(x, 2)
    assert repr(fl) == f"FacilityLocationResult(n_selected=2, objective={fl.objective:.4f})"
    assert repr(kc) == f"KCenterResult(n_selected=2, coverage_radius={kc.coverage_radius:.4f})"
    assert len(fl) == len(kc) == 2


def test_greedy_is_optimal_or_within_one_minus_one_over_e_of_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for k in (1, 2, 3):
        best = max(_objective(x, c) for c in itertools.combinations(range(12), k))
        got = _objective(x, facility_location(x, k).indices)
        assert got >= (1 - 1 / np.e) * best
        if k == 1:
            assert got == pytest.approx(best)


def test_recomputed_rows_pick_the_same_as_the_stored_matrix(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact = facility_location(x, 25)
    monkeypatch.setattr(fl_mod, "_DENSE_MAX", 0)
    lazy = facility_location(x, 25)
    np.testing.assert_array_equal(exact.indices, lazy.indices)
    np.testing.assert_allclose(exact.gains, lazy.gains, rtol=1e-4)
    # already-selected rows are never picked again and count for the objective
    more = facility_location(x, 5, already_selected=exact.indices[:20])
    np.testing.assert_array_equal(more.indices, exact.indices[20:])


def test_client_sample_follows_the_seed():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    a = facility_location(x, 10, max_clients=50, seed=1).indices
    b = facility_location(x, 10, max_clients=50, seed=1).indices
    c = facility_location(x, 10, max_clients=50, seed=2).indices
    np.testing.assert_array_equal(a, b)
    assert a.tolist() != c.tolist()


def test_bad_input():
    x = _unit([0, 90])
    with pytest.raises(InvalidInputError, match="budget=3 should be <= n_samples=2"):
        facility_location(x, 3)
    with pytest.raises(InvalidInputError, match="budget"):
        facility_location(x, 0)
    with pytest.raises(InvalidInputError, match="2-D"):
        facility_location(np.zeros(3, np.float32), 1)


def _brute_greedy(s, k, groups=None):
    """Greedy facility location from the full similarity matrix ``s`` (float64; clients x rows): every
    gain recomputed from scratch at each pick, ties to the lowest index, one pick per group while a group
    without a pick is left."""
    cur = np.zeros(len(s))
    picks = []
    for _ in range(k):
        gains = np.maximum(s - cur[:, None], 0.0).sum(axis=0)
        allowed = np.ones(s.shape[1], dtype=bool)
        allowed[picks] = False
        if groups is not None:
            free = allowed & ~np.isin(groups, groups[picks])
            if free.any():
                allowed = free
        j = int(np.argmax(np.where(allowed, gains, -np.inf)))
        picks.append(j)
        cur = np.maximum(cur, s[:, j])
    return picks


def _random_unit(seed, n=60, d=5):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("h2", [0.05, 0.3, 2.0])
@pytest.mark.parametrize("dense", [True, False])
def test_gaussian_kernel_picks_what_brute_force_greedy_picks(monkeypatch, h2, dense):
    """kernel_scale=h2: s = exp(-||x_i - x_j||^2 / (2 h2)); the incremental gains (stored matrix, or rows
    recomputed with the initial gains summed by chunks) pick exactly what brute-force greedy picks."""
    x = _random_unit(11)
    if not dense:
        monkeypatch.setattr(fl_mod, "_DENSE_MAX", 0)
        monkeypatch.setattr(fl_mod, "_CHUNK", 7)  # several chunks of clients
    x64 = x.astype(np.float64)
    d2 = np.maximum(2.0 - 2.0 * x64 @ x64.T, 0.0)
    s = np.exp(-d2 / (2.0 * h2))
    groups = np.arange(len(x)) % 7
    for g in (None, groups):
        got = facility_location(x, 12, groups=g, kernel_scale=h2)
        assert got.indices.tolist() == _brute_greedy(s, 12, g)
        picks = got.indices.tolist()
        gain0 = s[:, picks[0]].sum()
        assert got.gains[0] == pytest.approx(gain0, rel=1e-4)
        assert got.objective == pytest.approx(s[:, picks].max(axis=1).mean(), rel=1e-4)


def test_no_kernel_scale_keeps_the_cosine_kernel_picks():
    """kernel_scale=None is s = (1 + cos) / 2 as before the option: the picks of the code before it
    (recorded) and of brute-force greedy."""
    x = _random_unit(11)
    groups = np.arange(len(x)) % 7
    before = [8, 51, 4, 57, 24, 31, 58, 5, 47, 0, 15, 16]
    before_groups = [8, 51, 4, 24, 13, 0, 5, 31, 16, 47, 15, 48]
    assert facility_location(x, 12).indices.tolist() == before
    assert facility_location(x, 12, kernel_scale=None).indices.tolist() == before
    assert facility_location(x, 12, groups=groups).indices.tolist() == before_groups
    s = (1.0 + x.astype(np.float64) @ x.astype(np.float64).T) / 2.0
    assert _brute_greedy(s, 12) == before
    assert _brute_greedy(s, 12, groups) == before_groups


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "wide"])
def test_bad_kernel_scale(bad):
    with pytest.raises(InvalidInputError, match="kernel_scale"):
        facility_location(_unit([0, 90]), 1, kernel_scale=bad)
