"""The frozen results of :func:`tokenplan.plan.plan` and :func:`tokenplan.plan.compare`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokenplan._record import record
from tokenplan.laws import Allocation, DataConstrainedAllocation, Intervals, PublishedInterval
from tokenplan.plan.advice import Advice, Repetition, unbounded
from tokenplan.plan.batch import BatchPlan
from tokenplan.units import format_epochs
from tokenplan.units import format_quantity as fq

if TYPE_CHECKING:
    from tokenplan.inference import InferenceAllocation

__all__ = ["BYTES_PER_PARAM", "Comparison", "Hardware", "Memory", "Plan", "RunVsOptimum"]

# Mixed-precision Adam (Rajbhandari et al. 2020, ZeRO, sec. 3.1): bf16 weights 2 B + bf16 gradients 2 B +
# fp32 master weights, momentum and variance 4 + 4 + 4 B = 16 bytes per parameter. ZeRO-3 shards all of it.
BYTES_WEIGHTS = 2.0
BYTES_GRADS = 2.0
BYTES_OPTIMIZER = 12.0
BYTES_PER_PARAM = BYTES_WEIGHTS + BYTES_GRADS + BYTES_OPTIMIZER
ZERO = "Rajbhandari et al. 2020, ZeRO, sec. 3.1: 16 bytes per parameter for mixed-precision Adam"
# Wall-clock horizon for the suggested GPU count when ``gpus`` is not given.
DAYS_SUGGESTED = 90


@dataclass(frozen=True)
class Memory:
    """Training state of mixed-precision Adam (activations not included), and its ZeRO-3 share per GPU."""

    n_params: float
    gpus: int
    device_bytes: float | None

    @property
    def weights_bytes(self) -> float:
        return BYTES_WEIGHTS * self.n_params

    @property
    def grads_bytes(self) -> float:
        return BYTES_GRADS * self.n_params

    @property
    def optimizer_bytes(self) -> float:
        return BYTES_OPTIMIZER * self.n_params

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.grads_bytes + self.optimizer_bytes

    @property
    def per_gpu_bytes(self) -> float:
        """ZeRO-3 (Rajbhandari et al. 2020) shards weights, gradients and optimizer states over the GPUs."""
        return self.total_bytes / self.gpus

    @property
    def fits(self) -> bool | None:
        """Whether the per-GPU share fits in device memory (None if the device memory is unknown)."""
        return None if self.device_bytes is None else self.per_gpu_bytes <= self.device_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_params": self.n_params,
            "weights_bytes": self.weights_bytes,
            "grads_bytes": self.grads_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "total_bytes": self.total_bytes,
            "gpus": self.gpus,
            "per_gpu_bytes": self.per_gpu_bytes,
            "device_bytes": self.device_bytes,
            "fits": self.fits,
            "source": ZERO,
        }


@dataclass(frozen=True)
class Hardware:
    """Where the FLOPs run: the accelerator, its utilisation, the GPU count and the hours."""

    #: Accelerator name (None for a custom ``peak_flops``), its dense bf16 peak and where that comes from.
    gpu: str | None
    peak_flops: float
    mfu: float
    gpus: int
    #: True when ``gpus`` was not given: the fewest GPUs that hold the training state, or 1 when the device
    #: memory is unknown (``peak_flops`` without ``gpu``).
    gpus_assumed: bool
    gpu_hours: float
    price_per_gpu_hour: float | None
    source: str = ""

    @property
    def wall_clock_hours(self) -> float:
        return self.gpu_hours / self.gpus

    @property
    def gpus_in_90_days(self) -> int:
        """GPUs that finish the run in 90 days at the same MFU."""
        return max(1, math.ceil(self.gpu_hours / (DAYS_SUGGESTED * 24)))

    @property
    def cost(self) -> float | None:
        return None if self.price_per_gpu_hour is None else self.price_per_gpu_hour * self.gpu_hours

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "peak_flops": self.peak_flops,
            "mfu": self.mfu,
            "gpus": self.gpus,
            "gpus_assumed": self.gpus_assumed,
            "gpu_hours": self.gpu_hours,
            "wall_clock_hours": self.wall_clock_hours,
            "gpus_in_90_days": self.gpus_in_90_days,
            "price_per_gpu_hour": self.price_per_gpu_hour,
            "cost": self.cost,
            "source": self.source,
        }


@dataclass(frozen=True)
class RunVsOptimum:
    """A run of your own (a model size with its token count) against the law's compute-optimal plans.

    ``optimum``: the compute-optimal split of the run's FLOPs; ``same_loss``: the cheapest compute-optimal
    plan reaching the run's loss on fresh data (None for a law without a loss, or one that cannot reach it).
    ``compute_ratio`` = the run's FLOPs / same_loss's: 1 on the optimum, above it when a smaller model is
    trained longer (Llama-3-8B on 15T tokens) or a larger one shorter; what the departure costs in training
    compute, for what it may save in inference (``plan(..., inference_tokens=)``, Sardana et al. 2024).
    """

    flops: float
    n_params: float
    n_tokens: float
    optimum: Allocation
    same_loss: Allocation | None

    @property
    def compute_ratio(self) -> float | None:
        return None if self.same_loss is None else self.flops / float(self.same_loss.flops)

    @property
    def size_ratio(self) -> float:
        """The run's parameters / the compute-optimal parameters at its FLOPs (below 1: over-trained)."""
        return self.n_params / float(self.optimum.n_params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "optimum": self.optimum.to_dict(),
            "same_loss": None if self.same_loss is None else self.same_loss.to_dict(),
            "compute_ratio": self.compute_ratio,
            "size_ratio": self.size_ratio,
        }


