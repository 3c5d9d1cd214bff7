"""Backtests: how well does a law fitted on the smaller runs predict the larger ones?

Leave-largest-out: the runs at or above a cutoff are held out (default: the top 15% of runs by compute,
whole budgets, at least the largest;
``holdout="params>=1e9"`` or ``"flops>=1e20"`` choose another cut), the form is fitted on the rest and
predicts the held-out runs. Reported per held-out run: actual, predicted, signed error (predicted/actual - 1)
and an interval; overall the mean |error| and the share of held-out runs inside their intervals.

Intervals here are split-conformal (see :mod:`tokenplan.laws.prediction`), calibrated forward: the interval
of a held-out run is the prediction widened by the conformal quantile of |log(actual/predicted)| of the
held-out runs of *smaller* compute only, the nearer extrapolations, as a law is used (calibrated on what it
has seen, applied further out). A run with too few smaller held-out runs for the quantile (ceil((k+1) level)
> k) gets no interval. The share inside is then a test: it falls below the level when errors grow with
distance. They do, so the quantile is scaled for distance (:func:`tokenplan.laws.prediction.
calibrated_halfwidth`: the normalised score |log error| / s(d), d the decades beyond the fitted compute, the
scale fitted on the same nearer runs, never on the run checked; never narrower than the flat quantile).
(A leave-one-out calibration on the *other* held-out runs, used before, puts exactly
ceil(n level) of n runs inside whatever the errors are: the rank of a run among exchangeable scores decides
it, so that share carried no information.)

``choose_form`` picks, among forms backtested on the same split, the simplest one whose mean |error| is
within one standard error (of the paired per-run differences) of the best: Breiman et al.'s one-standard-
error rule, so a more flexible form must beat a simpler one by more than the noise of the held-out runs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.laws.prediction import calibrated_halfwidth

if TYPE_CHECKING:
    from tokenplan.laws.base import Law
    from tokenplan.runs import RunTable

__all__ = [
    "Backtest",
    "BacktestRow",
    "ExponentTest",
    "Holdout",
    "backtest",
    "budget_flops",
    "choose_form",
    "exponent_test",
    "needs_exponent_test",
    "parse_holdout",
]

DEFAULT_SHARE = 0.15
# what a cut on each axis can split no further (the "largest budget alone" of a cut that leaves too few)
_CUT_UNIT = {"flops": "budget", "n_params": "model size", "n_tokens": "token count"}
# each axis as a --holdout cut names it ('params>=1e9')
_CUT_NAME = {"flops": "flops", "n_params": "params", "n_tokens": "tokens"}
_AXES = {
    "flops": "flops",
    "compute": "flops",
    "c": "flops",
    "params": "n_params",
    "n_params": "n_params",
    "n": "n_params",
    "tokens": "n_tokens",
    "n_tokens": "n_tokens",
    "d": "n_tokens",
}


@dataclass(frozen=True)
class Holdout:
    """Which runs a backtest holds out: ``axis >= value``, or (``value=None``) the top ``share`` by compute.

    ``bins_per_decade`` is Approach 2's budget grouping (``--bins-per-decade``), used for the compute cut
    when the runs have no ``flops_budget`` column (:func:`budget_flops`)."""

    axis: str = "flops"
    value: float | None = None
    share: float = DEFAULT_SHARE
    bins_per_decade: float | None = None

    def describe(self) -> str:
        if self.value is None:
            return f"top {self.share:.0%} of runs by compute"
        return f"{_CUT_NAME[self.axis]}>={self.value:.3g}"

    def describe_split(self, n_out: int, n: int, *, smallest: bool = False) -> str:
        """The cut and what it held out, as the backtest header prints it: a share cut says how many runs
        went out ('top 15% of runs by compute: 3 of 20 runs (15%)'), and when the largest budget alone
        (``smallest``: no smaller cut keeps budgets whole) is well above the share, that it is ('the largest
        budget by compute: 8 of 23 runs (35%), more than the top 15% asked: a budget goes out whole'),
        never a bare 'top 15%' over a third of the runs."""
        if self.value is not None:
            return self.describe()
        shown = f"{n_out} of {n} runs ({n_out / n:.0%})"
        if not smallest or n_out <= round(self.share * n):
            return f"{self.describe()}: {shown}"
        unit = _CUT_UNIT[self.axis]
        return (
            f"the largest {unit} by compute: {shown}, more than the top {self.share:.0%} asked: "
            f"a {unit} goes out whole"
        )

    def mask(self, runs: RunTable) -> np.ndarray:
        """True for the held-out runs. On the compute axis the cut is by budget (:func:`budget_flops`), so
        a budget goes out whole: a cut between runs of one budget would hold out part of it and fit the
        rest, and the backtest would interpolate instead of extrapolating."""
        x = self.values(runs)
        if self.value is not None:
            return _at_or_above(x, self.value)
        return _top_share(x, self.share)

    def values(self, runs: RunTable) -> np.ndarray:
        """Per run, the value the cut compares: its budget's compute on the compute axis."""
        if self.axis == "flops":
            return budget_flops(runs, bins_per_decade=self.bins_per_decade)
        return np.asarray(getattr(runs, self.axis), dtype=float)


def _at_or_above(x: np.ndarray, value: float) -> np.ndarray:
    """``x >= value`` up to rounding (1e-9 relative): runs of one budget go out of a cut together."""
    return x >= value * (1 - 1e-9)


def _top_share(x: np.ndarray, share: float) -> np.ndarray:
    """The runs of the largest values (budgets), whole budgets, as many as come nearest to ``share`` of the
    runs (a tie takes more: more held-out runs are more evidence), and at least the largest budget. (The
    cut was the ceil(share n)-th largest value with its ties, so 'top 15%' held out 2 of 7 runs, 29%, and
    6 of 21 in budgets of 3, 29%, where 3 is 14%.)"""
    target = share * len(x)
    levels = np.unique(x)[::-1]
    out = _at_or_above(x, levels[0])
    for value in levels[1:]:
        wider = _at_or_above(x, value)
        if abs(wider.sum() - target) > abs(out.sum() - target) + 1e-9:
            break
        out = wider
    return out


def budget_flops(runs: RunTable, *, bins_per_decade: float | None = None) -> np.ndarray:
    """Per run, the compute the backtest cuts by: one value for all runs of a budget.

    "Same budget" is what Approach 2 fits one IsoFLOP profile to (:func:`tokenplan.fit.isoflop.
    group_budgets`), so the backtest and Approach 2 agree on what a budget is: the ``flops_budget`` column
    when the table has one (the sweep writes it; a run's FLOPs miss its budget by up to a few percent);
    else, with ``bins_per_decade``, log10 C in bins; else runs clustered in log C (gaps under ``gap_dex``,
    0.1 dex). A budget's runs differ in 6ND only by the rounding of N (a model shape) and D (whole steps),
    far below 0.1 dex, while budgets are spread by a factor (Chinchilla's nine span 6e18..3e21). A group
    of the clustered runs is given its largest FLOPs, so ``flops>=X`` takes a budget when any of its runs
    reaches X. A cluster wider than :data:`~tokenplan.fit.isoflop.MAX_CLUSTER_DEX` is not one budget
    (runs spread evenly in compute chain into one) and keeps each run's own FLOPs, as Approach 2 skips it.
    """
    from tokenplan.fit.isoflop import MAX_CLUSTER_DEX, group_budgets

    if runs.flops_budget is not None and np.isfinite(runs.flops_budget).all():
        return np.asarray(runs.flops_budget, dtype=float)
    flops = np.asarray(runs.flops, dtype=float)
    labels = group_budgets(runs, bins_per_decade=bins_per_decade)
    x = flops.copy()
    for label in np.unique(labels):
        m = labels == label
        if bins_per_decade or np.log10(flops[m].max() / flops[m].min()) <= MAX_CLUSTER_DEX:
            x[m] = flops[m].max()
    return x


def parse_holdout(text: str | None) -> Holdout:
    """``"params>=1e9"``, ``"flops>=1e20"``, ``"tokens>=100B"`` or ``"top15%"``; None gives the default.

    An empty string is an error, not the default: it is what an unset shell variable gives, and a user who
    wrote ``--holdout "$CUT"`` meant a cut."""
    if text is None:
        return Holdout()
    if not str(text).strip():
        raise InvalidInputError(
            "`holdout` is empty: use AXIS>=VALUE (e.g. 'params>=1e9'), 'top15%', or leave the flag out "
            "for the default (the top 15% of runs by compute).",
            param="holdout",
        )
    t = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"top(\d+(?:\.\d+)?)%", t)
    if m:
        share = float(m.group(1)) / 100.0
        if not 0 < share < 1:
            raise InvalidInputError(
                f"`holdout` {text!r}: the share must lie in (0%, 100%).", param="holdout"
            )
        return Holdout(share=share)
    m = re.fullmatch(r"([a-z_]+)>=(.+)", t)
    if not m or m.group(1) not in _AXES:
        raise InvalidInputError(
            f"`holdout` {text!r}: use AXIS>=VALUE with AXIS one of params, tokens, flops (e.g. "
            "'params>=1e9', 'flops>=1e20'), or 'top15%'.",
            param="holdout",
        )
    from tokenplan.units import parse_quantity

    try:
        value = parse_quantity(m.group(2), name="holdout")
    except InvalidInputError as exc:
        raise InvalidInputError(str(exc), param="holdout") from None
    return Holdout(axis=_AXES[m.group(1)], value=_checks.positive("holdout", value))


