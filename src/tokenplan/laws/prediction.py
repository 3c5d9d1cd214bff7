"""Predictions with intervals: what loss will N parameters on D tokens reach, and how sure is that?

:meth:`tokenplan.laws.Law.predict` returns one frozen :class:`Prediction`. Its interval comes from the law's
:class:`Uncertainty`, which says what kind it is:

- ``"bootstrap"``: percentiles of the loss predicted by refits on resampled runs (parameter draws). This
  covers sampling noise only; extrapolation error (the form being wrong far from the data) is not in it.
- ``"backtest-calibrated"``: the bootstrap interval (or the point prediction when there are no draws)
  widened on both sides, in log space, by the split-conformal quantile of the relative errors the same
  procedure made on held-out larger runs (``tokenplan fit --backtest``). With n held-out runs and level q the
  quantile is the ceil((n+1) q)-th smallest |log(actual / predicted)| (Vovk et al. 2005; Lei et al. 2018);
  when n is too small for that rank, the largest error is used and the prediction says so. Held-out errors
  grow with the distance of the extrapolation, so the width is then scaled for distance (below).
- ``"none"``: the law carries no uncertainty (most presets: their papers publish no interval on L(N, D)).

Distance: a held-out run d = log10(C / C_fitted_max) decades beyond the fitted compute errs more the larger
d is, so a quantile of all errors alike is too narrow far out (forward backtests: docs/fit.md).
:func:`calibrated_halfwidth` uses a normalised ("locally weighted") conformal score (Lei et al. 2018, sec.
5.2): |log error| / s(d), with s(d) = sqrt(1 + (d / d0)^2): a run's log error is its own noise (sd sigma0,
the same at every distance) plus the error of the fitted exponents, whose effect on a power law grows
linearly in log-compute (tau d); independent errors add in variance, so sd(d)^2 = sigma0^2 + tau^2 d^2 and
d0 = sigma0 / tau, fitted (Theil-Sen, :func:`distance_scale`) on the calibration runs themselves. The
half-width at a query d_q is q * s(d_q), q the conformal quantile of the normalised scores, but never
narrower than the flat quantile: the distance term only widens (at d = 0 the interval is the flat one).
The backtest holds out the largest runs, so nothing calibrates a point below the fitted compute: it keeps
the flat interval, and a note says how many decades below it lies and that the interval is uncalibrated.

Presets: ``epoch2024`` carries a bootstrap of its own fit: tokenplan's re-run of Besiroglu et al. 2024's
procedure on the same 240 points (``laws/epoch2024_bootstrap.json``; see :data:`PUBLISHED`).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.repetition import R_D_STAR_C4, effective_tokens, epochs_warning
from tokenplan.units import format_factor
from tokenplan.units import format_quantity as fq

# A point within 10% of the edge of a law's fitted data is not called an extrapolation (plan's warnings,
# predict's and table's 'in range'): the edges are single runs, and 10% is inside their scatter.
EXTRAPOLATION_TOLERANCE = 1.1


def within_tolerance(factors: Iterable[float]) -> bool | None:
    """True when every extrapolation factor (1 inside the fitted range, else how far outside) is within
    :data:`EXTRAPOLATION_TOLERANCE`, None when there are none (the range is unknown): the one test behind
    every 'in range' (plan's warnings, predict's and table's column, fit's allocations)."""
    factors = list(factors)
    if not factors:
        return None
    return all(f <= EXTRAPOLATION_TOLERANCE for f in factors)


if TYPE_CHECKING:
    from tokenplan.laws.base import Law

__all__ = [
    "INTERVAL_KINDS",
    "AllocationInterval",
    "Prediction",
    "Uncertainty",
    "calibrated_halfwidth",
    "conformal_quantile",
    "distance_scale",
    "uncertainty_of",
    "within_tolerance",
]

INTERVAL_KINDS = ("bootstrap", "backtest-calibrated", "published", "none")
NO_INTERVAL = "no interval published for this law"
NO_DRAWS = (
    "no interval: this law carries no bootstrap draws or backtest errors (refit with `tokenplan fit RUNS "
    "--bootstrap 200 --save FILE`)"
)


def no_interval(law: Law) -> str:
    """Why ``law`` has no interval: a preset's paper publishes none, or a law was saved without draws."""
    return NO_INTERVAL if law.is_preset else NO_DRAWS


