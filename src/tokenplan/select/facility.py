"""Facility location: pick the rows that best *represent* the pool (a monotone submodular objective).

    F(S) = sum over pool rows i of  max over selected rows j of  s(i, j),   s(i, j) = (1 + cos(i, j)) / 2

On unit vectors s = 1 - ||x_i - x_j||^2 / 4, so maximising F is the k-medoids objective on squared distance: every
pool row wants a selected row near it, and a dense region, holding many rows, pays most. Greedy maximisation
is within 1 - 1/e of the optimum (Nemhauser, Wolsey & Fisher 1978); this is the objective of `apricot`'s
FacilityLocationSelection and of submodlib, written here without them.

Exact greedy with incremental gains: the gain of every row is kept in one vector; a pick changes only the
clients it *captures* (those now nearer to it than to anything chosen before), so the gains are updated from
those clients' similarity rows alone. Each client is captured a few times over a run (about ln k for k picks),
so a whole run costs about (clients x rows) x (d + ln k) operations instead of k times that.

The objective sums over *clients*: all rows when the pool has at most ``max_clients`` (4,096), else a uniform
sample (seeded), which estimates F without the n x n matrix. The (clients x rows) similarity matrix is kept
in memory when it fits in 256 MB; the client sample shrinks (not below 1,024) to make it fit, and beyond that
the captured clients' rows are recomputed at each pick (pools above ~65,000 rows: minutes on 2 cores).

``kernel_scale=h2`` replaces s by the Gaussian kernel s(i, j) = exp(-||x_i - x_j||^2 / (2 h2)) =
exp((cos(i, j) - 1) / h2) on unit vectors (h2 = h^2, the squared bandwidth): a row gains only from the rows
within a few h of it, where (1 + cos) / 2, nearly flat, also sums small gains over far-away rows. Only the
similarity and the initial gains depend on the kernel; the incremental gains are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokenplan._checks import positive, positive_int
from tokenplan._progress import CountProgress, reporter
from tokenplan.errors import InvalidInputError
from tokenplan.select._greedy import GreedyResult, check_rows

__all__ = ["FacilityLocationResult", "facility_location"]

_DENSE_MAX = 1 << 26  # entries of the similarity matrix kept in memory (256 MB in float32)
_MIN_CLIENTS = 1024  # the client sample never shrinks below this to fit the matrix in memory
_CHUNK = 256  # client rows recomputed at once when the matrix is not kept


@dataclass(frozen=True, repr=False)
class FacilityLocationResult(GreedyResult):
    """Picks in greedy order, the marginal gain of each pick, and F(S) per client (mean similarity)."""

    objective_field = "objective"

    gains: np.ndarray
    objective: float


def facility_location(
    x: np.ndarray,
    budget: int,
    *,
    seed: int = 0,
    max_clients: int = 4096,
    already_selected: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    random_top: int | None = None,
    kernel_scale: float | None = None,
    progress: CountProgress | None = None,
) -> FacilityLocationResult:
    """Greedy facility location over the rows of ``x`` (L2-normalised): ``budget`` distinct rows.

    ``already_selected`` rows count for the objective (their clients are covered) but not against the
    budget and are never picked again. ``groups`` (one integer label per row, e.g. a K-Means partition):
    at most one pick per group while a group without a pick is left (greedy under a partition matroid,
    within 1/2 of that constrained optimum; Fisher, Nemhauser & Wolsey 1978), then any row. Deterministic
    given ``seed`` (which only draws the client sample). Ties go to the lowest row index.
    ``random_top=k``: random greedy (Buchbinder, Feldman, Naor & Schwartz 2014) instead: each pick is drawn
    uniformly (seeded by ``seed``) among the k allowed rows of largest gain; with k = the budget it keeps
    greedy's 1 - 1/e of the optimum in expectation. ``kernel_scale``: None for s = (1 + cos) / 2, else the
    squared bandwidth h^2 > 0 of the Gaussian kernel exp((cos - 1) / h^2) (module docstring).
    ``progress(done, budget)``: before the first pick and after each one.
    """
    x, budget, pre = check_rows(x, budget, already_selected, what="facility location")
    n = len(x)
    h2 = None if kernel_scale is None else positive("kernel_scale", kernel_scale)
    groups, free = _group_mask(groups, n, pre)
    m = min(n, positive_int("max_clients", max_clients))
    if m * n > _DENSE_MAX:  # shrink the sample so that the matrix fits, but keep enough clients
        m = min(m, max(_DENSE_MAX // n, min(n, _MIN_CLIENTS)))
    if m == n:
        clients = x
    else:
        rng = np.random.default_rng(seed)
        clients = x[np.sort(rng.choice(n, m, replace=False))]
    sim = _sim(clients, x, h2) if m * n <= _DENSE_MAX else None
    cur = np.zeros(m, dtype=np.float32)  # each client's best similarity to the selection so far
    report = reporter(progress, budget)
    gains = _initial_gains(clients, x, sim, h2)
    open_ = np.ones(n, dtype=bool)
    open_[pre] = False
    for j in pre:
        _take(clients, x, sim, cur, gains, int(j), h2)
    picks = np.empty(budget, dtype=np.int64)
    picked_gain = np.empty(budget, dtype=np.float64)
    top = None if random_top is None else positive_int("random_top", random_top)
    draw = np.random.default_rng(seed)  # random greedy's draws (a stream of their own)
    for t in range(budget):
        allowed = open_ if free is None or not (open_ & free).any() else open_ & free
        g = np.where(allowed, gains, -np.inf)
        j = int(np.argmax(g)) if top is None else _draw_top(g, min(top, int(allowed.sum())), draw)
        picks[t], picked_gain[t] = j, g[j]
        open_[j] = False
        if free is not None:
            free[groups == groups[j]] = False  # its group has its pick
        _take(clients, x, sim, cur, gains, j, h2)
        report(t + 1, budget)
    return FacilityLocationResult(picks, picked_gain, float(cur.mean()))


def _draw_top(g: np.ndarray, k: int, rng: np.random.Generator) -> int:
    """A uniform draw among the k largest entries of ``g`` (ordered by value, ties by position)."""
    top = np.argpartition(-g, k - 1)[:k]
    return int(rng.choice(top[np.lexsort((top, -g[top]))]))


def _group_mask(groups, n: int, pre: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(groups as an array, rows whose group holds no selected row yet); (None, None) without groups."""
    if groups is None:
        return None, None
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise InvalidInputError(f"groups must have one label per row ({n}), got {groups.shape}.")
    return groups, ~np.isin(groups, groups[pre])


