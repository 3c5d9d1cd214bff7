"""``run_fit``: everything ``tokenplan fit`` does, as one library call returning a :class:`FitReport`.

Steps (each a small function below): choose the runs each approach may use -> fit Approaches 1/2/3 or the
data-constrained law -> for Approach 3, backtest the candidate forms and keep the best extrapolator
(``form="auto"``) -> bootstrap -> attach the fitted range, the bootstrap draws and the backtest's held-out
errors to the law (they make ``law.predict``'s interval) -> compute-optimal allocations at the budgets.
The CLI only parses flags, calls this, saves, plots and renders.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.fit import choices
from tokenplan.fit.approach1 import EnvelopeFit
from tokenplan.fit.backtest import (
    Backtest,
    backtest,
    choose_form,
    exponent_test,
    needs_exponent_test,
    parse_holdout,
)
from tokenplan.fit.forms import FORMS
from tokenplan.fit.isoflop import PROFILES
from tokenplan.fit.parametric import REDUCTIONS
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.base import FittedRange
from tokenplan.laws.prediction import (
    Uncertainty,
    distance_scale,
    unbounded_axes,
    within_tolerance,
)
from tokenplan.units import format_out

if TYPE_CHECKING:
    from tokenplan.fit.bootstrap import BootstrapResult
    from tokenplan.laws.base import Law
    from tokenplan.runs import Curves, RunTable

__all__ = ["FitOptions", "FitReport", "run_fit"]

APPROACHES = choices.APPROACHES
LAW_KINDS = choices.LAW_KINDS  # the law to fit (FitOptions.law)
FORM_CHOICES = (
    choices.FORM_CHOICES
)  # Approach 3's form (FitOptions.form): auto backtests each of FORMS
# Bootstrap refits made by default for Approach 3's Chinchilla-family forms, whose refits are one batch:
# enough for 10th/90th percentiles of N_opt/D_opt and of the loss (the draws are saved with the law).
DEFAULT_BOOT = 200
TITLES = {
    "1": "Approach 1 (training-curve envelope)",
    "2": "Approach 2 (IsoFLOP profiles)",
    "3": "Approach 3 (parametric L = E + A/N^alpha + B/D^beta)",
    "data-constrained": "Data-constrained law (Muennighoff et al. 2023)",
}


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """What to fit and how (the flags of ``tokenplan fit``)."""

    approach: str = "3"  # "1" envelope, "2" IsoFLOP, "3" parametric, "all"
    law: str = "chinchilla"  # or "data-constrained" (Muennighoff et al. 2023's R_D*, R_N*)
    form: str = "auto"  # Approach 3's form: "auto" or one of fit.forms.FORMS
    delta: float = 1e-3  # Huber delta on log L
    reduction: str = "sum"  # "mean" reproduces the early stop behind Hoffmann et al.'s constants
    overestimate_weight: float = 1.0  # > 1: asymmetric Huber against over-prediction
    profile: str = "parabola"  # Approach 2 per-budget profile
    bins_per_decade: float | None = None  # Approach 2 budget grouping
    fit_base: bool = False  # data-constrained: also refit E, A, B, alpha, beta
    # bootstrap refits; None = DEFAULT_BOOT for Approach 3's Chinchilla-family forms (batched, ~1 s), else 0
    n_boot: int | None = None
    seed: int = 0
    level: float = 0.8  # interval level
    budgets: tuple[float, ...] = ()  # FLOP budgets for N_opt / D_opt
    backtest: bool = False  # backtest every form asked for and report it (auto always backtests)
    holdout: str | None = None  # "params>=1e9", "flops>=1e20", "top15%"; None = top 15% by compute

    def __post_init__(self) -> None:
        # Each value is stored as checked: run_fit compares names exactly (law == "data-constrained"), so
        # FitOptions(approach=2) or law="Data-Constrained" must become "2" and "data-constrained" here.
        def keep(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        keep("approach", _checks.choice("approach", self.approach, APPROACHES, param="approach"))
        keep("law", _checks.choice("law", self.law, LAW_KINDS, param="law_kind"))
        keep("form", _checks.choice("form", self.form, FORM_CHOICES, param="form"))
        keep(
            "reduction", _checks.choice("reduction", self.reduction, REDUCTIONS, param="reduction")
        )
        keep("profile", _checks.choice("profile", self.profile, PROFILES, param="profile"))
        if self.n_boot is not None:
            keep("n_boot", _checks.positive_int("n_boot", self.n_boot, allow_zero=True))
            _checks.in_range(
                "n_boot", self.n_boot, 0, 1_000_000
            )  # beyond: arrays too big to allocate
        keep("seed", _checks.seed("seed", self.seed))
        # switches: 'no' or 'false' (truthy strings) would turn fit_base or backtest on
        _checks.strict_bool("fit_base", self.fit_base)
        _checks.strict_bool("backtest", self.backtest)
        keep("budgets", _budgets(self.budgets))
        _checks.positive("delta", self.delta)
        _checks.positive("overestimate_weight", self.overestimate_weight)
        if self.bins_per_decade is not None:
            _checks.positive("bins_per_decade", self.bins_per_decade)
        _checks.in_range("level", self.level, 0.0, 1.0, inclusive=False)
        parse_holdout(self.holdout)  # fails early on a malformed cut

    @property
    def chinchilla_form_only(self) -> bool:
        """Options that belong to the Chinchilla form's objective pin the form (no auto)."""
        return self.reduction == "mean" or self.overestimate_weight != 1.0


