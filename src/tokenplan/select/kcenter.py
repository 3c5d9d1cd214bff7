"""KCenterGreedy: pick points that cover the pool, farthest-first (Sener & Savarese 2018; the 0.5% paper).

Start at a seed point, then repeatedly add the pool point farthest from everything selected so far. The running
vector ``min_d2`` holds each point's squared distance to its nearest selected point; adding a center c updates
it with one matrix-vector product, because on L2-normalised rows ||x - c||^2 = 2 - 2 x.c. One step therefore
streams the embedding matrix once (memory-bandwidth bound), in float32. The mat-vec is one BLAS call over the
whole matrix by default: cutting it into row chunks (``chunk=``) was measured 3-5x slower with OpenBLAS here
(per-call threading overhead); the chunks exist for callers that want to bound the call size.

Budget convention: **the seed counts against the budget** — ``budget=n`` returns exactly n distinct indices,
the seed first (as in DeepCore's ``k_center_greedy``, which draws a random seed and does ``budget -= 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokenplan._checks import positive_int
from tokenplan._progress import CountProgress, reporter
from tokenplan.errors import InvalidInputError
from tokenplan.select._greedy import GreedyResult, check_rows

__all__ = ["KCenterResult", "kcenter_from_center", "kcenter_greedy"]


@dataclass(frozen=True, repr=False)
class KCenterResult(GreedyResult):
    """Indices in the order picked (seed first) and the squared distance of each pick when it was picked.

    ``pick_d2[0]`` is NaN (the seed is not picked for its distance). ``coverage_radius`` is the largest
    distance from any point to its nearest selected point after the last pick.
    """

    objective_field = "coverage_radius"

    pick_d2: np.ndarray
    coverage_radius: float


def kcenter_greedy(
    x: np.ndarray,
    budget: int,
    *,
    seed_index: int = 0,
    already_selected: np.ndarray | None = None,
    chunk: int | None = None,
    weights: np.ndarray | None = None,
    progress: CountProgress | None = None,
) -> KCenterResult:
    """Select ``budget`` rows of ``x`` (L2-normalised, float32) by farthest-first traversal.

    Args:
        x: (n, d) L2-normalised embeddings.
        budget: number of points returned, the seed included (``budget <= n``).
        seed_index: the first point (the 0.5% method passes the point closest to the task center).
            Ignored when ``already_selected`` is given: the first pick is then the farthest point from them.
        already_selected: indices already in the subset (they count for coverage, not against ``budget``).
        chunk: rows per mat-vec call (default: all rows in one call).
        weights: optional positive weight per row: each pick maximises weight x squared distance to the
            selection instead of the distance alone (density-weighted farthest-first).
        progress: ``progress(done, budget)``, before the first pick and after each one.
    """
    x, budget, pre = check_rows(x, budget, already_selected, what="KCenterGreedy")
    n = len(x)
    if not 0 <= int(seed_index) < n:
        raise InvalidInputError(f"seed_index={seed_index} should be in [0, {n}).")
    chunk = n if chunk is None else positive_int("chunk", chunk)
    w = None if weights is None else _weights(weights, n)
    report = reporter(progress, budget)
    min_d2 = np.full(n, np.inf, dtype=np.float32)
    buf = np.empty(min(chunk, n), dtype=np.float32)
    indices = np.empty(budget, dtype=np.int64)
    pick_d2 = np.empty(budget, dtype=np.float32)
    start = 0
    if len(pre):
        for c in pre:
            _add(x, int(c), min_d2, buf, chunk)
    else:
        indices[0], pick_d2[0] = int(seed_index), np.nan
        _add(x, int(seed_index), min_d2, buf, chunk)
        start = 1
        report(1, budget)
    for t in range(start, budget):
        c = int(np.argmax(min_d2 if w is None else min_d2 * w))
        indices[t], pick_d2[t] = c, max(float(min_d2[c]), 0.0)
        _add(x, c, min_d2, buf, chunk)
        report(t + 1, budget)
    np.maximum(min_d2, 0.0, out=min_d2)  # clear sentinels and float noise below zero
    return KCenterResult(indices, pick_d2, float(np.sqrt(min_d2.max())))


_TAKEN = np.float32(-1.0)  # sentinel in min_d2: a picked point is never the argmax again


def _add(x: np.ndarray, c: int, min_d2: np.ndarray, buf: np.ndarray, chunk: int) -> None:
    """Row c joins the subset: min_d2 = min(min_d2, ||x - x_c||^2), one mat-vec per chunk of rows."""
    v = x[c]
    for s in range(0, len(x), chunk):
        e = min(s + chunk, len(x))
        b = buf[: e - s]
        np.dot(x[s:e], v, out=b)  # x.c
        b *= -2.0
        b += 2.0  # ||x - c||^2 = 2 - 2 x.c
        np.minimum(min_d2[s:e], b, out=min_d2[s:e])
    min_d2[c] = _TAKEN


def _weights(weights: np.ndarray, n: int) -> np.ndarray:
    """One finite weight >= 0 per row (0 is floored at 1e-12): NaN weights picked row 0 five times over,
    and negative ones were floored without a word."""
    w = np.asarray(weights, dtype=np.float32)
    if w.shape != (n,):
        raise InvalidInputError(
            f"weights must have one value per row ({n}), got {w.shape}.", param="weights"
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        raise InvalidInputError(
            f"weights must be finite and >= 0; bad at rows {bad[:5].tolist()}.", param="weights"
        )
    return np.maximum(w, np.float32(1e-12))


def kcenter_from_center(
    x: np.ndarray, budget: int, center: np.ndarray, *, progress: CountProgress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """KCenterGreedy seeded at the row of highest cosine to ``center`` (the 0.5% paper's task center).

    Returns the picked row positions (seed first) and each pick's cosine to the center. Used by
    ``task-center`` and by ``kcenter-per-cluster`` on both the local (threads) and the Ray path.
    """
    x = np.asarray(x, dtype=np.float32)
    c = np.asarray(center, dtype=np.float32)
    c = c / max(float(np.linalg.norm(c)), 1e-12)
    cos = x @ c
    res = kcenter_greedy(x, budget, seed_index=int(np.argmax(cos)), progress=progress)
    return res.indices, cos[res.indices].astype(float)
