"""The value of repeated data per epoch count (Muennighoff et al. 2023), with the same repetition step and
advice as a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tokenplan.plan.advice as adv
import tokenplan.plan.steps as steps
from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.laws import DataConstrainedLaw, Law, get_law
from tokenplan.laws.prediction import repetition_note, unbounded_axes, within_tolerance
from tokenplan.laws.repetition import R_D_STAR_C4
from tokenplan.units import format_count, format_epochs, format_exact
from tokenplan.units import format_quantity as fq

__all__ = ["REPEAT_EPOCHS", "RepeatRow", "RepeatTable", "repeat"]

# Epoch counts of `tokenplan repeat`: Muennighoff et al. 2023's reference points (2, 4, 10, 16, 40) and more.
REPEAT_EPOCHS = (1.0, 2.0, 4.0, 10.0, 16.0, 40.0, 100.0)

# What a table of a model below one layer is (the end of plan's conversion warning, steps.conversion_warning).
_TINY = "no transformer is that small, so the table is the law extrapolated past any real model"


@dataclass(frozen=True)
class RepeatRow:
    """Training the model for ``epochs`` passes over the unique tokens."""

    repetition: adv.Repetition
    #: How far the row lies outside the law's fitted data, per axis, as a factor >= 1 (1.0 = inside;
    #: ``predict``'s and ``table``'s ``extrapolation``); empty when the law records no fitted range.
    extrapolation: dict[str, float] = field(default_factory=dict)

    epochs = property(lambda self: self.repetition.epochs)
    n_tokens = property(lambda self: self.repetition.n_tokens)
    unique_tokens = property(lambda self: self.repetition.unique_tokens)
    effective_tokens = property(lambda self: self.repetition.effective_tokens)
    effective_fraction = property(lambda self: self.repetition.effective_fraction)
    loss = property(lambda self: self.repetition.loss)
    loss_fresh = property(lambda self: self.repetition.loss_fresh)
    loss_change = property(lambda self: self.repetition.loss_change)
    relative_penalty = property(lambda self: self.repetition.relative_penalty)
    advice = property(lambda self: self.repetition.label)

    @property
    def inside_range(self) -> bool | None:
        """True inside the law's fitted range on every axis (as ``predict`` and ``table`` say), None when
        the law records none."""
        return within_tolerance(self.extrapolation.values())

    @property
    def effective_multiple(self) -> float:
        """D'/U: how many fresh passes over the unique tokens the training is worth; caps at 1 + R_D* =
        16.39, and is the epoch count below one epoch (0.5 epochs are worth half a pass, not a whole one)."""
        return self.effective_tokens / self.unique_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "n_tokens": self.n_tokens,
            "effective_tokens": self.effective_tokens,
            "effective_fraction": self.effective_fraction,
            "effective_multiple": self.effective_multiple,
            "loss": self.loss,
            "loss_fresh": self.loss_fresh,
            "loss_change": self.loss_change,
            "relative_penalty": self.relative_penalty,
            "advice": self.advice,
            "inside_range": self.inside_range,
            "extrapolation": dict(self.extrapolation),
            "extrapolation_unbounded": unbounded_axes(self.extrapolation),
        }

    def __repr__(self) -> str:
        change = self.loss_change
        shown = {
            "epochs": format_epochs(self.epochs),
            "n_tokens": fq(self.n_tokens),
            "effective_tokens": fq(self.effective_tokens),
            "effective_fraction": f"{self.effective_fraction:.3f}",
            "loss": "None" if self.loss is None else f"{self.loss:.4f}",
            "loss_change": None if change is None else f"{change:+.4f}",
            "advice": repr(self.advice),
        }
        return "RepeatRow(" + ", ".join(f"{k}={v}" for k, v in shown.items() if v) + ")"


@dataclass(frozen=True)
class RepeatTable:
    """Value of repeated data for ``unique_tokens`` and a model of ``n_params`` (total)."""

    law: str
    unique_tokens: float
    n_params: float
    #: True when n_params was not given: the compute-optimal size for one pass over the unique tokens.
    n_params_assumed: bool
    rows: tuple[RepeatRow, ...]
    #: The convention of the law's N ("total" or "non-embedding", Kaplan's) and the model in it.
    param_convention: str = "total"
    n_params_law: float | None = None
    #: False for a model below :func:`tokenplan.flops.conversion_floor` (one layer), as ``Plan`` has it: no
    #: transformer is that small, and its count in the other convention means nothing (a warning says so).
    params_convertible: bool = True
    warnings: tuple[str, ...] = ()
    advice: tuple[adv.Advice, ...] = ()
    extrapolation: dict[str, dict[str, float]] | None = None
    sources: dict[str, str] | None = None
    #: What the table's numbers are under this law: a loss taken at D' (a law without a repetition term),
    #: or no loss at all (an allocation-only law, labelled by the epoch rule alone).
    notes: tuple[str, ...] = ()
    #: The R_D* of D' (eq. 5): the law's own for a data-constrained law, else Muennighoff's C4 fit. After
    #: 1 + R_D* epochs one more epoch is worth 1/e of fresh data (where the plot marks it).
    R_D_star: float = R_D_STAR_C4

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "unique_tokens": self.unique_tokens,
            "n_params": self.n_params,
            "n_params_assumed": self.n_params_assumed,
            "param_convention": self.param_convention,
            "n_params_law": self.n_params_law,
            "params_convertible": self.params_convertible,
            "rows": [r.to_dict() for r in self.rows],
            "warnings": list(self.warnings),
            "advice": [a.to_dict() for a in self.advice],
            "extrapolation": self.extrapolation or {},
            "extrapolation_unbounded": adv.unbounded(self.extrapolation or {}),
            "sources": self.sources or {},
            "notes": list(self.notes),
            "R_D_star": self.R_D_star,
        }

    def __repr__(self) -> str:
        """One line a notebook can read: the model, the data, the epoch counts and what is flagged; the rows
        (each with its own repr) are in ``rows``, everything in ``to_dict()``."""
        epochs = ", ".join(format_exact(r.epochs) for r in self.rows)
        return (
            f"RepeatTable(law={self.law!r}, unique_tokens={fq(self.unique_tokens)}, "
            f"n_params={fq(self.n_params)} ({'assumed' if self.n_params_assumed else 'given'}), "
            f"epochs=[{epochs}], warnings={len(self.warnings)}, advice={len(self.advice)})"
        )


def _model_size(
    law: Law, unique: float, n_params: float | None, vocab_size: int
) -> tuple[float, float]:
    """(total, law convention): the given size, or the compute-optimal size for one pass over the data."""
    if n_params is None:
        n_law = float(law.optimal_params(unique).n_params)
        if not n_law >= 1.0:
            _refuse_below_one(law, unique, n_law)
        return steps.both_conventions(law, n_law, vocab_size)[0], n_law
    n_total = _checks.at_least_one("n_params", _checks.quantity("n_params", n_params), "parameter")
    return n_total, steps.law_params(law, n_total, vocab_size)


def repeat(
    unique_tokens: float,
    epochs: tuple[float, ...] | list[float] = REPEAT_EPOCHS,
    *,
    n_params: float | None = None,
    law: str | Law = "muennighoff2023",
    vocab_size: int = 32_000,
) -> RepeatTable:
    """Effective tokens D', D'/D and the predicted loss change for each epoch count (Muennighoff 2023).

    ``n_params`` (total) is the model being trained; by default the law's compute-optimal size for one
    pass over ``unique_tokens``. A law that counts non-embedding parameters (Kaplan's) gets the model in
    that convention (Pearce & Song 2024 conversion; ``n_params_law``, ``param_convention``). With the
    ``muennighoff2023`` law the loss uses N' and D' (eqs. 5-6); with
    another law that predicts loss it is evaluated at D' (the R_D* decay), and an allocation-only law gives
    no loss. D' uses the law's own R_D* when it has one (a data-constrained law), else Muennighoff's
    R_D* = 15.39, and ``sources`` names which. Labels, advice and warnings are the plan's.
    """
    U = _checks.at_least_one(
        "unique_tokens", _checks.quantity("unique_tokens", unique_tokens), "unique token"
    )
    epoch_list = _epoch_counts(epochs, U)
    the_law = get_law(law)
    n_total, n_law = _model_size(the_law, U, n_params, vocab_size)
    rows = _rows(the_law, n_law, U, epoch_list)
    top = rows[-1].repetition
    outside = adv.extrapolation(the_law, [(n_law, r.n_tokens, U) for r in rows])
    warnings = (
        steps.conversion_warning(
            n_total, vocab_size, law=the_law, n_params_law=n_law, means_nothing=_TINY
        ),
        steps.repetition_warning(top, the_law),
        _extrapolation_warning(the_law, rows, outside),
        steps.convention_warning(the_law),
    )
    rng = adv.fitted_range_of(the_law)
    return RepeatTable(
        law=the_law.name,
        unique_tokens=U,
        n_params=n_total,
        n_params_assumed=n_params is None,
        rows=rows,
        param_convention=the_law.param_convention,
        n_params_law=n_law,
        params_convertible=steps.convertible(n_total, vocab_size),
        warnings=tuple(w for w in warnings if w),
        advice=adv.repetition_advice(top, n_params=n_total),
        extrapolation=outside,
        sources={
            "effective_tokens": steps.effective_tokens_source(the_law),
            "loss": the_law.citation,
            "advice": adv.LABEL_SOURCE,
            **({"fitted_range": rng.source} if rng is not None and rng.source else {}),
        },
        notes=_notes(the_law),
        R_D_star=steps.repetition_law(the_law).R_D_star,
    )


def _rows(law: Law, n_law: float, unique: float, epochs: list[float]) -> tuple[RepeatRow, ...]:
    """One row per epoch count: the repetition (D', the loss with and without it) and how far the row lies
    outside the law's fitted data."""
    muen = steps.muennighoff()
    rng = adv.fitted_range_of(law)
    return tuple(
        RepeatRow(
            adv.assess_repetition(law, muen, n_law, unique * e, unique),
            {} if rng is None else rng.extrapolation(n_law, unique * e, unique),
        )
        for e in epochs
    )


def _notes(law: Law) -> tuple[str, ...]:
    """What the loss column is under ``law``: a data-constrained law's own N' and D' (nothing to say), another
    law's loss at D' with Muennighoff's R_D* (plan's and predict's note), or none at all."""
    if isinstance(law, DataConstrainedLaw):
        return ()
    if not law.has_loss:
        return (
            f"law {law.name!r} predicts an allocation, not a loss: no loss column, and each row's label is "
            "Muennighoff et al. 2023's epoch rule alone.",
        )
    return (repetition_note(law, with_interval=False),)


def _extrapolation_warning(
    law: Law,
    rows: tuple[RepeatRow, ...],
    outside: dict[str, dict[str, float]],
) -> str | None:
    """The extrapolation warning, naming the rows outside the law's fitted data as ``table`` names its
    rows (``repeat --unique-tokens 25B``: only the 100-epoch row, 2.5T tokens, leaves muennighoff2023's
    runs; the warning read as if every row did)."""
    warning = adv.extrapolation_warning(law, outside)
    if warning is None:
        return None
    out = [
        format_exact(r.epochs) for r in rows if r.inside_range is False
    ]  # each row's factors, computed once
    return f"{'row' if len(out) == 1 else 'rows'} {', '.join(out)} epochs: {warning}"


def _epoch_counts(epochs, unique: float) -> list[float]:
    """The epoch counts, sorted, each once: `--epochs 1,1` asks for the row of one epoch, not for it twice.
    A count that trains on less than one token is refused, as ``plan --tokens 0.5`` is: `--epochs 1e-30`
    of 25B unique tokens printed a row of 2.5e-20 tokens with a loss of 1.85e10."""
    epoch_list = _checks.items("epochs", epochs, example="[1, 4, 16]")
    if not epoch_list:
        raise InvalidInputError("epochs is empty; give epoch counts like 1,2,4,16.", param="epochs")
    counts = sorted({_checks.quantity(f"epochs[{i}]", e) for i, e in enumerate(epoch_list)})
    if counts[0] * unique < 1.0 - 1e-9:  # the suggested count, 1/U in 3 figures, within rounding
        least = float(f"{1.0 / unique:.3g}")
        least = least if least * unique >= 1.0 - 1e-9 else float(f"{1.005 / unique:.3g}")
        raise InvalidInputError(
            f"`epochs` {format_exact(counts[0])} of {format_count(unique, 'unique token')} is "
            f"{format_count(counts[0] * unique, 'token')}, less than one; give at least "
            f"{least:g} epochs (one token).",
            param="epochs",
        )
    return counts


def _refuse_below_one(law: Law, unique: float, n_law: float) -> None:
    """The model assumed for ``unique`` tokens has less than one parameter (muennighoff2023 puts 0.051 on
    one token): no model, so no row of the table means anything. ``plan --tokens`` refuses the same, naming
    the smallest value that plans one parameter (:func:`tokenplan.plan.smallest.smallest_budget`)."""
    from tokenplan.plan.smallest import smallest_budget

    smallest = smallest_budget(law.optimal_params, unique)
    count = "parameters" if law.param_convention == "total" else "non-embedding parameters"
    fix = (
        f"the smallest `unique_tokens` that plans at least one is {smallest:.3g}"
        if smallest is not None
        else "no `unique_tokens` up to 1e+30 plans one"
    )
    raise InvalidInputError(
        f"`unique_tokens` {format_exact(unique)} plans less than one parameter under law {law.name!r} "
        f"({fq(n_law)} {count}, the compute-optimal model for one pass); {fix}, or give the model "
        "size with `n_params`.",
        param="unique_tokens",
    )