@dataclass(frozen=True)
class BacktestRow:
    """One held-out run: what it reached, what the law fitted without it predicted."""

    run_id: str
    n_params: float
    n_tokens: float
    flops: float
    actual: float
    predicted: float
    interval: tuple[float, float] | None
    decades: float = 0.0  # log10(flops / largest fitted compute), 0 at or below it
    widening: float = 1.0  # factor on the flat conformal half-width for that distance

    @property
    def error(self) -> float:
        """Signed relative error: predicted / actual - 1 (> 0: the law over-predicts the loss)."""
        return self.predicted / self.actual - 1.0

    @property
    def inside(self) -> bool | None:
        if self.interval is None:
            return None
        # bool(): the bounds are numpy floats, and a numpy bool would make to_dict() unfit for json.dumps
        return bool(self.interval[0] <= self.actual <= self.interval[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "n_params": self.n_params,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "actual": self.actual,
            "predicted": self.predicted,
            "error": self.error,
            "interval": None if self.interval is None else list(self.interval),
            "inside": self.inside,
            "decades": self.decades,
            "widening": self.widening,
        }


@dataclass(frozen=True)
class Backtest:
    """The result of :func:`backtest` for one form."""

    form: str
    holdout: str
    n_train: int
    rows: tuple[BacktestRow, ...]
    level: float
    flops_factor: float  # largest held-out compute / largest training compute
    law: Law | None = field(default=None, repr=False, compare=False)
    fit: Any = field(default=None, repr=False, compare=False)  # the form's fit on the training runs
    # the runs below the cut
    train: RunTable | None = field(default=None, repr=False, compare=False)

    @property
    def n_heldout(self) -> int:
        return len(self.rows)

    @property
    def abs_errors(self) -> np.ndarray:
        return np.array([abs(r.error) for r in self.rows])

    @property
    def mean_abs_error(self) -> float:
        return float(self.abs_errors.mean())

    @property
    def max_abs_error(self) -> float:
        return float(self.abs_errors.max())

    @property
    def scores(self) -> tuple[float, ...]:
        """|log(actual / predicted)| per held-out run: the calibration scores of the intervals."""
        return tuple(abs(math.log(r.actual / r.predicted)) for r in self.rows)

    @property
    def decades(self) -> tuple[float, ...]:
        """Per held-out run, log10 of how far beyond the largest fitted compute it lies (0 at or below)."""
        return tuple(r.decades for r in self.rows)

    @property
    def n_checked(self) -> int:
        """Held-out runs with an interval: those with enough smaller held-out runs to calibrate it."""
        return sum(r.inside is not None for r in self.rows)

    @property
    def coverage(self) -> float | None:
        """Share of the checked runs inside their forward-calibrated intervals (None: none checked)."""
        inside = [r.inside for r in self.rows if r.inside is not None]
        return float(np.mean(inside)) if inside else None

    @property
    def coverage_text(self) -> str:
        """The share inside and of how many checked runs ("83% of 6"), or "-" when none was checked."""
        return "-" if self.coverage is None else f"{self.coverage:.0%} of {self.n_checked}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "holdout": self.holdout,
            "n_train": self.n_train,
            "n_heldout": self.n_heldout,
            "level": self.level,
            "mean_abs_error": self.mean_abs_error,
            "max_abs_error": self.max_abs_error,
            "coverage": self.coverage,
            "n_checked": self.n_checked,
            "flops_factor": self.flops_factor,
            "rows": [r.to_dict() for r in self.rows],
        }

    def __repr__(self) -> str:
        cov = "-" if self.coverage is None else f"{self.coverage:.0%}"
        return (
            f"Backtest(form={self.form!r}, holdout={self.holdout!r}, n_train={self.n_train}, "
            f"n_heldout={self.n_heldout}, mean_abs_error={self.mean_abs_error:.4f}, coverage={cov})"
        )