def conformal_quantile(scores, level: float) -> tuple[float, bool]:
    """The split-conformal quantile of non-negative ``scores`` at ``level``: the ceil((n+1) level)-th
    smallest. Returns (quantile, exact); ``exact`` is False when n is too small and the largest is used."""
    s = np.sort(np.asarray(scores, dtype=float))
    n = len(s)
    if n == 0:
        return math.nan, False
    k = math.ceil((n + 1) * level)
    if k > n:
        return float(s[-1]), False
    return float(s[k - 1]), True


# Calibration runs whose distances span less than this many decades (a factor 1.26 in compute) cannot tell
# growth with distance from scatter: a sweep's runs miss their budget by a few percent (~0.01 decades).
MIN_SPREAD_DECADES = 0.1


def distance_scale(decades, scores) -> float:
    """d0 of the scale s(d) = sqrt(1 + (d / d0)^2) of |log error| with distance d (module docstring).

    The line score^2 = sigma0^2 + tau^2 d^2 through the calibration runs gives d0 = sigma0 / tau. It is the
    Theil-Sen line (Sen 1968: the median slope over pairs of runs, the median intercept), not least squares:
    squared errors give the farthest run the most leverage, and one 3% miss 1.2 decades out then set the
    slope alone. ``inf`` (no growth: the flat score) with fewer than 3 runs, a spread of distances below
    :data:`MIN_SPREAD_DECADES`, or tau^2 <= 0. With sigma0^2 <= 0 (growth but no floor resolved) d0 is the
    nearest calibration distance above 0: the scale is not known closer in than that."""
    d = np.asarray(decades, dtype=float)
    r = np.asarray(scores, dtype=float)
    if len(d) < 3 or np.ptp(d) < MIN_SPREAD_DECADES:
        return math.inf
    tau2, sigma2 = _theil_sen(d**2, r**2)
    if tau2 <= 0:
        return math.inf
    if sigma2 <= 0:
        return float(d[d > 0].min())
    return math.sqrt(sigma2 / tau2)