def runs_left_out(n: int) -> str:
    """'5 runs repeat data and are left out', '1 run repeats data and is left out' (the fit note and the
    sweep page's; '1 runs repeat data and are' before)."""
    if n == 1:
        return "1 run repeats data and is left out"
    return f"{n:,} runs repeat data and are left out"


def _budgets(value: Any) -> tuple[float, ...]:
    """FitOptions.budgets as a tuple of FLOP counts > 0; one number alone is a mistake to name, not to
    iterate (``budgets=1e20`` would fail deep inside the bootstrap)."""
    listed = _checks.items("budgets", value, example="(1e20, 1e21)")
    return tuple(_checks.positive("budgets", c) for c in listed)


@dataclass(frozen=True)
class FitReport:
    """Everything one ``tokenplan fit`` produced. ``law`` is the law to save and plan with.

    - ``law``: the saved law (:class:`~tokenplan.laws.Law`), with its fitted range, bootstrap draws and
      backtest errors attached: ``law.predict(N, D)`` gives a loss with an interval, ``plan(law=law, ...)``.
    - ``primary``: the key of the fit ``law`` comes from: ``"3"``, ``"2"``, ``"1"`` or ``"data-constrained"``.
    - ``fits``: each approach that ran, by the same keys (:class:`ParametricFit`, :class:`IsoflopFit`,
      :class:`EnvelopeFit`, :class:`DataConstrainedFit`, or the form's fit under ``"3"``).
    - ``intervals``: a :class:`BootstrapResult` per key whose bootstrap ran (``options.n_boot``).
    - ``backtests``: a :class:`Backtest` per Approach 3 form tried (``form="auto"`` or ``backtest=True``);
      :attr:`backtest` is the saved form's.
    - ``form``, ``form_reason``: Approach 3's form and why it was kept (None and "" for the others).
    - ``runs_info``: the runs used: ``source``, ``n_used``, ``n_dropped``, ``dropped`` (count per reason),
      ``param_column``.
    - ``allocations``: N_opt and D_opt at each of ``options.budgets`` (dicts: ``flops``, ``n_params``,
      ``n_tokens``, their intervals and the extrapolation per axis).
    - ``options``: the :class:`FitOptions` as checked; ``warnings``, ``notes``: what ``tokenplan fit``
      prints under its tables; ``curves``: the training curves Approach 1 used (None without them).
    """

    law: Law
    primary: str  # key of the fit the law comes from: "1", "2", "3" or "data-constrained"
    fits: dict[str, Any]
    intervals: dict[str, BootstrapResult]
    backtests: dict[str, Backtest]
    form: str | None
    form_reason: str
    runs_info: dict[str, Any]
    allocations: tuple[dict[str, Any], ...]
    options: FitOptions
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    curves: Curves | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # the dataclass repr printed every field, the law's fitted range and each form's fit (~2,000
        # characters for 20 runs); this one is the saved fit, its backtest and the counts
        runs = f"{self.runs_info['n_used']}"
        if self.runs_info.get("n_dropped"):
            runs += f" ({self.runs_info['n_dropped']} dropped)"
        kind = "none" if self.law.uncertainty is None else self.law.uncertainty.kind
        return (
            f"FitReport(law={self.law.name!r}, form={self.form!r}, runs={runs}, "
            f"fit={self.fits[self.primary]!r}, backtest={self.backtest!r}, interval_kind={kind!r}, "
            f"warnings={len(self.warnings)}, notes={len(self.notes)})"
        )

    @property
    def backtest(self) -> Backtest | None:
        """The backtest of the saved law's form (None when none ran)."""
        return self.backtests.get(self.form) if self.form else self.backtests.get(self.primary)

    def to_dict(self) -> dict[str, Any]:
        o = self.options
        fits = {}
        for key, fit in self.fits.items():
            fits[key] = fit.to_dict()
            if key in self.intervals:
                fits[key]["intervals"] = self.intervals[key].to_dict()
        bt = self.backtest
        return {
            "approach": o.law if o.law == "data-constrained" else o.approach,
            "form": self.form,
            "form_reason": self.form_reason,
            "saved_from": type(self.fits[self.primary]).__name__,
            "objective": getattr(self.fits[self.primary], "objective", None),
            "delta": o.delta,
            "reduction": o.reduction,
            "runs": self.runs_info,
            "fits": fits,
            "backtest": None if bt is None else bt.to_dict(),
            "backtests": {k: v.to_dict() for k, v in self.backtests.items()},
            "fitted_range": None
            if self.law.fitted_range is None
            else self.law.fitted_range.to_dict(),
            "interval_kind": "none" if self.law.uncertainty is None else self.law.uncertainty.kind,
            "allocations": list(self.allocations),
            "no_optimum_reason": None if self.law.has_optimum else self.law.no_optimum_reason,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "law": self.law.to_dict(),
        }

    def to_markdown(self) -> str:
        """A short Markdown summary: the law, the form choice and the backtest table."""
        lines = [f"# Fit of {self.runs_info['source']}", ""]
        lines.append(f"{self.runs_info['n_used']} runs; saved law: {TITLES[self.primary]}.")
        if not self.law.has_optimum:
            lines.append(f"It has no compute-optimal allocation: {self.law.no_optimum_reason}.")
        if self.form:
            lines.append(f"Form: **{self.form}** ({self.form_reason}).")
        lines += ["", "| form | held out | mean abs error | max abs error | inside interval |"]
        lines.append("|---|---|---|---|---|")
        for form, bt in self.backtests.items():
            lines.append(
                f"| {form} | {bt.n_heldout} ({bt.holdout}) | {bt.mean_abs_error:.2%} | "
                f"{bt.max_abs_error:.2%} | {bt.coverage_text} |"
            )
        params = self.fits[self.primary].to_dict().get("params", {})
        lines += ["", "| parameter | value |", "|---|---|"]
        lines += [f"| {k} | {v:.6g} |" for k, v in params.items()]
        return "\n".join(lines) + "\n"


