"""Selection methods: budgets, LIMA temperature sampling, the 0.5% task-center method, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.select.cluster import kmeans
from tokenplan.select.facility import facility_location
from tokenplan.select.kcenter import kcenter_greedy
from tokenplan.select.methods import (
    DEFAULT_METHOD,
    METHODS,
    TARGET_METHODS,
    Pool,
    lima_quotas,
    n_tail,
    prefer_complete_answers,
    select,
    select_for_target,
    split_budget,
)


def _pool(seed=0, n_domains=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    domains = np.array([f"d{i % n_domains}" for i in range(300)])
    return Pool(embeddings=x, domains=domains, clusters=kmeans(x, 6, seed=seed, backend="numpy"))


def test_split_budget_largest_remainder_by_hand():
    # 10 * [5, 3, 2] / 10 = [5, 3, 2]; 7 * [5,3,2]/10 = [3.5, 2.1, 1.4] -> floors [3,2,1], one left -> 0.5 wins
    assert split_budget(np.array([5, 3, 2]), 10).tolist() == [5, 3, 2]
    assert split_budget(np.array([5, 3, 2]), 7).tolist() == [4, 2, 1]
    assert split_budget(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]  # ties: first groups first
    with pytest.raises(InvalidInputError, match="n_select=11 should be <= n_samples=10"):
        split_budget(np.array([5, 3, 2]), 11)


def test_lima_quotas_temperature_three_by_hand():
    """p_d ∝ n_d^(1/3) (LIMA sec. 2.1). Sizes 1000 and 8: weights 10 and 2, so 60 picks -> 50 and 10;
    the small domain holds only 8, so it is capped and its surplus of 2 goes to the big one."""
    assert lima_quotas(np.array([1000, 8]), 60).tolist() == [52, 8]
    assert lima_quotas(np.array([1000, 8]), 12).tolist() == [10, 2]
    # tau = 1 is proportional sampling
    assert lima_quotas(np.array([300, 100]), 40, tau=1).tolist() == [30, 10]
    # very large tau is uniform over domains
    assert lima_quotas(np.array([300, 100, 20]), 30, tau=1e9).tolist() == [10, 10, 10]
    assert lima_quotas(np.array([5, 5]), 10).tolist() == [5, 5]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_returns_exactly_n_distinct_and_is_deterministic(method):
    pool = _pool()
    for n in (1, 7, 300):
        sel = select(pool, n, method=method, seed=3)
        assert len(sel) == n and len(np.unique(sel.indices)) == n
        assert sel.indices.min() >= 0 and sel.indices.max() < 300
    a = select(pool, 20, method=method, seed=5)
    b = select(pool, 20, method=method, seed=5)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert method in repr(a)


def test_random_depends_on_seed():
    pool = _pool()
    a, b = select(pool, 20, method="random", seed=1), select(pool, 20, method="random", seed=2)
    assert a.indices.tolist() != b.indices.tolist()


def test_lima_method_follows_the_quotas():
    pool = _pool(n_domains=3)
    sel = select(pool, 30, method="lima", seed=0)
    names, counts = np.unique(pool.domains[sel.indices], return_counts=True)
    assert dict(zip(names.tolist(), counts.tolist())) == {"d0": 10, "d1": 10, "d2": 10}
    with pytest.raises(InvalidInputError, match="--domain-field"):
        select(Pool(embeddings=pool.embeddings), 5, method="lima")


def test_task_center_seeds_at_the_sample_closest_to_the_biggest_clusters_centroid():
    """0.5% method (Chen et al. 2023): the first pick of a task is its sample of highest cosine to the
    centroid of the K-Means cluster that holds most of the task's samples."""
    pool = _pool()
    x, km = pool.embeddings, pool.clusters
    sel = select(Pool(embeddings=x, clusters=km), 10, method="task-center")
    top = np.argmax(np.bincount(km.labels))
    center = km.centroids[top] / np.linalg.norm(km.centroids[top])
    assert sel.indices[0] == int(np.argmax(x @ center))
    assert sel.scores[0] == pytest.approx(float(np.max(x @ center)), abs=1e-6)
    # with domains, every task gets its share of the budget (100 samples each -> 4/3/3 of 10)
    sel = select(pool, 10, method="task-center")
    _, counts = np.unique(pool.domains[sel.indices], return_counts=True)
    assert sorted(counts.tolist()) == [3, 3, 4]