def _theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept): the median of the pairwise slopes, the median of y - slope x (ties in x skipped)."""
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok]))
    return slope, float(np.median(y - slope * x))


def _scale(decades, d0: float):
    return np.sqrt(1.0 + (np.asarray(decades, dtype=float) / d0) ** 2)


def calibrated_halfwidth(
    scores, level: float, *, decades=(), query_decades: float = 0.0
) -> tuple[float, bool, float, float]:
    """(half-width in log space, exact, widening, d0) of a conformal interval at ``query_decades``.

    ``scores`` are |log(actual/predicted)| of calibration runs, ``decades`` their distances beyond the fitted
    compute (empty: unknown, the flat quantile). The half-width is the flat conformal quantile times
    ``widening`` = max(1, q s(d_q) / flat), q the quantile of scores / s(d) (module docstring)."""
    flat, exact = conformal_quantile(scores, level)
    if len(decades) != len(scores) or not math.isfinite(flat) or flat <= 0:
        return flat, exact, 1.0, math.inf
    d0 = distance_scale(decades, scores)
    if math.isinf(d0):
        return flat, exact, 1.0, d0
    q, _ = conformal_quantile(np.asarray(scores, dtype=float) / _scale(decades, d0), level)
    widening = max(1.0, float(q * _scale(max(0.0, query_decades), d0)) / flat)
    return flat * widening, exact, widening, d0


#: what a bootstrap interval covers: the noise of the runs fitted, not the error of extrapolating a form
SAMPLING_ONLY = "sampling noise only"


@dataclass(frozen=True)
class Uncertainty:
    """What a law's intervals are made of: parameter draws and/or held-out relative errors.

    ``draws`` is an (n, len(names)) array of the law's fields (``names``) from bootstrap refits;
    ``residuals`` are |log(actual / predicted)| of the runs a backtest held out (the calibration scores),
    ``residual_decades`` how far beyond the backtest's fitted compute each lay (log10; empty in files
    written before tokenplan scaled intervals for distance: then the width is flat);
    ``backtest_flops_factor`` is how far beyond the backtest's fitted compute its held-out runs lay at most.
    """

    names: tuple[str, ...] = ()
    draws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    residuals: tuple[float, ...] = ()
    residual_decades: tuple[float, ...] = ()
    backtest_flops_factor: float = math.nan
    seed: int | None = None
    source: str = ""

    @property
    def kind(self) -> str:
        if self.residuals:
            return "backtest-calibrated"
        return "bootstrap" if len(self.draws) else "none"

    @property
    def described(self) -> str:
        """``source``, after which a bootstrap-only interval says what it covers: sampling noise only (no
        backtest measured the error of extrapolating, nor a new run's own noise)."""
        if self.kind != "bootstrap" or SAMPLING_ONLY in self.source:
            return self.source
        return f"{self.source}: {SAMPLING_ONLY}"

    @property
    def distance_scale_decades(self) -> float | None:
        """d0 of the distance scale s(d) = sqrt(1 + (d / d0)^2) (:func:`distance_scale`); None: flat."""
        d0 = distance_scale(self.residual_decades, self.residuals)
        return None if math.isinf(d0) or len(self.residual_decades) != len(self.residuals) else d0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "names": list(self.names),
            "draws": np.asarray(self.draws, dtype=float).tolist(),
            "residuals": list(self.residuals),
            "residual_decades": list(self.residual_decades),
            "distance_scale_decades": self.distance_scale_decades,
            "backtest_flops_factor": self.backtest_flops_factor,
            "seed": self.seed,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Uncertainty:
        names = tuple(str(n) for n in d["names"])
        draws = np.asarray(d["draws"], dtype=float) if names else None
        if draws is not None and draws.size and (draws.ndim != 2 or draws.shape[1] != len(names)):
            raise ValueError(f"draws must be rows of {len(names)} values ({', '.join(names)})")
        if draws is not None and not draws.size:
            draws = draws.reshape(0, len(names))
        resid = tuple(float(r) for r in d["residuals"])
        decades = tuple(float(x) for x in d.get("residual_decades") or ())
        if decades and (
            len(decades) != len(resid) or not all(math.isfinite(x) and x >= 0 for x in decades)
        ):
            raise ValueError(f"residual_decades must be {len(resid)} values >= 0, one per residual")
        if draws is None:
            draws = np.zeros((0, 0))
        bad = (draws.size and not np.isfinite(draws).all()) or not all(
            math.isfinite(r) and r >= 0 for r in resid
        )
        if bad:
            raise ValueError("draws and residuals must be finite (residuals >= 0)")
        factor = d.get("backtest_flops_factor")
        return cls(
            names=names,
            draws=draws,
            residuals=resid,
            residual_decades=decades,
            backtest_flops_factor=math.nan if factor is None else float(factor),
            seed=d.get("seed"),
            source=str(d.get("source", "")),
        )

    # --- evaluation ------------------------------------------------------------------------------
    def draw_laws(self, law: Law) -> list[Law]:
        """The law with each draw's parameters (draws whose law cannot be built are skipped)."""
        out = []
        for row in np.asarray(self.draws):
            try:
                out.append(replace(law, **dict(zip(self.names, (float(v) for v in row)))))
            except (TypeError, ValueError):
                continue
        return out

    def draw_values(self, law: Law, value_of) -> np.ndarray:
        """``value_of(one_law)`` for every draw, as floats (NaN where a draw fails).

        One vectorised call with array-valued parameters when the law's formulas broadcast (the Chinchilla
        family: ~1 ms for 1,000 draws), else a loop over :meth:`draw_laws` (~20 us per draw)."""
        draws = np.asarray(self.draws, dtype=float)
        if not len(draws):
            return np.zeros(0)
        with np.errstate(all="ignore"):
            try:
                vec = replace(law, **{n: draws[:, i] for i, n in enumerate(self.names)})
                out = np.asarray(value_of(vec), dtype=float)
                if out.shape == (len(draws),):
                    return out
            except (TypeError, ValueError, ArithmeticError, InvalidInputError):
                pass  # a formula that does not broadcast: one draw at a time below
            return np.array([_value_or_nan(value_of, one) for one in self.draw_laws(law)])

    def loss_interval(
        self, law: Law, center: float, loss_of, level: float, *, decades: float = 0.0
    ):
        """(lo, hi, notes, widening) around ``center`` at ``level``, for a point ``decades`` beyond the
        fitted compute; ``loss_of(law)`` predicts with one law; ``widening`` >= 1 is the distance factor on
        the conformal half-width (:func:`calibrated_halfwidth`; 1.0 without backtest errors)."""
        notes: list[str] = []
        widening = 1.0
        lo_log = hi_log = 0.0
        if len(self.draws):
            samples = self.draw_values(law, loss_of)
            samples = samples[np.isfinite(samples) & (samples > 0)]
            if len(samples):
                q_lo, q_hi = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)])
                lo_log = min(0.0, math.log(q_lo / center))
                hi_log = max(0.0, math.log(q_hi / center))
        if self.residuals:
            c, exact, widening, _ = calibrated_halfwidth(
                self.residuals, level, decades=self.residual_decades, query_decades=decades
            )
            if not exact:
                notes.append(
                    f"only {len(self.residuals)} held-out runs calibrate this interval: too few for a "
                    f"{level:.0%} conformal quantile, so it uses the largest held-out error, a factor of "
                    f"{math.exp(c / widening):.4g} (|log(actual/predicted)| = {c / widening:.4f})."
                )
            lo_log, hi_log = lo_log - c, hi_log + c
        return center * math.exp(lo_log), center * math.exp(hi_log), notes, widening