def no_loss_fit_reason(warnings: Any = ()) -> str:
    """Why a fit has no loss-predicting law (no residuals to show), and what gives one, from the fit's
    ``warnings``: under ``--approach all`` Approach 3 was skipped, and its own reason (how many runs it
    needs) is what helps, not the flag that already ran it; else Approaches 1 and 2 fit the allocation
    only."""
    skipped = [w for w in warnings if str(w).startswith("Approach 3 skipped: ")]
    if skipped:
        return skipped[0]
    return "Approaches 1 and 2 fit the allocation only: --approach 3 or all fits the loss."


def run_fit(
    runs: RunTable,
    options: FitOptions | None = None,
    *,
    curves: Curves | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> FitReport:
    """Fit ``runs`` as ``options`` say (module docstring); returns a :class:`FitReport`.

    ``progress(stage, done, total)`` counts the bootstrap refits, one stage per approach
    (``bootstrap (approach 3)``), as select's stages do.
    """
    _check_types(runs, options, curves)
    o = options or FitOptions()
    state = _State(
        runs=runs, notes=list(runs.notes), warnings=list(runs.warnings), progress=progress
    )
    if o.law == "data-constrained":
        _fit_data_constrained(state, o)
    else:
        _fit_approaches(state, o, curves)
    _bootstrap(state, o)
    law = _finish_law(state, o)
    return FitReport(
        law=law,
        primary=state.primary,
        fits=state.fits,
        intervals=state.intervals,
        backtests=state.backtests,
        form=state.form,
        form_reason=state.form_reason,
        runs_info=_runs_info(runs),
        allocations=_allocations(law, o),
        options=o,
        warnings=tuple(state.warnings),
        notes=tuple(state.notes),
        curves=state.curves,
    )


def _check_types(runs: Any, options: Any, curves: Any) -> None:
    """One clear line for a DataFrame, a dict of options or a path given where run_fit needs its own
    types (it would otherwise fail on a missing attribute deep inside)."""
    from tokenplan.runs import Curves, require_table

    require_table(runs)
    if options is not None and not isinstance(options, FitOptions):
        raise InvalidInputError(
            f"options must be a FitOptions, not {type(options).__name__}: "
            "run_fit(runs, FitOptions(n_boot=100)) (a dict d: FitOptions(**d)).",
            param="options",
        )
    if curves is not None:
        require_table(curves, Curves, param="curves")


@dataclass
class _State:
    """What the steps of :func:`run_fit` hand to each other."""

    runs: RunTable
    notes: list[str]
    fits: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Any] = field(default_factory=dict)
    backtests: dict[str, Backtest] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    form: str | None = None
    form_reason: str = ""
    primary: str = "3"
    fit_runs: RunTable | None = None  # the runs the saved law was fitted on
    curves: Curves | None = None
    progress: Callable[[str, int, int | None], None] | None = None


