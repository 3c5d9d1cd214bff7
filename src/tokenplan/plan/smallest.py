"""The smallest budget a law plans: one parameter and one token at its optimum.

Below it a law's closed form still answers, with no model behind the numbers: Kaplan's law puts 2.2e-06
non-embedding parameters on 1 FLOP, epoch2024 0.048 parameters on 3.5 tokens. :func:`smallest_budget` finds
the budget where the smaller of N_opt and D_opt reaches one, by bisection on the log of the budget: N_opt
and D_opt grow with a FLOPs, GPU-hours or days budget, D_opt with a model size, N_opt with a token count,
and both as a target loss falls towards the law's irreducible loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tokenplan._solve import bisect
from tokenplan.errors import InvalidInputError
from tokenplan.laws import Allocation
from tokenplan.units import MAX_QUANTITY

__all__ = ["below_one", "smallest_budget"]

# Target-loss steps of 10x (in target - floor) while looking for one that plans a whole model; a budget
# steps up to MAX_QUANTITY from wherever it starts (1e-300 FLOPs is 330 decades below it).
_DECADES = 60
# Bisection tolerance on the log of the budget (a relative 1e-12).
_TOL = 1e-12


def below_one(alloc: Allocation) -> bool:
    """Whether the allocation has less than one parameter or less than one token."""
    return not min(float(alloc.n_params), float(alloc.n_tokens)) >= 1.0


def _log_size(make: Callable[[float], Allocation], budget: float) -> float:
    """log of the smaller of N_opt and D_opt at ``budget``; -inf where the law cannot answer it."""
    try:
        alloc = make(budget)
        size = min(float(alloc.n_params), float(alloc.n_tokens))
    except (InvalidInputError, OverflowError, ZeroDivisionError):
        return -math.inf
    return math.log(size) if math.isfinite(size) and size > 0 else -math.inf


def smallest_budget(
    make: Callable[[float], Allocation], budget: float, *, floor: float | None = None
) -> float | None:
    """The budget at which ``make(budget)`` first plans one parameter and one token, from a ``budget`` that
    plans less, rounded as printed; ``None`` when no budget up to :data:`~tokenplan.units.MAX_QUANTITY`
    does (a degenerate law).

    With ``floor`` (a target loss: the law's irreducible loss) smaller targets are larger budgets: the
    search runs on -log(target - floor) and the result is the highest target that plans a whole model.
    """
    if floor is None:
        to_budget, start = math.exp, math.log(budget)
    else:
        to_budget, start = (lambda y: floor + math.exp(-y)), -math.log(budget - floor)
    lo, hi = start, None
    steps = _DECADES
    if floor is None:
        steps = max(1, math.ceil((math.log(MAX_QUANTITY) - start) / math.log(10.0)))
    for k in range(1, steps + 1):
        y = start + k * math.log(10.0)
        if floor is None and math.exp(y) > MAX_QUANTITY:
            break
        if _log_size(make, to_budget(y)) >= 0.0:
            hi = y
            break
        lo = y
    if hi is None:
        return None
    y = bisect(lambda v: _log_size(make, to_budget(v)), 0.0, lo, hi, tol=_TOL)
    return _shown(make, to_budget(y + _TOL), target_loss=floor is not None)


def _shown(make: Callable[[float], Allocation], value: float, *, target_loss: bool) -> float:
    """The smallest budget as printed: three significant digits (a target loss: three decimals), the
    nearest such value that itself plans a whole model (1 parameter, not 1.01 from a crossing a hair above
    1), else the next one up (a target loss: down)."""
    scale = 1e-3 if target_loss else 10.0 ** (math.floor(math.log10(value)) - 2)
    for nudge in (1e-6, 0.0, -1.0):
        if target_loss:
            shown = math.floor(value / scale + nudge) * scale
        else:
            shown = math.ceil(value / scale - nudge) * scale
        if _log_size(make, shown) >= 0.0:
            return shown
    return value