def test_kcenter_per_cluster_splits_the_budget_by_cluster_size_and_threads_change_nothing():
    pool = _pool()
    one = select(pool, 30, method="kcenter-per-cluster", n_workers=1)
    two = select(pool, 30, method="kcenter-per-cluster", n_workers=2)
    np.testing.assert_array_equal(one.indices, two.indices)
    want = split_budget(pool.clusters.sizes(), 30)
    got = np.bincount(pool.clusters.labels[one.indices], minlength=6)
    np.testing.assert_array_equal(got, want)


def test_kcenter_starts_at_a_row_drawn_with_the_seed():
    pool = _pool()
    for seed in (0, 1, 7):
        sel = select(pool, 5, method="kcenter", seed=seed)
        assert sel.indices[0] == int(np.random.default_rng(seed).integers(300))
        rest = kcenter_greedy(pool.embeddings, 5, seed_index=int(sel.indices[0])).indices
        np.testing.assert_array_equal(sel.indices, rest)


@pytest.mark.parametrize("method", ["random", "kcenter", "lima", "kmeans-medoids"])
def test_random_methods_change_with_the_seed(method):
    pool = _pool()
    a = select(pool, 20, method=method, seed=1).indices
    b = select(pool, 20, method=method, seed=2).indices
    assert sorted(a.tolist()) != sorted(b.tolist())


def test_facility_kcenter_is_facility_location_then_one_in_ten_density_weighted_farthest_first():
    pool = _pool()
    sel = select(pool, 20, method="facility-kcenter")
    assert sel.method == "facility-kcenter"
    head = facility_location(pool.embeddings, 18).indices
    np.testing.assert_array_equal(sel.indices[:18], head)
    typical = (1 + pool.embeddings @ pool.embeddings.mean(0)) / 2
    far = kcenter_greedy(pool.embeddings, 2, already_selected=head, weights=typical).indices
    np.testing.assert_array_equal(sel.indices[18:], far)
    assert [n_tail(n) for n in (1, 2, 10, 11, 80)] == [0, 1, 1, 2, 8]


def test_the_default_is_facility_location_one_pick_per_kmeans_cell_then_the_tail():
    """facility-cells without answer lengths: K-Means with k = 18 cells (seeded), greedy facility location
    with at most one pick per cell, then 2 density-weighted farthest-first picks."""
    pool = _pool()
    x = pool.embeddings
    assert DEFAULT_METHOD == "facility-cells"
    sel = select(pool, 20, seed=5)
    assert sel.method == "facility-cells"
    cells = kmeans(x, 18, seed=5).labels
    head = facility_location(x, 18, groups=cells).indices
    np.testing.assert_array_equal(sel.indices[:18], head)
    assert len(set(cells[head].tolist())) == 18  # one pick per cell
    typical = (1 + x @ x.mean(0)) / 2
    far = kcenter_greedy(x, 2, already_selected=head, weights=typical).indices
    np.testing.assert_array_equal(sel.indices[18:], far)
    assert sorted(select(pool, 20, seed=6).indices.tolist()) != sorted(sel.indices.tolist())