def split(runs: RunTable, holdout: Holdout, *, min_train: int) -> tuple[RunTable, RunTable]:
    """(training runs, held-out runs); refuses a cut that holds out nothing or leaves too few to fit."""
    out = holdout.mask(runs)
    if not out.any():
        raise InvalidInputError(
            f"the cut {holdout.describe()!r} holds out no run (largest: params {runs.n_params.max():.3g}, "
            f"tokens {runs.n_tokens.max():.3g}, flops {runs.flops.max():.3g}); lower the cut.",
            param="holdout",
        )
    if len(runs) <= min_train:  # no cut leaves enough runs to fit and one to predict
        where = f"{runs.source}: " if runs.source and not runs.source.startswith("<") else ""
        raise InvalidInputError(  # not the cut's fault: no param, so the CLI blames no flag
            f"{where}{len(runs)} runs are too few to backtest: the form needs at least {min_train} to "
            "fit and one more to hold out, whatever the cut; add runs."
        )
    if (~out).sum() < min_train:
        x = holdout.values(runs)
        top = int(_at_or_above(x, x.max()).sum())  # the fewest runs a cut on this axis holds out
        name = _CUT_UNIT[holdout.axis]
        fix = (
            _fewer_out(holdout, x, top)
            if len(runs) - top >= min_train
            else f"No cut on this axis leaves more: the largest {name} alone has {top} of the "
            f"{len(runs)} runs. Cut on another axis (e.g. 'params>=X' or 'tokens>=X'), or add runs."
        )
        raise InvalidInputError(
            f"the cut {holdout.describe()!r} leaves {int((~out).sum())} runs to fit; the form needs at "
            f"least {min_train}. {fix}",
            param="holdout",
        )
    return runs.subset(~out), runs.subset(out)