def _runs_info(runs: RunTable) -> dict[str, Any]:
    return {
        "source": runs.source,
        "n_used": len(runs),
        "n_dropped": runs.n_dropped,
        "dropped": runs.dropped,
        "param_column": runs.param_column,
    }


def _fit_data_constrained(state: _State, o: FitOptions) -> None:
    """``--law data-constrained``: R_D*, R_N* (base frozen at the C4 fit unless ``fit_base``)."""
    from tokenplan.fit.data_constrained import fit_data_constrained
    from tokenplan.laws import get_law

    dc = fit_data_constrained(state.runs, fit_base=o.fit_base, delta=o.delta)
    state.fits["data-constrained"] = dc
    state.warnings.extend(dc.warnings)
    state.primary, state.fit_runs = "data-constrained", state.runs
    base = None if o.fit_base else get_law("muennighoff2023")
    _try_backtests(state, o, ("data-constrained",), base=base, fit_base=o.fit_base)


def _fit_approaches(state: _State, o: FitOptions, curves: Curves | None) -> None:
    """Approaches 1, 2 and 3 on the fresh runs; under ``all`` a table too small for one is a warning."""
    from tokenplan.fit.approach1 import fit_envelope
    from tokenplan.fit.isoflop import fit_isoflop

    runs = state.runs
    fresh = runs.fresh_only()
    if len(fresh) < len(runs) and o.form != "data-constrained":
        also = (
            "; --form auto also backtests the data-constrained form on all runs"
            if o.form == "auto"
            else ""
        )
        state.notes.append(
            f"{runs_left_out(len(runs) - len(fresh))} of the Chinchilla-family fits "
            f"(they assume fresh tokens){also}; or fit them with --law data-constrained."
        )
    want = ["1", "2", "3"] if o.approach == "all" else [o.approach]
    steps = {
        "1": lambda: _envelope(state, o, curves, fit_envelope),
        "2": lambda: fit_isoflop(fresh, profile=o.profile, bins_per_decade=o.bins_per_decade),
        "3": lambda: _approach3(state, o, curves),
    }
    for key in want:
        try:
            fitted = steps[key]()
        except InvalidInputError as exc:
            if o.approach == key:
                raise
            state.warnings.append(f"Approach {key} skipped: {exc}")
            continue
        if fitted is not None:
            state.fits[key] = fitted
            state.warnings.extend(fitted.warnings)
    if not state.fits:
        raise InvalidInputError("no approach could be fitted: " + " ".join(state.warnings))
    state.primary = next(k for k in ("3", "2", "1") if k in state.fits)
    if state.primary != "3":
        state.fit_runs = fresh


def _envelope(state: _State, o: FitOptions, curves: Curves | None, fit_envelope):
    if (
        curves is not None
    ):  # a curves file of its own (the run table's curves' warnings are the table's)
        state.warnings.extend(curves.warnings)
    curves = curves if curves is not None else state.runs.curves
    if curves is None:
        raise InvalidInputError("Approach 1 needs training curves: pass --curves curves.csv.")
    state.curves = curves
    return fit_envelope(curves)


