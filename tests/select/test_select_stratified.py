"""The randomised cell methods: stratified-cells and stratified-inner (one drawn row per K-Means cell,
select/sampling.py) and random-greedy-cells (facility-cells with random greedy)."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from tokenplan.select.cluster import assign, kmeans
from tokenplan.select.facility import facility_location
from tokenplan.select.methods import Pool, n_tail, select
from tokenplan.select.sampling import draw_per_cell, inner_half

STRATIFIED = ("stratified-cells", "stratified-inner")
RANDOMISED = (*STRATIFIED, "random-greedy-cells", "stratified-uniform")


def test_inner_half_by_hand():
    """Cell 0 has squared distances 3, 1, 2: its nearest ceil(3/2) = 2 rows are rows 1 and 2. Cell 1 has
    4, 1, 3, 2: rows 4 and 6."""
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    d2 = np.array([3.0, 1.0, 2.0, 4.0, 1.0, 3.0, 2.0])
    assert inner_half(labels, d2).tolist() == [False, True, True, False, True, False, True]
    assert inner_half(np.array([5]), np.array([9.0])).tolist() == [True]


def test_draw_per_cell_takes_the_lowest_tier_and_is_uniform_inside_it():
    labels = np.array([0, 0, 1, 1, 1])
    tiers = np.array([1, 0, 1, 1, 0])  # each cell has one tier-0 row: it is always the one drawn
    for seed in range(5):
        assert sorted(draw_per_cell(labels, tiers, np.random.default_rng(seed))) == [1, 4]
    rng = np.random.default_rng(0)
    counts = np.bincount(
        [draw_per_cell(np.zeros(4, int), np.zeros(4, int), rng)[0] for _ in range(4000)],
        minlength=4,
    )
    assert counts.min() > 900 and counts.max() < 1100  # 1,000 each expected, sd 27


def _blobs(sizes, dim=32, spread=0.15, seed=0):
    """Unit rows around len(sizes) random directions, ``sizes[c]`` rows in blob c; the blob of each row."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(sizes), dim))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    blob = np.repeat(np.arange(len(sizes)), sizes)
    x = centers[blob] + spread * rng.normal(size=(len(blob), dim)) / np.sqrt(dim)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), blob


@pytest.mark.parametrize("method", RANDOMISED)
def test_exact_n_distinct_same_seed_identical_other_seed_differs(method):
    x, _ = _blobs([60, 40, 30, 20, 10])
    chars = np.random.default_rng(1).integers(0, 500, size=len(x))
    for pool in (
        Pool(embeddings=x, answer_chars=chars),
        Pool(embeddings=x),
    ):  # with answers, prompt-only
        for n in (1, 9, 23, len(x)):
            sel = select(pool, n, method=method, seed=4)
            assert sel.method == method and len(np.unique(sel.indices)) == n == len(sel)
        a, b = select(pool, 23, method=method, seed=4), select(pool, 23, method=method, seed=4)
        assert a.indices.tobytes() == b.indices.tobytes()
        other = select(pool, 23, method=method, seed=5)
        assert sorted(other.indices.tolist()) != sorted(a.indices.tolist())


def test_prompt_only_pool_draws_from_the_inner_half_of_each_cell():
    """No answers (None, or all zero): each head pick lies in the inner half of its K-Means cell."""
    x, _ = _blobs([80, 50, 30])
    for chars in (None, np.zeros(len(x), dtype=np.int64)):
        for method in STRATIFIED:
            sel = select(Pool(embeddings=x, answer_chars=chars), 20, method=method, seed=2)
            head = 20 - n_tail(20)
            km = kmeans(x, head, seed=2)
            labels, d2 = assign(x, km.centroids)
            inner = inner_half(labels, d2)
            assert inner[sel.indices[:head]].all()
            assert len(set(labels[sel.indices[:head]].tolist())) == head  # one pick per cell


def test_answers_at_least_the_median_are_preferred_in_every_cell_that_has_one():
    x, _ = _blobs([80, 50, 30])
    chars = np.random.default_rng(3).integers(0, 1000, size=len(x))
    long = chars >= np.median(chars)
    head = 20 - n_tail(20)
    labels, d2 = assign(x, kmeans(x, head, seed=7).centroids)
    inner = inner_half(labels, d2)
    cells = select(Pool(embeddings=x, answer_chars=chars), 20, method="stratified-cells", seed=7)
    inner_first = select(
        Pool(embeddings=x, answer_chars=chars), 20, method="stratified-inner", seed=7
    )
    for j in cells.indices[:head]:
        assert long[j] or not long[labels == labels[j]].any()
    for j in inner_first.indices[:head]:
        cell = labels == labels[j]
        assert inner[j] or not inner[cell].any()
        assert long[j] or not (long & inner)[cell].any()


