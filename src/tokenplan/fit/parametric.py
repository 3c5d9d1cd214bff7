"""Chinchilla Approach 3: fit L(N, D) = E + A/N^alpha + B/D^beta to final losses.

Hoffmann et al. 2022 (sec. 3.3, App. D.2) minimise, over theta = (a, b, e, alpha, beta),

    sum_i Huber_delta( LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i ),   delta = 1e-3,

with A = exp(a), B = exp(b), E = exp(e), by L-BFGS from a grid of 4,500 starting points, keeping the best.
Besiroglu et al. 2024 (Epoch) showed the published constants came from an optimizer that stopped before
convergence because of the loss scale: with the mean instead of the sum, the objective is ~n times flatter and
a quasi-Newton method with default tolerances stops early. ``reduction="mean"`` reproduces that (scipy BFGS
with default tolerances from every start); started at Hoffmann's constants it stays there, while the sum
moves on to Epoch's optimum. The sum is the default.

Speed: the 4,500 starts are independent 5-parameter problems, so we solve them *together*: one numpy pass
computes the objective, the analytic gradient and the analytic Hessian for every start at once, and a batched
Levenberg-Marquardt (damped Newton) iteration moves all starts in lock-step; converged starts leave the batch.
The few best optima are then polished with scipy's L-BFGS-B. ``optimizer="scipy"`` is the plain loop.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.fit import choices
from tokenplan.fit._threads import one_blas_thread
from tokenplan.fit.result import HuberFit, fitted_law_fields
from tokenplan.laws.chinchilla import ChinchillaLaw

if TYPE_CHECKING:
    from tokenplan.runs import RunTable

__all__ = ["PAPER_GRID", "REDUCTIONS", "ParametricFit", "fit_parametric", "huber", "paper_grid"]

PARAM_NAMES = ("a", "b", "e", "alpha", "beta")
REDUCTIONS = (
    choices.REDUCTIONS
)  # "sum" (correct) or "mean" (the early stop behind Hoffmann et al.'s)

# Hoffmann et al. 2022, App. D.2: alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
# a, b in {0, 5, ..., 25} -> 5 * 5 * 5 * 6 * 6 = 4,500 starting points.
PAPER_GRID: dict[str, tuple[float, ...]] = {
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}


def paper_grid(grid: dict[str, tuple[float, ...]] | None = None) -> np.ndarray:
    """All combinations of the grid as an (S, 5) array in (a, b, e, alpha, beta) order."""
    g = dict(PAPER_GRID, **(grid or {}))
    return np.array(list(itertools.product(*(g[k] for k in PARAM_NAMES))), dtype=float)


def huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss: r^2/2 inside |r| <= delta, delta (|r| - delta/2) outside."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


# --- the objective, batched over starts ------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Data in log space plus the loss settings. ``M``/``c`` map free parameters phi to theta = M phi + c."""

    x: np.ndarray  # log N
    y: np.ndarray  # log D
    t: np.ndarray  # log L
    delta: float
    overestimate_weight: float
    norm: float  # 1 for the sum, n for the mean
    M: np.ndarray
    c: np.ndarray

    def theta(self, phi: np.ndarray) -> np.ndarray:
        return phi @ self.M.T + self.c

    def fgh(self, phi: np.ndarray, w: np.ndarray | None = None, *, hessian: bool = True):
        # long: one vectorised pass for value, gradient and the 15 Hessian entries;
        # splitting it would recompute the shared softmax terms or pass a dozen arrays around.
        """Objective, gradient and Hessian w.r.t. phi for a batch of parameter vectors phi (S, k).

        ``w`` (S, n) or (n,) are per-point weights (bootstrap counts); None means all ones. With
        ``hessian=None`` only the objective is computed (gradient and Hessian are None).
        """
        th = self.theta(phi)
        a, b, e, al, be = (th[:, j : j + 1] for j in range(5))
        z1 = a - al * self.x  # log(A / N^alpha)
        z2 = b - be * self.y  # log(B / D^beta)
        m = np.maximum(np.maximum(z1, z2), e)
        p1 = np.exp(z1 - m)
        p2 = np.exp(z2 - m)
        p3 = np.exp(e - m)
        s = p1 + p2 + p3
        r = m + np.log(s) - self.t  # log predicted L - log observed L (LSE form)
        absr = np.abs(r)
        quad = absr <= self.delta
        h = np.where(quad, 0.5 * r * r, self.delta * (absr - 0.5 * self.delta))
        sw = np.where(r > 0, self.overestimate_weight / self.norm, 1.0 / self.norm)
        if w is not None:
            sw = sw * w
        f = np.einsum("sn,sn->s", sw, h)
        if hessian is None:
            return f, None, None
        s = 1.0 / s
        p1 *= s  # softmax: d LSE / d z_k
        p2 *= s
        p3 *= s
        W1 = sw * np.clip(r, -self.delta, self.delta)  # w * h'(r)
        q1, q2, q3 = W1 * p1, W1 * p2, W1 * p3
        # moments against (1, log N, log D, log N^2, log D^2, log N log D), one matmul each
        X = self._basis
        m1, m2 = q1 @ X, q2 @ X
        # d r / d theta = F = (p1, p2, p3, -p1 log N, -p2 log D)
        g = np.stack([m1[:, 0], m2[:, 0], q3.sum(1), -m1[:, 1], -m2[:, 2]], axis=1)
        if not hessian:
            return f, g @ self.M, None
        # Hessian of sum_i w_i h(r_i): sum (h'' - h') F F^T + sum h' sum_k p_k dz_k dz_k^T (LSE curvature)
        V = sw * quad - W1
        V1 = V * p1
        V2 = V * p2
        u11, u12, u13 = (V1 * p1) @ X, (V1 * p2) @ X, (V1 * p3) @ X
        u22, u23 = (V2 * p2) @ X, (V2 * p3) @ X
        u33 = np.einsum("sn,sn->s", V * p3, p3)
        # columns of X: 0 -> 1, 1 -> x, 2 -> y, 3 -> x^2, 4 -> y^2, 5 -> x y
        H = np.empty((len(f), 5, 5))
        H[:, 0, 0] = u11[:, 0] + m1[:, 0]
        H[:, 0, 1] = u12[:, 0]
        H[:, 0, 2] = u13[:, 0]
        H[:, 0, 3] = -u11[:, 1] - m1[:, 1]
        H[:, 0, 4] = -u12[:, 2]
        H[:, 1, 1] = u22[:, 0] + m2[:, 0]
        H[:, 1, 2] = u23[:, 0]
        H[:, 1, 3] = -u12[:, 1]
        H[:, 1, 4] = -u22[:, 2] - m2[:, 2]
        H[:, 2, 2] = u33 + q3.sum(1)
        H[:, 2, 3] = -u13[:, 1]
        H[:, 2, 4] = -u23[:, 2]
        H[:, 3, 3] = u11[:, 3] + m1[:, 3]
        H[:, 3, 4] = u12[:, 5]
        H[:, 4, 4] = u22[:, 4] + m2[:, 4]
        iu = np.triu_indices(5, 1)
        H[:, iu[1], iu[0]] = H[:, iu[0], iu[1]]
        if self.M.shape[1] == 5:
            return f, g, H
        M = self.M
        return f, g @ M, np.einsum("ki,skl,lj->sij", M, H, M)

    @functools.cached_property
    def _basis(self) -> np.ndarray:
        x, y = self.x, self.y
        return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)

    def scalar(self, phi: np.ndarray, w: np.ndarray | None = None):
        """(f, grad) for one parameter vector (scipy's jac=True interface)."""
        f, g, _ = self.fgh(phi[None, :], None if w is None else w[None, :], hessian=False)
        return float(f[0]), g[0]