def _approach3(state: _State, o: FitOptions, curves: Curves | None = None):
    """Choose the form (backtests under ``auto``), then fit it on every run it may use."""
    from tokenplan.fit.forms import fit_form

    _require_points(state, o, curves)
    form = o.form
    if form == "auto" and o.chinchilla_form_only:
        form = "chinchilla"
        state.notes.append(
            "--reduction/--overestimate-weight pin the form to chinchilla (no auto)."
        )
    if o.reduction == "mean":
        pass  # reproduces a published early stop; a backtest of it would measure nothing useful
    elif form == "auto":
        form = _choose_form(state, o)
    else:
        strict = o.backtest or o.holdout is not None
        _try_backtests(state, o, (form,), strict=strict, **_form_options(form, o))
    state.form = form
    if form == "shared-exponent":
        others = "Approaches 1 and 2 (above)" if o.approach == "all" else "--approach all"
        state.notes.append(
            "form shared-exponent fixes alpha = beta, so its a = b = 0.5 (N_opt, D_opt ∝ C^0.5) are not "
            f"measured by these runs; {others} or --form chinchilla measure them."
        )
    state.fit_runs = state.runs if form == "data-constrained" else state.runs.fresh_only()
    return fit_form(state.runs, form, delta=o.delta, **_form_options(form, o))


def _require_points(state: _State, o: FitOptions, curves: Curves | None) -> None:
    """Refuse, before any backtest, runs too few for the form's fit (form auto falls back to chinchilla):
    one error naming the runs' file and what fits them, not a backtest warning per form saying a cut
    leaves too few runs (no cut can) ahead of it. The data-constrained form checks its own runs."""
    from tokenplan.fit.parametric import check_runs

    fresh = state.runs.fresh_only()
    try:
        if o.form == "kaplan":
            fresh.require_points(4, "the kaplan form")
        elif o.form != "data-constrained":
            check_runs(fresh)
    except InvalidInputError as exc:
        where = state.runs.source  # under "all" the warning follows the line naming the file
        where = f"{where}: " if where and not where.startswith("<") and o.approach != "all" else ""
        raise InvalidInputError(
            f"{where}{exc} Add runs at other model sizes and token counts"
            + _other_approaches(state, o, curves)
            + ".",
            param=exc.param,
        ) from None


def _other_approaches(state: _State, o: FitOptions, curves: Curves | None) -> str:
    """ ", or ..." naming Approach 1 for an Approach 3 short of runs: with curves, when their envelope fits
    (tried here); without, as the thing to add. Approach 2 is not offered: 2 budgets of 3 sizes are 6
    distinct (N, D), more than Approach 3 needs. Empty under ``approach="all"``, which ran Approach 1."""
    from tokenplan.fit.approach1 import fit_envelope

    if o.approach == "all":
        return ""
    curves = curves if curves is not None else state.runs.curves
    if curves is None:
        return ", or fit the compute-optimal allocation only: `approach` 1 with the training curves (`curves` FILE)"
    try:
        fit_envelope(curves)
    except InvalidInputError:
        return ""
    return ", or fit the compute-optimal allocation only: `approach` 1 (the envelope of the training curves)"


def _form_options(form: str, o: FitOptions) -> dict[str, Any]:
    """The Chinchilla-objective options that apply to ``form``."""
    kw: dict[str, Any] = {}
    if form in ("chinchilla", "shared-exponent"):
        kw["reduction"] = o.reduction
    if form == "chinchilla":
        kw["overestimate_weight"] = o.overestimate_weight
    return kw


def _candidates(runs: RunTable) -> tuple[str, ...]:
    repeats = runs.has_unique_tokens and len(runs.fresh_only()) < len(runs)
    return tuple(f for f in FORMS if f != "data-constrained" or repeats)