def _fewer_out(holdout: Holdout, x: np.ndarray, top: int) -> str:
    """How to hold out fewer runs: raise a threshold cut; a share cut ("top 15%", whose ties at the cut
    go out together) is lowered, by naming the threshold that holds out the largest value alone."""
    if holdout.value is not None:
        return "Raise the cut."
    below = x[~_at_or_above(x, x.max())].max()
    for digits in range(
        3, 18
    ):  # the shortest threshold above the next value and at most the largest
        scale = 10.0 ** (math.floor(math.log10(x.max())) - digits + 1)
        cut = math.floor(x.max() / scale) * scale
        if cut > below:
            break
    name = _CUT_NAME[holdout.axis]
    value = f"{cut:.{digits}g}".replace("e+", "e")
    runs = "1 run" if top == 1 else f"{top} runs"
    return f"Hold out less: --holdout '{name}>={value}' holds out the largest {_CUT_UNIT[holdout.axis]} alone ({runs})."


def backtest(
    runs: RunTable,
    form: str,
    *,
    holdout: Holdout | str | None = None,
    level: float = 0.8,
    delta: float = 1e-3,
    **fit_options,
) -> Backtest:
    """Fit ``form`` on the runs below the cut and predict the held-out ones (module docstring)."""
    from tokenplan.fit.forms import FORMS, fit_form, n_free
    from tokenplan.runs import require_table

    require_table(runs)
    form = _checks.choice("form", form, FORMS, param="form")  # n_free raised KeyError: 'x'
    hold = holdout if isinstance(holdout, Holdout) else parse_holdout(holdout)
    level = _checks.in_range("level", level, 0.0, 1.0, inclusive=False)
    train, test = split(runs, hold, min_train=n_free(form) + 1)
    if form == "data-constrained":
        _repeats_below_the_cut(train, test, hold)
    fit = fit_form(train, form, delta=delta, **fit_options)
    law = fit.law
    pred = np.asarray(_predict(law, test), dtype=float)
    if not np.isfinite(pred).all() or (pred <= 0).any():
        raise InvalidInputError(
            f"form {form}: the backtest fit predicts no finite loss for some runs."
        )
    rows = _rows(test, pred, np.maximum(0.0, np.log10(test.flops / train.flops.max())), level)
    factor = float(test.flops.max() / train.flops.max())
    x = hold.values(runs)
    smallest = bool(len(test) == _at_or_above(x, x.max()).sum())
    described = hold.describe_split(len(test), len(runs), smallest=smallest)
    return Backtest(form, described, len(train), rows, level, factor, law, fit, train)


