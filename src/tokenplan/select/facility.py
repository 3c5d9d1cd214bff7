"""Facility location: pick the rows that best *represent* the pool (a monotone submodular objective).

    F(S) = sum over pool rows i of  max over selected rows j of  s(i, j),   s(i, j) = (1 + cos(i, j)) / 2

On unit vectors s = 1 - ||x_i - x_j||^2 / 4, so maximising F is the k-medoids objective on squared distance: every
pool row wants a selected row near it, and a dense region, holding many rows, pays most. Greedy maximisation
is within 1 - 1/e of the optimum (Nemhauser, Wolsey & Fisher 1978); this is the objective of `apricot`'s
FacilityLocationSelection and of submodlib, written here without them.

Lazy greedy, vectorised: the gain of a row can only shrink as S grows, so stale gains are upper bounds. Each
step re-evaluates the ``block`` rows with the largest bounds in one matrix product and accepts the best if its
fresh gain beats every remaining bound (Minoux 1978); otherwise it re-evaluates the next block.

When the (clients x rows) similarity matrix fits in 64 MB (pools up to ~4,000 rows) it is computed once and
every step evaluates every row exactly.

The objective sums over *clients*: all rows when the pool has at most ``max_clients``, else a uniform sample of
that many rows (seeded), which estimates F without the n x n matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokenplan._checks import positive_int
from tokenplan.errors import InvalidInputError

__all__ = ["FacilityLocationResult", "facility_location"]

_DENSE_MAX = 1 << 24  # entries of the similarity matrix computed at once (64 MB in float32)


@dataclass(frozen=True)
class FacilityLocationResult:
    """Picks in greedy order, the marginal gain of each pick, and F(S) per client (mean similarity)."""

    indices: np.ndarray
    gains: np.ndarray
    objective: float

    def __repr__(self) -> str:
        return f"FacilityLocationResult(n_selected={len(self.indices)}, objective={self.objective:.4f})"


def facility_location(
    x: np.ndarray,
    budget: int,
    *,
    seed: int = 0,
    max_clients: int = 4096,
    block: int = 64,
    already_selected: np.ndarray | None = None,
) -> FacilityLocationResult:
    """Greedy facility location over the rows of ``x`` (L2-normalised): ``budget`` distinct rows.

    ``already_selected`` rows count for the objective (their clients are covered) but not against the
    budget and are never picked again. Deterministic given ``seed`` (which only draws the client sample).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise InvalidInputError(f"facility location needs a non-empty 2-D array, got {x.shape}.")
    n = len(x)
    budget = positive_int("budget", budget)
    pre = np.asarray([] if already_selected is None else already_selected, dtype=np.int64)
    if budget > n - len(np.unique(pre)):
        raise InvalidInputError(
            f"budget={budget} should be <= n_samples={n - len(np.unique(pre))}."
        )
    max_clients = positive_int("max_clients", max_clients)
    block = positive_int("block", block)
    if n <= max_clients:
        clients = x
    else:
        rng = np.random.default_rng(seed)
        clients = x[np.sort(rng.choice(n, max_clients, replace=False))]
    cur = np.zeros(len(clients), dtype=np.float32)  # each client's best similarity to the selection
    if len(pre):
        cur = np.max(_sim(clients, x[pre]), axis=1)
    open_ = np.ones(n, dtype=bool)
    open_[pre] = False
    if len(clients) * n <= _DENSE_MAX:
        picks, gains = _dense_greedy(_sim(clients, x), cur, open_, budget)
    else:
        picks, gains = _lazy_greedy(x, clients, cur, open_, budget, block, fresh=not len(pre))
    return FacilityLocationResult(picks, gains, float(cur.mean()))


def _sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (1.0 + a @ b.T) / 2.0


def _dense_greedy(
    sim: np.ndarray, cur: np.ndarray, open_: np.ndarray, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact greedy on a precomputed (clients x rows) matrix; ``cur`` is updated in place."""
    picks = np.empty(budget, dtype=np.int64)
    gains = np.empty(budget, dtype=np.float64)
    for t in range(budget):
        g = np.maximum(sim - cur[:, None], 0.0).sum(axis=0, dtype=np.float64)
        g[~open_] = -np.inf
        j = int(np.argmax(g))  # ties: the lowest row index
        picks[t], gains[t] = j, g[j]
        np.maximum(cur, sim[:, j], out=cur)
        open_[j] = False
    return picks, gains


def _lazy_greedy(
    x: np.ndarray,
    clients: np.ndarray,
    cur: np.ndarray,
    open_: np.ndarray,
    budget: int,
    block: int,
    *,
    fresh: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Lazy greedy with stale gains as upper bounds, re-evaluated ``block`` rows at a time."""
    if (
        fresh
    ):  # nothing selected: the gain of j is sum_i s(i, j) = (m + sum_i x_i . x_j) / 2, exactly
        bound = ((len(clients) + x @ clients.sum(axis=0)) / 2.0).astype(np.float64)
    else:
        bound = np.full(len(x), np.inf)
    bound[~open_] = -np.inf
    picks = np.empty(budget, dtype=np.int64)
    gains = np.empty(budget, dtype=np.float64)
    for t in range(budget):
        order = np.argsort(-bound, kind="stable")
        best_j, best_g = -1, -np.inf
        for s in range(0, len(order), block):
            cand = order[s : s + block]
            cand = cand[open_[cand]]
            if not len(cand):
                break
            fresh_g = np.maximum(_sim(clients, x[cand]) - cur[:, None], 0.0).sum(
                axis=0, dtype=np.float64
            )
            bound[cand] = fresh_g
            i = int(np.argmax(fresh_g))
            if fresh_g[i] > best_g:
                best_j, best_g = int(cand[i]), float(fresh_g[i])
            if s + block >= len(order) or best_g >= bound[order[s + block]]:
                break
        picks[t], gains[t] = best_j, best_g
        np.maximum(cur, _sim(clients, x[best_j][None, :])[:, 0], out=cur)
        open_[best_j] = False
        bound[best_j] = -np.inf
    return picks, gains
