"""What the literature says about a plan, computed from the plan: the value of repeated data (Muennighoff et al.
2023), Xue et al. 2023's findings on repetition and dropout, and how far a plan lies outside the data its
law was fitted on.

Repetition labels take the worse of two readings of the same question, how much a repeated token is worth:
Muennighoff et al. 2023's epoch rule (up to ~4 epochs about as good as fresh, fading to ~16, little left
beyond), which the plan's repetition warnings state, and the predicted loss penalty relative to the loss,
(L - L_fresh) / L_fresh, with tokenplan's thresholds (documented in docs/plan.md):
    < 0.5%  "about as good as fresh"    0.5% to 2%  "returns fade"    >= 2%  "little left: more data, dropout"
The epoch rule is a floor, so a label is never milder than the warning beside it (a law whose loss barely
depends on data, Kaplan's, would otherwise call 100 epochs "about as good as fresh"); the penalty makes a
label harsher for a model too large for its data. The thresholds keep Muennighoff's own setting (the model
compute-optimal for one pass) "about as good as fresh" up to ~4 epochs (0.21% at 4 epochs of 25B tokens). A
law that predicts no loss has the epoch rule alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws import DataConstrainedLaw, FittedRange, Law
from tokenplan.laws.prediction import EXTRAPOLATION_TOLERANCE, unbounded_axes

# Muennighoff et al. 2023 sec. 5-6: ~4 epochs about as good as fresh; beyond R_D* ≈ 16 little is left (the
# constants live beside the law, with the epoch warning that states them).
from tokenplan.laws.repetition import EPOCHS_FADE, EPOCHS_WORTHLESS
from tokenplan.units import format_count, format_epochs, format_factor
from tokenplan.units import format_quantity as fq

__all__ = [
    "EXTRAPOLATION_TOLERANCE",
    "LABELS",
    "LABEL_SOURCE",
    "PENALTY_FADE",
    "PENALTY_LITTLE_LEFT",
    "Advice",
    "Repetition",
    "assess_repetition",
    "extrapolation",
    "extrapolation_warning",
    "fitted_range_of",
    "repetition_advice",
    "unbounded",
]

MUENNIGHOFF = "Muennighoff et al. 2023, Scaling Data-Constrained Language Models"
XUE = "Xue et al. 2023, To Repeat or Not To Repeat: Insights from Scaling LLM under Token-Crisis"

# Relative loss penalty thresholds (tokenplan's, see the module docstring).
PENALTY_FADE = 0.005
PENALTY_LITTLE_LEFT = 0.02
# The labels of Repetition.level 0-3.
LABELS = ("fresh data", "about as good as fresh", "returns fade", "little left: more data, dropout")
LABEL_SOURCE = (
    "the worse of Muennighoff et al. 2023's epoch rule (~4 and ~16 epochs) and tokenplan's thresholds on "
    "(L - L_fresh) / L_fresh: 0.5% and 2%"
)
# Xue et al. 2023 (T5 on C4) trained dense models up to T5-XL, 2.8B parameters; at that size dropout still let
# validation accuracy slip late in training (finding 10, sec. 4), while at T5-Large (784M) it did not. tokenplan
# gives the caveat above 1B parameters: its own cut between the two sizes the paper tested.
LARGE_MODEL = 1e9
XUE_LARGEST_DENSE = 2.8e9
# The dropout rate of Xue et al. 2023's regularisation study (REFERENCE.md sec. 5), and the rates their MoE-proxy
# sweep of 0.1-0.5 preferred at XL scale (sec. 5, finding 11).
XUE_DROPOUT = 0.1
XUE_DROPOUT_AT_SCALE = (0.2, 0.3)
# The switch-on point tokenplan's sweep trainer uses for 'late' dropout (sweep preset repeat-demo, late_start
# 0.5): the paper switches dropout on after some epochs, and its exact point is not taken from it here.
LATE_START = 0.5


@dataclass(frozen=True)
class Advice:
    """One piece of advice: what to do, why, and where it comes from."""

    topic: str
    text: str
    source: str
    #: "law" (computed from a fitted law), "qualitative" (a paper's finding without a fitted number).
    confidence: str
    #: Structured values a program can use (e.g. ``{"dropout": 0.1, "start_fraction": 0.5}``).
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "text": self.text,
            "source": self.source,
            "confidence": self.confidence,
            **self.values,
        }


@dataclass(frozen=True)
class Repetition:
    """What training ``n_tokens`` drawn from ``unique_tokens`` costs a model of ``n_params`` (law convention)."""

    n_tokens: float
    unique_tokens: float
    effective_tokens: float
    loss: float | None
    loss_fresh: float | None

    @property
    def epochs(self) -> float:
        return self.n_tokens / self.unique_tokens

    @property
    def effective_fraction(self) -> float:
        """D'/D: 0.984 at 2 epochs, 0.931 at 4, 0.781 at 10, 0.661 at 16, 0.379 at 40."""
        return self.effective_tokens / self.n_tokens

    @property
    def loss_change(self) -> float | None:
        return None if self.loss is None or self.loss_fresh is None else self.loss - self.loss_fresh

    @property
    def relative_penalty(self) -> float | None:
        """(L - L_fresh) / L_fresh: the loss penalty of repetition relative to the loss."""
        change = self.loss_change
        return None if change is None else change / self.loss_fresh

    @property
    def level(self) -> int:
        """0 fresh data, 1 about as good as fresh, 2 returns fade, 3 little left: the worse of the epoch rule
        and the loss penalty (module docstring). The label and the advice both read it."""
        if self.epochs <= 1.0:
            return 0
        level = 1 if self.epochs <= EPOCHS_FADE else 2 if self.epochs <= EPOCHS_WORTHLESS else 3
        rel = self.relative_penalty
        if rel is not None:
            level = max(level, 1 if rel < PENALTY_FADE else 2 if rel < PENALTY_LITTLE_LEFT else 3)
        return level

    @property
    def label(self) -> str:
        return LABELS[self.level]