def _value_or_nan(value_of, one: Law) -> float:
    try:
        return float(value_of(one))
    except (TypeError, ValueError, ArithmeticError, InvalidInputError):
        return math.nan


def unbounded_axes(extrapolation: dict[str, float]) -> list[str]:
    """The axes of a :meth:`FittedRange.extrapolation` whose factor is beyond float range (D/N of a law whose
    N term vanished, or of a point at 1e-300 parameters). JSON has no infinity and writes them as null like
    every non-finite number (:mod:`tokenplan._json`): this list, written beside them as
    ``extrapolation_unbounded`` (by ``fit --json`` and ``predict --json``), tells "infinitely far out" from
    "no number"."""
    return [axis for axis, f in extrapolation.items() if math.isinf(f)]


@dataclass(frozen=True)
class Prediction:
    """The predicted loss of one (N, D[, U]) point, its interval, and whether it lies in the fitted range.

    ``interval`` is ``(lo, hi)`` at ``level`` or ``None``; ``interval_kind`` is one of
    :data:`INTERVAL_KINDS` and ``interval_source`` says where it comes from. ``extrapolation`` maps each
    axis (flops, n_params, n_tokens, tokens_per_param) to a factor >= 1 (1.0 = inside the law's fitted
    range); it is empty when the law's fitted range is unknown. ``decades`` is log10 of how far the point's
    compute lies above the largest fitted compute (0 inside or below, where a backtest-calibrated interval
    gets a note with the decades below the smallest; None: range unknown), and
    ``interval_widening`` the factor (>= 1) by which a backtest-calibrated half-width was widened for that
    distance, with ``interval_scale_decades`` the d0 of its scale (None: no growth measured, flat).
    """

    law: str
    n_params: float
    n_tokens: float
    loss: float
    flops: float
    tokens_per_param: float
    unique_tokens: float | None = None
    epochs: float | None = None
    effective_tokens: float | None = None
    interval: tuple[float, float] | None = None
    level: float = 0.8
    interval_kind: str = "none"
    interval_source: str = NO_INTERVAL
    extrapolation: dict[str, float] = field(default_factory=dict)
    decades: float | None = None
    interval_widening: float = 1.0
    interval_scale_decades: float | None = None
    fitted_range_source: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()
    #: Muennighoff et al. 2023's epoch rule beyond ~4 epochs, as ``plan`` and ``repeat`` say it (None up
    #: to 4 epochs, or without unique tokens).
    repetition_warning: str | None = None

    @property
    def inside_range(self) -> bool | None:
        """True inside the fitted range on every axis (within :data:`EXTRAPOLATION_TOLERANCE`, as plan
        warns), None when the range is unknown."""
        return within_tolerance(self.extrapolation.values())

    @property
    def max_extrapolation(self) -> float:
        return max(self.extrapolation.values(), default=1.0)

    def _outside(self) -> list[str]:
        """'flops 9,260x' per axis outside the fitted range (beyond the tolerance plan allows)."""
        return [
            f"{axis} {'beyond float range' if math.isinf(f) else format_factor(f)}"
            for axis, f in self.extrapolation.items()
            if f > EXTRAPOLATION_TOLERANCE
        ]

    def warnings(self) -> list[str]:
        """One warning naming every axis outside the fitted range and its factor (none inside; a factor
        beyond float range says so, not 'infx'), then the repetition warning beyond ~4 epochs."""
        out = self._outside()
        repeated = [] if self.repetition_warning is None else [self.repetition_warning]
        if not out:
            return repeated
        return [f"outside the law's fitted range ({', '.join(out)}): an extrapolation.", *repeated]

    def to_dict(self) -> dict[str, Any]:
        sizes = "law n_params n_tokens flops tokens_per_param unique_tokens epochs effective_tokens loss"
        return {
            **record(self, sizes),
            "interval": None if self.interval is None else list(self.interval),
            **record(self, "level interval_kind interval_source interval_widening"),
            **record(self, "interval_scale_decades decades inside_range"),
            "extrapolation": dict(self.extrapolation),
            "extrapolation_unbounded": unbounded_axes(self.extrapolation),
            **record(self, "fitted_range_source source"),
            "warnings": self.warnings(),
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        iv = (
            ""
            if self.interval is None
            else f", interval=({self.interval[0]:.4f}, {self.interval[1]:.4f})"
        )
        # how far out the point is, as plan warns: the repr alone showed a loss 9,260x beyond the
        # fitted compute with a tight interval and no word of it
        outside = self._outside()
        where = (
            f", extrapolation={', '.join(outside)!r}"
            if outside
            else f", inside_range={self.inside_range}"
        )
        return (
            f"Prediction(law={self.law!r}, n_params={self.n_params:.4g}, n_tokens={self.n_tokens:.4g}, "
            f"loss={self.loss:.4f}{iv}, interval_kind={self.interval_kind!r}{where})"
        )


@dataclass(frozen=True)
class AllocationInterval:
    """Intervals on the compute-optimal N and D for one budget (from a law's bootstrap draws)."""

    flops: float
    n_params: tuple[float, float] | None
    n_tokens: tuple[float, float] | None
    level: float
    kind: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "n_params": None if self.n_params is None else list(self.n_params),
            "n_tokens": None if self.n_tokens is None else list(self.n_tokens),
            "level": self.level,
            "kind": self.kind,
            "source": self.source,
        }


