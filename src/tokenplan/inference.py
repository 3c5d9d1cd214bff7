"""Inference-aware allocation (Sardana et al. 2024, "Beyond Chinchilla-Optimal").

A model is trained once and then serves ``inference_tokens`` tokens. Training costs 6 N D_train FLOPs and
inference about 2 N per token (the forward pass), so the lifetime cost is

    cost(N, D_train) = 6 N D_train + 2 N D_inference

At a fixed quality l this is minimised subject to L(N, D_train) = l. There is no closed form: for each N the
constraint gives D_train(N) (closed form for the Chinchilla form, bisection otherwise: L falls monotonically
in D), and the best N is found by a golden-section search in log N (the cost is unimodal there; plain Python
keeps scipy.optimize, ~0.4 s of imports, out of `tokenplan plan`'s start-up). The baseline is the
compute-optimal (Chinchilla) plan, whose loss sets l; with heavy inference the optimum is a smaller model
trained on more tokens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tokenplan import _checks
from tokenplan._record import record
from tokenplan._solve import bisect, golden_section
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws import Law, get_law, list_laws
from tokenplan.units import format_quantity as fq

__all__ = ["InferenceAllocation", "inference_optimal", "lifetime_flops", "tokens_for_loss"]

# Training FLOPs per parameter per token (forward + backward, 6) and inference FLOPs (the forward pass, 2).
TRAIN_FLOPS_PER_PARAM_TOKEN = FLOPS_PER_PARAM_TOKEN
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2.0


def lifetime_flops(
    n_params: float, n_tokens: float, inference_tokens: float
) -> tuple[float, float]:
    """(training, inference) FLOPs of a model of ``n_params`` trained on ``n_tokens`` that then serves
    ``inference_tokens``: 6 N D_train and 2 N D_inference (Sardana et al. 2024)."""
    return (
        TRAIN_FLOPS_PER_PARAM_TOKEN * n_params * n_tokens,
        INFERENCE_FLOPS_PER_PARAM_TOKEN * n_params * inference_tokens,
    )


@dataclass(frozen=True, repr=False)
class InferenceAllocation:
    """The cheapest (N, D_train) reaching ``loss`` when the model then serves ``inference_tokens``."""

    law: str
    loss: float
    inference_tokens: float
    n_params: float
    n_tokens: float
    #: The compute-optimal plan this is compared with (its loss is ``loss``).
    baseline_n_params: float
    baseline_n_tokens: float
    #: The unique tokens both train on (None: unlimited): ``loss`` is then the loss with repetition, at
    #: Muennighoff et al. 2023's effective data D' (the law's own N' and D' for a data-constrained law).
    unique_tokens: float | None = None

    @property
    def epochs(self) -> float | None:
        """Passes over the unique tokens (None without a data limit)."""
        return None if self.unique_tokens is None else self.n_tokens / self.unique_tokens

    @property
    def train_flops(self) -> float:
        return lifetime_flops(self.n_params, self.n_tokens, self.inference_tokens)[0]

    @property
    def inference_flops(self) -> float:
        return lifetime_flops(self.n_params, self.n_tokens, self.inference_tokens)[1]

    @property
    def total_flops(self) -> float:
        return self.train_flops + self.inference_flops

    @property
    def baseline_total_flops(self) -> float:
        train, serve = lifetime_flops(
            self.baseline_n_params, self.baseline_n_tokens, self.inference_tokens
        )
        return train + serve

    @property
    def flops_saved(self) -> float:
        """Lifetime FLOPs (training + inference) the compute-optimal baseline spends beyond this plan."""
        return self.baseline_total_flops - self.total_flops

    @property
    def fraction_saved(self) -> float:
        """Share of the baseline's lifetime FLOPs (training + inference) saved: 1 - total / baseline."""
        return 1.0 - self.total_flops / self.baseline_total_flops

    @property
    def tokens_per_param(self) -> float:
        """D/N of this plan: above the baseline's (Chinchilla's ~20) when serving many tokens pays."""
        return self.n_tokens / self.n_params

    def to_dict(self) -> dict[str, Any]:
        return record(
            self,
            "law loss inference_tokens n_params n_tokens tokens_per_param train_flops inference_flops "
            "total_flops baseline_n_params baseline_n_tokens baseline_total_flops flops_saved "
            "fraction_saved unique_tokens epochs",
        )

    def __repr__(self) -> str:
        return (
            f"InferenceAllocation(law={self.law!r}, n_params={fq(self.n_params)}, "
            f"n_tokens={fq(self.n_tokens)}, loss={self.loss:.4f}, "
            f"baseline_n_params={fq(self.baseline_n_params)}, "
            f"fraction_saved={self.fraction_saved:.3f})"
        )


def _loss_presets() -> str:
    """The presets that predict a loss, as a list in words ('a, b or c'), read from the presets."""
    names = [law.name for law in list_laws() if law.has_loss]
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]


