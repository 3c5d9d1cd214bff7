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
from tokenplan.errors import InvalidInputError
from tokenplan.fit.parametric import huber
from tokenplan.laws.chinchilla import ChinchillaLaw
from tokenplan.laws.data_constrained import DataConstrainedLaw

if TYPE_CHECKING:
    from tokenplan.runs import RunTable

__all__ = ["DataConstrainedFit", "data_constrained_objective", "fit_data_constrained"]

# huggingface/datablations utils/parametric_fit.ipynb: np.linspace(0, 20, 4) for both; 0 is degenerate.
PAPER_STARTS = tuple(float(v) for v in np.linspace(0, 20, 4)[1:])
PAPER_BOUNDS = (1e-2, 20.0)


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


@dataclass(frozen=True)
class DataConstrainedFit:
    """The result of :func:`fit_data_constrained`."""

    law: DataConstrainedLaw
    objective: float
    fit_base: bool
    n_runs: int
    n_repeated: int
    bounds: tuple[float, float]
    local_optima: tuple[tuple[float, float, float], ...] = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def exponents(self) -> tuple[float, float]:
        return self.law.exponents

    @property
    def params(self) -> dict[str, float]:
        law = self.law
        return {
            "E": law.E,
            "A": law.A,
            "B": law.B,
            "alpha": law.alpha,
            "beta": law.beta,
            "R_D_star": law.R_D_star,
            "R_N_star": law.R_N_star,
        }

    def to_dict(self) -> dict[str, Any]:
        a, b = self.exponents
        return {
            "approach": "data-constrained",
            "params": self.params,
            "exponents": {"a": a, "b": b},
            "objective": self.objective,
            "fit_base": self.fit_base,
            "n_runs": self.n_runs,
            "n_repeated": self.n_repeated,
            "bounds": list(self.bounds),
            "local_optima": [
                {"R_D_star": d, "R_N_star": n, "objective": f} for d, n, f in self.local_optima
            ],
            "warnings": list(self.warnings),
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
    from scipy.optimize import minimize

    from tokenplan.laws import get_law

    delta = _checks.positive("delta", delta)
    lo, hi = (_checks.positive("bounds", v) for v in bounds)
    if not lo < hi:
        raise InvalidInputError(f"bounds={bounds!r}: the lower bound must be below the upper.")
    N, D, U, L = _arrays(runs)
    n_rep = int((D > U * (1 + 1e-9)).sum())
    if n_rep == 0:
        raise InvalidInputError(
            "the data-constrained fit needs runs that repeat data (unique_tokens < n_tokens); none do. "
            "Add an unique_tokens column (or map one with --columns unique_tokens=...)."
        )
    if len(runs) < 4:
        raise InvalidInputError(f"the data-constrained fit needs at least 4 runs; got {len(runs)}.")
    preset = get_law("muennighoff2023")
    base = base or preset
    template = DataConstrainedLaw(
        name=name,
        citation=f"fitted by tokenplan (Muennighoff et al. 2023 eqs. 5-6) on {runs.source or 'runs'}",
        description=f"data-constrained fit on {len(runs)} runs ({n_rep} repeated)",
        fitted_flops=(float(runs.flops.min()), float(runs.flops.max())),
        param_convention=base.param_convention,
        E=base.E,
        A=base.A,
        B=base.B,
        alpha=base.alpha,
        beta=base.beta,
        R_D_star=getattr(base, "R_D_star", preset.R_D_star),
        R_N_star=getattr(base, "R_N_star", preset.R_N_star),
    )
    tied = math.isclose(base.alpha, base.beta)
    logL = np.log(L)

    def unpack(x):
        rd, rn = math.exp(x[0]), math.exp(x[1])
        if not fit_base:
            return replace(template, R_D_star=rd, R_N_star=rn)
        a, b, e, al = x[2:6]
        be = al if tied else x[6]
        return replace(
            template,
            R_D_star=rd,
            R_N_star=rn,
            A=math.exp(a),
            B=math.exp(b),
            E=math.exp(e),
            alpha=al,
            beta=be,
        )

    def objective(x):
        try:
            law = unpack(x)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                r = np.log(law.loss(N, D, U)) - logL
        except (InvalidInputError, OverflowError, ValueError):
            return 1e6
        f = float(huber(r, delta).sum())
        return f if math.isfinite(f) else 1e6

    base_x = [math.log(base.A), math.log(base.B), math.log(base.E), base.alpha]
    if not tied:
        base_x.append(base.beta)
    box = [(math.log(lo), math.log(hi))] * 2
    if fit_base:
        box += [(None, None)] * len(base_x)

    def run(starts_pairs, box):
        found = []
        for rd, rn in starts_pairs:
            x0 = [math.log(rd), math.log(rn)] + (base_x if fit_base else [])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = minimize(
                    objective,
                    x0,
                    method="L-BFGS-B",
                    bounds=box,
                    options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 2000},
                )
            found.append((float(res.fun), np.asarray(res.x)))
        return found

    pairs = (
        [(a, b) for a, b in start_pairs if a > 0 and b > 0]
        if start_pairs is not None
        else [(a, b) for a in starts for b in starts if a > 0 and b > 0]
    )
    if not pairs:
        raise InvalidInputError("starts must contain positive values.")
    found = run(pairs, box)
    f_best, x_best = min(found, key=lambda t: t[0])
    law = unpack(x_best)
    optima: dict[tuple[float, float], float] = {}
    for f, x in found:
        key = (round(math.exp(x[0]), 3), round(math.exp(x[1]), 3))
        optima[key] = min(f, optima.get(key, math.inf))
    notes: list[str] = []
    for label, v in (("R_D*", law.R_D_star), ("R_N*", law.R_N_star)):
        if math.isclose(v, hi, rel_tol=1e-6) or math.isclose(v, lo, rel_tol=1e-6):
            notes.append(f"{label}={v:.4g} sits on the search bound {bounds}; widen the bounds.")
    if check_outside:
        wide = [(math.log(1e-3), math.log(1e4))] * 2 + (box[2:] if fit_base else [])
        f_out, x_out = min(run(pairs, wide), key=lambda t: t[0])
        if f_out < f_best * (1 - 1e-6):
            out = unpack(x_out)
            notes.append(
                f"outside the search box {bounds} the objective is lower: R_D*={out.R_D_star:.3g}, "
                f"R_N*={out.R_N_star:.3g} gives {f_out:.7g} vs {f_best:.7g} inside; the runs barely identify "
                "R_D*/R_N* (a flat valley), so treat them as uncertain."
            )
    return DataConstrainedFit(
        law=law,
        objective=float(f_best),
        fit_base=fit_base,
        n_runs=len(runs),
        n_repeated=n_rep,
        bounds=(lo, hi),
        local_optima=tuple(sorted(((d, n, f) for (d, n), f in optima.items()), key=lambda t: t[2])),
        warnings=tuple(notes),
    )