# --- the two entry points used by Law ------------------------------------------------------------------


def check_level(level: float) -> float:
    """An interval level strictly between 0 and 1 (0.8 = the 10th..90th percentiles)."""
    try:
        return _checks.in_range("interval", level, 0.0, 1.0, inclusive=False)
    except InvalidInputError:
        raise InvalidInputError(
            f"interval={level!r} must lie strictly between 0 and 1: a coverage level such as 0.8 "
            "(the 10th..90th percentiles) or 0.9.",
            param="interval",
        ) from None


def convention_note(law: Law) -> str:
    """Predict's note that N is taken as a non-embedding law counts it.

    plan and table convert a total to the law's convention before they predict, so they drop this note.
    """
    return (
        f"law {law.name!r} counts non-embedding parameters: n_params is taken as that count (a "
        "model's total with embeddings is larger; `tokenplan plan --params` converts a total)."
    )


def predict(
    law: Law, n_params, n_tokens, *, unique_tokens=None, interval: float = 0.8
) -> Prediction:
    """The body of :meth:`Law.predict` (see there)."""
    N, D, U = _point(n_params, n_tokens, unique_tokens)
    flops = training_flops(N, D)
    level = check_level(interval)
    if not law.has_loss:
        law.loss(N, D)  # raises the law's own explanation
    loss_of, d_eff = _loss_of(law, N, D, U)
    center = float(loss_of(law))
    if not math.isfinite(center):
        raise InvalidInputError(f"law {law.name!r} gives no finite loss at N={N:g}, D={D:g}.")
    rng = law.fitted_range
    decades, below = (None, None) if rng is None else _decades_outside(N, D, rng.flops)
    unc = uncertainty_of(law)
    iv, widening, d0, notes = _interval(unc, law, center, loss_of, level, (decades, below), (N, D))
    kind, src = ("none", no_interval(law)) if iv is None else (unc.kind, unc.described)
    if U is not None and not hasattr(law, "effective_tokens"):
        notes.append(repetition_note(law, with_interval=iv is not None))
    if law.param_convention == "non-embedding":
        notes.append(convention_note(law))
    return Prediction(
        law=law.name,
        n_params=N,
        n_tokens=D,
        loss=center,
        flops=flops,
        tokens_per_param=D / N,
        unique_tokens=U,
        epochs=None if U is None else D / U,
        effective_tokens=d_eff,
        interval=iv,
        level=level,
        interval_kind=kind,
        interval_source=src,
        extrapolation={} if rng is None else rng.extrapolation(N, D, U),
        decades=decades,
        interval_widening=widening,
        interval_scale_decades=d0,
        fitted_range_source="" if rng is None else rng.source,
        source=law.citation,
        notes=tuple(notes),
        repetition_warning=None if U is None else _repetition_warning(law, D, min(U, D)),
    )


