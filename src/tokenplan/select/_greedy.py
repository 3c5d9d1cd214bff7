"""What the two greedy pickers share (:mod:`~tokenplan.select.kcenter`, :mod:`~tokenplan.select.facility`).

Both take L2-normalised rows, a budget of new picks, rows already in the subset (which count for the
objective, not against the budget, and are never picked again), and an optional ``progress(done, budget)``
callback called before the first pick and after each one; both return the picks in greedy order with the
value of each pick when it was made and the objective after the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tokenplan._checks import finite_rows, positive_int
from tokenplan.errors import InvalidInputError


@dataclass(frozen=True)
class GreedyResult:
    """Picks in greedy order (``indices``), the value of each pick when made, the final objective."""

    #: the field holding the final objective (shown by the repr); named by each subclass
    objective_field: ClassVar[str]

    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        name = self.objective_field
        return f"{type(self).__name__}(n_selected={len(self.indices)}, {name}={getattr(self, name):.4f})"


def check_rows(
    x: np.ndarray, budget: int, already_selected: np.ndarray | None, *, what: str
) -> tuple[np.ndarray, int, np.ndarray]:
    """``x`` as a float32 2-D array, the budget checked against the rows not yet selected, and the
    already-selected rows as unique int64 indices in range; one clear error otherwise."""
    x = finite_rows("x", x, what=what)
    n = len(x)
    budget = positive_int("budget", budget)
    raw = np.asarray([] if already_selected is None else already_selected)
    # a boolean mask was read as positions 0 and 1, 1.5 as 1, a nested list flattened
    if raw.size and (
        raw.ndim != 1 or raw.dtype == bool or not np.issubdtype(raw.dtype, np.integer)
    ):
        raise InvalidInputError(
            f"already_selected must be a list of row positions (integers), not {raw.dtype} values "
            f"of shape {raw.shape}.",
            param="already_selected",
        )
    pre = np.unique(raw.astype(np.int64))
    if len(pre) and not (0 <= pre[0] and pre[-1] < n):
        raise InvalidInputError(
            f"already_selected holds indices outside [0, {n}).", param="already_selected"
        )
    if budget > n - len(pre):
        raise InvalidInputError(f"budget={budget} should be <= n_samples={n - len(pre)}.")
    return x, budget, pre
