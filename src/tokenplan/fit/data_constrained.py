"""Fit the data-constrained law (Muennighoff et al. 2023, eqs. 5-6): R_D* and R_N*, base law frozen or fitted.

The objective is the one of the datablations code (huggingface/datablations, utils/parametric_fit.ipynb,
"Fit default"): the SUM over runs of Huber_{delta=1e-3}(log L_pred(N', D') - log L), with the base law's
E, A, B, alpha (= beta) frozen at their C4 fit, from starting points R_D*, R_N* in linspace(0, 20, 4) (the
zeros give 0/0 and drop out, leaving 3 x 3 starts). With the published constants it is 0.0158259 on all 182
runs of ``datablations_c4_runs.csv`` (no filter; the notebook had already removed its outliers).

The objective is very flat along a valley: outside the paper's search box (R* <= 20) it keeps falling slowly
(R_D* ≈ 47, R_N* ≈ 2.3 gives 0.0158074; R_D* ≈ 95, R_N* ≈ 1.7 gives 0.0158047), i.e. these runs do not pin
R_D* down. We therefore search inside a box (default (0, 20], the paper's grid range), and report with a
warning when a point outside the box fits better.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.fit._threads import one_blas_thread
from tokenplan.fit.parametric import huber
from tokenplan.fit.result import FitResult, fitted_law_fields
from tokenplan.laws.chinchilla import ChinchillaLaw
from tokenplan.laws.data_constrained import DataConstrainedLaw

if TYPE_CHECKING:
    from tokenplan.runs import RunTable

__all__ = ["DataConstrainedFit", "data_constrained_objective", "fit_data_constrained"]

# huggingface/datablations utils/parametric_fit.ipynb: np.linspace(0, 20, 4) for both; 0 is degenerate.
PAPER_STARTS = tuple(float(v) for v in np.linspace(0, 20, 4)[1:])
PAPER_BOUNDS = (1e-2, 20.0)
BASE_MISS_TOLERANCE = 0.25
"""Median |predicted/actual - 1| above which a frozen base law is said not to be the runs' own: the C4 base
law misses its own 182 runs by 7.3% (median; 8.2% mean) with R_D*, R_N* refitted."""


def _arrays(runs):
    N, D, L = runs.n_params, runs.n_tokens, runs.loss
    U = np.where(np.isfinite(runs.unique_tokens), runs.unique_tokens, D)
    return N, D, np.minimum(U, D), L


def data_constrained_objective(
    law: DataConstrainedLaw, runs: RunTable, *, delta: float = 1e-3
) -> float:
    """sum_i Huber_delta(log L_pred(N_i, D_i, U_i) - log L_i) (datablations' objective)."""
    N, D, U, L = _arrays(runs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = np.log(law.loss(N, D, U)) - np.log(L)
    return float(huber(r, delta).sum())


@dataclass(frozen=True, kw_only=True)
class DataConstrainedFit(FitResult):
    """The result of :func:`fit_data_constrained`."""

    approach = "data-constrained"
    param_names = "E A B alpha beta R_D_star R_N_star"

    law: DataConstrainedLaw
    objective: float
    fit_base: bool
    n_repeated: int
    bounds: tuple[float, float]
    local_optima: tuple[tuple[float, float, float], ...] = field(default=(), repr=False)

    def details(self) -> dict[str, Any]:
        return {
            **record(self, "objective fit_base n_runs n_repeated"),
            "bounds": list(self.bounds),
            "local_optima": [
                {"R_D_star": d, "R_N_star": n, "objective": f} for d, n, f in self.local_optima
            ],
        }

    def __repr__(self) -> str:
        return (
            f"DataConstrainedFit(R_D_star={self.law.R_D_star:.3f}, R_N_star={self.law.R_N_star:.3f}, "
            f"objective={self.objective:.7g}, fit_base={self.fit_base}, n_runs={self.n_runs})"
        )


def fit_data_constrained(
    runs: RunTable,
    *,
    base: ChinchillaLaw | None = None,
    fit_base: bool = False,
    delta: float = 1e-3,
    starts: tuple[float, ...] = PAPER_STARTS,
    bounds: tuple[float, float] = PAPER_BOUNDS,
    check_outside: bool = True,
    start_pairs: tuple[tuple[float, float], ...] | None = None,
    name: str = "fit-data-constrained",
) -> DataConstrainedFit:
    """Fit R_D*, R_N* (and with ``fit_base`` also E, A, B, alpha, beta) by L-BFGS-B in log space.

    ``base`` defaults to the ``muennighoff2023`` preset's C4 base law. ``starts`` are the values tried for
    both R_D* and R_N* (all pairs), or ``start_pairs`` gives (R_D*, R_N*) pairs; ``bounds`` is the search
    box for both.
    """
    from tokenplan.runs import require_table

    require_table(runs)
    delta = _checks.positive("delta", delta)
    lo, hi = (_checks.positive("bounds", v) for v in bounds)
    if not lo < hi:
        raise InvalidInputError(f"bounds={bounds!r}: the lower bound must be below the upper.")
    problem = _DCProblem.build(runs, base=base, fit_base=fit_base, delta=delta, name=name)
    pairs = (
        [(a, b) for a, b in start_pairs if a > 0 and b > 0]
        if start_pairs is not None
        else [(a, b) for a in starts for b in starts if a > 0 and b > 0]
    )
    if not pairs:
        raise InvalidInputError("starts must contain positive values.")
    box = [(math.log(lo), math.log(hi))] * 2 + [(None, None)] * (
        len(problem.base_x) if fit_base else 0
    )
    found = problem.run(pairs, box)
    wide = problem.run(pairs, _widened(box)) if check_outside else []
    # A start the wide search took to a better point inside the box found the box's optimum the in-box
    # search missed (its bounds steer L-BFGS-B's path): that point is the fit, not a point 'outside'.
    found += [t for t in wide if _in_box(t[1], lo, hi)]
    f_best, x_best = min(found, key=lambda t: t[0])
    law = problem.unpack(x_best)
    notes = problem.exact_fit_note(f_best) + _bound_notes(law, bounds)
    notes += problem.outside_note([t for t in wide if not _in_box(t[1], lo, hi)], f_best, bounds)
    if base is None:  # the C4 base law, which the note names (a base of your own is not it)
        notes += problem.base_miss_note(law)
    return DataConstrainedFit(
        law=law,
        objective=float(f_best),
        fit_base=fit_base,
        n_runs=len(runs),
        n_repeated=problem.n_repeated,
        bounds=(lo, hi),
        local_optima=_local_optima(found),
        warnings=tuple(notes),
    )


def _bound_notes(law: DataConstrainedLaw, bounds: tuple[float, float]) -> list[str]:
    """A warning for R_D* or R_N* on a bound of the search box: the runs do not pin it down inside it."""
    return [
        f"{label}={v:.4g} sits on the search bound {bounds}: the runs do not pin it down inside the "
        "paper's box; add runs at more epochs and sizes, or widen it (bounds= from Python; the CLI "
        "searches the paper's box)."
        for label, v in (("R_D*", law.R_D_star), ("R_N*", law.R_N_star))
        if any(math.isclose(v, b, rel_tol=1e-6) for b in bounds)
    ]


def _widened(box):
    """The search box with R_D*, R_N* free over (1e-3, 1e4): where the outside check looks."""
    return [(math.log(1e-3), math.log(1e4))] * 2 + box[2:]


def _in_box(x, lo: float, hi: float) -> bool:
    """True when R_D* and R_N* of ``x`` both lie inside the search box (to rounding)."""
    return all(lo * (1 - 1e-6) <= math.exp(v) <= hi * (1 + 1e-6) for v in x[:2])


def _local_optima(found) -> tuple[tuple[float, float, float], ...]:
    """Distinct (R_D*, R_N*, objective) the starts converged to, best first."""
    optima: dict[tuple[float, float], float] = {}
    for f, x in found:
        key = (round(math.exp(x[0]), 3), round(math.exp(x[1]), 3))
        optima[key] = min(f, optima.get(key, math.inf))
    return tuple(sorted(((d, n, f) for (d, n), f in optima.items()), key=lambda t: t[2]))


@dataclass(frozen=True)
class _DCProblem:
    """The datablations objective over x = (log R_D*, log R_N*[, a, b, e, alpha[, beta]])."""

    template: DataConstrainedLaw
    fit_base: bool
    tied: bool
    N: np.ndarray
    D: np.ndarray
    U: np.ndarray
    logL: np.ndarray
    delta: float
    base_x: tuple[float, ...]
    n_repeated: int

    def exact_fit_note(self, objective: float) -> list[str]:
        """A warning when the runs have no more distinct (N, D, U) points than the fit has constants
        (R_D*, R_N*, and with ``fit_base`` the base law's): it passes through every run, as Approach 3's
        :func:`~tokenplan.fit.parametric.exact_fit_notes` says of its own law."""
        n_free = 2 + (len(self.base_x) if self.fit_base else 0)
        n_points = len(np.unique(np.column_stack([self.N, self.D, self.U]), axis=0))
        if n_points > n_free:
            return []
        which = f"R_D*, R_N* and the base law's {n_free - 2}" if self.fit_base else "R_D* and R_N*"
        return [
            f"{n_points} distinct (N, D, unique tokens) points for {n_free} constants ({which}): the law "
            f"can pass through every point (objective {objective:.2g}: what is left is the scatter of "
            "runs at one point), so nothing measures its error and its constants are whatever the search "
            "reached first. Add runs at other sizes, token counts or unique-data sizes."
        ]

    @classmethod
    def build(cls, runs, *, base, fit_base, delta, name) -> _DCProblem:
        from tokenplan.laws import get_law

        N, D, U, L = _arrays(runs)
        n_rep = int((D > U * (1 + 1e-9)).sum())
        if n_rep == 0:
            raise InvalidInputError(
                "the data-constrained fit needs runs that repeat data (unique_tokens < n_tokens); none "
                "do. Add an unique_tokens column (or map one with --columns unique_tokens=...)."
            )
        if len(runs) < 4:
            raise InvalidInputError(
                f"the data-constrained fit needs at least 4 runs; got {len(runs)}."
            )
        preset = get_law("muennighoff2023")
        base = base or preset
        template = DataConstrainedLaw(
            **fitted_law_fields(
                name,
                "Muennighoff et al. 2023 eqs. 5-6",
                runs,
                f"data-constrained fit on {len(runs)} runs ({n_rep} repeated)",
                param_convention=base.param_convention,
            ),
            **{key: getattr(base, key) for key in ("E", "A", "B", "alpha", "beta")},
            R_D_star=getattr(base, "R_D_star", preset.R_D_star),
            R_N_star=getattr(base, "R_N_star", preset.R_N_star),
        )
        tied = math.isclose(base.alpha, base.beta)
        base_x = (math.log(base.A), math.log(base.B), math.log(base.E), base.alpha)
        base_x += () if tied else (base.beta,)
        return cls(template, fit_base, tied, N, D, U, np.log(L), delta, base_x, n_rep)

    def unpack(self, x) -> DataConstrainedLaw:
        rd, rn = math.exp(x[0]), math.exp(x[1])
        if not self.fit_base:
            return replace(self.template, R_D_star=rd, R_N_star=rn)
        a, b, e, al = x[2:6]
        be = al if self.tied else x[6]
        return replace(
            self.template, R_D_star=rd, R_N_star=rn, A=math.exp(a), B=math.exp(b), E=math.exp(e),
            alpha=al, beta=be,
        )  # fmt: skip

    def objective(self, x) -> float:
        try:
            law = self.unpack(x)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                r = np.log(law.loss(self.N, self.D, self.U)) - self.logL
        except (InvalidInputError, OverflowError, ValueError):
            return 1e6
        f = float(huber(r, self.delta).sum())
        return f if math.isfinite(f) else 1e6

    def run(self, pairs, box) -> list[tuple[float, np.ndarray]]:
        """(objective, x) from L-BFGS-B started at each (R_D*, R_N*) pair (and the base law)."""
        from scipy.optimize import minimize

        found = []
        for rd, rn in pairs:
            x0 = [math.log(rd), math.log(rn)] + (list(self.base_x) if self.fit_base else [])
            with warnings.catch_warnings(), one_blas_thread():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = minimize(
                    self.objective,
                    x0,
                    method="L-BFGS-B",
                    bounds=box,
                    options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000},
                )
            found.append((float(res.fun), np.asarray(res.x)))
        return found

    def base_miss_note(self, law: DataConstrainedLaw) -> list[str]:
        """A warning when the frozen base law misses the runs by far more than it misses its own C4 runs
        (median |error| 7.3% there): only R_D*, R_N* were fitted, around a base law that is not these
        runs' (a sweep of tiny byte-level models sits ~8x below it), so every prediction inherits that."""
        if self.fit_base:
            return []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            err = np.abs(np.exp(np.log(law.loss(self.N, self.D, self.U)) - self.logL) - 1.0)
        if not np.median(err) > BASE_MISS_TOLERANCE:
            return []
        return [
            f"the base law (E, A, B, alpha, beta) is held at Muennighoff et al. 2023's C4 fit and misses "
            f"these runs by {np.median(err):.0%} (median |error|; up to {np.max(err):.0%}): only R_D* and "
            "R_N* were fitted, around a base law that is not these runs', so its losses and R* are not "
            "theirs. Refit the base law too (--fit-base; fit_base=True from Python)."
        ]

    def outside_note(self, outside, f_best, bounds) -> list[str]:
        """A warning when a point ``outside`` the search box (R_D* or R_N* beyond it; (objective, x) pairs
        from the widened search) fits better (the flat valley)."""
        if not outside:
            return []
        f_out, x_out = min(outside, key=lambda t: t[0])
        if not f_out < f_best * (1 - 1e-6):
            return []
        out = self.unpack(x_out)
        return [
            f"outside the search box {bounds} the objective is lower: R_D*={out.R_D_star:.3g}, "
            f"R_N*={out.R_N_star:.3g} gives {f_out:.7g} vs {f_best:.7g} inside; the runs barely identify "
            "R_D*/R_N* (a flat valley), so treat them as uncertain."
        ]
