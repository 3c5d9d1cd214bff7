"""Selection methods, chosen by name through :data:`METHODS` (what each optimises: docs/select.md).

- ``facility-cells`` (the default, :data:`DEFAULT_METHOD`): K-Means with one cell per pick (seeded), greedy
  facility location with at most one pick per cell (representative rows, spread over equal-mass regions of
  the pool), then only as many short-answer picks swapped for a nearby long one as keep the subset's median
  answer at least the pool's (:func:`prefer_complete_answers` with ``needed``, LIMA's preference at the
  least cost in coverage), then one pick in ten (rounded up) by density-weighted farthest-first, as in
  facility-kcenter. Chosen by bench/select_quality.py (docs/select.md says why it should generalise).
- ``facility-kcenter``: nine picks in ten by greedy facility location (rows that represent the pool: every
  row wants a selected row near it, so dense regions are covered), then one in ten (rounded up) by
  density-weighted farthest-first from those picks (each row's squared distance to the subset times its mean
  similarity to the pool), so no populated region stays far from the subset. Deterministic on pools of up to
  4,096 rows.
- ``facility-location``: greedy facility location alone (:mod:`~tokenplan.select.facility`).
- ``kmeans-medoids``: K-Means with k = n (seeded), the row nearest each centroid; empty clusters are filled
  farthest-first.
- ``random``: a uniform sample without replacement.
- ``lima``: domain-balanced temperature sampling (LIMA, Zhou et al. 2023): domain d gets a share
  p_d ∝ n_d^(1/tau), tau = 3, capped at the domain's size (the surplus goes to the other domains), then a
  uniform sample inside each domain.
- ``kcenter``: one KCenterGreedy over the pool from a random first row (drawn with ``seed``, as DeepCore
  draws it): minimises the coverage radius, and so picks outliers.
- ``task-center``: the "0.5% data" method (Chen et al. 2023): K-Means; for each task (the domain field, or the
  whole pool), the distribution center is the centroid of the cluster holding most of the task's samples; rank
  the task's samples by cosine to it (the ``score``); KCenterGreedy seeded at the top-ranked sample. With
  several tasks the budget is split by task size. For one downstream task given by examples, see
  :func:`select_for_target`.
- ``random-greedy-cells``: facility-cells with random greedy (Buchbinder et al. 2014): each pick drawn
  uniformly among the open rows of the h largest gains, so a cell that mixes labels does not give its
  majority label at every seed; 1 - 1/e of the optimum in expectation, as greedy. It swaps every
  short-answer pick (facility-cells' swap before 2026-12-03, the version it was measured with).
- ``stratified-cells``: K-Means with one cell per pick before the tail (seeded), one row drawn uniformly in
  each cell among its rows with an answer at least the pool's median (prompt-only: its inner half), then the
  farthest-first tail: a stratified sample (Cochran 1977), which keeps random's label shares inside a cell.
- ``stratified-inner``: the same, drawn among the cell's inner half with a long-enough answer.
- ``stratified-uniform``: plain stratified sampling: K-Means with k = n cells (seeded), one row drawn uniformly
  in each cell, no answer preference and no tail. The one method never below 0.97x random's label coverage on
  the benchmark's 52 pool-budgets with MiniLM alone (docs/select.md; under the default embedding, once in
  76); it gives up part of facility-cells' gain where the embedding separates the labels, and its answers
  are the pool's typical ones.
- ``kcenter-per-cluster``: K-Means partition; the budget split by cluster size (largest remainder); one
  KCenterGreedy per cluster, seeded at the sample closest to its centroid; clusters run in parallel (threads,
  or one Ray task per cluster).

Budgets: every method returns exactly ``n_select`` distinct indices; for the KCenter methods the seed point is
one of them (it counts against the budget). Every random choice follows ``seed``: the same seed gives the same
picks; K-Means (kmeans-medoids, and the partition the pipeline gives task-center and kcenter-per-cluster), the
kcenter first row, random, lima, facility-cells (its cells), random-greedy-cells and the stratified methods
change with it.
Facility location draws only its client sample (pools above 4,096 rows), so facility-location and
facility-kcenter are deterministic on smaller pools.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from tokenplan._checks import choice, finite_rows, positive, positive_int
from tokenplan.errors import InvalidInputError
from tokenplan.select.cluster import KMeansResult
from tokenplan.select.kcenter import kcenter_from_center, kcenter_greedy

__all__ = [
    "METHODS",
    "Pool",
    "Selection",
    "lima_quotas",
    "prefer_complete_answers",
    "select",
    "split_budget",
]


@dataclass(frozen=True)
class Pool:
    """What a method sees: embeddings (n, d) L2-normalised, domain labels (n,), a K-Means partition, and
    each row's answer length in characters (None, or all zero, for a prompt-only pool)."""

    embeddings: np.ndarray | None = None
    domains: np.ndarray | None = None
    clusters: KMeansResult | None = None
    answer_chars: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Every part given describes the same rows: answer lengths of another length failed with an
        IndexError inside a method, and a shorter domain list was taken as the pool's size."""
        parts = {
            "embeddings": self.embeddings,
            "domains": self.domains,
            "clusters": None if self.clusters is None else self.clusters.labels,
            "answer_chars": self.answer_chars,
        }
        sizes = {name: len(v) for name, v in parts.items() if v is not None}
        if len(set(sizes.values())) > 1:
            shown = ", ".join(f"{name} {n:,}" for name, n in sizes.items())
            first = next(iter(sizes.values()))
            raise InvalidInputError(
                f"the Pool's parts describe different numbers of rows ({shown}); give one value per row.",
                param=next(name for name, n in sizes.items() if n != first),
            )
        if self.answer_chars is not None:
            chars = np.asarray(self.answer_chars)
            if chars.dtype == bool or not np.issubdtype(chars.dtype, np.number):
                raise InvalidInputError(
                    f"answer_chars must hold numbers, not {chars.dtype} values.",
                    param="answer_chars",
                )
            if not np.all(np.isfinite(chars) & (chars >= 0)):
                raise InvalidInputError(
                    "answer_chars must be answer lengths in characters: finite and >= 0.",
                    param="answer_chars",
                )

    @property
    def n(self) -> int:
        for a in (self.embeddings, self.domains):
            if a is not None:
                return len(a)
        if self.clusters is not None:
            return len(self.clusters.labels)
        raise InvalidInputError("the pool has no embeddings, domains or clusters.")


