"""How well a subset covers its pool, measured without training (REFERENCE.md sec. 8).

- coverage radius: the largest distance from any pool point to its nearest selected point (K-Center's
  objective; smaller is better);
- mean and 95th-percentile nearest-selected distance;
- share of K-Means clusters hit by at least one selected point;
- KL(subset || pool) of the cluster distribution and of the domain distribution (0 = same mix);
- domains covered (at least one selected row), beside what a uniform random subset of the same size covers
  on average (:func:`random_expectation`, exact);
- counts per domain and the subset's token count.

Distances are Euclidean on L2-normalised embeddings (sqrt(2 - 2 cos), in [0, 2]). Every report also measures a
random subset of the same size with the same code, so the numbers have a baseline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tokenplan._checks import finite_rows
from tokenplan.errors import InvalidInputError

__all__ = [
    "CoverageReport",
    "coverage",
    "kl_divergence",
    "nearest_selected_distance",
    "random_expectation",
]


def nearest_selected_distance(
    x: np.ndarray, selected: np.ndarray, *, chunk: int = 8192
) -> np.ndarray:
    """Distance from every row of ``x`` to its nearest selected row (rows L2-normalised), chunked."""
    x = np.asarray(x, dtype=np.float32)
    s = x[np.asarray(selected, dtype=np.int64)]
    out = np.empty(len(x), dtype=np.float32)
    for a in range(0, len(x), chunk):
        best = (x[a : a + chunk] @ s.T).max(axis=1)
        out[a : a + chunk] = np.sqrt(np.maximum(2.0 - 2.0 * best, 0.0))
    return out


def _positions(selected: object, n: int) -> np.ndarray:
    """``selected`` as distinct int64 pool positions in [0, n), or one error naming ``selected``.

    A boolean mask cast to int64 reads as positions 0 and 1 (``n_selected=50/50`` with the radius of row 1
    alone), a float position 1.5 as 1, and a repeated position counts twice: each is refused instead."""
    sel = np.asarray(selected)
    if sel.ndim != 1 or len(sel) == 0:
        raise InvalidInputError(
            f"coverage needs at least one selected position (a 1-D list), got shape {sel.shape}.",
            param="selected",
        )
    if sel.dtype == bool or not np.issubdtype(sel.dtype, np.integer):
        mask = " (a boolean mask: pass np.flatnonzero(mask))" if sel.dtype == bool else ""
        raise InvalidInputError(
            f"selected must hold integer pool positions, not {sel.dtype} values{mask}.",
            param="selected",
        )
    sel = sel.astype(np.int64)
    if sel.min() < 0 or sel.max() >= n:
        raise InvalidInputError(f"selected indices must lie in [0, {n}).", param="selected")
    if len(np.unique(sel)) != len(sel):
        raise InvalidInputError("selected holds a position more than once.", param="selected")
    return sel


def kl_divergence(subset_labels: np.ndarray, pool_labels: np.ndarray) -> float:
    """KL(p_subset || p_pool) in nats over the label values of the pool (0 log 0 = 0)."""
    values, pool_codes = np.unique(np.asarray(pool_labels), return_inverse=True)
    pos = np.searchsorted(values, np.asarray(subset_labels))
    if len(subset_labels) == 0:
        return float("nan")
    if np.any(pos >= len(values)) or np.any(
        values[np.minimum(pos, len(values) - 1)] != subset_labels
    ):
        raise InvalidInputError("the subset has labels that are not in the pool.")
    p = np.bincount(pos, minlength=len(values)) / len(subset_labels)
    q = np.bincount(pool_codes, minlength=len(values)) / len(pool_labels)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of one subset of the pool (see the module docstring for each number)."""

    n_pool: int
    n_selected: int
    coverage_radius: float
    mean_distance: float
    p95_distance: float
    clusters_hit_share: float | None
    kl_clusters: float | None
    kl_domains: float | None
    per_domain: dict[str, int] | None
    n_tokens: int | None
    domains_covered: int | None = None
    n_domains: int | None = None
    domains_random_mean: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def __repr__(self) -> str:
        parts = [
            f"n_selected={self.n_selected}/{self.n_pool}",
            f"coverage_radius={self.coverage_radius:.4f}",
            f"mean_distance={self.mean_distance:.4f}",
            f"p95_distance={self.p95_distance:.4f}",
        ]
        if self.clusters_hit_share is not None:
            parts.append(f"clusters_hit_share={self.clusters_hit_share:.3f}")
        if self.kl_clusters is not None:
            parts.append(f"kl_clusters={self.kl_clusters:.4f}")
        if self.kl_domains is not None:
            parts.append(f"kl_domains={self.kl_domains:.4f}")
        if self.domains_covered is not None:
            parts.append(f"domains_covered={self.domains_covered}/{self.n_domains}")
        return f"CoverageReport({', '.join(parts)})"


