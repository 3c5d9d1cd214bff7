"""Chinchilla Approach 2: IsoFLOP profiles.

Hoffmann et al. 2022 (sec. 3.2): train several model sizes at each of 9 fixed FLOP budgets; per budget, fit a
parabola of final loss against log N; its minimum is N_opt(C). Then fit power laws N_opt ∝ C^a and
D_opt ∝ C^b (D_opt = C / 6 N_opt) across budgets. A cubic profile or a local parabola through the three
lowest-loss sizes are offered as options; a minimum outside the sizes tried is reported as not bracketed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.fit import choices
from tokenplan.fit.result import FrontierFit, fitted_law_fields, frontier_notes
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.chinchilla import PowerLawAllocation

if TYPE_CHECKING:
    from tokenplan.runs import RunTable

__all__ = ["IsoflopFit", "IsoflopProfile", "fit_isoflop", "group_budgets"]

PROFILES = choices.PROFILES
# A group of runs clustered by FLOPs (no flops_budget column, no bins) wider than this in log10 C is not one
# budget: runs spread evenly in compute (digitised points) chain into one group across decades, and its
# "profile" mixes budgets (the Chinchilla Fig. 4 points: 222 runs over 2.5 decades gave a = 0.16).
MAX_CLUSTER_DEX = 0.5


@dataclass(frozen=True)
class IsoflopProfile:
    """One budget's profile: the sizes tried, the fitted curve (coefficients in log N) and its minimum."""

    flops: float
    n_params: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    coef: np.ndarray = field(repr=False)  # polynomial in log N, highest power first (np.polyval)
    n_params_opt: float = math.nan
    loss_opt: float = math.nan
    bracketed: bool = True

    @property
    def n_tokens_opt(self) -> float:
        return self.flops / (FLOPS_PER_PARAM_TOKEN * self.n_params_opt)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "n_points": len(self.n_params),
            **record(self, "n_params_opt n_tokens_opt loss_opt bracketed"),
        }


@dataclass(frozen=True, kw_only=True)
class IsoflopFit(FrontierFit):
    """The result of :func:`fit_isoflop`: per-budget minima and the power laws through them."""

    approach = 2

    law: PowerLawAllocation
    profiles: tuple[IsoflopProfile, ...]
    profile: str
    d_coef: float  # D_opt = d_coef * C^b

    def details(self) -> dict[str, Any]:
        return {
            **record(self, "profile n_runs"),
            "budgets": [p.to_dict() for p in self.profiles],
        }

    def __repr__(self) -> str:
        a, b = self.exponents
        return (
            f"IsoflopFit(a={a:.3f}, b={b:.3f}, k={self.law.k:.4g}, budgets={len(self.profiles)}, "
            f"profile={self.profile!r}, n_runs={self.n_runs})"
        )


def group_budgets(
    runs: RunTable, *, gap_dex: float = 0.1, bins_per_decade: float | None = None
) -> np.ndarray:
    """A budget label per run: ``flops_budget`` when the table has it; else, with ``bins_per_decade``,
    log10 C rounded to bins of 1/bins_per_decade dex; else FLOPs clustered in log space (a new group starts
    wherever sorted log10 C jumps by more than ``gap_dex``; the label is the group's geometric mean)."""
    if runs.flops_budget is not None and np.isfinite(runs.flops_budget).all():
        return np.asarray(runs.flops_budget, dtype=float)
    logc = np.log10(runs.flops)
    if bins_per_decade:
        k = _checks.positive("bins_per_decade", bins_per_decade)
        return 10 ** (np.round(logc * k) / k)
    order = np.argsort(logc)
    labels = np.empty(len(logc))
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or logc[order[i]] - logc[order[i - 1]] > gap_dex:
            idx = order[start:i]
            labels[idx] = 10 ** logc[idx].mean()
            start = i
    return labels


def _profile_min(x: np.ndarray, loss: np.ndarray, profile: str):
    """(coef, x_opt, loss_opt) of the profile fitted to loss(x = log N); x_opt is NaN when there is none."""
    if profile == "parabola":
        coef = np.polyfit(x, loss, 2)
        if coef[0] <= 0:
            return coef, math.nan, math.nan
        x_opt = -coef[1] / (2 * coef[0])
        return coef, x_opt, float(np.polyval(coef, x_opt))
    if profile == "cubic":
        coef = np.polyfit(x, loss, 3) if len(x) >= 4 else np.polyfit(x, loss, 2)
        crit = np.roots(np.polyder(coef))
        crit = crit[np.isreal(crit)].real
        second = np.polyval(np.polyder(coef, 2), crit)
        minima = crit[second > 0]
        if len(minima) == 0:
            return coef, math.nan, math.nan
        # the local minimum closest to the best observed point
        x_best = x[np.argmin(loss)]
        x_opt = minima[np.argmin(np.abs(minima - x_best))]
        return coef, x_opt, float(np.polyval(coef, x_opt))
    # "interp": a parabola through the lowest point and its two neighbours in N
    order = np.argsort(x)
    xs, ls = x[order], loss[order]
    i = int(np.clip(np.argmin(ls), 1, len(xs) - 2))
    coef = np.polyfit(xs[i - 1 : i + 2], ls[i - 1 : i + 2], 2)
    if coef[0] <= 0:
        return coef, math.nan, math.nan
    x_opt = -coef[1] / (2 * coef[0])
    return coef, x_opt, float(np.polyval(coef, x_opt))