def assess_repetition(
    law: Law,
    muennighoff: DataConstrainedLaw,
    n_params: float,
    n_tokens: float,
    unique_tokens: float,
) -> Repetition:
    """Effective tokens (eq. 5 of Muennighoff et al. 2023) and the loss with and without repetition.

    With the data-constrained law the loss uses N' and D'; "fresh" is the same N and D with every token unique
    (U = D), so the difference is the repetition alone, and D' is the law's own (its R_D*, fitted or
    Muennighoff's), so D' and the loss agree. A law without a repetition term is evaluated at D'
    (Muennighoff's R_D* decay); an allocation-only law gives no loss.
    """
    decay = law if isinstance(law, DataConstrainedLaw) else muennighoff
    d_eff = float(decay.effective_tokens(n_tokens, unique_tokens))
    loss = loss_fresh = None
    if isinstance(law, DataConstrainedLaw) or law.has_loss:
        loss = repeated_loss(law, muennighoff, n_params, n_tokens, unique_tokens)
        loss_fresh = repeated_loss(
            law, muennighoff, n_params, n_tokens, n_tokens
        )  # every token unique
    return Repetition(n_tokens, unique_tokens, d_eff, loss, loss_fresh)


def repeated_loss(
    law: Law,
    muennighoff: DataConstrainedLaw,
    n_params: float,
    n_tokens: float,
    unique_tokens: float,
) -> float:
    """The loss of ``n_params`` trained on ``n_tokens`` drawn from ``unique_tokens``: a data-constrained
    law's own (its N' and D'), else ``law`` at Muennighoff et al. 2023's D' (eq. 5, ``muennighoff``'s R_D*).
    :func:`assess_repetition` prices a plan's epochs with it, and :func:`tokenplan.inference.inference_optimal`
    its constraint under a data limit."""
    if isinstance(law, DataConstrainedLaw):
        return float(law.loss(n_params, n_tokens, min(unique_tokens, n_tokens)))
    return float(law.loss(n_params, muennighoff.effective_tokens(n_tokens, unique_tokens)))


# --- Xue et al. 2023 --------------------------------------------------------------------------------------
def repetition_advice(rep: Repetition, *, n_params: float) -> tuple[Advice, ...]:
    """Xue et al. 2023 findings that apply to a plan repeating its data (more than one epoch), in order.

    Findings 2-4 apply to every repeated plan; dropout (8) and late dropout (9) once repetition costs something
    (beyond ~4 epochs, or a relative loss penalty of 0.5% or more); the largest-model caveat (10) to models
    above 1B parameters. Each says where ``tokenplan sweep --preset repeat-demo`` can test it.
    """
    if rep.epochs <= 1.0:
        return ()
    items = [
        Advice(
            "degradation",
            f"{format_epochs(rep.epochs, 1)} epochs: repeating data degrades a model more the more "
            "epochs and the larger "
            "the model; a larger unique dataset softens it, and higher-quality data does not rescue it "
            "(Xue et al. 2023, findings 2-4). Test it at small scale with `tokenplan sweep --preset "
            "repeat-demo` (epochs 1/4/16/64).",
            f"{XUE}, findings 2-4",
            "qualitative",
            {"epochs": rep.epochs},
        )
    ]
    if rep.level >= 2:
        items.append(_dropout_advice())
        items.append(_late_dropout_advice())
        if n_params > LARGE_MODEL:
            items.append(_large_model_advice(n_params))
    return tuple(items)


def _dropout_advice() -> Advice:
    return Advice(
        "dropout",
        f"dropout {XUE_DROPOUT:g} was the one regularizer Xue et al. 2023 found effective against "
        "multi-epoch degradation (finding 8); it masks activations in every layer, so each step costs "
        "more: measure the slowdown on your setup. The sweep's `dropout_schedules: [none, constant]` "
        "compares it.",
        f"{XUE}, finding 8",
        "qualitative",
        {"recommended_dropout": XUE_DROPOUT},
    )


