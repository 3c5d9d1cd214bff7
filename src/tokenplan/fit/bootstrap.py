"""Bootstrap percentile intervals for fitted laws: resample runs with replacement, refit, take percentiles.

Chinchilla (Table 2) reports 10th/90th percentiles of a bootstrap; Epoch reports 95% intervals from 4,000
bootstraps. Every parameter, the exponents a and b, and N_opt/D_opt at the budgets you give get an interval.

Approach 1 resamples whole runs (their curves). Approach 3 refits are batched: a resample is a vector of per-run counts, i.e. weights in the Huber sum, so
all replicates are solved together by the batched Levenberg-Marquardt of :mod:`tokenplan.fit.parametric`.
Each replicate is warm-started from the full-data optimum plus ``extra_starts`` points drawn from the paper's
grid (seeded); the best of its starts is kept. Approach 2 refits are a plain loop (each is a few polyfits).

Every bootstrap takes ``progress(done, n_boot)``: called before the first refit and after each one (the
batched Approach 3 refits all replicates at once, so it reports the start and the end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan._progress import CountProgress, reporter
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN

if TYPE_CHECKING:
    from tokenplan.fit.data_constrained import DataConstrainedFit
    from tokenplan.fit.parametric import ParametricFit
    from tokenplan.runs import Curves, RunTable

__all__ = [
    "BootstrapResult",
    "Resampling",
    "bootstrap_data_constrained",
    "bootstrap_envelope",
    "bootstrap_isoflop",
    "bootstrap_parametric",
]


@dataclass(frozen=True)
class Resampling:
    """How a bootstrap resamples: ``n_boot`` refits of seeded resamples, percentile intervals at ``level``
    (0.8 = 10th/90th percentiles, Chinchilla's Table 2). Checked when made: ``Resampling(n_boot=0)`` raises
    :class:`~tokenplan.errors.InvalidInputError` naming ``n_boot``."""

    n_boot: int = 1000
    level: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_boot", _checks.positive_int("n_boot", self.n_boot))
        level = _checks.in_range("level", self.level, 0.0, 1.0, inclusive=False)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "seed", _checks.seed("seed", self.seed))

    def rng(self) -> np.random.Generator:
        """A fresh generator seeded with ``seed``: the same resamples every time."""
        return np.random.default_rng(self.seed)


#: 1,000 resamples, 80% intervals, seed 0
DEFAULT_RESAMPLING = Resampling()


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile intervals: ``intervals[name] = (low, high)`` at ``level`` (0.8 = 10th/90th percentiles)."""

    intervals: dict[str, tuple[float, float]]
    level: float
    n_boot: int
    n_failed: int
    seed: int
    budgets: tuple[float, ...] = ()
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    method: str = ""

    @classmethod
    def from_samples(
        cls, samples: dict[str, np.ndarray], resampling: Resampling, **fields: Any
    ) -> BootstrapResult:
        """The result whose intervals are the percentiles of ``samples`` at ``resampling.level``."""
        return cls(
            intervals=_intervals(samples, resampling.level),
            samples=samples,
            **record(resampling, "level n_boot seed"),
            **fields,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **record(self, "level n_boot n_failed seed method"),
            "intervals": {k: list(v) for k, v in self.intervals.items()},
        }

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}=({lo:.4g}, {hi:.4g})" for k, (lo, hi) in self.intervals.items())
        return (
            f"BootstrapResult(level={self.level:g}, n_boot={self.n_boot}, n_failed={self.n_failed}, "
            f"{parts})"
        )


def _intervals(samples: dict[str, np.ndarray], level: float) -> dict[str, tuple[float, float]]:
    lo_q, hi_q = 50 * (1 - level), 50 * (1 + level)
    out = {}
    for k, v in samples.items():
        v = v[np.isfinite(v)]
        out[k] = (
            (float(np.percentile(v, lo_q)), float(np.percentile(v, hi_q)))
            if len(v)
            else (math.nan, math.nan)
        )
    return out


def _allocation_samples(samples, a_share, G_or_k, budgets, kind):
    for C in budgets:
        if kind == "chinchilla":
            N = G_or_k * (C / FLOPS_PER_PARAM_TOKEN) ** a_share
        else:
            N = G_or_k * C**a_share
        samples[f"n_params_opt@{C:.3g}"] = N
        samples[f"n_tokens_opt@{C:.3g}"] = C / (FLOPS_PER_PARAM_TOKEN * N)


def _parametric_samples(theta: np.ndarray, ok: np.ndarray, budgets) -> tuple[dict, np.ndarray]:
    """Per-replicate E, A, B, alpha, beta, a, b (and N_opt/D_opt at ``budgets``) from fitted theta rows;
    failed replicates and non-positive exponents become NaN. Returns (samples, failed mask)."""
    a, b, e, alpha, beta = theta.T
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        A, B, E = np.exp(a), np.exp(b), np.exp(e)
        s = alpha + beta
        G = (alpha * A / (beta * B)) ** (1.0 / s)
        samples = {
            "E": E,
            "A": A,
            "B": B,
            "alpha": alpha,
            "beta": beta,
            "a": beta / s,
            "b": alpha / s,
        }
        _allocation_samples(samples, beta / s, G, budgets, "chinchilla")
    bad = ~ok | (alpha <= 0) | (beta <= 0)
    return {key: np.where(bad, np.nan, v) for key, v in samples.items()}, bad