def test_groups_allow_one_pick_each_until_every_group_has_one():
    """41 rows spread over 0-120 degrees (group 0) and one at 240 (group 1). Unconstrained, both picks go
    to the crowd (60 deg, then 15 deg: covering 41 rows beats one stray). With groups the second pick must
    be the stray; the third, every group having its pick, goes back to the crowd."""
    x = _unit_deg([*np.linspace(0, 120, 41), 240])
    groups = np.array([0] * 41 + [1])
    assert facility_location(x, 2).indices.tolist() == [20, 5]
    grouped = facility_location(x, 3, groups=groups).indices.tolist()
    assert grouped[:2] == [20, 41] and groups[grouped[2]] == 0
    with pytest.raises(InvalidInputError, match="one label per row"):
        facility_location(x, 2, groups=np.array([0, 1]))


def test_short_answers_are_swapped_for_a_longer_one_nearby_and_only_then():
    """Cell of pick 0: rows 0-3 (0, 2, 4, 6 degrees), plus a far row 4 (90 degrees) picked by itself.
    Pool median answer = 150 chars. Pick 0 answers in 10 chars: the inner half of its cell (distance <=
    the cell's median) is rows 0 and 1, and row 1 is the one there with >= 150 chars;
    row 3 (longest, but outer) is never taken. Pick 4 is long already: kept."""
    x = _unit_deg([0, 2, 4, 6, 90])
    chars = np.array([10, 150, 20, 500, 300])
    assert prefer_complete_answers(x, np.array([0, 4]), chars).tolist() == [1, 4]
    assert prefer_complete_answers(x, np.array([0, 4]), None).tolist() == [0, 4]
    assert prefer_complete_answers(x, np.array([0, 4]), np.zeros(5)).tolist() == [0, 4]
    long_enough = np.array([200, 150, 20, 500, 300])  # median 200: pick 0 is not short
    assert prefer_complete_answers(x, np.array([0, 4]), long_enough).tolist() == [0, 4]


def test_needed_swaps_only_the_fewest_short_picks_nearest_replacement_first():
    """Three picks (rows 0, 4, 8 at 0, 90, 180 degrees), each the first of a four-row cell; pool median
    answer 222 chars. Picks 0 and 4 are short; pick 8 is long. Each short pick has one long row in its
    inner half: row 1 at 20 degrees from pick 0, row 5 at 5 degrees from pick 4. needed=2 wants one more
    long pick, and takes the swap that moves least (row 5 for pick 4, though pick 0 comes first); needed=1
    is met already; needed=3 or None swap both (as many as there are)."""
    x = _unit_deg([0, 20, 30, 35, 90, 95, 125, 130, 180, 200, 220, 250])
    chars = np.array([20, 400, 30, 35, 25, 450, 40, 44, 500, 600, 700, 800])
    picks = np.array([0, 4, 8])
    assert prefer_complete_answers(x, picks, chars, needed=2).tolist() == [0, 5, 8]
    assert prefer_complete_answers(x, picks, chars, needed=1).tolist() == [0, 4, 8]
    assert prefer_complete_answers(x, picks, chars, needed=3).tolist() == [1, 5, 8]
    assert prefer_complete_answers(x, picks, chars).tolist() == [1, 5, 8]
    assert prefer_complete_answers(x, picks, None, needed=3).tolist() == [0, 4, 8]


