"""Batch size and learning rate for a plan: DeepSeek LLM's fitted optima (the default) or Kaplan's critical
batch. Both are fits from one training setup each; neither is a law of nature.

DeepSeek-AI 2024, "DeepSeek LLM: Scaling Open-Source Language Models with Longtermism", sec. 3.1:
    B_opt = 0.2920 C^0.3271 tokens,   eta_opt = 0.3118 C^-0.1250,
fitted on their small runs, with C = M D where M counts non-embedding FLOPs per token (tokenplan uses
M = 6 N_nonemb, leaving out their attention term). The hyperparameter runs spanned C = 1e17 to 2e19 FLOPs
(multi-step runs sharing a first stage, sec. 3.1; checked at 1e20 in Fig. 2b; the 1e17..3e20 of sec. 3.2 is
the model/data IsoFLOP study, not these fits); a plan outside that span says by how many decades
(``BatchPlan.decades_outside``, ``note``).
Kaplan et al. 2020 eq. 1.4: B_crit(L) = B_* / L^(1/alpha_B), B_* = 2e8 tokens, alpha_B = 0.21, fitted on
WebText2 losses; at today's losses it gives 5-16M tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.units import format_factor

__all__ = [
    "BATCH_RULES",
    "DEEPSEEK_FITTED_FLOPS",
    "BatchPlan",
    "deepseek_batch_tokens",
    "deepseek_learning_rate",
]

DEEPSEEK = (
    "DeepSeek-AI 2024, DeepSeek LLM, sec. 3.1: B_opt = 0.2920 C^0.3271, eta_opt = 0.3118 C^-0.1250 "
    "(a fit to one training setup)"
)
KAPLAN_BCRIT = (
    "Kaplan et al. 2020 eq. 1.4: B_crit(L) = 2e8 / L^(1/0.21) tokens (a fit to WebText2 runs)"
)
BATCH_RULES = ("deepseek", "kaplan")
# Each rule in a few words, for messages that name where a batch comes from.
RULE_NAMES = {
    "deepseek": "DeepSeek LLM's B_opt = 0.2920 C^0.3271 (sec. 3.1)",
    "kaplan": "Kaplan's B_crit(L) (eq. 1.4)",
}

# DeepSeek LLM sec. 3.1, eqs. for the optimal batch (tokens) and learning rate against compute C.
_B_COEF, _B_EXP = 0.2920, 0.3271
_LR_COEF, _LR_EXP = 0.3118, -0.1250
#: The compute span of DeepSeek LLM's hyperparameter runs (sec. 3.1), on which B_opt and eta_opt were fitted.
DEEPSEEK_FITTED_FLOPS = (1e17, 2e19)


def deepseek_batch_tokens(flops: float) -> float:
    """B_opt = 0.2920 C^0.3271 tokens (DeepSeek LLM sec. 3.1)."""
    return _B_COEF * flops**_B_EXP


def deepseek_learning_rate(flops: float) -> float:
    """eta_opt = 0.3118 C^-0.1250 (DeepSeek LLM sec. 3.1)."""
    return _LR_COEF * flops**_LR_EXP


@dataclass(frozen=True)
class BatchPlan:
    """The batch a plan trains with, rounded to whole sequences, and the steps it takes."""

    #: "deepseek" (B_opt and eta_opt of DeepSeek LLM) or "kaplan" (B_crit at the predicted loss).
    rule: str
    #: The rule's batch before rounding to sequences, in tokens.
    target_tokens: float
    seq_len: int
    batch_sequences: int
    steps: int
    #: DeepSeek's eta_opt at this compute (None under the Kaplan rule, which says nothing about it).
    learning_rate: float | None
    #: Kaplan's B_crit at ``batch_loss`` (tokens), reported under either rule for comparison.
    critical_batch_tokens: float
    batch_loss: float
    #: The compute the DeepSeek fits were evaluated at: 6 N_nonemb D.
    deepseek_flops: float
    source: str
    #: log10 of how far ``deepseek_flops`` lies outside :data:`DEEPSEEK_FITTED_FLOPS`: > 0 above the span,
    #: < 0 below it, 0 inside it (within the 10% the laws' ranges allow); None under the Kaplan rule.
    decades_outside: float | None = None
    #: The law whose loss ``batch_loss`` is ("kaplan": Kaplan's own L(N, D), WebText2 nats).
    loss_law: str = "kaplan"

    @property
    def note(self) -> str | None:
        """What the batch is worth here. DeepSeek's batch and learning rate: None inside their fitted span,
        else how many decades outside it lies (the extrapolation notes of plan and predict). Kaplan's
        B_crit(L): None at Kaplan's own loss, else that its L is in WebText2 nats and this loss is not."""
        if self.rule == "kaplan" and self.loss_law != "kaplan":
            from tokenplan.laws.kaplan import KaplanLaw

            power = 1.0 / KaplanLaw.alpha_B  # B_crit = B_* / L^(1/alpha_B), eq. 1.4
            return (
                f"Kaplan fitted B_crit(L) to WebText2 losses; L = {self.batch_loss:.3f} is "
                f"{self.loss_law}'s, on its own data. B_crit goes as L^-{power:.2f} (a loss scale 10% "
                f"apart: {format_factor(1.1**power)} the batch): sweep around it."
            )
        d = self.decades_outside
        if not d:
            return None
        lo, hi = DEEPSEEK_FITTED_FLOPS
        side = "above" if d > 0 else "below"
        return (
            f"C = {self.deepseek_flops:.3g} is {abs(d):.1f} decades {side} DeepSeek LLM's fitted "
            f"{_e(lo)}..{_e(hi)} FLOPs: an extrapolation."
        )

    @property
    def batch_tokens(self) -> float:
        return float(self.batch_sequences * self.seq_len)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "target_tokens": self.target_tokens,
            "critical_batch_tokens": self.critical_batch_tokens,
            "at_loss": self.batch_loss,
            "learning_rate": self.learning_rate,
            "deepseek_flops": self.deepseek_flops,
            "deepseek_fitted_flops": list(DEEPSEEK_FITTED_FLOPS),
            "decades_outside": self.decades_outside,
            "note": self.note,
            "seq_len": self.seq_len,
            "batch_sequences": self.batch_sequences,
            "batch_tokens": self.batch_tokens,
            "steps": self.steps,
            "source": self.source,
        }