def _checked(resampling: object, budgets: object, fit: object = None, fit_type: type | None = None):
    """The arguments every bootstrap shares, checked before any refit: a dict for ``resampling`` or
    ``None`` for ``fit`` failed with AttributeError, ``budgets=1e16`` with "'float' object is not
    iterable", and a budget of -1 gave NaN intervals. Returns ``budgets`` as a tuple of FLOP counts."""
    if not isinstance(resampling, Resampling):
        raise InvalidInputError(
            f"resampling must be a Resampling, not {type(resampling).__name__}: "
            "resampling=Resampling(n_boot=200, seed=0).",
            param="resampling",
        )
    if fit_type is not None and not isinstance(fit, fit_type):
        raise InvalidInputError(
            f"fit must be the {fit_type.__name__} to bootstrap, not {type(fit).__name__}.",
            param="fit",
        )
    listed = _checks.items("budgets", budgets, example="(1e20, 1e21)")
    return tuple(_checks.positive("budgets", c) for c in listed)


def require_table(value: object, kind: type | None = None, *, param: str = "runs") -> None:
    """:func:`tokenplan.runs.require_table` (imported on first use, as the run tables are here)."""
    from tokenplan.runs import RunTable, require_table

    require_table(value, kind or RunTable, param=param)


def bootstrap_parametric(
    runs: RunTable,
    fit: ParametricFit,
    *,
    resampling: Resampling = DEFAULT_RESAMPLING,
    budgets: tuple[float, ...] = (),
    extra_starts: int = 2,
    max_iter: int = 100,
    progress: CountProgress | None = None,
) -> BootstrapResult:
    """Bootstrap an Approach-3 :class:`~tokenplan.fit.parametric.ParametricFit` (module docstring)."""
    from tokenplan.fit.parametric import (
        ParametricFit,
        _make_problem,
        _to_phi,
        batched_newton,
        paper_grid,
    )

    require_table(runs)
    budgets = _checked(resampling, budgets, fit, ParametricFit)
    n_boot = resampling.n_boot
    report = reporter(progress, n_boot)
    rng = resampling.rng()
    n = len(runs)
    problem = _make_problem(
        runs,
        delta=fit.delta,
        reduction=fit.reduction,
        overestimate_weight=fit.overestimate_weight,
        alpha_equals_beta=fit.alpha_equals_beta,
    )
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    phi_star = _to_phi(problem, np.asarray(fit.theta)[None, :])[0]
    grid = _to_phi(problem, paper_grid())
    k = 1 + max(0, int(extra_starts))
    starts = np.empty((n_boot, k, len(phi_star)))
    starts[:, 0] = phi_star
    if k > 1:
        starts[:, 1:] = grid[rng.integers(0, len(grid), size=(n_boot, k - 1))]
    W = np.repeat(counts, k, axis=0)
    phi, f, conv = batched_newton(
        problem, starts.reshape(n_boot * k, -1), W, prune=(), max_iter=max_iter
    )
    f = f.reshape(n_boot, k)
    best = np.argmin(f, axis=1)
    phi = phi.reshape(n_boot, k, -1)[np.arange(n_boot), best]
    # a replicate fails when no start gave a finite objective; starts still moving at max_iter are kept
    # (the warm start is already next to the optimum, and L-M only ever lowers the objective).
    ok = np.isfinite(f[np.arange(n_boot), best])
    del conv
    report(n_boot, n_boot)
    samples, bad = _parametric_samples(problem.theta(phi), ok, budgets)
    return BootstrapResult.from_samples(
        samples,
        resampling,
        n_failed=int(bad.sum()),
        budgets=tuple(budgets),
        method=f"batched refits, warm start + {k - 1} seeded grid starts per replicate",
    )


def bootstrap_isoflop(
    runs: RunTable,
    *,
    resampling: Resampling = DEFAULT_RESAMPLING,
    budgets: tuple[float, ...] = (),
    progress: CountProgress | None = None,
    **fit_kwargs,
) -> BootstrapResult:
    """Bootstrap Approach 2: resample runs within each budget group, refit the profiles and power laws."""
    from tokenplan.fit.isoflop import fit_isoflop, group_budgets

    require_table(runs)
    budgets = _checked(resampling, budgets)
    rng = resampling.rng()
    labels = group_budgets(
        runs,
        gap_dex=fit_kwargs.get("gap_dex", 0.1),
        bins_per_decade=fit_kwargs.get("bins_per_decade"),
    )
    groups = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    grouped = replace(runs, flops_budget=labels)

    def draw():
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        return grouped.take(idx)  # labels travel along: the resample keeps the grouping

    return _power_law_bootstrap(
        draw,
        lambda sub: fit_isoflop(sub, **fit_kwargs),
        approach=2,
        method="runs resampled within each budget group; profiles and power laws refitted",
        budgets=budgets,
        progress=progress,
        resampling=resampling,
    )