def _unit_deg(deg):
    a = np.deg2rad(np.asarray(deg, dtype=float))
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def test_kmeans_medoids_takes_the_row_nearest_each_centroid():
    """Three tight blobs and budget 3: one pick per blob, each the blob's medoid."""
    rng = np.random.default_rng(0)
    centers = np.eye(3, dtype=np.float32)
    x = np.concatenate([c + 0.05 * rng.normal(size=(20, 3)) for c in centers]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sel = select(Pool(embeddings=x), 3, method="kmeans-medoids", seed=0)
    assert sorted(i // 20 for i in sel.indices) == [0, 1, 2]
    for i in sel.indices:
        blob = np.arange(20) + 20 * (i // 20)
        mean = x[blob].mean(0)
        assert i == blob[np.argmin(((x[blob] - mean) ** 2).sum(1))]


def _blobs(seed=0):
    """Four blobs of 50 rows on the axes of R^4, labelled by blob."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.eye(4)[b] + 0.15 * rng.normal(size=(50, 4)) for b in range(4)])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return x, np.repeat(np.arange(4), 50)


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_target_selection_picks_the_targets_blob(method):
    x, label = _blobs()
    km = kmeans(x, 4, seed=0, backend="numpy")
    target = x[label == 2][:3] + 0.01
    sel = select_for_target(Pool(embeddings=x, clusters=km), target, 10, method=method)
    assert len(np.unique(sel.indices)) == 10
    assert (label[sel.indices] == 2).all()


def test_target_task_center_follows_the_paper():
    """Distribution center = centroid of the cluster holding most target rows; the first pick is the pool row
    of highest cosine to it; the rest is KCenterGreedy over that cluster's members."""
    x, label = _blobs(1)
    km = kmeans(x, 4, seed=0, backend="numpy")
    target = np.concatenate([x[label == 1][:3], x[label == 3][:1]])  # most targets sit in blob 1
    sel = select_for_target(Pool(embeddings=x, clusters=km), target, 5, method="task-center")
    top = np.argmax(np.bincount(km.labels[np.flatnonzero(label == 1)[:3]], minlength=4))
    members = np.flatnonzero(km.labels == top)
    center = km.centroids[top] / np.linalg.norm(km.centroids[top])
    assert sel.indices[0] == members[np.argmax(x[members] @ center)]
    want = members[
        kcenter_greedy(x[members], 5, seed_index=int(np.argmax(x[members] @ center))).indices
    ]
    np.testing.assert_array_equal(sel.indices, want)
    # a budget larger than the cluster tops it up with the rows nearest the center
    big = select_for_target(
        Pool(embeddings=x, clusters=km), target, len(members) + 3, method="task-center"
    )
    assert set(members) < set(big.indices.tolist())


def test_target_centroid_is_the_default_and_ranks_by_the_examples_mean():
    """centroid: the rows of highest cosine to the normalised mean of the examples, best first; it is
    select_for_target's default. An outlier example does not pull picks to its own blob, as nearest does."""
    x, label = _blobs(2)
    pool = Pool(embeddings=x, clusters=kmeans(x, 4, seed=0, backend="numpy"))
    target = np.concatenate([x[label == 1][:4], x[label == 3][:1]])  # one example off-task
    sel = select_for_target(pool, target, 12)
    assert sel.method == "target:centroid"
    mean = target.mean(0) / np.linalg.norm(target.mean(0))
    np.testing.assert_array_equal(sel.indices, np.argsort(-(x @ mean), kind="stable")[:12])
    np.testing.assert_allclose(sel.scores, (x @ mean)[sel.indices], rtol=1e-6)
    assert (label[sel.indices] == 1).all()
    near = select_for_target(pool, target, 12, method="nearest")
    assert (label[near.indices] == 3).any()


def test_target_bad_input():
    x, _ = _blobs()
    pool = Pool(embeddings=x, clusters=kmeans(x, 4, seed=0, backend="numpy"))
    with pytest.raises(InvalidInputError, match="target") as err:
        select_for_target(pool, np.zeros((0, 4), np.float32), 5)
    assert err.value.param == "target"
    with pytest.raises(InvalidInputError, match="width 4"):
        select_for_target(pool, np.zeros((2, 3), np.float32), 5)
    with pytest.raises(InvalidInputError, match="n_select=201"):
        select_for_target(pool, x[:2], 201)
    with pytest.raises(UnknownNameError):
        select_for_target(pool, x[:2], 5, method="herding")


def test_bad_method_and_budget():
    pool = _pool()
    with pytest.raises(
        UnknownNameError,
        match="kmeans-medoids, lima, random, random-greedy-cells, stratified-cells, stratified-inner, stratified-uniform",
    ):
        select(pool, 5, method="herding")
    with pytest.raises(InvalidInputError, match="n_select=301 should be <= n_samples=300"):
        select(pool, 301)
    with pytest.raises(InvalidInputError, match="n_select"):
        select(pool, 0)
    with pytest.raises(InvalidInputError, match="needs a K-Means partition"):
        select(Pool(embeddings=pool.embeddings), 5, method="task-center")


def test_coinciding_picks_give_no_numpy_warning():
    """Rows embedded at one point (texts an embedder has no features for: emoji or punctuation alone under
    `--embedder tfidf`, or zero rows of `--embeddings`) made two picks coincide, one owning an empty
    cell, and the answer swap took np.median of it: 'RuntimeWarning: Mean of empty slice' on the terminal."""
    import warnings

    x = np.zeros((30, 4), dtype=np.float32)
    x[:10] = np.eye(4, dtype=np.float32)[np.arange(10) % 4]
    chars = np.arange(30) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sel = select(Pool(embeddings=x, answer_chars=chars), 8, method="facility-cells", seed=0)
    assert len(set(sel.indices.tolist())) == 8


@pytest.mark.parametrize(
    "parts, param",
    [
        (dict(answer_chars=np.arange(10)), "answer_chars"),
        (dict(domains=np.array(["a"] * 3)), "domains"),
    ],
    ids=["answer-chars", "domains"],
)
def test_a_pool_whose_parts_disagree_on_its_rows_is_named(parts, param):
    """answer_chars for 10 of 50 rows failed with 'IndexError: index 18 is out of bounds', and 3 domains
    for 50 embeddings said 'n_select=5 should be <= n_samples=3'."""
    x = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    with pytest.raises(
        InvalidInputError, match=r"describe different numbers of rows \(embeddings 50"
    ) as e:
        Pool(embeddings=x, **parts)
    assert e.value.param == param


@pytest.mark.parametrize(
    "chars", [-np.arange(5), np.array([1.0, np.nan, 2, 3, 4])], ids=["neg", "nan"]
)
def test_answer_lengths_must_be_lengths(chars):
    with pytest.raises(InvalidInputError, match="finite and >= 0") as e:
        Pool(embeddings=np.eye(5, dtype=np.float32), answer_chars=chars)
    assert e.value.param == "answer_chars"


@pytest.mark.parametrize(
    "n_tokens, message",
    [
        (np.arange(5) + 1, r"one count per pool row \(300\), got shape \(5,\)"),  # was IndexError
        (-np.arange(300), r"finite counts >= 0; bad at rows \[1, 2, 3, 4, 5\]"),  # every row fit
        (
            np.full(300, np.nan),
            r"finite counts >= 0; bad at rows \[0, 1, 2, 3, 4\]",
        ),  # every row fit
    ],
    ids=["short", "negative", "nan"],
)
def test_token_counts_that_are_not_counts_per_row_are_named(n_tokens, message):
    """select_by_tokens: counts for 5 of 300 rows failed with an IndexError; negative or NaN counts (NaN
    cast to int64 is a huge negative number) fitted every row into a 100-token budget."""
    from tokenplan.select.methods import select_by_tokens

    with pytest.raises(InvalidInputError, match=message) as info:
        select_by_tokens(_pool(), n_tokens, 100, method="random")
    assert info.value.param == "n_tokens"


@pytest.mark.parametrize("method", TARGET_METHODS)
def test_a_target_with_nan_rows_is_named(method):
    """select_for_target with a NaN example row returned picks ranked by NaN scores without a word."""
    pool = _pool()
    target = pool.embeddings[:3].copy()
    target[1, 0] = np.nan
    with pytest.raises(
        InvalidInputError, match=r"NaN or inf values in 1 row\(s\), first \[1\]"
    ) as info:
        select_for_target(pool, target, 5, method=method)
    assert info.value.param == "target"