def _sim(a: np.ndarray, b: np.ndarray, h2: float | None = None) -> np.ndarray:
    """s(a_i, b_j): (1 + cos) / 2, or with ``h2`` the Gaussian kernel exp((cos - 1) / h2)."""
    out = a @ b.T
    if h2 is None:
        out += 1.0
        out *= 0.5
        return out
    np.minimum(out, 1.0, out=out)  # rounding can put cos above 1
    out -= 1.0
    out /= np.float32(h2)
    np.exp(out, out=out)
    return out


def _initial_gains(
    clients: np.ndarray, x: np.ndarray, sim: np.ndarray | None, h2: float | None = None
) -> np.ndarray:
    """With nothing selected, the gain of row j is sum_i s(i, j): with (1 + cos) / 2, (m + sum_i x_i . x_j) / 2;
    with the Gaussian kernel and no stored matrix, summed over chunks of clients."""
    if sim is not None:
        return sim.sum(axis=0, dtype=np.float64)
    if h2 is None:
        return (len(clients) + x.astype(np.float64) @ clients.sum(axis=0, dtype=np.float64)) / 2.0
    gains = np.zeros(len(x), dtype=np.float64)
    for a in range(0, len(clients), _CHUNK):
        gains += _sim(clients[a : a + _CHUNK], x, h2).sum(axis=0, dtype=np.float64)
    return gains


def _take(
    clients: np.ndarray,
    x: np.ndarray,
    sim: np.ndarray | None,
    cur: np.ndarray,
    gains,
    j: int,
    h2: float | None = None,
) -> None:
    """Add row j: the clients it captures move to it, and every row's gain loses what they gave it."""
    s_j = sim[:, j] if sim is not None else _sim(clients, x[j][None, :], h2)[:, 0]
    cap = np.flatnonzero(s_j > cur)
    for a in range(0, len(cap), _CHUNK):
        rows_idx = cap[a : a + _CHUNK]
        rows = sim[rows_idx] if sim is not None else _sim(clients[rows_idx], x, h2)
        old, new = cur[rows_idx, None], s_j[rows_idx, None]
        # gain of row r from client i drops from max(0, s_ir - old_i) to max(0, s_ir - new_i)
        lost = np.maximum(rows - old, 0.0) - np.maximum(rows - new, 0.0)
        gains -= lost.sum(axis=0, dtype=np.float64)
    cur[cap] = s_j[cap]