def effective_tokens_of(law: Law, n_tokens: float, unique_tokens: float) -> float:
    """D' of ``n_tokens`` drawn from ``unique_tokens`` unique ones (Muennighoff et al. 2023, eq. 5): with the
    law's own R_D* (a data-constrained law), else with Muennighoff's C4 fit's (:data:`R_D_STAR_C4`). The one
    D' of ``predict``, ``plan`` and ``repeat``."""
    U = min(unique_tokens, n_tokens)
    if hasattr(law, "effective_tokens"):
        return float(law.effective_tokens(n_tokens, U))
    return float(effective_tokens(n_tokens, U, R_D_STAR_C4))


def _loss_of(law: Law, N: float, D: float, U: float | None):
    """(loss_of(one law), D' or None): the loss of N on D tokens, drawn from U unique ones when U is given.

    A data-constrained law takes U itself (N' and D', eqs. 5-6); a law without a repetition term is taken at
    D' (eq. 5 with Muennighoff's C4 R_D*), as ``plan`` and ``repeat`` take it; so is every bootstrap draw,
    and the interval brackets the loss shown. ``loss_of`` returns an array for array-valued parameters."""
    if U is None:
        return (lambda one: one.loss(N, D)), None
    d_eff = effective_tokens_of(law, D, U)
    if hasattr(law, "effective_tokens"):
        return (lambda one: one.loss(N, D, min(U, D))), d_eff
    return (lambda one: one.loss(N, d_eff)), d_eff


def repetition_note(law: Law, *, with_interval: bool) -> str:
    """What ``predict`` (and a plan's interval) says of unique tokens under a law without a repetition
    term: the loss is taken at D' (Muennighoff et al. 2023, eq. 5), and an interval covers the law's
    constants there, not R_D*."""
    text = (
        f"law {law.name!r} has no repetition term: with unique tokens its loss is taken at the effective "
        f"tokens D' (Muennighoff et al. 2023, eq. 5, with R_D* = {R_D_STAR_C4:.4g} from their C4 fit)"
    )
    if not with_interval:
        return text + "."
    return text + "; the loss interval is the law's at D', and R_D* itself has no interval."


def _point(n_params, n_tokens, unique_tokens) -> tuple[float, float, float | None]:
    """(N, D, U) checked: one number each, at least one parameter or token (under one the closed forms
    still answer, with nothing behind it: a loss of 1.5e58 at 1e-150 parameters, and R_D = D / U - 1
    overflowed; plan, table and repeat refuse the same counts in the same words)."""
    for name, value in (("n_params", n_params), ("n_tokens", n_tokens)):
        if np.ndim(value) > 0:  # a list or array: "is not a number" would leave the fix unsaid
            raise InvalidInputError(
                f"{name} is a list or array (shape {np.shape(value)}); predict takes one point: call "
                "it once per point, or use law.loss(n_params, n_tokens) for an array of losses (without "
                "intervals).",
                param=name,
            )
    N = _checks.at_least_one("n_params", _checks.positive("n_params", n_params), "parameter")
    D = _checks.at_least_one("n_tokens", _checks.positive("n_tokens", n_tokens), "token")
    if unique_tokens is None:
        return N, D, None
    U = _checks.positive("unique_tokens", unique_tokens)
    return N, D, _checks.at_least_one("unique_tokens", U, "unique token")


