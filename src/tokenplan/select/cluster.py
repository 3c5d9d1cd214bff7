"""K-Means on embeddings: faiss when installed, else a numpy Lloyd's loop with the same recipe.

Both backends follow faiss's recipe so that they are interchangeable: training uses at most
``max_points_per_centroid`` (256) points per centroid (a random subsample), then every point is assigned to
its nearest centroid once. faiss seeds with random points; the numpy backend uses greedy k-means++ seeding,
which rarely puts two seeds in one blob. The numpy backend computes squared distances as ||c||^2 - 2 x.c (||x||^2 is the same for every centroid) with one float32 matrix product per chunk of rows.

Both backends run one Lloyd iteration at a time, so that ``progress(done, n_iter)`` can report each one. For
faiss that is one ``train`` call per iteration, started from the previous centroids; its subsample is drawn
from the same seed every call, so the partition is the one a single ``n_iter`` call gives (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tokenplan._checks import choice, finite_rows, positive_int
from tokenplan.errors import InvalidInputError

__all__ = ["KMEANS_BACKENDS", "KMeansResult", "assign", "kmeans"]

KMEANS_BACKENDS = ("auto", "faiss", "numpy")


@dataclass(frozen=True)
class KMeansResult:
    """A K-Means partition: ``centroids`` (k, d), ``labels`` (n,), ``inertia`` (sum of squared distances)."""

    centroids: np.ndarray
    labels: np.ndarray
    inertia: float
    backend: str

    @property
    def n_clusters(self) -> int:
        return len(self.centroids)

    def sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.n_clusters)

    def __repr__(self) -> str:
        return (
            f"KMeansResult(n_clusters={self.n_clusters}, n_points={len(self.labels)}, "
            f"inertia={self.inertia:.4g}, backend={self.backend!r})"
        )


def _have_faiss() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def assign(
    x: np.ndarray, centroids: np.ndarray, *, chunk: int = 16384
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row of ``x`` and the squared distance to it (chunked, float32)."""
    x = np.asarray(x, dtype=np.float32)
    c = np.asarray(centroids, dtype=np.float32)
    c_sq = np.einsum("ij,ij->i", c, c)
    labels = np.empty(len(x), dtype=np.int64)
    d2 = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), chunk):
        xb = x[s : s + chunk]
        scores = xb @ c.T
        scores *= -2.0
        scores += c_sq  # ||c||^2 - 2 x.c
        lab = scores.argmin(axis=1)
        labels[s : s + chunk] = lab
        x_sq = np.einsum("ij,ij->i", xb, xb)
        d2[s : s + chunk] = np.maximum(scores[np.arange(len(xb)), lab] + x_sq, 0.0)
    return labels, d2


def kmeans(
    x: np.ndarray,
    n_clusters: int,
    *,
    seed: int = 0,
    n_iter: int = 20,
    backend: str = "auto",
    max_points_per_centroid: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> KMeansResult:
    """Partition the rows of ``x`` into ``n_clusters`` clusters (Lloyd's algorithm, ``n_iter`` iterations).

    ``n_clusters`` larger than the number of rows is an error naming both. Deterministic given ``seed``
    (per backend: faiss and numpy do not give bit-identical partitions). ``progress(done, n_iter)`` is called
    before the first iteration and after each one.
    """
    x = finite_rows("x", x, what="K-Means")
    k = positive_int("n_clusters", n_clusters)
    if k > len(x):
        raise InvalidInputError(f"n_clusters={k} should be <= n_samples={len(x)}.")
    n_iter = positive_int("n_iter", n_iter)
    backend = choice("K-Means backend", backend, KMEANS_BACKENDS)
    if backend == "auto":
        backend = "faiss" if _have_faiss() else "numpy"
    report = progress or (lambda done, total: None)
    report(0, n_iter)
    if backend == "faiss":
        centroids = _faiss(x, k, seed, n_iter, max_points_per_centroid, report)
    else:
        centroids = _lloyd(x, k, seed, n_iter, max_points_per_centroid, report)
    labels, d2 = assign(x, centroids)
    return KMeansResult(centroids, labels, float(d2.sum(dtype=np.float64)), backend)


def _faiss(x: np.ndarray, k: int, seed: int, n_iter: int, max_ppc: int, report) -> np.ndarray:
    import faiss

    centroids = None
    for i in range(
        n_iter
    ):  # one iteration per call (module docstring): the same result as niter=n_iter
        km = faiss.Kmeans(
            x.shape[1],
            k,
            niter=1,
            seed=int(seed) % (2**31),
            max_points_per_centroid=max_ppc,
            min_points_per_centroid=1,  # small pools are fine; no warning printed on stderr
            verbose=False,
        )
        km.train(x, init_centroids=centroids)
        centroids = np.asarray(km.centroids, dtype=np.float32).copy()
        report(i + 1, n_iter)
    return centroids


def _lloyd(
    x: np.ndarray, k: int, seed: int, n_iter: int, max_ppc: int, report=lambda done, total: None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(x)
    train = x
    if n > k * max_ppc:  # faiss's subsampling: enough points per centroid, not all of them
        train = x[np.sort(rng.choice(n, k * max_ppc, replace=False))]
    centroids = _kmeans_pp(train, k, rng)
    for i in range(n_iter):
        labels, _ = assign(train, centroids)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centroids)
        _scatter_sum(sums, labels, train)
        nonempty = counts > 0
        centroids[nonempty] = sums[nonempty] / counts[nonempty, None]
        empty = np.flatnonzero(~nonempty)
        if len(
            empty
        ):  # re-seed an empty cluster at a random point (faiss splits a big one instead)
            centroids[empty] = train[rng.choice(len(train), len(empty), replace=False)]
        report(i + 1, n_iter)
    return centroids


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007; scikit-learn's variant): each step draws
    2 + ln k candidates with probability ∝ d^2 and keeps the one that lowers the total d^2 most."""
    x_sq = np.einsum("ij,ij->i", x, x)
    n_trials = 2 + int(np.log(k))
    first = int(rng.integers(len(x)))
    chosen = [first]
    d2 = np.maximum(x_sq - 2 * (x @ x[first]) + x_sq[first], 0.0)
    for _ in range(1, k):
        total = float(d2.sum())
        if total <= 0:  # fewer distinct points than k: any unchosen point
            chosen.append(int(rng.choice(np.setdiff1d(np.arange(len(x)), chosen))))
            continue
        cand = rng.choice(len(x), size=n_trials, p=d2 / total)
        cand_d2 = np.maximum(x_sq[None, :] - 2 * (x[cand] @ x.T) + x_sq[cand, None], 0.0)
        new = np.minimum(d2[None, :], cand_d2)
        best = int(np.argmin(new.sum(axis=1)))
        chosen.append(int(cand[best]))
        d2 = new[best]
    return x[chosen].copy()


def _scatter_sum(sums: np.ndarray, labels: np.ndarray, x: np.ndarray) -> None:
    # sum of rows per label via a sort and reduceat: much faster than np.add.at on large arrays
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, np.diff(sorted_labels) != 0])
    sums[sorted_labels[starts]] = np.add.reduceat(x[order], starts, axis=0)