def _too_wide(C: np.ndarray, notes: list[str]) -> bool:
    """True (with a note) when a cluster of runs spans more than MAX_CLUSTER_DEX in FLOPs."""
    span = float(np.log10(C.max() / C.min()))
    if span <= MAX_CLUSTER_DEX:
        return False
    notes.append(
        f"{len(C)} runs at {C.min():.3g}..{C.max():.3g} FLOPs chain into one group {span:.2g} decades "
        "wide, which is not one budget; skipped. Pass --bins-per-decade K (e.g. 3) or a flops_budget "
        "column."
    )
    return True


def _budget_profile(budget, N, L, profile, min_points, notes) -> IsoflopProfile | None:
    """The profile of one budget, or None (with a note saying why) when it has no usable minimum."""
    if len(np.unique(N)) < min_points:
        notes.append(
            f"budget {budget:.3g} FLOPs has {len(np.unique(N))} distinct model sizes (< {min_points}); skipped."
        )
        return None
    x = np.log(N)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # np.RankWarning on near-degenerate profiles
        coef, x_opt, l_opt = _profile_min(x, L, profile)
    if not math.isfinite(x_opt):
        notes.append(
            f"budget {budget:.3g} FLOPs: the {profile} profile has no minimum (loss keeps falling or "
            "rising with N); skipped. Add sizes on both sides of the optimum."
        )
        return None
    bracketed = bool(x.min() <= x_opt <= x.max())
    if not bracketed:
        notes.append(
            f"budget {budget:.3g} FLOPs: the minimum N={math.exp(x_opt):.3g} lies outside the sizes tried "
            f"({N.min():.3g}..{N.max():.3g}); not bracketed, so it is an extrapolation."
        )
    return IsoflopProfile(
        flops=budget,
        n_params=N,
        loss=L,
        coef=coef,
        n_params_opt=math.exp(x_opt),
        loss_opt=l_opt,
        bracketed=bracketed,
    )


def _profiles(runs, profile, gap_dex, bins_per_decade, min_points, notes) -> list[IsoflopProfile]:
    """The usable profile of each budget group (at least 2, else an error naming what is missing); a
    group of clustered FLOPs wider than :data:`MAX_CLUSTER_DEX` is skipped, not fitted as one budget."""
    labels = group_budgets(runs, gap_dex=gap_dex, bins_per_decade=bins_per_decade)
    clustered = not bins_per_decade and not (
        runs.flops_budget is not None and np.isfinite(runs.flops_budget).all()
    )
    profiles: list[IsoflopProfile] = []
    no_minimum: list[float] = []  # budgets with enough sizes whose profile has no minimum
    for budget in np.unique(labels):
        m = labels == budget
        if clustered and _too_wide(runs.flops[m], notes):
            continue
        one = _budget_profile(
            float(budget), runs.n_params[m], runs.loss[m], profile, min_points, notes
        )
        if one is not None:
            profiles.append(one)
        elif len(np.unique(runs.n_params[m])) >= min_points:
            no_minimum.append(float(budget))
    if len(profiles) < 2:
        raise InvalidInputError(
            f"Approach 2 needs at least 2 FLOP budgets with >= {min_points} model sizes each; found "
            f"{len(profiles)} usable of {len(np.unique(labels))} budget groups"
            + _why_too_few(notes, no_minimum, profile)
        )
    return profiles


def _why_too_few(notes: list[str], no_minimum: list[float], profile: str) -> str:
    """The end of Approach 2's 'too few budgets' error: what kept the budgets out, and the fix. A budget
    with enough sizes but no minimum is named (grouping or more sizes would not help it)."""
    wide = " ".join(n for n in notes if "not one budget" in n)
    if wide:
        return ". " + wide
    if no_minimum:
        names = [f"{b:.3g}" for b in no_minimum]
        which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (
            f": the {profile} profile of budget{'s' if len(names) > 1 else ''} {which} FLOPs has no "
            "minimum (loss keeps falling or rising with N): add sizes on both sides of the optimum."
        )
    return (
        ". Group runs with a flops_budget column (or --bins-per-decade K), or run more sizes per "
        "budget."
    )


def fit_isoflop(
    runs: RunTable,
    *,
    profile: str = "parabola",
    gap_dex: float = 0.1,
    bins_per_decade: float | None = None,
    min_points: int = 3,
    name: str = "fit-approach2",
) -> IsoflopFit:
    """Chinchilla Approach 2 on a :class:`~tokenplan.runs.RunTable` (module docstring)."""
    from tokenplan.runs import require_table

    require_table(runs)
    profile = _checks.choice("isoflop profile", profile, PROFILES)
    notes: list[str] = []
    profiles = _profiles(runs, profile, gap_dex, bins_per_decade, min_points, notes)
    if len(profiles) < 3:
        notes.append(f"only {len(profiles)} budgets: the exponent is a line through 2 points.")
    C = np.array([p.flops for p in profiles])
    N_opt = np.array([p.n_params_opt for p in profiles])
    D_opt = C / (FLOPS_PER_PARAM_TOKEN * N_opt)
    law = PowerLawAllocation.fit_points(
        C,
        N_opt,
        **fitted_law_fields(
            name,
            f"Chinchilla Approach 2, {profile}",
            runs,
            f"IsoFLOP fit on {len(profiles)} budgets",
            flops=C,
        ),
    )
    notes += frontier_notes("Approach 2", law.a)
    b, log_d = np.polyfit(np.log(C), np.log(D_opt), 1)
    return IsoflopFit(
        law=law,
        profiles=tuple(profiles),
        profile=profile,
        n_runs=len(runs),
        d_coef=math.exp(log_d),
        b=float(b),
        warnings=tuple(notes),
    )