def _late_dropout_advice() -> Advice:
    return Advice(
        "late dropout",
        "dropout still helps when switched on only part-way through training (Xue et al. 2023, finding 9: "
        "their 'dropstage' trains the first epochs without dropout, then switches it on, a step rather "
        "than a ramp, and ends as good as dropout from the start). The sweep's `late` schedule tests it: a "
        f"step from 0 to the rate at `late_start` ({LATE_START:g} of training in repeat-demo; tokenplan's "
        "default, not a number from the paper).",
        f"{XUE}, finding 9",
        "qualitative",
        {"recommended_dropout": XUE_DROPOUT, "start_fraction": LATE_START, "schedule": "step"},
    )


def _large_model_advice(n_params: float) -> Advice:
    low, high = XUE_DROPOUT_AT_SCALE
    return Advice(
        "dropout at scale",
        f"at {fq(n_params)} parameters expect less from dropout: Xue et al. 2023's largest dense model, "
        f"T5-XL ({fq(XUE_LARGEST_DENSE)} parameters), still lost validation accuracy late in training with "
        f"dropout on (finding 10), and their sweep at that scale preferred rates of {low:g}-{high:g} to "
        f"{XUE_DROPOUT:g} (sec. 5). The sweep trains tiny models, so it cannot test this; tune the rate on "
        "your own mid-size runs.",
        f"{XUE}, finding 10 and sec. 5",
        "qualitative",
        {
            "n_params": n_params,
            "paper_largest_dense_params": XUE_LARGEST_DENSE,
            "dropout_range_at_scale": [low, high],
        },
    )


# --- fitted ranges ----------------------------------------------------------------------------------------
def fitted_range_of(law: Law) -> FittedRange | None:
    """The law's fitted region: ``fitted_range``, or a FLOPs-only range from ``fitted_flops``."""
    if law.fitted_range is not None:
        return law.fitted_range
    if law.fitted_flops is None:
        return None
    every = (0.0, math.inf)
    return FittedRange(tuple(law.fitted_flops), every, every, every, "")


_AXES = {
    "flops": ("FLOPs", lambda x: f"{x:.3g}"),
    "n_params": ("parameters", fq),
    "n_tokens": ("tokens", fq),
    "tokens_per_param": ("tokens per parameter", lambda x: f"{x:.3g}"),
    "unique_tokens": ("unique tokens", fq),
}


def extrapolation(law: Law, points: list[tuple[float, ...]]) -> dict[str, dict[str, float]]:
    """Per axis, the point farthest outside the law's fitted data (beyond the 10% tolerance).

    Each point is (N, D) or (N, D, unique tokens); the unique tokens count where the law's range has them
    (a data-constrained law's). ``{axis: {"value": x, "factor": f, "low": lo, "high": hi}}``; empty when
    every point is inside.
    """
    rng = fitted_range_of(law)
    if rng is None:
        return {}
    worst: dict[str, dict[str, float]] = {}
    for n_params, n_tokens, *unique in points:
        U = unique[0] if unique else None
        value = {
            "flops": FLOPS_PER_PARAM_TOKEN * n_params * n_tokens,
            "n_params": n_params,
            "n_tokens": n_tokens,
            "tokens_per_param": n_tokens / n_params,
            "unique_tokens": None if U is None else min(U, n_tokens),
        }
        for axis, factor in rng.extrapolation(n_params, n_tokens, U).items():
            if factor > max(EXTRAPOLATION_TOLERANCE, worst.get(axis, {}).get("factor", 1.0)):
                lo, hi = getattr(rng, axis)
                worst[axis] = {"value": value[axis], "factor": factor, "low": lo, "high": hi}
    return {axis: worst[axis] for axis in _AXES if axis in worst}


def unbounded(outside: dict[str, dict[str, float]]) -> list[str]:
    """The axes of :func:`extrapolation` whose factor is beyond float range, as ``extrapolation_unbounded``
    in JSON (the factor itself is written as null): the same list ``fit --json`` and ``predict --json``
    give (:func:`tokenplan.laws.prediction.unbounded_axes`)."""
    return unbounded_axes({axis: e["factor"] for axis, e in outside.items()})


def extrapolation_warning(law: Law, outside: dict[str, dict[str, float]]) -> str | None:
    """One sentence naming each axis of :func:`extrapolation` with its factor."""
    parts = []
    for axis, e in outside.items():
        name, fmt = _AXES[axis]
        if e["value"] > e["high"]:
            side = f"above the largest ({fmt(e['high'])})"
        else:
            side = f"below the smallest ({fmt(e['low'])})"
        # '1 unique token is', '1 parameter is', as every message counts them (format_count)
        counted = {"n_params": "parameter", "n_tokens": "token", "unique_tokens": "unique token"}
        what = (
            format_count(e["value"], counted[axis])
            if axis in counted
            else f"{fmt(e['value'])} {name}"
        )
        parts.append(f"{what} is {format_factor(e['factor'])} {side}")
    if not parts:
        return None
    return f"outside the data law {law.name!r} was fitted on: {'; '.join(parts)}; an extrapolation."