def _repeats_below_the_cut(train: RunTable, test: RunTable, hold: Holdout) -> None:
    """The data-constrained form is fitted on the runs below the cut: when every run that repeats data is
    held out, say so (the fit's own 'none do. Add an unique_tokens column' read as if no run repeated)."""

    def repeated(t: RunTable) -> int:
        U = t.unique_tokens
        return int((np.isfinite(U) & (t.n_tokens > U * (1 + 1e-9))).sum())

    held = repeated(test)
    if held and not repeated(train):
        one = held == 1
        raise InvalidInputError(
            f"the {held} run{'' if one else 's'} that repeat{'s' if one else ''} data "
            f"{'is' if one else 'are'} held out by the cut {hold.describe()!r}, and none of the "
            f"{len(train)} runs below it does, so the data-constrained form has nothing to fit its "
            "repetition terms on; add repeated runs at smaller compute, or cut on another axis "
            "(e.g. 'params>=X')."
        )


def _rows(test: RunTable, pred: np.ndarray, decades: np.ndarray, level: float) -> tuple:
    """One :class:`BacktestRow` per held-out run, its interval calibrated forward (module docstring)."""
    scores = np.abs(np.log(test.loss / pred))
    rows = []
    for i in range(len(test)):
        nearer = test.flops < test.flops[i]
        c, exact, widening, _ = calibrated_halfwidth(
            scores[nearer], level, decades=decades[nearer], query_decades=float(decades[i])
        )
        iv = None if not exact else (pred[i] * math.exp(-c), pred[i] * math.exp(c))
        rows.append(
            BacktestRow(
                str(test.run_id[i]),
                float(test.n_params[i]),
                float(test.n_tokens[i]),
                float(test.flops[i]),
                float(test.loss[i]),
                float(pred[i]),
                iv,
                float(decades[i]),
                widening if exact else 1.0,
            )
        )
    return tuple(rows)