def _choose_form(state: _State, o: FitOptions) -> str:
    """Backtest every candidate form on one split and keep the best extrapolator (one-SE rule; a shared
    exponent's tie goes to the chinchilla form when a bootstrap test on the fitted runs rejects alpha = beta)."""
    _try_backtests(state, o, _candidates(state.runs), strict=o.holdout is not None)
    if not state.backtests:
        state.form_reason = (
            "too few runs to backtest any form; the Chinchilla form is used untested"
        )
        state.warnings.append(state.form_reason + ".")
        return "chinchilla"
    exponents = None
    if needs_exponent_test(state.backtests):  # alpha = beta, tested only when the answer matters
        exponents = exponent_test(state.backtests["chinchilla"], seed=o.seed)
    form, why = choose_form(state.backtests, exponents=exponents)
    state.form_reason = why
    if "data-constrained" in state.backtests and form != "data-constrained":
        state.warnings.append(
            f"the runs repeat data, yet the {form} form (which ignores repetition) predicted the held-out "
            "runs best; its predictions treat every token as fresh. Use --form data-constrained to model "
            "repetition, or check the backtest with a cut that holds out repeated runs."
        )
    return form


def _try_backtests(state: _State, o: FitOptions, forms, *, strict: bool = False, **fit_kw) -> None:
    """Backtest ``forms``; a form the split cannot support is a warning (an error when ``strict``)."""
    hold = replace(parse_holdout(o.holdout), bins_per_decade=o.bins_per_decade)
    for form in forms:
        try:
            state.backtests[form] = backtest(
                state.runs, form, holdout=hold, level=o.level, delta=o.delta, **fit_kw
            )
        except InvalidInputError as exc:
            if strict and (len(forms) == 1 or exc.param == "holdout"):
                raise
            state.warnings.append(f"backtest of form {form} skipped: {exc}")


def _bootstrap(state: _State, o: FitOptions) -> None:
    """Percentile intervals for each fit (``n_boot`` refits); the saved law keeps its draws."""
    from tokenplan.fit import bootstrap as fitlib

    runs = state.runs
    for key, fit in state.fits.items():
        n_boot = o.n_boot
        if n_boot is None:
            batched = key == "3" and hasattr(fit, "theta") and fit.reduction == "sum"
            n_boot = DEFAULT_BOOT if batched else 0
        if not n_boot or _exact(key, fit, runs):
            continue
        kw = {
            "resampling": fitlib.Resampling(n_boot=n_boot, level=o.level, seed=o.seed),
            "progress": _boot_tick(state, key),
        }
        if key == "3" and hasattr(fit, "theta"):
            boot = fitlib.bootstrap_parametric(runs.fresh_only(), fit, budgets=o.budgets, **kw)
        elif key == "2":
            boot = fitlib.bootstrap_isoflop(
                runs.fresh_only(),
                budgets=o.budgets,
                profile=o.profile,
                bins_per_decade=o.bins_per_decade,
                **kw,
            )
        elif key == "1":
            boot = fitlib.bootstrap_envelope(state.curves, budgets=o.budgets, **kw)
        elif hasattr(fit.law, "R_D_star"):
            boot = fitlib.bootstrap_data_constrained(runs, fit, **kw)
        else:
            state.notes.append(
                f"no bootstrap for the {state.form} form; its interval is calibrated only."
            )
            continue
        state.intervals[key] = boot


def _exact(key: str, fit, runs: RunTable) -> bool:
    """An Approach-3 fit through every run (as many constants as points; the fit warns): no bootstrap."""
    from tokenplan.fit.parametric import is_exact_fit

    shared = getattr(fit, "alpha_equals_beta", False)
    return key == "3" and hasattr(fit, "theta") and is_exact_fit(runs.fresh_only(), shared)


def _boot_tick(state: _State, key: str):
    """The bootstrap's ``progress(done, total)`` as the stage ``bootstrap (approach KEY)``."""
    if state.progress is None:
        return None
    name = f"bootstrap ({key if key == 'data-constrained' else 'approach ' + key})"
    return lambda done, total: state.progress(name, done, total)


def _finish_law(state: _State, o: FitOptions) -> Law:
    """The saved law: the primary fit's law with its fitted range and uncertainty attached."""
    fit = state.fits[state.primary]
    runs = state.fit_runs if state.fit_runs is not None else state.runs
    if isinstance(
        fit, EnvelopeFit
    ):  # fitted on the curves' envelope, not on the runs' final points
        N = fit.n_params
        src = f"training-curve envelope of {fit.n_runs} runs of {state.curves.source}"
        rng = FittedRange.of_runs(N, fit.flops / (FLOPS_PER_PARAM_TOKEN * N), source=src)
    else:
        rng = FittedRange.of_runs(
            runs.n_params, runs.n_tokens, source=f"{len(runs)} runs of {runs.source}"
        )
    unc = _uncertainty(state, o, fit.law)
    return replace(fit.law, fitted_range=rng, uncertainty=unc)