def training_flops(
    N: float, D: float, *, source: str | None = None, param: str | None = None
) -> float:
    """6ND, or an error naming the size at fault when it leaves float64: 1e-300 parameters on 1e-300 tokens
    is 6e-600 FLOPs, read as 0 (the fitted range's factors divide by it and the table prints it), and 1e200
    on 1e200 is inf. Each size alone is checked by :func:`tokenplan._checks.positive`. ``source`` (a file
    and row: ``points.csv, row 2``) is named instead of the arguments, and ``param`` is the argument that
    gave it (``points``)."""
    flops = FLOPS_PER_PARAM_TOKEN * N * D
    if sys.float_info.min <= flops < math.inf:
        return flops
    small = flops < 1.0
    name, value = ("n_params", N) if (N <= D) == small else ("n_tokens", D)
    other, other_value = ("n_tokens", D) if name == "n_params" else ("n_params", N)
    # in logs, where 6ND neither under- nor overflows
    log_c = math.log10(FLOPS_PER_PARAM_TOKEN) + math.log10(N) + math.log10(D)
    shown = f"{10 ** (log_c - math.floor(log_c)):.2g}e{math.floor(log_c)}"
    bound = "below the smallest" if small else "above the largest"
    limit = sys.float_info.min if small else sys.float_info.max
    who = f"`{name}` {value:g} with `{other}` {other_value:g}"
    if source is not None:  # plain names: the CLI would turn quoted ones into --params/--tokens
        who = f"{source}: n_params {N:g} with n_tokens {D:g}"
    raise InvalidInputError(
        f"{who} is 6ND = {shown} training FLOPs, {bound} float64 number ({limit:.2g}): out of range "
        "to compute with; give sizes counted in parameters and tokens (a 7B model is 7e9).",
        param=param or name,
    )


def _repetition_warning(law: Law, n_tokens: float, unique_tokens: float) -> str | None:
    """``plan``'s words on ``n_tokens`` drawn from ``unique_tokens`` (Muennighoff et al. 2023, secs. 5-6):
    D' with the law's own R_D* (a data-constrained law), or Muennighoff's C4 decay for a law that ignores
    unique tokens."""
    own = getattr(law, "R_D_star", None)
    fraction = effective_tokens_of(law, n_tokens, unique_tokens) / n_tokens
    return epochs_warning(n_tokens / unique_tokens, fraction, None if own is None else float(own))


def _decades_outside(N: float, D: float, fitted_flops: tuple[float, float]) -> tuple[float, float]:
    """(log10 of how far 6ND lies above the largest fitted compute, log10 of how far below the smallest),
    each 0 when not so (in logs, as 6ND's own message is)."""
    log_c = math.log10(FLOPS_PER_PARAM_TOKEN) + math.log10(N) + math.log10(D)
    lo, hi = fitted_flops
    return max(0.0, log_c - math.log10(hi)), max(0.0, math.log10(lo) - log_c)


def _interval(
    unc: Uncertainty | None, law: Law, center: float, loss_of, level: float, distance, point
):
    """(interval or None, widening, d0 or None, notes) of one prediction ``distance`` = (decades beyond,
    decades below) the fitted compute (None: fitted range unknown, so no widening for distance), from
    ``law``'s uncertainty."""
    if unc is None or unc.kind == "none":
        return None, 1.0, None, []
    decades, below = distance
    lo, hi, notes, widening = unc.loss_interval(law, center, loss_of, level, decades=decades or 0.0)
    d0 = unc.distance_scale_decades if unc.residuals else None
    if widening > 1.0:
        N, D = point
        notes.append(
            f"{fq(N)}/{fq(D)}: {level:.0%} interval, backtest-calibrated, widened for {decades:.2g} "
            f"decades beyond the fitted compute: the held-out error quantile x{widening:.3g} (the "
            f"backtest's errors grow with distance: scale sqrt(1 + (d/{d0:.2g})^2) from "
            f"{len(unc.residuals)} held-out runs)."
        )
    notes += _calibration_reach(unc, decades, point, scaled=d0 is not None)
    notes += _below_calibration(unc, below, point)
    return (lo, hi), widening, d0, notes


def _calibration_reach(
    unc: Uncertainty, decades: float | None, point, *, scaled: bool
) -> list[str]:
    """A note when the point (N, D), named by its sizes as the warnings name it, lies further beyond the
    fitted compute than the backtest checked (``scaled``: the interval is widened for distance,
    :attr:`Uncertainty.distance_scale_decades`)."""
    if not unc.residuals or decades is None or not math.isfinite(unc.backtest_flops_factor):
        return []
    # 6ND of extreme sizes lies beyond float range
    factor = 10.0**decades if decades < 300 else math.inf
    if factor <= unc.backtest_flops_factor * 1.5:
        return []
    far = "beyond float range" if math.isinf(factor) else format_factor(factor)
    this = f"{fq(point[0])}/{fq(point[1])}: this point"
    if scaled:
        return [
            f"{this} is {far} beyond the fitted compute; the backtest measured how errors "
            f"grow on runs up to {format_factor(unc.backtest_flops_factor)} beyond, and the widening assumes they "
            "keep growing that way."
        ]
    return [
        f"{this} is {far} beyond the fitted compute; the backtest calibrated the interval "
        f"on runs up to {format_factor(unc.backtest_flops_factor)} beyond, so it may be too narrow here."
    ]