def batch_plan(
    *,
    rule: str,
    n_params_non_embedding: float,
    n_tokens: float,
    critical_batch_tokens: float,
    batch_loss: float,
    seq_len: int,
    loss_law: str = "kaplan",
) -> BatchPlan:
    """The batch under ``rule``, rounded to whole sequences of ``seq_len``, and the steps for ``n_tokens``."""
    c_ds = FLOPS_PER_PARAM_TOKEN * n_params_non_embedding * n_tokens
    if rule == "deepseek":
        target, lr, source = deepseek_batch_tokens(c_ds), deepseek_learning_rate(c_ds), DEEPSEEK
    else:
        target, lr, source = critical_batch_tokens, None, KAPLAN_BCRIT
    sequences = max(1, round(target / seq_len))
    return BatchPlan(
        rule=rule,
        target_tokens=target,
        seq_len=seq_len,
        batch_sequences=sequences,
        steps=max(1, math.ceil(n_tokens / (sequences * seq_len))),
        learning_rate=lr,
        critical_batch_tokens=critical_batch_tokens,
        batch_loss=batch_loss,
        loss_law=loss_law,
        deepseek_flops=c_ds,
        source=source,
        decades_outside=_decades_outside(c_ds) if rule == "deepseek" else None,
    )


def _e(x: float) -> str:
    """1e17, 2e19: a power of ten as the paper writes it."""
    return f"{x:.0e}".replace("e+", "e")


def _decades_outside(flops: float) -> float:
    """log10 of the factor by which ``flops`` lies above (> 0) or below (< 0) the DeepSeek fits' span; 0
    inside it or within the tolerance of the laws' fitted ranges."""
    from tokenplan.plan.advice import EXTRAPOLATION_TOLERANCE

    lo, hi = DEEPSEEK_FITTED_FLOPS
    if flops > hi * EXTRAPOLATION_TOLERANCE:
        return math.log10(flops / hi)
    if flops < lo / EXTRAPOLATION_TOLERANCE:
        return -math.log10(lo / flops)
    return 0.0
