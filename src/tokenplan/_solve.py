"""Scalar root finding and minimisation in plain Python: bisection and golden-section search.

One home for both: laws invert their allocation curves by bisection (``Law.optimal_tokens`` and friends),
the data-constrained optimum and the inference-aware allocation minimise a unimodal function of log N.
scipy.optimize would do the same, but costs ~0.4 s of imports on `tokenplan plan`'s start-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["bisect", "golden_section"]

_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0


def bisect(
    f: Callable[[float], float],
    target: float,
    lo: float,
    hi: float,
    *,
    tol: float = 1e-13,
    max_iter: int = 200,
) -> float:
    """x in [lo, hi] with f(x) = target, for f non-decreasing on the interval.

    The caller checks that ``f(lo) <= target <= f(hi)``; the result is the midpoint of the last bracket,
    within ``tol`` of the crossing.
    """
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def golden_section(
    f: Callable[[float], float], lo: float, hi: float, *, tol: float = 1e-10
) -> float:
    """The minimiser of a unimodal ``f`` on [lo, hi] (golden-section search, to within ``tol``)."""
    c, d = hi - _INV_PHI * (hi - lo), lo + _INV_PHI * (hi - lo)
    fc, fd = f(c), f(d)
    while hi - lo > tol:
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - _INV_PHI * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + _INV_PHI * (hi - lo)
            fd = f(d)
    return 0.5 * (lo + hi)