def _make_problem(runs, *, delta, reduction, overestimate_weight, alpha_equals_beta) -> _Problem:
    M = np.eye(5)
    if alpha_equals_beta:  # phi = (a, b, e, alpha); beta = alpha
        M = np.array(
            [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]], dtype=float
        )
    n = len(runs)
    return _Problem(
        x=np.log(runs.n_params),
        y=np.log(runs.n_tokens),
        t=np.log(runs.loss),
        delta=delta,
        overestimate_weight=overestimate_weight,
        norm=1.0 if reduction == "sum" else float(n),
        M=M,
        c=np.zeros(5),
    )


def _to_phi(problem: _Problem, theta: np.ndarray) -> np.ndarray:
    # Least-squares inverse of theta = M phi (exact for the identity and the tied map).
    return np.linalg.lstsq(problem.M, (theta - problem.c).T, rcond=None)[0].T


def batched_newton(
    problem: _Problem,
    phi0: np.ndarray,
    w: np.ndarray | None = None,
    *,
    max_iter: int = 200,
    ftol: float = 1e-13,
    xtol: float = 1e-10,
    prune: tuple[tuple[int, float], ...] = ((5, 0.25), (10, 0.1), (20, 0.03)),
    min_keep: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levenberg-Marquardt (Newton with Marquardt damping) on every row of ``phi0`` at once.

    Each start keeps its own damping lambda: a step that lowers the objective is taken and lambda shrinks
    (towards pure Newton, quadratic convergence); one that does not is refused and lambda grows (towards a
    short scaled gradient step). ``prune`` is a successive-halving schedule: after ``it`` iterations only
    the best ``frac`` of the starts (at least ``min_keep``) keep iterating; on the Chinchilla data ~1,000
    of the 4,500 starts reach the optimum, so dropping the laggards loses nothing and saves most of the work.
    Returns (phi, f, converged).
    """
    # long: one Levenberg-Marquardt loop whose state (phi, f, g, H, lambda, active)
    # is shared by every step; split up, each piece would take and return all of it.
    phi = np.array(phi0, dtype=float)
    S, k = phi.shape
    W = None if w is None else np.broadcast_to(w, (S, len(problem.x)))
    with np.errstate(over="ignore", invalid="ignore"):
        f, g, H = problem.fgh(phi, W)
    lam = np.full(S, 1e-3)
    converged = np.zeros(S, dtype=bool)
    bad = ~np.isfinite(f)
    f[bad] = np.inf
    active = np.flatnonzero(~bad)
    eye = np.eye(k)
    schedule = dict(prune)
    for it in range(1, max_iter + 1):
        if len(active) == 0:
            break
        Ha, ga, la = H[active], g[active], lam[active]
        diag = np.abs(np.einsum("sii->si", Ha))
        scale = np.maximum(diag, 1e-12 * (1.0 + diag.max(axis=1, keepdims=True)))
        A = Ha + la[:, None, None] * (scale[:, :, None] * eye)
        try:
            step = -np.linalg.solve(A, ga[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = -ga / (la[:, None] * scale)
        step = np.where(np.isfinite(step), step, 0.0)
        new = phi[active] + step
        Wa = None if W is None else W[active]
        with np.errstate(over="ignore", invalid="ignore"):
            fn, _, _ = problem.fgh(new, Wa, hessian=None)  # objective only; derivatives if accepted
        ok = np.isfinite(fn) & (fn < f[active])
        acc = active[ok]
        gain = f[acc] - fn[ok]
        if len(acc):
            with np.errstate(over="ignore", invalid="ignore"):
                _, gn, Hn = problem.fgh(new[ok], None if W is None else W[acc])
            phi[acc], f[acc], g[acc], H[acc] = new[ok], fn[ok], gn, Hn
        lam[acc] = np.maximum(lam[acc] / 3.0, 1e-12)
        rej = active[~ok]
        lam[rej] *= 4.0
        small_step = np.abs(step[ok]).max(axis=1) <= xtol * (1.0 + np.abs(new[ok]).max(axis=1))
        done_acc = acc[(gain <= ftol * (1.0 + np.abs(f[acc]))) & small_step]
        done_rej = rej[lam[rej] > 1e10]  # no descent direction left at this precision
        converged[done_acc] = True
        converged[done_rej] = True
        keep = ~converged[active]
        if it in schedule:
            n_keep = max(min_keep, int(schedule[it] * S))
            if n_keep < S:
                cutoff = np.partition(f, n_keep - 1)[n_keep - 1]
                keep &= f[active] <= cutoff
        active = active[keep]
    return phi, f, converged


def _polish(problem: _Problem, phi: np.ndarray, w=None, *, tight: bool = True, method="L-BFGS-B"):
    from scipy.optimize import minimize

    opts = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000} if tight else {}
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = minimize(problem.scalar, phi, args=(w,), jac=True, method=method, options=opts)
    return np.asarray(res.x), float(res.fun), int(res.nit)


def scipy_loop(
    problem: _Problem, starts_phi: np.ndarray, *, tight: bool = False, method="L-BFGS-B"
):
    """The baseline: a scipy optimizer from every start, one after another (default tolerances unless
    ``tight``). Returns (best phi, best objective, iterations per start)."""
    best_phi, best_f, nits = None, math.inf, []
    for s in starts_phi:
        phi, f, nit = _polish(problem, s, tight=tight, method=method)
        nits.append(nit)
        if np.isfinite(f) and f < best_f:
            best_phi, best_f = phi, f
    return best_phi, best_f, np.array(nits)


# --- the public result ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ParametricFit(HuberFit):
    """The result of :func:`fit_parametric` (Chinchilla Approach 3)."""

    approach = 3
    param_names = "E A B alpha beta"

    law: ChinchillaLaw
    reduction: str
    n_converged: int
    optimizer: str
    alpha_equals_beta: bool = False
    overestimate_weight: float = 1.0
    theta: tuple[float, ...] = ()

    def details(self) -> dict[str, Any]:
        return {
            "form": "shared-exponent" if self.alpha_equals_beta else "chinchilla",
            **record(
                self,
                "objective reduction delta n_runs n_starts n_converged optimizer alpha_equals_beta "
                "overestimate_weight",
            ),
        }

    def __repr__(self) -> str:
        p = self.params
        a, b = self.exponents
        return (
            f"ParametricFit(E={p['E']:.4f}, A={p['A']:.1f}, B={p['B']:.1f}, alpha={p['alpha']:.4f}, "
            f"beta={p['beta']:.4f}, a={a:.3f}, b={b:.3f}, objective={self.objective:.6g} "
            f"({self.reduction}), n_runs={self.n_runs}, n_starts={self.n_starts})"
        )


def _law_from_theta(theta: np.ndarray, name: str, runs) -> ChinchillaLaw:
    a, b, e, alpha, beta = (float(v) for v in theta)
    return ChinchillaLaw(
        **fitted_law_fields(
            name, "Chinchilla Approach 3", runs, f"Approach 3 fit on {len(runs)} runs"
        ),
        E=math.exp(e),
        A=math.exp(a),
        B=math.exp(b),
        alpha=alpha,
        beta=beta,
    )


def _exponent_notes(law: ChinchillaLaw) -> list[str]:
    if law.alpha > 0 and law.beta > 0:
        return []
    return [
        f"fitted exponents alpha={law.alpha:.3g}, beta={law.beta:.3g}: a non-positive exponent means "
        "the runs do not constrain that term; the allocation is not meaningful."
    ]


# A floor counts as not pinned down when E -> 0 fits the runs within this share of the fitted objective.
FLOOR_FREE_TOLERANCE = 1e-3


def _floor_free_objective(problem: _Problem, phi: np.ndarray, runs, reduction: str) -> float:
    """The objective with E held at ~0 (1e-6 of the smallest loss) and the other parameters refitted from
    ``phi``: the best the runs can do without an irreducible loss (e is the third free parameter in both
    forms). Infinite for the mean, whose early stop leaves the fit's objective above its optimum."""
    if reduction != "sum":
        return math.inf
    floor = 1e-6 * float(np.min(runs.loss))
    fixed = _Problem(
        x=problem.x, y=problem.y, t=problem.t, delta=problem.delta,
        overestimate_weight=problem.overestimate_weight, norm=problem.norm,
        M=np.delete(problem.M, 2, axis=1), c=np.where(np.arange(5) == 2, math.log(floor), problem.c),
    )  # fmt: skip
    return _polish(fixed, np.delete(phi, 2))[1]


def _floor_notes(law: ChinchillaLaw, runs, alpha_equals_beta: bool, floor_free: float, f: float):
    """A warning when the runs do not pin the irreducible loss E down: E collapsed to ~0 (e = log E ran
    off to -inf), or a law with E ~ 0 (``floor_free``, its objective) fits them within
    FLOOR_FREE_TOLERANCE of the fit's objective ``f``, so where the optimizer stopped on that flat valley
    says nothing. The law then predicts a loss falling without limit beyond the runs."""
    collapsed = law.E < 1e-3 * float(np.min(runs.loss))
    if not collapsed and floor_free > f * (1 + FLOOR_FREE_TOLERANCE):
        return []
    what = "the irreducible loss collapsed to zero"
    if not collapsed:
        what = (
            "a law with no irreducible loss fits the runs as well (objective within "
            f"{FLOOR_FREE_TOLERANCE:.1%})"
        )
    other = "" if alpha_equals_beta else ", or compare --form shared-exponent"
    return [
        f"fitted E={law.E:.3g}: {what}, so the runs do not pin it down (too few, too small or too "
        "close together); predictions beyond them fall without a floor. Add runs at larger N and "
        f"D{other}."
    ]


def _law_notes(law: ChinchillaLaw, runs, alpha_equals_beta: bool, floor_free: float, f: float):
    """Every warning on the fitted law itself: its exponents, a vanished term, an unpinned floor."""
    notes = _exponent_notes(law) + _vanished_term_notes(law, runs)
    notes += exact_fit_notes(runs, alpha_equals_beta, f)
    return notes + _floor_notes(law, runs, alpha_equals_beta, floor_free, f)


def is_exact_fit(runs, alpha_equals_beta: bool) -> bool:
    """True when the runs have no more distinct (N, D) points than the law has constants (5; 4 with alpha
    = beta): the law passes through every run, and every bootstrap refit (a resample has no more distinct
    points) returns it."""
    return runs.n_points <= _n_constants(alpha_equals_beta)


def _n_constants(alpha_equals_beta: bool) -> int:
    """E, A, B, alpha, beta; beta is alpha in the shared-exponent form."""
    return 4 if alpha_equals_beta else 5


def exact_fit_notes(runs, alpha_equals_beta: bool, objective: float) -> list[str]:
    """A warning for :func:`is_exact_fit` runs: nothing measures the law's error, and no interval is given
    (the bootstrap's would have zero width)."""
    if not is_exact_fit(runs, alpha_equals_beta):
        return []
    n_free = _n_constants(alpha_equals_beta)
    return [
        f"{runs.n_points} runs at distinct (N, D) for the law's {n_free} constants: it passes through "
        f"every run (objective {objective:.2g}), so nothing measures its error, and no interval is "
        "given (every bootstrap refit would return the same law: a zero-width interval). Add runs."
    ]


def _vanished_term_notes(law: ChinchillaLaw, runs) -> list[str]:
    """A warning when A/N^alpha or B/D^beta is under 0.1% of the loss at every run (A or B ran off to ~0):
    the runs do not constrain that term, and N_opt, D_opt (which balance the two terms) mean nothing."""
    notes = []
    floor = 1e-3 * float(np.min(runs.loss))
    for name, coef, exp, size, axis in (
        ("A", law.A, law.alpha, runs.n_params, "parameter"),
        ("B", law.B, law.beta, runs.n_tokens, "data"),
    ):
        if law.alpha > 0 and law.beta > 0 and float(np.max(coef / size**exp)) < floor:
            notes.append(
                f"fitted {name}={coef:.3g}: the {axis} term is under 0.1% of the loss at every run, so "
                "the runs do not constrain it and N_opt, D_opt are not meaningful (the loss still fits "
                "the runs). Add runs that bracket the optimum: several model sizes at each budget."
            )
    return notes


def check_runs(runs, approach: str = "Approach 3") -> None:
    """Refuse runs a parametric L(N, D) cannot be fitted on (fewer than 5 distinct (N, D) points, or one
    model size or token count only), naming ``approach`` and the count."""
    from tokenplan.runs import require_table

    require_table(runs)
    runs.require_points(5, approach)
    if len(np.unique(runs.n_params)) < 2 or len(np.unique(runs.n_tokens)) < 2:
        raise InvalidInputError(
            f"{approach} needs at least 2 distinct model sizes and 2 distinct token counts; got "
            f"{len(np.unique(runs.n_params))} sizes and {len(np.unique(runs.n_tokens))} token counts."
        )


def _starts(problem: _Problem, grid) -> np.ndarray:
    """The distinct starting points in the problem's free parameters (the paper's grid by default)."""
    starts = grid if isinstance(grid, np.ndarray) else paper_grid(grid)
    if starts.ndim != 2 or starts.shape[1] != 5 or len(starts) == 0:
        raise InvalidInputError("grid must give (a, b, e, alpha, beta) starting points.")
    return np.unique(_to_phi(problem, starts), axis=0)


def _solve(problem, starts_phi, *, reduction, optimizer, prune, n_polish, notes):
    """(phi, objective, converged starts, optimizer name) from every start, by the chosen optimizer."""
    if reduction == "mean":
        # The mean makes the objective ~n times flatter; scipy's BFGS with its default tolerances (as in
        # Epoch's replication code) then stops long before the optimum. That early stop is the point.
        phi, f, nits = scipy_loop(problem, starts_phi, method="BFGS")
        notes.append(
            f"reduction='mean': the optimizer stopped early (median {int(np.median(nits))} iterations per "
            "start), as behind Hoffmann et al.'s published constants; use the sum for the real optimum."
        )
        return phi, f, len(starts_phi), "scipy BFGS loop (default tolerances)"
    if optimizer == "scipy":
        phi, f, _ = scipy_loop(problem, starts_phi)
        return phi, f, len(starts_phi), "scipy L-BFGS-B loop (default tolerances)"
    phis, fs, conv = batched_newton(problem, starts_phi, **({} if prune else {"prune": ()}))
    best_phi, best_f = None, math.inf
    for i in np.argsort(fs)[: max(1, n_polish)]:
        ph, fv, _ = _polish(problem, phis[i])
        if fv < best_f:
            best_phi, best_f = ph, fv
    return best_phi, best_f, int(conv.sum()), "batched Levenberg-Marquardt + L-BFGS-B polish"


def fit_parametric(
    runs: RunTable,
    *,
    delta: float = 1e-3,
    reduction: str = "sum",
    grid: dict[str, tuple[float, ...]] | np.ndarray | None = None,
    alpha_equals_beta: bool = False,
    overestimate_weight: float = 1.0,
    optimizer: str = "batched",
    n_polish: int = 5,
    prune: bool = True,
    name: str = "fit-approach3",
) -> ParametricFit:
    """Fit L = E + A/N^alpha + B/D^beta by the Chinchilla/Epoch procedure (module docstring).

    ``runs`` is a :class:`tokenplan.runs.RunTable`. ``grid`` overrides the paper's 4,500-start grid (a dict of
    per-parameter values, or an (S, 5) array of (a, b, e, alpha, beta) starts). ``overestimate_weight`` > 1
    penalises predictions above the observed loss more than below (an asymmetric Huber).
    ``reduction="mean"`` always runs scipy's BFGS with its default tolerances from every start, which
    reproduces the early stop behind Hoffmann et al.'s published constants (Besiroglu et al. 2024).
    ``prune=False`` iterates every start to convergence instead of the successive-halving schedule of
    :func:`batched_newton` (slower; for checking).
    """
    check_runs(runs, "Approach 3")
    delta = _checks.positive("delta", delta)
    reduction = _checks.choice("reduction", reduction, REDUCTIONS)
    optimizer = _checks.choice("optimizer", optimizer, ("batched", "scipy"))
    overestimate_weight = _checks.positive("overestimate_weight", overestimate_weight)
    problem = _make_problem(
        runs, delta=delta, reduction=reduction, overestimate_weight=overestimate_weight,
        alpha_equals_beta=alpha_equals_beta,
    )  # fmt: skip
    starts_phi = _starts(problem, grid)
    notes: list[str] = []
    phi, f, n_conv, used = _solve(
        problem, starts_phi, reduction=reduction, optimizer=optimizer, prune=prune,
        n_polish=n_polish, notes=notes,
    )  # fmt: skip
    if phi is None or not math.isfinite(f):
        raise InvalidInputError("Approach 3: no starting point gave a finite objective.")
    theta = problem.theta(phi[None, :])[0]
    law = _law_from_theta(theta, name, runs)
    floor_free = _floor_free_objective(problem, phi, runs, reduction)
    notes += _law_notes(law, runs, alpha_equals_beta, floor_free, float(f))
    resid = np.log(law.loss(runs.n_params, runs.n_tokens)) - np.log(runs.loss)
    return ParametricFit(
        law=law,
        objective=float(f),
        reduction=reduction,
        delta=delta,
        n_runs=len(runs),
        n_starts=len(starts_phi),
        n_converged=n_conv,
        optimizer=used,
        alpha_equals_beta=alpha_equals_beta,
        overestimate_weight=overestimate_weight,
        log_residuals=resid,
        warnings=tuple(notes),
        theta=tuple(float(v) for v in theta),
    )