def coverage(
    embeddings: np.ndarray,
    selected: np.ndarray,
    *,
    cluster_labels: np.ndarray | None = None,
    n_clusters: int | None = None,
    domains: np.ndarray | None = None,
    n_tokens: np.ndarray | None = None,
) -> CoverageReport:
    """Coverage numbers of the ``selected`` pool positions (see :class:`CoverageReport`)."""
    x = finite_rows("embeddings", embeddings, what="coverage")
    sel = _positions(selected, len(x))
    for name, values in (("cluster_labels", cluster_labels), ("domains", domains)):
        if values is not None and len(values) != len(x):
            raise InvalidInputError(
                f"{name} has {len(values)} values but embeddings has {len(x)} rows; give one per row.",
                param=name,
            )
    if n_tokens is not None and len(n_tokens) != len(x):
        raise InvalidInputError(
            f"n_tokens has {len(n_tokens)} values but embeddings has {len(x)} rows; give one per row.",
            param="n_tokens",
        )
    d = nearest_selected_distance(x, sel)
    hit = kl_c = kl_d = per_domain = None
    covered = n_dom = dom_mean = None
    if cluster_labels is not None:
        labels = np.asarray(cluster_labels)
        k = n_clusters if n_clusters is not None else int(labels.max()) + 1
        hit = len(np.unique(labels[sel])) / k
        kl_c = kl_divergence(labels[sel], labels)
    if domains is not None:
        dom = np.asarray(domains, dtype=str)
        kl_d = kl_divergence(dom[sel], dom)
        names, counts = np.unique(dom[sel], return_counts=True)
        per_domain = {str(n): int(c) for n, c in zip(names, counts)}
        covered, n_dom = len(names), len(np.unique(dom))
        dom_mean = random_expectation(dom, len(sel))["labels"]
    tokens = int(np.asarray(n_tokens)[sel].sum()) if n_tokens is not None else None
    return CoverageReport(
        n_pool=len(x),
        n_selected=len(sel),
        coverage_radius=float(d.max()),
        mean_distance=float(d.mean()),
        p95_distance=float(np.percentile(d, 95)),
        clusters_hit_share=hit,
        kl_clusters=kl_c,
        kl_domains=kl_d,
        per_domain=per_domain,
        n_tokens=tokens,
        domains_covered=covered,
        n_domains=n_dom,
        domains_random_mean=dom_mean,
    )


def random_expectation(labels: np.ndarray, n: int) -> dict[str, float]:
    """What a uniform random subset of ``n`` of the rows covers on average, exactly (sampling without
    replacement): ``labels``, the expected number of distinct labels with at least one row, and
    ``dense_recall``, the expected share of the labels holding >= 2% of the rows that get one (issue 11's
    measures). A label of s rows out of N is missed with probability C(N - s, n) / C(N, n)
    (hypergeometric, zero successes)."""
    from math import exp, lgamma

    def log_choose(a: int, b: int) -> float:
        return lgamma(a + 1) - lgamma(b + 1) - lgamma(a - b + 1) if 0 <= b <= a else float("-inf")

    _, counts = np.unique(np.asarray(labels), return_counts=True)
    total = int(counts.sum())
    hit = np.array([1.0 - exp(log_choose(total - s, n) - log_choose(total, n)) for s in counts])
    dense = counts >= 0.02 * total
    # no label holds 2% of the rows (more than 50 even labels): dense recall is undefined, not a warning
    recall = float(hit[dense].mean()) if dense.any() else float("nan")
    return {"labels": float(hit.sum()), "dense_recall": recall}
