"""Chinchilla Approach 1: the envelope of training curves.

Hoffmann et al. 2022 (sec. 3.1): for each model size, train with cosine schedules; at 1,500 log-spaced FLOP
values take, over all runs, the lowest loss reached at that compute (interpolating each curve in log FLOPs);
the model size of the winning run is N_opt(C). Fit N_opt ∝ C^a and D_opt ∝ C^b through those points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.fit.result import FrontierFit, fitted_law_fields, frontier_notes
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.chinchilla import PowerLawAllocation

if TYPE_CHECKING:
    from tokenplan.runs import Curves

__all__ = ["EnvelopeFit", "fit_envelope"]


@dataclass(frozen=True, kw_only=True)
class EnvelopeFit(FrontierFit):
    """The result of :func:`fit_envelope`."""

    approach = 1

    law: PowerLawAllocation
    flops: np.ndarray = field(repr=False)  # the log-spaced FLOP grid (where some run covers it)
    loss: np.ndarray = field(repr=False)  # the envelope: lowest loss at each FLOP value
    n_params: np.ndarray = field(repr=False)  # N of the winning run at each FLOP value

    def details(self) -> dict[str, Any]:
        return {
            "n_runs": self.n_runs,
            "n_points": len(self.flops),
            "winning_sizes": sorted({float(n) for n in self.n_params}),
        }

    def __repr__(self) -> str:
        a, b = self.exponents
        return (
            f"EnvelopeFit(a={a:.3f}, b={b:.3f}, k={self.law.k:.4g}, points={len(self.flops)}, "
            f"sizes={len(set(self.n_params.tolist()))}, n_runs={self.n_runs})"
        )


def envelope(curves: Curves, *, n_points: int = 1500):
    """(flops, loss, n_params, run index) of the lower envelope at ``n_points`` log-spaced FLOP values."""
    ids = np.asarray(curves.run_id).astype(str)
    runs = list(dict.fromkeys(ids))
    lo, hi = curves.flops.min(), curves.flops.max()
    grid = np.logspace(np.log10(lo), np.log10(hi), n_points)
    lg = np.log(grid)
    best = np.full(n_points, np.inf)
    best_n = np.full(n_points, np.nan)
    for r in runs:
        m = ids == r
        c, loss_r = np.log(curves.flops[m]), curves.loss[m]
        order = np.argsort(c)
        c, loss_r = c[order], loss_r[order]
        if len(c) < 2:
            continue
        inside = (lg >= c[0]) & (lg <= c[-1])
        vals = np.interp(lg[inside], c, loss_r)
        better = vals < best[inside]
        idx = np.flatnonzero(inside)[better]
        best[idx] = vals[better]
        best_n[idx] = curves.n_params[m][0]
    ok = np.isfinite(best)
    return grid[ok], best[ok], best_n[ok], len(runs)


def _require_curves(curves: object) -> None:
    """Curves to fit: none is a missing --curves; a path or a list is named (it failed on a missing
    attribute)."""
    from tokenplan.runs import Curves, require_table

    if curves is None or (isinstance(curves, Curves) and len(curves) == 0):
        raise InvalidInputError(
            "Approach 1 needs training curves (run_id, step or n_tokens, loss, n_params); pass --curves."
        )
    require_table(curves, Curves, param="curves")


def fit_envelope(
    curves: Curves | None, *, n_points: int = 1500, name: str = "fit-approach1"
) -> EnvelopeFit:
    """Chinchilla Approach 1 on :class:`~tokenplan.runs.Curves` (module docstring)."""
    _require_curves(curves)
    n_points = _checks.positive_int("n_points", n_points)
    if len(np.unique(curves.n_params)) < 2:
        raise InvalidInputError(
            f"Approach 1 needs curves of at least 2 model sizes; got {len(np.unique(curves.n_params))}."
        )
    C, L, N, n_runs = envelope(curves, n_points=n_points)
    notes: list[str] = []
    # Where the smallest or the largest size wins, the optimum lies outside the sizes trained (the
    # envelope is flat there, which would bias the slope): keep only the interior, as IsoFLOP brackets do.
    all_sizes = np.unique(curves.n_params)
    interior = (N > all_sizes.min()) & (N < all_sizes.max())
    if len(np.unique(N[interior])) >= 2:
        if (~interior).any():
            notes.append(
                f"{int((~interior).sum()):,} of {len(N):,} envelope points are won by the smallest or largest "
                "size (optimum not bracketed) and are left out of the power-law fit."
            )
        C, L, N = C[interior], L[interior], N[interior]
    else:
        notes.append(
            "the envelope is won by the smallest/largest sizes only; the fit is an extrapolation."
        )
    sizes = np.unique(N)
    if len(sizes) < 2:
        raise InvalidInputError(
            "Approach 1: one model size wins the envelope everywhere, so N_opt(C) has no slope; train "
            "larger models (or longer runs of the small ones)."
        )
    if len(sizes) < 3:
        notes.append(
            f"only {len(sizes)} model sizes appear on the envelope; the exponent is coarse."
        )
    law = PowerLawAllocation.fit_points(
        C,
        N,
        **fitted_law_fields(
            name,
            "Chinchilla Approach 1",
            curves,
            f"training-curve envelope of {n_runs} runs",
            flops=C,
        ),
    )
    notes += frontier_notes("Approach 1", law.a)
    D = C / (FLOPS_PER_PARAM_TOKEN * N)
    b, _ = np.polyfit(np.log(C), np.log(D), 1)
    return EnvelopeFit(
        law=law, flops=C, loss=L, n_params=N, n_runs=n_runs, b=float(b), warnings=tuple(notes)
    )