def _random_expected_blobs(sizes, n):
    total = sum(sizes)
    return sum(1 - comb(total - s, n) / comb(total, n) for s in sizes)


@pytest.mark.parametrize("method", RANDOMISED)
def test_covers_more_planted_clusters_than_random_expects(method):
    """12 separated blobs of skewed sizes (a few big ones, a long tail). A uniform sample of 10 rows is
    expected to hit 6.0 of them; one drawn row per K-Means cell (9 cells) plus one farthest-first pick
    spreads the picks over the blobs instead of the big ones: at least 1.3x that, over ten seeds."""
    sizes = [300, 150, 100, 75, 60, 50, 40, 35, 30, 25, 20, 18]
    x, blob = _blobs(sizes, spread=0.3)
    expected = _random_expected_blobs(sizes, 10)
    assert 5.5 < expected < 6.5
    got = [
        len(set(blob[select(Pool(embeddings=x), 10, method=method, seed=s).indices].tolist()))
        for s in range(10)
    ]
    assert np.mean(got) >= 1.3 * expected
    random = [
        len(set(blob[select(Pool(embeddings=x), 10, method="random", seed=s).indices].tolist()))
        for s in range(10)
    ]
    assert np.mean(random) < 1.15 * expected  # the check can tell random from the method


def test_random_greedy_draws_among_the_top_gains_and_top_one_is_greedy():
    """random_top=1 is plain greedy. On 41 rows over 0-120 degrees plus one at 240, the first greedy pick
    is the middle row (20, at 60 degrees); with random_top=3 the first pick is one of the three rows of
    largest gain (19, 20, 21), and over seeds more than one of them comes up."""
    a = np.deg2rad(np.r_[np.linspace(0, 120, 41), 240.0])
    x = np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)
    greedy = facility_location(x, 4).indices
    np.testing.assert_array_equal(facility_location(x, 4, random_top=1).indices, greedy)
    firsts = {int(facility_location(x, 1, random_top=3, seed=s).indices[0]) for s in range(20)}
    assert firsts <= {19, 20, 21} and len(firsts) > 1
    again = facility_location(x, 4, random_top=3, seed=7).indices
    np.testing.assert_array_equal(again, facility_location(x, 4, random_top=3, seed=7).indices)
    with pytest.raises(Exception, match="random_top"):
        facility_location(x, 2, random_top=0)


def test_random_greedy_cells_is_facility_cells_with_random_greedy():
    x, _ = _blobs([80, 50, 30])
    sel = select(Pool(embeddings=x), 20, method="random-greedy-cells", seed=3)
    head = 20 - n_tail(20)
    cells = kmeans(x, head, seed=3).labels
    fl = facility_location(x, head, seed=3, groups=cells, random_top=head)
    np.testing.assert_array_equal(sel.indices[:head], fl.indices)
    assert len(set(cells[sel.indices[:head]].tolist())) == head  # one pick per cell


def test_stratified_uniform_draws_one_row_per_cell_with_no_preference_inside_it():
    """One pick in each of the n K-Means cells (same seed), and no tilt toward long answers or central rows:
    over 40 seeds about half the picks have an answer shorter than the pool's median (stratified-cells
    takes none where a cell has a long one) and about half lie outside their cell's inner half."""
    x, _ = _blobs([80, 50, 30])
    chars = np.random.default_rng(3).integers(0, 1000, size=len(x))
    short, outer, picks = 0, 0, 0
    for seed in range(40):
        cells, d2 = assign(x, kmeans(x, 20, seed=seed).centroids)
        sel = select(
            Pool(embeddings=x, answer_chars=chars), 20, method="stratified-uniform", seed=seed
        )
        assert len(set(cells[sel.indices].tolist())) == len(np.unique(cells))  # every cell, once
        short += int((chars[sel.indices] < np.median(chars)).sum())
        outer += int((~inner_half(cells, d2)[sel.indices]).sum())
        picks += len(sel.indices)
    assert 0.4 < short / picks < 0.6
    assert 0.3 < outer / picks < 0.6