def _of_repetition(name: str, doc: str | None = None) -> property:
    """A :class:`Plan` property read from its ``repetition`` (None when the plan has none)."""
    return property(
        lambda self: None if self.repetition is None else getattr(self.repetition, name), doc=doc
    )


@dataclass(frozen=True, repr=False)
class Plan:
    """One training plan. Sizes are plain numbers: parameters, tokens, FLOPs, bytes, hours."""

    #: The law's name and the convention its ``n_params`` uses ("total" or "non-embedding").
    law: str
    param_convention: str
    #: Which budget was given: "flops", "gpu_hours", "days", "n_params", "n_tokens", "target_loss", or "run"
    #: (a model size with its token count, planned as given).
    mode: str
    #: Parameters in the law's convention, and both conventions (Pearce & Song 2024 conversion).
    n_params: float
    n_params_total: float
    n_params_non_embedding: float
    #: False for a model below :func:`tokenplan.flops.conversion_floor` (one layer): the count in the other
    #: convention means nothing (a warning says so).
    params_convertible: bool
    n_tokens: float
    #: Training FLOPs, 6 N D with the law's N.
    flops: float
    #: Predicted loss (nats/token) of this plan, with repetition when unique tokens are given.
    loss: float | None
    #: The same (N, D) with all D tokens unique; ``loss - loss_fresh`` is what repetition costs.
    loss_fresh: float | None
    #: Epochs, effective tokens D' and the penalty label when unique tokens are given (Muennighoff 2023).
    repetition: Repetition | None
    #: Muennighoff's data-constrained optimum for the same FLOPs and unique tokens, and the optimum if all
    #: tokens were unique (the same law without the repetition terms).
    data_constrained: DataConstrainedAllocation | None
    fresh_optimum: Allocation | None
    #: Inference-aware allocation (Sardana et al. 2024) when inference tokens are given.
    inference: InferenceAllocation | None
    batch: BatchPlan
    hardware: Hardware
    memory: Memory
    warnings: tuple[str, ...] = ()
    advice: tuple[Advice, ...] = ()
    #: How to read the plan, not problems with it: that its data-constrained optimum is another law's,
    #: with losses on other data (:func:`tokenplan.plan.steps.loss_scale_notes`).
    notes: tuple[str, ...] = ()
    #: Per axis, how far the plan lies outside the law's fitted data (empty when inside).
    extrapolation: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The law's allocation exponents (a, b): N_opt ∝ C^a, D_opt ∝ C^b.
    exponents: tuple[float, float] = (math.nan, math.nan)
    #: Intervals at the plan's level on the loss and on N_opt, D_opt at its FLOPs, each with its kind and
    #: source (None only for a Plan built by hand).
    intervals: Intervals | None = None
    #: The intervals the preset's paper publishes for its constants, as printed (empty otherwise).
    published_intervals: tuple[PublishedInterval, ...] = ()
    #: Where each figure comes from: field name -> paper, table, figure or equation; ``budget`` says how a
    #: wall-clock budget became GPU-hours.
    sources: dict[str, str] = field(default_factory=dict)
    #: The wall-clock budget in days (mode "days": days x 24 x ``gpus`` GPU-hours), else None.
    days: float | None = None
    #: Mode "run": the run against the compute-optimal split of its FLOPs and the cheapest optimum at its
    #: loss; None for the other modes (their plan is the optimum).
    vs_optimum: RunVsOptimum | None = None

    # --- derived -----------------------------------------------------------------------------------------
    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    # The repetition figures, flat (None without unique tokens).
    unique_tokens = _of_repetition("unique_tokens")
    epochs = _of_repetition("epochs")
    effective_tokens = _of_repetition(
        "effective_tokens",
        "D': what the n_tokens drawn from the unique tokens are worth as fresh data (Muennighoff eq. 5).",
    )
    effective_fraction = _of_repetition(
        "effective_fraction", "D'/D: the share of the training tokens that counts as fresh data."
    )
    loss_penalty = _of_repetition(
        "loss_change",
        "Loss with the repeated data minus with fresh data (None without unique tokens).",
    )

    # The batch and hardware figures, flat, as before the split.
    critical_batch_tokens = property(lambda self: self.batch.critical_batch_tokens)
    batch_loss = property(lambda self: self.batch.batch_loss)
    seq_len = property(lambda self: self.batch.seq_len)
    batch_sequences = property(lambda self: self.batch.batch_sequences)
    batch_tokens = property(lambda self: self.batch.batch_tokens)
    steps = property(lambda self: self.batch.steps)
    learning_rate = property(lambda self: self.batch.learning_rate)
    gpu = property(lambda self: self.hardware.gpu)
    peak_flops = property(lambda self: self.hardware.peak_flops)
    mfu = property(lambda self: self.hardware.mfu)
    gpus = property(lambda self: self.hardware.gpus)
    gpus_assumed = property(lambda self: self.hardware.gpus_assumed)
    gpu_hours = property(lambda self: self.hardware.gpu_hours)
    price_per_gpu_hour = property(lambda self: self.hardware.price_per_gpu_hour)
    wall_clock_hours = property(lambda self: self.hardware.wall_clock_hours)
    cost = property(lambda self: self.hardware.cost)

    def to_dict(self) -> dict[str, Any]:
        rep = self.repetition
        return {
            **record(
                self,
                "law param_convention mode days n_params n_params_total n_params_non_embedding "
                "params_convertible n_tokens "
                "flops tokens_per_param loss loss_fresh loss_penalty",
            ),
            "relative_loss_penalty": None if rep is None else rep.relative_penalty,
            "repetition_label": None if rep is None else rep.label,
            **record(self, "unique_tokens epochs effective_tokens effective_fraction"),
            "data_constrained": _opt(self.data_constrained),
            "fresh_optimum": _opt(self.fresh_optimum),
            "inference": _opt(self.inference),
            "vs_optimum": _opt(self.vs_optimum),
            "batch": self.batch.to_dict(),
            "hardware": self.hardware.to_dict(),
            "memory": self.memory.to_dict(),
            "exponents": {"a": self.exponents[0], "b": self.exponents[1]},
            "extrapolation": self.extrapolation,
            "extrapolation_unbounded": unbounded(self.extrapolation),
            "intervals": _opt(self.intervals),
            "published_intervals": [p.to_dict() for p in self.published_intervals],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "advice": [a.to_dict() for a in self.advice],
            "sources": dict(self.sources),
        }

    def __repr__(self) -> str:
        loss = "None" if self.loss is None else f"{self.loss:.4f}"
        extra = "" if self.epochs is None else f", epochs={format_epochs(self.epochs)}"
        return (
            f"Plan(law={self.law!r}, n_params={fq(self.n_params)} ({self.param_convention}), "
            f"n_tokens={fq(self.n_tokens)}, flops={self.flops:.3g}, "
            f"tokens_per_param={fq(self.tokens_per_param)}, loss={loss}{extra}, "
            f"gpu_hours={self.gpu_hours:.3g}, warnings={len(self.warnings)})"
        )


def _opt(x: Any) -> dict[str, Any] | None:
    return None if x is None else x.to_dict()


@dataclass(frozen=True)
class Comparison:
    """The same budget planned under several laws; laws that cannot answer it are listed with the reason."""

    plans: tuple[Plan, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def __getitem__(self, law: str) -> Plan:
        """The plan under ``law``; a KeyError says why a law has none (skipped, with its reason, or not
        compared) instead of repeating the name."""
        for p in self.plans:
            if p.law == law:
                return p
        reasons = dict(self.skipped)
        if law in reasons:
            raise KeyError(f"no plan for law {law!r}: it was skipped: {reasons[law]}")
        planned = ", ".join(p.law for p in self.plans)
        raise KeyError(f"no plan for law {law!r}; this comparison has: {planned}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "plans": [p.to_dict() for p in self.plans],
            "skipped": [{"law": law, "reason": reason} for law, reason in self.skipped],
        }