_DRAW_NAMES = ("E", "A", "B", "alpha", "beta", "R_D_star", "R_N_star", "k", "a")


def _uncertainty(state: _State, o: FitOptions, law: Law) -> Uncertainty | None:
    boot = state.intervals.get(state.primary)
    bt = state.backtests.get(state.form) if state.form else state.backtests.get(state.primary)
    names: tuple[str, ...] = ()
    draws = np.zeros((0, 0))
    if boot is not None:
        names = tuple(n for n in _DRAW_NAMES if n in boot.samples and hasattr(law, n))
        if names:
            draws = np.column_stack([boot.samples[n] for n in names])
            draws = draws[np.isfinite(draws).all(axis=1)]
    if bt is None and not len(draws):
        return None
    parts = []
    if len(draws):
        parts.append(f"{len(draws)} bootstrap refits (seed {o.seed})")
    if bt is not None:
        d0 = distance_scale(bt.decades, bt.scores)
        scaled = (
            ""
            if math.isinf(d0)
            else f", scaled for distance beyond the fitted compute: d0 = {d0:.2g} decades"
        )
        parts.append(
            f"widened by the conformal quantile of {bt.n_heldout} held-out runs' errors "
            f"(backtest {bt.holdout}, form {bt.form}){scaled}"
        )
    return Uncertainty(
        names=names,
        draws=draws,
        residuals=() if bt is None else bt.scores,
        residual_decades=() if bt is None else bt.decades,
        backtest_flops_factor=math.nan if bt is None else bt.flops_factor,
        seed=o.seed if len(draws) else None,
        source="; ".join(parts),
    )


def allocation_in_range(a: dict[str, Any]) -> str:
    """'In range' of one of ``FitReport.allocations``, as the CLI's column and the report page's lead print
    it. Like predict's column: the largest factor by which the allocation leaves the fitted runs (within
    laws.prediction.EXTRAPOLATION_TOLERANCE, 10%, it is in range, as plan and predict say). An
    allocation below one parameter or one token (a vanished N or D term: the fit warns), or none at all (a
    fitted alpha or beta <= 0: NaN), is no plan, and its factor (1e+165, or 'inf' once D/N overflows) says
    nothing: the column names the cause instead."""
    # a summary read back from JSON (the report page) holds NaN as null
    n_params, n_tokens = (math.nan if a[k] is None else a[k] for k in ("n_params", "n_tokens"))
    if math.isnan(n_params):  # no optimum at all: a fitted exponent <= 0 (the fit warns)
        return "no: no optimum (exponent <= 0)"
    for x, what, unit in ((n_params, "N_opt", "parameter"), (n_tokens, "D_opt", "token")):
        if not x >= 1.0:
            return f"no: {what} < 1 {unit}"
    # (None in a factor is JSON's null for infinity, as in the --json summary)
    factors = [math.inf if v is None else v for v in a["extrapolation"].values()]
    inside = within_tolerance(factors)
    if inside is None:
        return "unknown"
    return "yes" if inside else format_out(max(factors))


def _allocations(law: Law, o: FitOptions) -> tuple[dict[str, Any], ...]:
    """N_opt, D_opt (and intervals) at each --budgets value, with how far the allocation lies outside the
    fitted runs per axis (``extrapolation``: a factor >= 1, 1.0 = inside; empty when the range is unknown).

    A factor beyond float range (D/N of a vanished N term) is infinite, which JSON writes as null like every
    non-finite number (:mod:`tokenplan._json`); ``extrapolation_unbounded`` names those axes, so that a
    reader tells "infinitely far out" from "no number"."""
    rows = []
    for C in o.budgets:
        alloc = law.optimal(C)
        iv = law.optimal_interval(C, interval=o.level)
        N, D = float(alloc.n_params), float(alloc.n_tokens)
        rng = law.fitted_range
        far = {} if rng is None else rng.extrapolation(N, D)
        rows.append(
            {
                "flops": C,
                "n_params": N,
                "n_tokens": D,
                "n_params_interval": None if iv.n_params is None else list(iv.n_params),
                "n_tokens_interval": None if iv.n_tokens is None else list(iv.n_tokens),
                "extrapolation": far,
                "extrapolation_unbounded": unbounded_axes(far),
            }
        )
    return tuple(rows)