def _predict(law: Law, runs: RunTable):
    U = runs.unique_tokens
    if hasattr(law, "effective_tokens") and np.isfinite(U).any():
        return law.loss(runs.n_params, runs.n_tokens, np.where(np.isfinite(U), U, runs.n_tokens))
    return law.loss(runs.n_params, runs.n_tokens)


@dataclass(frozen=True)
class ExponentTest:
    """A bootstrap test of alpha = beta on the backtest's training runs (:func:`exponent_test`):
    the percentile ``interval`` of alpha - beta at ``level`` over ``n_boot`` refits of the chinchilla form
    (``n_failed`` of them failed); alpha = beta is rejected when the interval excludes 0."""

    interval: tuple[float, float]
    level: float
    n_boot: int
    n_failed: int
    seed: int

    @property
    def rejects(self) -> bool:
        return bool(self.interval[0] > 0 or self.interval[1] < 0)  # False when not tested (NaN)

    def describe(self) -> str:
        lo, hi = self.interval
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return f"alpha = beta not tested: all {self.n_boot} bootstrap refits of the chinchilla form failed"
        verdict = "rejected" if self.rejects else "not rejected"
        return (
            f"alpha = beta {verdict} on the fitted runs: alpha - beta {lo:+.3f} .. {hi:+.3f}, "
            f"{self.level:.0%} interval of {self.n_boot} bootstrap refits of the chinchilla form "
            f"(seed {self.seed})"
        )


def exponent_test(
    bt: Backtest, *, n_boot: int = 200, level: float = 0.95, seed: int = 0
) -> ExponentTest:
    """Test alpha = beta on the runs the chinchilla form's backtest ``bt`` was fitted on, with the fit's own
    objective (the Huber loss): ``n_boot`` batched refits of resampled runs, warm-started at ``bt``'s fit
    (:func:`tokenplan.fit.bootstrap.bootstrap_parametric`, about the cost of one fit); rejected when the
    ``level`` percentile interval of alpha - beta excludes 0. (A sum-of-squares F test is not the
    likelihood ratio of a Huber fit: on docs/results/cpu-demo-chinchilla-centred the chinchilla fit's sum of
    squares was above the nested shared-exponent fit's.)"""
    from tokenplan.fit.bootstrap import Resampling, bootstrap_parametric

    if bt.form != "chinchilla" or bt.fit is None or bt.train is None:
        raise InvalidInputError("exponent_test needs the chinchilla form's backtest.")
    resampling = Resampling(n_boot=n_boot, level=level, seed=seed)
    boot = bootstrap_parametric(bt.train.fresh_only(), bt.fit, resampling=resampling)
    diff = boot.samples["alpha"] - boot.samples["beta"]
    diff = diff[np.isfinite(diff)]
    # no refit to test with: not rejected, and said so (was an interval of zeros)
    nan = float("nan")
    lo, hi = np.percentile(diff, [50 * (1 - level), 50 * (1 + level)]) if len(diff) else (nan, nan)
    return ExponentTest((float(lo), float(hi)), level, n_boot, boot.n_failed, seed)