@dataclass(frozen=True)
class Selection:
    """Chosen pool positions in pick order, with a score per pick (cosine to the task center; NaN if none)."""

    indices: np.ndarray
    scores: np.ndarray
    method: str

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Selection(method={self.method!r}, n_selected={len(self.indices)})"


def split_budget(sizes: np.ndarray, n_select: int) -> np.ndarray:
    """Split ``n_select`` over groups proportionally to ``sizes`` (largest remainder); never above a size."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if n_select > total:
        raise InvalidInputError(f"n_select={n_select} should be <= n_samples={total}.")
    quota = n_select * sizes / max(total, 1)
    return _round_quota(quota, sizes, n_select)


def _round_quota(quota: np.ndarray, caps: np.ndarray, n_select: int) -> np.ndarray:
    counts = np.minimum(np.floor(quota + 1e-9).astype(np.int64), caps)
    rest = n_select - int(counts.sum())
    frac = quota - counts
    order = np.lexsort((np.arange(len(quota)), -frac))  # largest remainder, ties by position
    for i in order:
        if rest <= 0:
            break
        if counts[i] < caps[i]:
            counts[i] += 1
            rest -= 1
    if rest > 0:  # caps bound: fill wherever room is left
        for i in range(len(counts)):
            add = min(rest, caps[i] - counts[i])
            counts[i] += add
            rest -= add
    return counts


def lima_quotas(sizes: np.ndarray, n_select: int, *, tau: float = 3.0) -> np.ndarray:
    """Per-domain counts for temperature sampling: p_d ∝ n_d^(1/tau), capped at n_d (water-filling).

    LIMA samples Stack Exchange domains with tau = 3 (Zhou et al. 2023, sec. 2.1): tau = 1 is proportional,
    tau -> inf uniform over domains.
    """
    tau = positive("tau", tau)
    sizes = np.asarray(sizes, dtype=np.int64)
    if n_select > sizes.sum():
        raise InvalidInputError(f"n_select={n_select} should be <= n_samples={int(sizes.sum())}.")
    weight = np.where(sizes > 0, sizes.astype(float) ** (1.0 / tau), 0.0)
    quota = np.zeros(len(sizes))
    capped = np.zeros(len(sizes), dtype=bool)
    left = float(n_select)
    while (
        True
    ):  # give each open domain its share; domains that overflow are capped and the rest re-split
        w = np.where(capped, 0.0, weight)
        share = left * w / w.sum()
        over = (~capped) & (share >= sizes)
        if not over.any():
            quota[~capped] = share[~capped]
            break
        quota[over] = sizes[over]
        capped |= over
        left = n_select - quota[capped].sum()
        if left <= 0 or capped.all():
            break
    return _round_quota(quota, sizes, n_select)


# ----------------------------------------------------------------------------------------- methods


class _Report:
    """Progress of one selection in picks: ``progress(done, n_select)``, thread-safe, never past the total."""

    def __init__(self, progress, n_select: int) -> None:
        self.progress, self.total, self.done = progress, n_select, 0
        self.lock = threading.Lock()
        self.at(0)

    def at(self, done: int) -> None:
        with self.lock:
            self.done = min(done, self.total)
            if self.progress is not None:
                self.progress(self.done, self.total)

    def add(self, picks: int) -> None:
        self.at(self.done + picks)

    def part(self, start: int, span: int | None = None):
        """A callback for a sub-step shown from ``start`` over ``span`` picks (default: its own count):
        ``(done, total) -> at(start + span * done // total)``."""
        if span is None:
            return lambda done, total: self.at(start + done)
        return lambda done, total: self.at(start + span * done // max(total, 1))


def _random(pool: Pool, n_select: int, *, seed: int, **_) -> Selection:
    rng = np.random.default_rng(seed)
    idx = rng.choice(pool.n, size=n_select, replace=False)
    return Selection(idx.astype(np.int64), np.full(n_select, np.nan), "random")


def _lima(pool: Pool, n_select: int, *, seed: int, tau: float = 3.0, **_) -> Selection:
    if pool.domains is None:
        raise InvalidInputError(
            "method 'lima' samples over domains: give a domain field (--domain-field NAME)."
        )
    rng = np.random.default_rng(seed)
    names, codes = np.unique(np.asarray(pool.domains, dtype=str), return_inverse=True)
    counts = lima_quotas(np.bincount(codes, minlength=len(names)), n_select, tau=tau)
    picked = []
    for d, k in enumerate(counts):
        if k:
            members = np.flatnonzero(codes == d)
            picked.append(rng.choice(members, size=int(k), replace=False))
    idx = np.concatenate(picked).astype(np.int64)
    return Selection(idx, np.full(len(idx), np.nan), "lima")


def _need_embeddings(pool: Pool, method: str) -> np.ndarray:
    if pool.embeddings is None:
        raise InvalidInputError(f"method {method!r} needs embeddings.")
    return pool.embeddings


def _need_clusters(pool: Pool, method: str) -> KMeansResult:
    if pool.clusters is None:
        raise InvalidInputError(f"method {method!r} needs a K-Means partition (n_clusters).")
    return pool.clusters


def _kcenter(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    x = _need_embeddings(pool, "kcenter")
    first = int(
        np.random.default_rng(seed).integers(len(x))
    )  # a random first point, as DeepCore draws it
    res = kcenter_greedy(x, n_select, seed_index=first, progress=progress)
    return Selection(res.indices, np.full(n_select, np.nan), "kcenter")


def _task_center(pool: Pool, n_select: int, *, progress=None, **_) -> Selection:
    x = _need_embeddings(pool, "task-center")
    km = _need_clusters(pool, "task-center")
    if pool.domains is None:
        tasks = [np.arange(len(x))]
    else:
        names, codes = np.unique(np.asarray(pool.domains, dtype=str), return_inverse=True)
        tasks = [np.flatnonzero(codes == t) for t in range(len(names))]
    budgets = split_budget(np.array([len(t) for t in tasks]), n_select)
    idx_parts, score_parts = [], []
    report = _Report(progress, n_select)
    for members, k in zip(tasks, budgets):
        if k == 0:
            continue
        # the distribution center: centroid of the cluster holding most of this task's samples
        top = int(np.argmax(np.bincount(km.labels[members], minlength=km.n_clusters)))
        picks, cos = kcenter_from_center(x[members], int(k), km.centroids[top])
        idx_parts.append(members[picks])
        score_parts.append(cos)
        report.add(int(k))
    return Selection(
        np.concatenate(idx_parts).astype(np.int64),
        np.concatenate(score_parts).astype(float),
        "task-center",
    )


def _kcenter_per_cluster(
    pool: Pool,
    n_select: int,
    *,
    n_workers: int = 2,
    ray_address: str | None = None,
    progress=None,
    **_,
) -> Selection:
    x = _need_embeddings(pool, "kcenter-per-cluster")
    km = _need_clusters(pool, "kcenter-per-cluster")
    members = [np.flatnonzero(km.labels == c) for c in range(km.n_clusters)]
    budgets = split_budget(np.array([len(m) for m in members]), n_select)
    jobs = [(c, m, int(k)) for c, (m, k) in enumerate(zip(members, budgets)) if k > 0]
    if ray_address is not None:
        from tokenplan.select.ray_backend import kcenter_clusters_ray

        results = kcenter_clusters_ray(x, km.centroids, jobs, address=ray_address)
    else:
        n_workers = positive_int("n_workers", n_workers)
        report = _Report(progress, n_select)

        def one(job):
            out = kcenter_from_center(x[job[1]], job[2], km.centroids[job[0]])
            report.add(job[2])
            return out

        with ThreadPoolExecutor(max_workers=n_workers) as ex:  # numpy's BLAS releases the GIL
            results = list(ex.map(one, jobs))
    idx = np.concatenate([m[r[0]] for (_, m, _), r in zip(jobs, results)]).astype(np.int64)
    scores = np.concatenate([r[1] for r in results]).astype(float)
    return Selection(idx, scores, "kcenter-per-cluster")


def _facility_location(
    pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_
) -> Selection:
    from tokenplan.select.facility import facility_location

    x = _need_embeddings(pool, "facility-location")
    res = facility_location(x, n_select, seed=seed, progress=progress)
    return Selection(res.indices, res.gains, "facility-location")


def n_tail(n_select: int) -> int:
    """Picks ``facility-kcenter`` gives to farthest-first: one in ten, rounded up, and none for n = 1."""
    return 0 if n_select < 2 else math.ceil(n_select / 10)


def _facility_kcenter(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    from tokenplan.select.facility import facility_location

    x = _need_embeddings(pool, "facility-kcenter")
    tail = n_tail(n_select)
    report = _Report(progress, n_select)
    head = facility_location(x, n_select - tail, seed=seed, progress=report.part(0))
    idx, scores = _with_tail(x, head.indices, head.gains, tail, report)
    return Selection(idx, scores, "facility-kcenter")


def _with_tail(x: np.ndarray, idx: np.ndarray, scores: np.ndarray, tail: int, report: _Report):
    """``tail`` more picks by density-weighted farthest-first from ``idx``: each maximises the squared
    distance to the subset times the row's mean similarity to the pool (scores NaN)."""
    if not tail:
        return idx, scores
    typical = (1.0 + x @ x.mean(axis=0)) / 2.0
    far = kcenter_greedy(
        x, tail, already_selected=idx, weights=typical, progress=report.part(len(idx))
    )
    return np.concatenate([idx, far.indices]), np.concatenate([scores, np.full(tail, np.nan)])


def _facility_cells(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    """K-Means with k = h cells (h = n minus the tail); greedy facility location with one pick per cell;
    only as many short-answer picks swapped for a nearby longer one as put floor(n / 2) + 1 answers of the
    subset at the pool's median or above, the tail counted short (:func:`prefer_complete_answers`), so the
    subset's median answer is at least the pool's; then the density-weighted farthest-first tail."""
    return _cells_then_tail(pool, n_select, seed, progress, random=False, fewest_swaps=True)


def _random_greedy_cells(
    pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_
) -> Selection:
    """facility-cells with random greedy (Buchbinder et al. 2014) in place of greedy: each pick drawn
    uniformly among the h open rows of largest facility-location gain (h = the picks before the tail; one
    pick per cell while a cell is empty). Greedy always takes a cell's most representative row, so where a
    cell mixes labels it takes the majority label at every seed; random greedy keeps greedy's 1 - 1/e
    guarantee in expectation and gives the other rows near the top their chance."""
    return _cells_then_tail(pool, n_select, seed, progress, random=True)


def _cells_then_tail(
    pool: Pool,
    n_select: int,
    seed: int,
    progress,
    *,
    random: bool,
    fewest_swaps: bool = False,
    tail: int | None = None,
    cell_kernel: bool = False,
) -> Selection:
    """The cells, facility location, answer swaps and tail of facility-cells and random-greedy-cells;
    ``tail``: farthest-first picks (default :func:`n_tail`; other values for bench/select_quality.py);
    ``cell_kernel`` (bench/select_quality.py only): facility location with the Gaussian kernel whose h^2 is
    the cells' mean squared distance to their centroid (inertia / rows) instead of (1 + cos) / 2."""
    from tokenplan.select.cluster import kmeans
    from tokenplan.select.facility import facility_location

    name = "random-greedy-cells" if random else "facility-cells"
    x = _need_embeddings(pool, name)
    tail = n_tail(n_select) if tail is None else tail
    head = n_select - tail
    report = _Report(
        progress, n_select
    )  # K-Means over the first half of the bar, the picks after it
    km = kmeans(x, head, seed=seed, progress=report.part(0, head // 2))
    fl = facility_location(
        x,
        head,
        seed=seed,
        groups=km.labels,
        random_top=head if random else None,
        kernel_scale=km.inertia / len(x) if cell_kernel else None,
        progress=report.part(head // 2, head - head // 2),
    )
    # fewest_swaps: just enough long answers for a subset median >= the pool's (the tail counted short)
    needed = n_select // 2 + 1 if fewest_swaps else None
    idx = prefer_complete_answers(x, fl.indices, pool.answer_chars, needed=needed)
    scores = np.where(idx == fl.indices, fl.gains, np.nan)
    idx, scores = _with_tail(x, idx, scores, tail, report)
    return Selection(idx, scores, name)


def _short_answers(pool: Pool) -> np.ndarray | None:
    """Rows whose answer is shorter than the pool's median answer; None for a prompt-only pool."""
    if pool.answer_chars is None or not np.any(pool.answer_chars):
        return None
    chars = np.asarray(pool.answer_chars)
    return chars < np.median(chars)


def _fill_uniform(idx: np.ndarray, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``idx`` topped up to ``size`` distinct rows of ``range(n)`` by uniform draws among the others."""
    if len(idx) >= size:
        return idx
    rest = np.setdiff1d(np.arange(n), idx)
    return np.concatenate([idx, rng.choice(rest, size - len(idx), replace=False)]).astype(np.int64)


def _cell_tiers(
    labels: np.ndarray, d2: np.ndarray, short: np.ndarray | None, *, inner_first: bool
) -> np.ndarray:
    """Which rows of a cell a draw prefers (tier 0 first; see :func:`~tokenplan.select.sampling.draw_per_cell`).

    With answers: answers at least the pool's median (``inner_first``: and in the cell's inner half, then
    the inner half). Prompt-only: the cell's inner half (distance to the centroid <= the cell's median)."""
    from tokenplan.select.sampling import inner_half

    inner = inner_half(labels, d2)
    if short is None:
        return (~inner).astype(np.int8)
    if not inner_first:
        return short.astype(np.int8)
    return np.where(inner & ~short, 0, np.where(inner, 1, 2)).astype(np.int8)


def _stratified(
    pool: Pool, n_select: int, *, seed: int, progress, prefer: str | None, name: str
) -> Selection:
    """One drawn row per K-Means cell. ``prefer``: ``"answers"`` or ``"inner"`` (:func:`_cell_tiers`), with
    the farthest-first tail after k = n minus the tail cells; None: a uniform draw in each of k = n cells,
    no tail."""
    from tokenplan.select.cluster import assign, kmeans
    from tokenplan.select.sampling import draw_per_cell

    x = _need_embeddings(pool, name)
    rng = np.random.default_rng(seed)
    tail = 0 if prefer is None else n_tail(n_select)
    head = n_select - tail
    report = _Report(progress, n_select)
    km = kmeans(x, head, seed=seed, progress=report.part(0, head))
    labels, d2 = assign(x, km.centroids)
    if prefer is None:
        tiers = np.zeros(len(x), dtype=np.int8)
    else:
        tiers = _cell_tiers(labels, d2, _short_answers(pool), inner_first=prefer == "inner")
    idx = _fill_uniform(
        draw_per_cell(labels, tiers, rng), len(x), head, rng
    )  # empty cells: uniform
    idx, scores = _with_tail(x, idx, np.full(head, np.nan), tail, report)
    report.at(n_select)
    return Selection(idx, scores, name)


def _stratified_cells(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    """Stratified sampling over K-Means cells (k = the picks before the tail; seeded): one uniformly drawn
    row per cell, among the cell's rows whose answer is at least the pool's median (prompt-only: among the
    cell's inner half); then the density-weighted farthest-first tail. Keeps a uniform sample's label shares
    inside each cell (no blind spot a seed cannot move), spreads the picks over equal-mass regions
    (Cochran 1977, ch. 5), and prefers complete answers (LIMA, Zhou et al. 2023)."""
    return _stratified(
        pool, n_select, seed=seed, progress=progress, prefer="answers", name="stratified-cells"
    )


def _stratified_inner(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    """As stratified-cells, but each cell's row is drawn among its inner half (distance to the centroid <=
    the cell's median) whose answer is at least the pool's median, else among its inner half, else the
    cell: representative of its cell, as facility location is, but still drawn."""
    return _stratified(
        pool, n_select, seed=seed, progress=progress, prefer="inner", name="stratified-inner"
    )


def _stratified_uniform(
    pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_
) -> Selection:
    """Stratified sampling in its plain form: K-Means with k = n cells (seeded), one row drawn uniformly in
    each cell (an empty cell: a uniform draw among the other rows); no answer preference, no tail.

    Why it should not fall below random: with strata of equal mass, a label holding a share q_c of cell c
    is missed with probability prod_c (1 - q_c) <= (1 - mean q_c)^n = (1 - s/N)^n (Jensen; Cochran 1977,
    ch. 5), a uniform sample's chance with replacement; K-Means cells are only roughly of equal mass, so this
    is a reason, and the benchmark the check. Any preference inside a cell (long answers, central rows)
    breaks the argument wherever labels differ in answer length or in typicality, which the benchmark shows
    (stratified-cells, stratified-inner)."""
    return _stratified(
        pool, n_select, seed=seed, progress=progress, prefer=None, name="stratified-uniform"
    )


def prefer_complete_answers(
    x: np.ndarray,
    picks: np.ndarray,
    answer_chars: np.ndarray | None,
    *,
    needed: int | None = None,
) -> np.ndarray:
    """LIMA's preference for long, complete answers, kept local so coverage does not move.

    A pick whose answer is shorter than the pool's median answer may be swapped for the row that best
    represents the pick's cell (the rows nearest to it among the picks; best = highest summed cosine to the
    cell) among the cell's rows that are (a) in its inner half, no farther from the pick than the cell's
    median distance to it, (b) answered at least at the pool's median length, (c) not picked. No such row:
    the pick stays. ``needed=None`` swaps every short pick that has such a row; ``needed=k`` only as many as
    bring the picks with a long-enough answer up to k, the swaps whose replacement is nearest (highest
    cosine) to the pick it replaces first, so coverage departs as little as the length floor allows. A
    prompt-only pool (no answer lengths) is left as it is. LIMA (Zhou et al. 2023) curates long, complete
    answers; "Long Is More for Alignment" (Zhao et al. 2024) finds the longest responses a strong selection
    baseline on their own.
    """
    picks = np.asarray(picks, dtype=np.int64).copy()
    if answer_chars is None or not np.any(answer_chars):
        return picks
    lengths = np.asarray(answer_chars)
    median = float(np.median(lengths))
    swaps = _answer_swaps(x, picks, lengths, median)  # (cosine to the pick, pick slot, replacement)
    if needed is not None:
        deficit = needed - int(np.sum(lengths[picks] >= median))
        swaps = sorted(swaps, key=lambda s: (-s[0], s[1]))[: max(deficit, 0)]
    for _, c, r in swaps:
        picks[c] = r
    return picks


def _answer_swaps(
    x: np.ndarray, picks: np.ndarray, lengths: np.ndarray, median: float
) -> list[tuple[float, int, int]]:
    """Per short-answer pick (slot c), the replacement :func:`prefer_complete_answers` would swap in, with
    its cosine to the pick. Cells are disjoint, so the swaps are independent of each other."""
    from tokenplan.select.cluster import assign

    owner, _ = assign(x, x[picks])
    taken = np.zeros(len(x), dtype=bool)
    taken[picks] = True
    swaps = []
    for c in np.flatnonzero(lengths[picks] < median):
        j = picks[c]
        cell = np.flatnonzero(owner == c)
        if not len(cell):  # the pick coincides with another, which owns their rows: nothing to swap
            continue
        d2 = 2.0 - 2.0 * (x[cell] @ x[j])
        inner = cell[d2 <= np.median(d2)]
        cand = inner[(lengths[inner] >= median) & ~taken[inner]]
        if len(cand):
            r = int(cand[np.argmax(x[cand] @ x[cell].sum(axis=0))])
            swaps.append((float(x[r] @ x[j]), int(c), r))
    return swaps


def _kmeans_medoids(pool: Pool, n_select: int, *, seed: int = 0, progress=None, **_) -> Selection:
    from tokenplan.select.cluster import assign, kmeans

    x = _need_embeddings(pool, "kmeans-medoids")
    report = _Report(progress, n_select)  # K-Means iterations shown as a share of the picks
    km = kmeans(x, n_select, seed=seed, progress=report.part(0, n_select))
    labels, d2 = assign(x, km.centroids)
    order = np.lexsort((d2, labels))  # by cluster, nearest to the centroid first
    first = order[np.r_[True, labels[order][1:] != labels[order][:-1]]]
    picks = first.astype(np.int64)
    if len(picks) < n_select:  # empty clusters: fill farthest-first from the medoids
        more = kcenter_greedy(x, n_select - len(picks), already_selected=picks).indices
        picks = np.concatenate([picks, more])
    return Selection(picks, np.full(len(picks), np.nan), "kmeans-medoids")


#: name -> function(pool, n_select, *, seed, tau, n_workers, ray_address) -> Selection
METHODS: dict[str, Callable[..., Selection]] = {
    "random": _random,
    "lima": _lima,
    "kcenter": _kcenter,
    "task-center": _task_center,
    "kcenter-per-cluster": _kcenter_per_cluster,
    "facility-location": _facility_location,
    "facility-kcenter": _facility_kcenter,
    "facility-cells": _facility_cells,
    "kmeans-medoids": _kmeans_medoids,
    "stratified-cells": _stratified_cells,
    "stratified-inner": _stratified_inner,
    "stratified-uniform": _stratified_uniform,
    "random-greedy-cells": _random_greedy_cells,
}
#: the method used when none is named (chosen by bench/select_quality.py; docs/select.md)
DEFAULT_METHOD = "facility-cells"
#: methods that need K-Means clusters
NEEDS_CLUSTERS = ("task-center", "kcenter-per-cluster")


def _token_counts(n_tokens: object, n: int) -> np.ndarray:
    """One whole, non-negative token count per pool row: counts for 5 of 50 rows failed with an
    IndexError, and negative or NaN counts (NaN cast to a huge negative int) let every row fit any budget."""
    raw = np.asarray(n_tokens)
    if raw.ndim != 1 or len(raw) != n:
        raise InvalidInputError(
            f"n_tokens must hold one count per pool row ({n:,}), got shape {raw.shape}.",
            param="n_tokens",
        )
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.number):
        raise InvalidInputError(
            f"n_tokens must hold numbers, not {raw.dtype} values.", param="n_tokens"
        )
    bad = np.flatnonzero(~np.isfinite(raw) | (raw < 0))
    if len(bad):
        raise InvalidInputError(
            f"n_tokens must be finite counts >= 0; bad at rows {bad[:5].tolist()}.",
            param="n_tokens",
        )
    return raw.astype(np.int64)


def select_by_tokens(
    pool: Pool, n_tokens: np.ndarray, budget_tokens: int, *, pick=None, **options
) -> Selection:
    """The longest prefix, in pick order, of a method's selection whose token count fits ``budget_tokens``.

    ``pick(n) -> Selection`` selects n rows (default: :func:`select` with ``options``). The row count starts at
    budget / mean tokens per row and grows until the budget is spent or the pool is exhausted; greedy methods
    pick in the same order whatever n is, so the prefix is what the method would choose first.
    """
    tokens = _token_counts(n_tokens, pool.n)
    budget_tokens = positive_int("budget_tokens", budget_tokens)
    if pick is None:

        def pick(n: int) -> Selection:
            return select(pool, n, **options)

    n_pool = len(tokens)
    n = int(min(n_pool, max(1, budget_tokens // max(1, round(float(tokens.mean()))))))
    for _ in range(8):
        sel = pick(n)
        used = np.cumsum(tokens[sel.indices])
        if used[-1] > budget_tokens or n == n_pool:
            break
        n = int(min(n_pool, max(n + 1, math.ceil(n * budget_tokens / max(1, int(used[-1]))))))
    keep = int(np.searchsorted(used, budget_tokens, side="right"))
    if keep == 0:
        raise InvalidInputError(
            f"budget_tokens={budget_tokens:,} is smaller than the first pick ({int(used[0]):,} tokens); "
            f"give at least {int(used[0]):,}, or a row count (n_select, --n).",
            param="budget_tokens",
        )
    if keep < len(
        sel
    ):  # the method's own choice of `keep` rows (facility-kcenter's tail scales with n)
        again = pick(keep)
        if int(tokens[again.indices].sum()) <= budget_tokens:
            return again
    return Selection(sel.indices[:keep], sel.scores[:keep], sel.method)


TARGET_METHODS = ("centroid", "task-center", "nearest")


def _best_first(score: np.ndarray, n_select: int, name: str, progress) -> Selection:
    """The ``n_select`` rows of highest ``score``, best first (ties: lower row first)."""
    if progress is not None:
        progress(0, n_select)
    order = np.lexsort((np.arange(len(score)), -score))[:n_select]
    if progress is not None:
        progress(n_select, n_select)
    return Selection(order.astype(np.int64), score[order].astype(float), name)


def select_for_target(
    pool: Pool,
    target: np.ndarray,
    n_select: int,
    *,
    method: str = "centroid",
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Pick ``n_select`` pool rows for one downstream task, given a few embedded examples of it (``target``).

    - ``centroid`` (the default): the task's distribution center estimated from the examples themselves, the
      normalised mean of their unit vectors; the pool rows of highest cosine to it, best first (equivalently,
      highest mean cosine to the examples).
    - ``task-center`` (the 0.5% paper, Chen et al. 2023): the task's distribution center is the centroid of
      the K-Means cluster where most target examples fall; the task center is the pool row most similar to
      it; KCenterGreedy, seeded there, runs over the rows nearest that center: the cluster's members, topped
      up with the next rows by cosine to the center when the cluster holds fewer than ``n_select``.
    - ``nearest``: the pool rows of highest cosine to any target example (retrieval), best first.

    Scores are the cosine to the center (centroid, task-center) or to the nearest target example
    (nearest). ``progress(done, n_select)`` counts the picks, as in :func:`select`. Why centroid is the
    default, measured: docs/select.md, "Target-task selection".
    """
    method = choice("target method", method, TARGET_METHODS)
    x = _need_embeddings(pool, f"--target ({method})")
    t = np.asarray(target, dtype=np.float32)
    if t.ndim != 2 or len(t) == 0 or t.shape[1] != x.shape[1]:
        raise InvalidInputError(
            f"the target needs at least one embedded row of width {x.shape[1]}, got shape {t.shape}.",
            param="target",
        )
    t = finite_rows("target", t, what="the target")  # a NaN row chose rows by NaN scores
    n_select = positive_int("n_select", n_select)
    if n_select > len(x):
        raise InvalidInputError(
            f"n_select={n_select} should be <= n_samples={len(x)}.", param="n_select"
        )
    if method != "task-center":
        if method == "nearest":
            best = (x @ t.T).max(axis=1)
        else:
            mean = t.mean(axis=0)
            best = x @ (mean / max(float(np.linalg.norm(mean)), 1e-12))
        return _best_first(best, n_select, f"target:{method}", progress)
    km = _need_clusters(pool, "--target (task-center)")
    from tokenplan.select.cluster import assign

    t_labels, _ = assign(t, km.centroids)
    top = int(np.argmax(np.bincount(t_labels, minlength=km.n_clusters)))
    center = km.centroids[top] / max(float(np.linalg.norm(km.centroids[top])), 1e-12)
    cos = x @ center
    members = np.flatnonzero(km.labels == top)
    if len(members) < n_select:  # top up with the rows nearest the center
        order = np.lexsort((np.arange(len(x)), -cos))
        rest = order[~np.isin(order, members)][: n_select - len(members)]
        members = np.concatenate([members, rest])
    picks, scores = kcenter_from_center(x[members], n_select, center, progress=progress)
    return Selection(members[picks].astype(np.int64), scores, "target:task-center")


def select(
    pool: Pool,
    n_select: int,
    *,
    method: str = DEFAULT_METHOD,
    seed: int = 0,
    tau: float = 3.0,
    n_workers: int = 2,
    ray_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Run a selection method by name; ``n_select`` must be between 1 and the pool size.

    ``progress(done, n_select)`` counts picks as the method makes them (K-Means iterations, for
    kmeans-medoids, as a share of them); the last call is ``(n_select, n_select)``.
    """
    method = choice("selection method", method, METHODS)
    n_select = positive_int("n_select", n_select)
    if n_select > pool.n:
        raise InvalidInputError(f"n_select={n_select} should be <= n_samples={pool.n}.")
    if progress is not None:
        progress(0, n_select)
    sel = METHODS[method](
        pool,
        n_select,
        seed=seed,
        tau=tau,
        n_workers=n_workers,
        ray_address=ray_address,
        progress=progress,
    )
    if len(np.unique(sel.indices)) != n_select:  # a contract every method keeps
        raise AssertionError(f"{method} returned {len(sel.indices)} picks for n_select={n_select}")
    if progress is not None:
        progress(n_select, n_select)
    return sel