def inference_optimal(
    n_params: float,
    n_tokens: float,
    inference_tokens: float,
    *,
    law: str | Law = "chinchilla",
    unique_tokens: float | None = None,
) -> InferenceAllocation:
    """Minimise 6 N D_train + 2 N D_inference at the loss the plan (``n_params``, ``n_tokens``) reaches
    (Sardana et al. 2024, "Beyond Chinchilla-Optimal"; no closed form: module docstring).

    ``n_params``/``n_tokens`` is the baseline plan (usually the compute-optimal one for a budget); its
    predicted loss under ``law`` is the quality target. Returns the inference-aware (N, D_train) and the
    lifetime FLOPs saved versus the baseline. The law must predict a loss.

    With ``unique_tokens`` the target and the constraint are the loss with repetition (:func:`_constraint`):
    sized on fresh data, 605B tokens were offered on 25B unique ones, 24.2 epochs, missing the plan's loss.
    """
    n0 = _checks.positive("n_params", n_params)
    d0 = _checks.positive("n_tokens", n_tokens)
    t = _checks.positive("inference_tokens", inference_tokens, allow_zero=True)
    U = None if unique_tokens is None else _checks.positive("unique_tokens", unique_tokens)
    law = get_law(law)
    if not law.has_loss:
        raise InvalidInputError(
            f"inference-aware planning needs a law that predicts loss; law {law.name!r} does not. "
            f"Use `law` {_loss_presets()}."
        )
    loss, tokens_for_loss = _constraint(law, U)
    target = loss(n0, d0)

    def cost(log_n: float) -> float:
        n = math.exp(log_n)
        train, serve = lifetime_flops(n, tokens_for_loss(n, target), t)
        return train + serve

    # The smallest N that can reach the target with unlimited data bounds the search from below.
    lo = math.log(n0)
    while math.isfinite(cost(lo)) and lo > math.log(n0) - 60:
        lo -= 1.0
    # Bisection for the boundary where D_train(N) becomes finite (reachable = 1, unreachable = 0).
    edge = bisect(lambda x: float(math.isfinite(cost(x))), 1.0, lo, math.log(n0), tol=1e-12)
    upper = math.log(n0) + math.log(4.0)  # more inference never favours a bigger model than 4x
    log_n = golden_section(
        lambda x: cost(x) if math.isfinite(cost(x)) else 1e300, edge, upper, tol=1e-9
    )
    n_best = math.exp(log_n)
    d_best = tokens_for_loss(n_best, target)
    if cost(log_n) > cost(math.log(n0)):  # never report something worse than the baseline
        n_best, d_best = n0, d0
    return InferenceAllocation(
        law=law.name,
        loss=target,
        inference_tokens=t,
        n_params=n_best,
        n_tokens=d_best,
        baseline_n_params=n0,
        baseline_n_tokens=d0,
        unique_tokens=U,
    )


def tokens_for_loss(
    law: str | Law, n_params: float, loss: float, *, unique_tokens: float | None = None
) -> float:
    """The training tokens a model of ``n_params`` needs to reach ``loss`` under ``law``, with repetition
    on ``unique_tokens`` when given: the constraint :func:`inference_optimal` solves on (``inf`` when no
    amount of data gets there). The report's lifetime-cost chart draws its curves with it."""
    return _constraint(get_law(law), unique_tokens)[1](n_params, loss)


# Epochs standing for "unlimited repetition": D' is within 1e-20 of its cap (1 + R_D*) U long before.
_MAX_EPOCHS = 1e6


def _constraint(law: Law, unique_tokens: float | None) -> tuple[Callable, Callable]:
    """(loss(N, D), tokens_for_loss(N, l)) of ``law``, with repetition on ``unique_tokens`` when given:
    a data-constrained law's own loss (its N' and D'), else the law at Muennighoff et al. 2023's D' (eq. 5,
    R_D* = 15.39), as :func:`tokenplan.plan.advice.assess_repetition` prices a plan's epochs. The
    repeated loss falls monotonically in D to a floor (D' <= (1 + R_D*) U): beyond it, ``inf``."""
    if unique_tokens is None:
        return (lambda n, d: float(law.loss(n, d))), law.tokens_for_loss
    from tokenplan.plan.advice import repeated_loss

    U, decay = unique_tokens, get_law("muennighoff2023")

    def loss(n: float, d: float) -> float:
        return repeated_loss(law, decay, n, d, U)

    def tokens_for_loss(n: float, target: float) -> float:
        hi = math.log(U * _MAX_EPOCHS)
        if loss(n, math.exp(hi)) >= target:
            return math.inf
        if loss(n, 1.0) <= target:
            return 1.0
        return math.exp(bisect(lambda x: -loss(n, math.exp(x)), -target, 0.0, hi))

    return loss, tokens_for_loss