def choose_form(
    backtests: dict[str, Backtest], *, exponents: ExponentTest | None = None
) -> tuple[str, str]:
    """(form, why): the simplest form within one standard error of the best mean |error| (one-SE rule),
    with two exceptions for forms whose restriction the one-SE rule cannot vouch for. If ``exponents``
    rejects alpha = beta, the shared-exponent form is kept only if its held-out error is the lowest
    outright; otherwise the tie goes to the chinchilla form, which frees the rejected restriction (the
    one-SE rule over the other forms, the chinchilla form first). And the kaplan form is kept only if its
    held-out error is the lowest outright: it is not nested in the chinchilla form (no irreducible loss, a
    different shape), so a tie gives it no benefit of the doubt, and its tie goes to the pick among the
    other forms. docs/fit.md, "Does `--form auto` prefer the shared exponent too often?", has the
    measurement behind both.

    ``backtests`` must be in simplest-first order and share one split.
    """
    if not backtests:
        raise InvalidInputError("no form could be backtested on these runs.")
    rejects = exponents is not None and exponents.rejects
    test = "" if exponents is None else exponents.describe()
    form, why = _choose(backtests, rejects=rejects, test=test)
    return form, why if not test or test in why else f"{why}; {test}"


def needs_exponent_test(backtests: dict[str, Backtest]) -> bool:
    """Whether a rejection of alpha = beta would change :func:`choose_form`'s pick: only then is
    :func:`exponent_test` worth its bootstrap (both forms backtested, the picks differing)."""
    if "shared-exponent" not in backtests or "chinchilla" not in backtests:
        return False
    return _choose(backtests, rejects=True)[0] != _choose(backtests, rejects=False)[0]


def _choose(backtests: dict[str, Backtest], *, rejects: bool, test: str = "") -> tuple[str, str]:
    """:func:`choose_form`'s rule given the test's verdict: the kaplan form's tie taken back last."""
    best = min(backtests, key=lambda f: backtests[f].mean_abs_error)
    form, why = _nested_choice(backtests, best, rejects=rejects, test=test)
    if form != "kaplan" or best == "kaplan":
        return form, why
    others = {f: bt for f, bt in backtests.items() if f != "kaplan"}
    form, why = _nested_choice(others, best, rejects=rejects, test=test)
    return form, (
        f"{why}; the kaplan form was within one standard error too, but it is not nested in the "
        "chinchilla form, so it is kept only when its error is the lowest outright"
    )


def _nested_choice(
    backtests: dict[str, Backtest], best: str, *, rejects: bool, test: str
) -> tuple[str, str]:
    """The one-SE rule; when alpha = beta is rejected and the shared exponent is not the best outright,
    the one-SE rule without it, the chinchilla form first."""
    if not rejects or best == "shared-exponent":
        return _one_se(backtests, best)
    return _tie_to_chinchilla(backtests, best, test)


def _tie_to_chinchilla(backtests: dict[str, Backtest], best: str, test: str) -> tuple[str, str]:
    """The one-SE rule without the shared-exponent form, the chinchilla form first (alpha = beta rejected)."""
    order = ["chinchilla", *(f for f in backtests if f not in ("chinchilla", "shared-exponent"))]
    form, why = _one_se({f: backtests[f] for f in order if f in backtests}, best, tie="")
    if form != "chinchilla":
        return form, f"{why}; {test}"
    return form, f"{why}; {test}, so the chinchilla form, which frees it, wins the tie"


def _one_se(
    backtests: dict[str, Backtest], best: str, *, tie: str = "; the simpler form wins the tie"
) -> tuple[str, str]:
    """The one-SE rule over ``backtests`` (in the order to prefer), against the best form ``best``."""
    e_best = backtests[best].abs_errors
    for form, bt in backtests.items():
        d = bt.abs_errors - e_best
        se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
        if d.mean() <= se:
            if form == best:
                return form, f"lowest mean |error| on the held-out runs ({bt.mean_abs_error:.2%})"
            return form, (
                f"within one standard error of the best ({best}: {backtests[best].mean_abs_error:.2%} vs "
                f"{bt.mean_abs_error:.2%}, SE {se:.2%}){tie}"
            )
    return best, "lowest mean |error|"  # pragma: no cover - the best always qualifies