def _refits(refit, collect, n_boot, progress, failure) -> tuple[dict[str, np.ndarray], int]:
    """The bootstrap loop: ``refit()`` a fresh resample ``n_boot`` times (one the fit rejects counts as
    failed), ``collect(fit)`` the named values of each, and report each refit to ``progress``.

    Returns (samples: name -> one value per successful refit, the number that failed); raises
    ``failure`` when every refit failed."""
    rows: dict[str, list[float]] = {}
    failed = 0
    report = reporter(progress, n_boot)
    for i in range(n_boot):
        try:
            fit = refit()
        except InvalidInputError:
            failed += 1
        else:
            for key, value in collect(fit).items():
                rows.setdefault(key, []).append(value)
        report(i + 1, n_boot)
    if not rows:
        raise InvalidInputError(failure)
    return {key: np.asarray(v) for key, v in rows.items()}, failed


def _power_law_bootstrap(
    draw, refit, *, approach, method, budgets, progress, resampling
) -> BootstrapResult:
    """The Approach 1 and 2 bootstraps: refit ``n_boot`` resamples from ``draw()``, collect k, a and b
    and take percentile intervals (with N_opt/D_opt at ``budgets``)."""
    samples, failed = _refits(
        lambda: refit(draw()),
        lambda fit: {"k": fit.law.k, "a": fit.law.a, "b": fit.b},
        resampling.n_boot,
        progress,
        f"every bootstrap refit of Approach {approach} failed; see the fit's warnings.",
    )
    _allocation_samples(samples, samples["a"], samples["k"], budgets, "power")
    return BootstrapResult.from_samples(
        samples, resampling, n_failed=failed, budgets=tuple(budgets), method=method
    )


def bootstrap_envelope(
    curves: Curves,
    *,
    resampling: Resampling = DEFAULT_RESAMPLING,
    budgets: tuple[float, ...] = (),
    n_points: int = 1500,
    progress: CountProgress | None = None,
) -> BootstrapResult:
    """Bootstrap Approach 1: resample whole runs (curves) with replacement, recompute the envelope and refit.

    Duplicated runs do not change an envelope (the minimum over runs), so a resample effectively drops the runs
    it misses; that is what makes the interval.
    """
    from tokenplan.fit.approach1 import fit_envelope
    from tokenplan.runs import Curves

    require_table(curves, Curves, param="curves")
    budgets = _checked(resampling, budgets)
    rng = resampling.rng()
    ids = np.asarray(curves.run_id).astype(str)
    runs = np.array(list(dict.fromkeys(ids)))
    rows_of = {r: np.flatnonzero(ids == r) for r in runs}

    def draw():
        pick = np.unique(rng.choice(runs, size=len(runs), replace=True))
        return curves.take(np.concatenate([rows_of[r] for r in pick]))

    return _power_law_bootstrap(
        draw,
        lambda sub: fit_envelope(sub, n_points=n_points),
        approach=1,
        method="whole runs (curves) resampled; envelope and power laws refitted",
        budgets=budgets,
        progress=progress,
        resampling=resampling,
    )


def bootstrap_data_constrained(
    runs: RunTable,
    fit: DataConstrainedFit,
    *,
    resampling: Resampling = DEFAULT_RESAMPLING,
    progress: CountProgress | None = None,
) -> BootstrapResult:
    """Bootstrap the data-constrained fit: resample runs, refit R_D*, R_N* (and the base law when the fit
    did) from the full-data optimum, inside the same search box. A loop of small scipy fits (~30 ms each)."""
    from tokenplan.fit.data_constrained import DataConstrainedFit, fit_data_constrained

    require_table(runs)
    _checked(resampling, (), fit, DataConstrainedFit)
    rng = resampling.rng()
    n = len(runs)
    names = ("R_D_star", "R_N_star") + (("E", "A", "B", "alpha", "beta") if fit.fit_base else ())

    def refit():
        sub = replace(runs.take(rng.integers(0, n, size=n)), flops_budget=None)
        return fit_data_constrained(
            sub,
            base=fit.law,
            fit_base=fit.fit_base,
            bounds=fit.bounds,
            start_pairs=((fit.law.R_D_star, fit.law.R_N_star),),
            check_outside=False,
        )

    samples, failed = _refits(
        refit,
        lambda found: {k: float(getattr(found.law, k)) for k in names},
        resampling.n_boot,
        progress,
        "every bootstrap refit of the data-constrained law failed.",
    )
    return BootstrapResult.from_samples(
        samples,
        resampling,
        n_failed=failed,
        method="runs resampled; R_D*, R_N* refitted from the full-data optimum inside the search box",
    )