def _below_calibration(unc: Uncertainty, below: float | None, point) -> list[str]:
    """A note when the point lies more than 1.5x below the smallest fitted compute: the backtest held out
    the largest runs, so its errors calibrate extrapolation upward only; down here the interval is the flat
    one (no distance scale: d counts decades beyond the largest fitted compute) and uncalibrated."""
    if not unc.residuals or below is None or 10.0**below <= 1.5:
        return []
    reach = (
        f" (its held-out runs lay up to {format_factor(unc.backtest_flops_factor)} above)"
        if math.isfinite(unc.backtest_flops_factor)
        else ""
    )
    N, D = point
    return [
        f"{fq(N)}/{fq(D)}: this point is {below:.2g} decades ({format_factor(10.0**below)}) below the "
        "smallest fitted compute, an extrapolation downward; the backtest calibrated the interval "
        f"on runs above the fitted compute only{reach}, so it is not calibrated here and may be "
        "too narrow."
    ]


def allocation_interval(
    law: Law, flops, *, interval: float = 0.8, unique_tokens=None
) -> AllocationInterval:
    """The body of :meth:`Law.optimal_interval`."""
    C = _checks.positive("flops", flops)
    level = check_level(interval)
    U = None if unique_tokens is None else _checks.positive("unique_tokens", unique_tokens)
    unc = uncertainty_of(law)
    if unc is None or not len(unc.draws):
        return AllocationInterval(C, None, None, level, "none", no_interval(law))
    if U is not None and hasattr(law, "optimal_constrained"):
        # the data-constrained optimum has no closed form (a search per draw): one draw at a time
        allocs = [_constrained_or_none(one, C, U) for one in unc.draw_laws(law)]
        N = np.array([np.nan if a is None else float(a.n_params) for a in allocs])
        D = np.array([np.nan if a is None else float(a.n_tokens) for a in allocs])
    else:
        N = unc.draw_values(law, lambda one: one.optimal(C).n_params)
        D = unc.draw_values(law, lambda one: one.optimal(C).n_tokens)
    ok = np.isfinite(N) & np.isfinite(D) & (N > 0) & (D > 0)
    if not ok.any():
        return AllocationInterval(C, None, None, level, "none", "every draw failed")
    qs = [50 * (1 - level), 50 * (1 + level)]
    n_iv = tuple(float(v) for v in np.percentile(N[ok], qs))
    d_iv = tuple(float(v) for v in np.percentile(D[ok], qs))
    return AllocationInterval(C, n_iv, d_iv, level, "bootstrap", _draws_source(unc))


def _draws_source(unc: Uncertainty) -> str:
    """Where an allocation interval comes from: the draws alone (a backtest calibrates losses only)."""
    if not unc.residuals:
        return unc.source
    seed = "" if unc.seed is None else f" (seed {unc.seed})"
    return f"{len(unc.draws)} bootstrap refits{seed}, not widened by the backtest (it calibrates losses)"


def _constrained_or_none(one: Law, flops: float, unique_tokens: float):
    try:
        return one.optimal_constrained(flops, unique_tokens)
    except (TypeError, ValueError, ArithmeticError, InvalidInputError):
        return None


# --- published / shipped uncertainty of presets -----------------------------------------------------------

# preset name -> file beside this module holding bootstrap draws of that preset's fit.
PUBLISHED = {"epoch2024": "epoch2024_bootstrap.json"}


def uncertainty_of(law: Law) -> Uncertainty | None:
    """What ``law``'s intervals are made of: its own (a fitted law), a preset's shipped draws, or None."""
    return law.uncertainty or _published(law)


def _published(law: Law) -> Uncertainty | None:
    """The shipped uncertainty of a preset (only when ``law`` is that preset, constants unchanged)."""
    name = PUBLISHED.get(law.name)
    if name is None or not law.is_preset:
        return None
    return _load_published(name)


@functools.cache
def _load_published(name: str) -> Uncertainty:
    import json
    from importlib import resources

    text = resources.files("tokenplan.laws").joinpath(name).read_text(encoding="utf-8")
    return Uncertainty.from_dict(json.loads(text))
