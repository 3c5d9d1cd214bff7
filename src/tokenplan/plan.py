"""Budget in, training plan out: the library behind ``tokenplan plan``, ``tokenplan table`` and ``tokenplan
repeat``.

:func:`plan` turns one budget (FLOPs, GPU-hours, a model size, a token count or a target loss) into a frozen
:class:`Plan`: parameters (in the law's convention and converted), tokens, FLOPs, predicted loss, epochs and
effective tokens when unique data is limited (Muennighoff et al. 2023), the data-constrained optimum, the
inference-aware allocation (Sardana & Frankle 2024), a batch size (Kaplan's critical batch), steps, GPU-hours,
wall-clock time and training memory, plus warnings in words where the literature has something to say.
:func:`compare` plans the same budget under every preset; :func:`optimal_table` is Chinchilla's Table 3;
:func:`repeat` is the value of repeated data per epoch count.

The library never prints; warnings are returned as strings on the result objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN, convert_params
from tokenplan.hardware import Accelerator, get_accelerator
from tokenplan.laws import (
    DataConstrainedAllocation,
    DataConstrainedLaw,
    FittedRange,
    Law,
    get_law,
    list_laws,
)
from tokenplan.units import format_quantity as fq

if TYPE_CHECKING:
    from tokenplan.inference import InferenceAllocation

__all__ = [
    "DEFAULT_LAW",
    "GOPHER_FLOPS",
    "REPEAT_EPOCHS",
    "TABLE3_PARAMS",
    "Comparison",
    "Memory",
    "OptimalTable",
    "Plan",
    "RepeatRow",
    "RepeatTable",
    "TableRow",
    "compare",
    "optimal_table",
    "plan",
    "repeat",
]

DEFAULT_LAW = "epoch2024"
DEFAULT_GPU = "H100"
# Chinchilla Table 3's unit of compute: the Gopher budget, 5.76e23 FLOPs (Hoffmann et al. 2022, Table 3).
GOPHER_FLOPS = 5.76e23
# The model sizes of Chinchilla Table 3 (Hoffmann et al. 2022).
TABLE3_PARAMS = (400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12)
# Epoch counts of `tokenplan repeat`: Muennighoff et al. 2023's reference points (2, 4, 10, 16, 40) and more.
REPEAT_EPOCHS = (1.0, 2.0, 4.0, 10.0, 16.0, 40.0, 100.0)

# Muennighoff et al. 2023: up to ~4 epochs repeated data is about as good as fresh; beyond R_D* ≈ 16 more
# repetition adds almost nothing (sec. 5 and 6).
EPOCHS_FADE = 4.0
EPOCHS_WORTHLESS = 16.0

# A plan this close to the edge of a law's fitted data (a factor <= 1.1 on every axis) gets no extrapolation
# warning: the edges themselves are single runs, and 10% is well inside the scatter of those runs.
EXTRAPOLATION_TOLERANCE = 1.1

# Mixed-precision Adam (Rajbhandari et al. 2020, ZeRO, sec. 3.1): bf16 weights 2 B + bf16 gradients 2 B +
# fp32 master weights, momentum and variance 4 + 4 + 4 B = 16 bytes per parameter. ZeRO-3 shards all of it.
BYTES_WEIGHTS = 2.0
BYTES_GRADS = 2.0
BYTES_OPTIMIZER = 12.0

_MODES = ("flops", "gpu_hours", "n_params", "n_tokens", "target_loss")
_FLAGS = {
    "flops": "--flops",
    "gpu_hours": "--gpu-hours",
    "n_params": "--params",
    "n_tokens": "--tokens",
    "target_loss": "--target-loss",
}


# --------------------------------------------------------------------------------------------------------
# result objects
# --------------------------------------------------------------------------------------------------------
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
        }


@dataclass(frozen=True, repr=False)
class Plan:
    """One training plan. Sizes are plain numbers: parameters, tokens, FLOPs, bytes, hours."""

    #: The law's name and the convention its ``n_params`` uses ("total" or "non-embedding").
    law: str
    param_convention: str
    #: Which budget was given: "flops", "gpu_hours", "n_params", "n_tokens" or "target_loss".
    mode: str
    #: Parameters in the law's convention, and both conventions (Pearce & Song 2024 conversion).
    n_params: float
    n_params_total: float
    n_params_non_embedding: float
    n_tokens: float
    #: Training FLOPs, 6 N D with the law's N.
    flops: float
    #: Predicted loss (nats/token) of this plan, with repetition when ``unique_tokens`` is given.
    loss: float | None
    #: The same (N, D) with all D tokens unique; ``loss - loss_fresh`` is what repetition costs.
    loss_fresh: float | None
    unique_tokens: float | None
    epochs: float | None
    #: D': what the n_tokens drawn from unique_tokens are worth as fresh data (Muennighoff 2023 eq. 5).
    effective_tokens: float | None
    #: Muennighoff's data-constrained optimum for the same FLOPs and unique tokens.
    data_constrained: DataConstrainedAllocation | None
    #: Inference-aware allocation (Sardana & Frankle 2024) when inference tokens are given.
    inference: InferenceAllocation | None
    #: Kaplan's critical batch B_crit(L) at the predicted loss (tokens), rounded to whole sequences.
    critical_batch_tokens: float
    batch_loss: float
    seq_len: int
    batch_sequences: int
    steps: int
    #: Hardware: accelerator name (None for a custom --peak-flops), its dense bf16 peak, MFU.
    gpu: str | None
    peak_flops: float
    mfu: float
    gpus: int
    #: True when ``gpus`` was not given and is the fewest GPUs that hold the training state.
    gpus_assumed: bool
    gpu_hours: float
    price_per_gpu_hour: float | None
    memory: Memory
    warnings: tuple[str, ...] = field(default=())
    #: The law's allocation exponents (a, b): N_opt ∝ C^a, D_opt ∝ C^b.
    exponents: tuple[float, float] = (math.nan, math.nan)

    # --- derived ---------------------------------------------------------------------------------
    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params

    @property
    def effective_fraction(self) -> float | None:
        """D'/D: the share of the training tokens that counts as fresh data."""
        return None if self.effective_tokens is None else self.effective_tokens / self.n_tokens

    @property
    def loss_penalty(self) -> float | None:
        """Loss with the repeated data minus with fresh data (None without ``unique_tokens``)."""
        if self.loss is None or self.loss_fresh is None or self.unique_tokens is None:
            return None
        return self.loss - self.loss_fresh

    @property
    def batch_tokens(self) -> float:
        return float(self.batch_sequences * self.seq_len)

    @property
    def wall_clock_hours(self) -> float:
        return self.gpu_hours / self.gpus

    @property
    def cost(self) -> float | None:
        return None if self.price_per_gpu_hour is None else self.price_per_gpu_hour * self.gpu_hours

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "param_convention": self.param_convention,
            "mode": self.mode,
            "n_params": self.n_params,
            "n_params_total": self.n_params_total,
            "n_params_non_embedding": self.n_params_non_embedding,
            "n_tokens": self.n_tokens,
            "flops": self.flops,
            "tokens_per_param": self.tokens_per_param,
            "loss": self.loss,
            "loss_fresh": self.loss_fresh,
            "loss_penalty": self.loss_penalty,
            "unique_tokens": self.unique_tokens,
            "epochs": self.epochs,
            "effective_tokens": self.effective_tokens,
            "effective_fraction": self.effective_fraction,
            "data_constrained": None
            if self.data_constrained is None
            else self.data_constrained.to_dict(),
            "inference": None if self.inference is None else self.inference.to_dict(),
            "batch": {
                "critical_batch_tokens": self.critical_batch_tokens,
                "at_loss": self.batch_loss,
                "seq_len": self.seq_len,
                "batch_sequences": self.batch_sequences,
                "batch_tokens": self.batch_tokens,
                "steps": self.steps,
            },
            "hardware": {
                "gpu": self.gpu,
                "peak_flops": self.peak_flops,
                "mfu": self.mfu,
                "gpus": self.gpus,
                "gpus_assumed": self.gpus_assumed,
                "gpu_hours": self.gpu_hours,
                "wall_clock_hours": self.wall_clock_hours,
                "price_per_gpu_hour": self.price_per_gpu_hour,
                "cost": self.cost,
            },
            "memory": self.memory.to_dict(),
            "exponents": {"a": self.exponents[0], "b": self.exponents[1]},
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        loss = "None" if self.loss is None else f"{self.loss:.4f}"
        extra = "" if self.epochs is None else f", epochs={self.epochs:.2f}"
        return (
            f"Plan(law={self.law!r}, n_params={fq(self.n_params)} ({self.param_convention}), "
            f"n_tokens={fq(self.n_tokens)}, flops={self.flops:.3g}, "
            f"tokens_per_param={self.tokens_per_param:.1f}, loss={loss}{extra}, "
            f"gpu_hours={self.gpu_hours:.3g}, warnings={len(self.warnings)})"
        )


@dataclass(frozen=True)
class Comparison:
    """The same budget planned under several laws; laws that cannot answer it are listed with the reason."""

    plans: tuple[Plan, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def __getitem__(self, law: str) -> Plan:
        for p in self.plans:
            if p.law == law:
                return p
        raise KeyError(law)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plans": [p.to_dict() for p in self.plans],
            "skipped": [{"law": law, "reason": reason} for law, reason in self.skipped],
        }


# --------------------------------------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------------------------------------
def _muennighoff() -> DataConstrainedLaw:
    law = get_law("muennighoff2023")
    assert isinstance(law, DataConstrainedLaw)  # the preset's type, not user input
    return law


def _law_params(law: Law, n_params_total: float, vocab_size: int) -> float:
    """A total parameter count expressed in the law's convention."""
    if law.param_convention == "total":
        return n_params_total
    return convert_params(n_params_total, to=law.param_convention, vocab_size=vocab_size)


def _both_conventions(law: Law, n_params: float, vocab_size: int) -> tuple[float, float]:
    """(total, non-embedding) for ``n_params`` counted in the law's convention."""
    if law.param_convention == "total":
        return n_params, convert_params(n_params, to="non-embedding", vocab_size=vocab_size)
    return convert_params(n_params, to="total", vocab_size=vocab_size), n_params


def _budget_mode(values: dict[str, float | None]) -> str:
    given = [k for k, v in values.items() if v is not None]
    if len(given) != 1:
        flags = ", ".join(_FLAGS[k] for k in _MODES)
        if not given:
            raise InvalidInputError(f"give a budget: one of {flags}.")
        raise InvalidInputError(
            f"give exactly one budget; got {' and '.join(_FLAGS[k] for k in given)} (they conflict)."
        )
    return given[0]


def _hardware(
    gpu: str | Accelerator | None, peak_flops: float | None
) -> tuple[str | None, float, float | None]:
    """(name, peak FLOP/s, memory bytes or None)."""
    if gpu is not None and peak_flops is not None:
        raise InvalidInputError("give --gpu NAME or --peak-flops, not both.")
    if peak_flops is not None:
        return None, _checks.positive("peak_flops", peak_flops), None
    acc = gpu if isinstance(gpu, Accelerator) else get_accelerator(gpu or DEFAULT_GPU)
    return acc.name, acc.peak_flops, acc.memory_bytes


def plan(
    *,
    flops: float | None = None,
    gpu_hours: float | None = None,
    n_params: float | None = None,
    n_tokens: float | None = None,
    target_loss: float | None = None,
    law: str | Law = DEFAULT_LAW,
    gpu: str | Accelerator | None = None,
    peak_flops: float | None = None,
    mfu: float = 0.4,
    gpus: int | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    seq_len: int = 2048,
    price_per_gpu_hour: float | None = None,
    vocab_size: int = 32_000,
) -> Plan:
    """Plan one training run from exactly one budget.

    Budgets: ``flops`` (training FLOPs); ``gpu_hours`` on ``gpu`` (a name from
    :data:`tokenplan.hardware.ACCELERATORS`) or a custom ``peak_flops`` at utilisation ``mfu``; ``n_params``
    (total parameters, the usual "7B": how many tokens should it see?); ``n_tokens`` (which model fits this
    data?); ``target_loss`` (the cheapest compute-optimal N, D reaching it).

    ``law`` is a preset name, a saved law JSON path or a :class:`~tokenplan.laws.Law`. Kaplan's law counts
    non-embedding parameters: its ``n_params`` is in that convention and ``n_params_total`` converts it
    (``vocab_size`` sets the embedding size of the conversion). ``unique_tokens`` adds epochs, effective
    tokens and Muennighoff's data-constrained optimum; with the ``muennighoff2023`` law and a FLOPs/GPU-hours
    budget the plan *is* that optimum. ``inference_tokens`` adds the inference-aware allocation. Hardware
    defaults to an H100; ``gpus`` defaults to the fewest GPUs that hold weights, gradients and Adam states
    with ZeRO-3.
    """
    mode = _budget_mode(
        {
            "flops": flops,
            "gpu_hours": gpu_hours,
            "n_params": n_params,
            "n_tokens": n_tokens,
            "target_loss": target_loss,
        }
    )
    the_law = get_law(law)
    mfu = _checks.in_range("mfu", mfu, 0.0, 1.0)
    if mfu == 0.0:
        raise InvalidInputError("mfu=0.0 must be > 0 (a fraction of peak, typically 0.3-0.5).")
    seq_len = _checks.positive_int("seq_len", seq_len)
    vocab_size = _checks.positive_int("vocab_size", vocab_size)
    if gpus is not None:
        gpus = _checks.positive_int("gpus", gpus)
    if unique_tokens is not None:
        unique_tokens = _checks.positive("unique_tokens", unique_tokens)
    if inference_tokens is not None:
        inference_tokens = _checks.positive("inference_tokens", inference_tokens)
    if price_per_gpu_hour is not None:
        price_per_gpu_hour = _checks.positive("price_per_gpu_hour", price_per_gpu_hour)
    if mode == "gpu_hours" and gpu is None and peak_flops is None:
        raise InvalidInputError(
            "--gpu-hours needs the hardware: add --gpu NAME (A100, H100, H200, B200, MI300X, L40S, "
            "RTX4090) or --peak-flops FLOP/s."
        )
    gpu_name, peak, device_bytes = _hardware(gpu, peak_flops)
    warnings: list[str] = []
    muen = _muennighoff()

    # --- the allocation -----------------------------------------------------------------------------
    data_constrained = None
    if mode in ("flops", "gpu_hours"):
        if mode == "flops":
            budget = _checks.positive("flops", flops)
        else:
            budget = _checks.positive("gpu_hours", gpu_hours) * 3600.0 * peak * mfu
        if isinstance(the_law, DataConstrainedLaw) and unique_tokens is not None:
            data_constrained = the_law.optimal_constrained(budget, unique_tokens)
            alloc = data_constrained
        else:
            alloc = the_law.optimal(budget)
    elif mode == "n_params":
        n_total = _checks.positive("n_params", n_params)
        alloc = the_law.optimal_tokens(_law_params(the_law, n_total, vocab_size))
    elif mode == "n_tokens":
        alloc = the_law.optimal_params(_checks.positive("n_tokens", n_tokens))
    else:
        alloc = the_law.optimal_for_loss(_checks.positive("target_loss", target_loss))
    N, D, C = float(alloc.n_params), float(alloc.n_tokens), float(alloc.flops)
    n_total, n_nonemb = _both_conventions(the_law, N, vocab_size)

    # --- repetition (Muennighoff et al. 2023) ----------------------------------------------------------
    loss_fresh = float(the_law.loss(N, D)) if the_law.has_loss else None
    loss = loss_fresh
    epochs = effective_tokens = None
    if unique_tokens is not None:
        epochs = D / unique_tokens
        effective_tokens = float(muen.effective_tokens(D, unique_tokens))
        if isinstance(the_law, DataConstrainedLaw):
            # "Fresh" = the same N and D with all D tokens unique (U = D), so that the difference is the
            # repetition alone (the law's N' term also depends on the unique data).
            loss = float(the_law.loss(N, D, unique_tokens))
            loss_fresh = float(the_law.loss(N, D, D))
        elif the_law.has_loss:
            # A law without a repetition term: evaluate it at D' (R_D* decay of Muennighoff's law). N' is
            # not applied here; the data-constrained optimum below uses the full law.
            loss = float(the_law.loss(N, effective_tokens))
        if data_constrained is None:
            data_constrained = muen.optimal_constrained(C, unique_tokens)
        warnings += _repetition_warnings(epochs, effective_tokens / D, the_law)

    # --- inference-aware allocation (Sardana & Frankle 2024) -------------------------------------------
    inference = None
    if inference_tokens is not None:
        from tokenplan.inference import inference_optimal

        inference = inference_optimal(N, D, inference_tokens, law=the_law)

    # --- batch and steps (Kaplan et al. 2020 eq. 1.4) --------------------------------------------------
    kaplan = get_law("kaplan")
    batch_loss = loss_fresh if loss_fresh is not None else float(kaplan.loss(n_nonemb, D))
    b_crit = float(kaplan.critical_batch(batch_loss))
    batch_sequences = max(1, round(b_crit / seq_len))
    steps = max(1, math.ceil(D / (batch_sequences * seq_len)))

    # --- hardware ---------------------------------------------------------------------------------------
    hours = C / (peak * mfu) / 3600.0
    gpus_assumed = gpus is None
    if gpus is None:
        state = (BYTES_WEIGHTS + BYTES_GRADS + BYTES_OPTIMIZER) * n_total
        gpus = 1 if device_bytes is None else max(1, math.ceil(state / device_bytes))
    memory = Memory(n_params=n_total, gpus=gpus, device_bytes=device_bytes)
    if memory.fits is False:
        need = math.ceil(memory.total_bytes / device_bytes)
        warnings.append(
            f"weights, gradients and Adam states need {memory.per_gpu_bytes / 1e9:,.0f} GB per GPU on "
            f"{gpus} {gpu_name} ({device_bytes / 1e9:.0f} GB each); use at least {need} GPUs with "
            "ZeRO-3 (activations come on top)."
        )

    # --- other warnings ---------------------------------------------------------------------------------
    # Kaplan's overfitting bound (eq. 4.4) is on the dataset a model is trained on to convergence: it
    # matters only when tokens repeat (a single pass over fresh data cannot overfit).
    if unique_tokens is not None and epochs > 1.0:
        bound = float(kaplan.min_tokens_no_overfit(n_nonemb))
        if unique_tokens < bound:
            warnings.append(
                f"{fq(unique_tokens)} unique tokens is below Kaplan's overfitting bound "
                f"D ≳ 5e3·N^0.74 = {fq(bound)} for {fq(n_nonemb)} non-embedding params (Kaplan et "
                "al. 2020 eq. 4.4): repeated epochs may overfit; use a smaller model or more data."
            )
    extrapolation = _extrapolation_warning(the_law, [(N, D)])
    if extrapolation:
        warnings.append(extrapolation)
    if the_law.param_convention == "non-embedding" and the_law.has_loss:
        warnings.append(
            f"law {the_law.name!r} counts non-embedding parameters and its loss is on WebText2 (GPT-2 "
            "tokenizer): do not compare its loss with Chinchilla-family losses (MassiveText)."
        )

    return Plan(
        law=the_law.name,
        param_convention=the_law.param_convention,
        mode=mode,
        n_params=N,
        n_params_total=n_total,
        n_params_non_embedding=n_nonemb,
        n_tokens=D,
        flops=C,
        loss=loss,
        loss_fresh=loss_fresh,
        unique_tokens=unique_tokens,
        epochs=epochs,
        effective_tokens=effective_tokens,
        data_constrained=data_constrained,
        inference=inference,
        critical_batch_tokens=b_crit,
        batch_loss=batch_loss,
        seq_len=seq_len,
        batch_sequences=batch_sequences,
        steps=steps,
        gpu=gpu_name,
        peak_flops=peak,
        mfu=mfu,
        gpus=gpus,
        gpus_assumed=gpus_assumed,
        gpu_hours=hours,
        price_per_gpu_hour=price_per_gpu_hour,
        memory=memory,
        warnings=tuple(warnings),
        exponents=tuple(float(x) for x in the_law.exponents),
    )


def _times(factor: float) -> str:
    if factor < 10:
        return f"{factor:.1f}x"
    return f"{factor:,.0f}x" if factor < 1e6 else f"{factor:.2g}x"


_AXES = {
    "flops": ("FLOPs", "budget", lambda x: f"{x:.3g}"),
    "n_params": ("parameters", "model", fq),
    "n_tokens": ("tokens", "token count", fq),
    "tokens_per_param": ("tokens per parameter", "ratio", lambda x: f"{x:.3g}"),
}


def fitted_range_of(law: Law) -> FittedRange | None:
    """The law's fitted region: ``fitted_range``, or a FLOPs-only range from ``fitted_flops``."""
    if law.fitted_range is not None:
        return law.fitted_range
    if law.fitted_flops is None:
        return None
    every = (0.0, math.inf)
    return FittedRange(tuple(law.fitted_flops), every, every, every, "")


def _extrapolation_warning(law: Law, points: list[tuple[float, float]]) -> str | None:
    """One sentence naming each axis on which the (N, D) points leave the law's fitted data, with the factor.

    Per axis the point farthest outside is named.
    """
    rng = fitted_range_of(law)
    if rng is None:
        return None
    worst: dict[str, tuple[float, float]] = {}
    for n_params, n_tokens in points:
        value = {
            "flops": FLOPS_PER_PARAM_TOKEN * n_params * n_tokens,
            "n_params": n_params,
            "n_tokens": n_tokens,
            "tokens_per_param": n_tokens / n_params,
        }
        for axis, factor in rng.extrapolation(n_params, n_tokens).items():
            if factor > max(EXTRAPOLATION_TOLERANCE, worst.get(axis, (1.0, 0.0))[0]):
                worst[axis] = (factor, value[axis])
    parts = []
    for axis in _AXES:
        if axis not in worst:
            continue
        factor, x = worst[axis]
        name, _, fmt = _AXES[axis]
        lo, hi = getattr(rng, axis)
        side = f"above the largest ({fmt(hi)})" if x > hi else f"below the smallest ({fmt(lo)})"
        parts.append(f"{fmt(x)} {name} is {_times(factor)} {side}")
    if not parts:
        return None
    return f"outside the data law {law.name!r} was fitted on: {'; '.join(parts)}; an extrapolation."


def _repetition_warnings(epochs: float, fraction: float, law: Law) -> list[str]:
    """Muennighoff et al. 2023 (sec. 5-6) and Xue et al. 2023 in words."""
    worth = f"repeated tokens are worth D'/D = {fraction:.2f} of fresh ones"
    if not isinstance(law, DataConstrainedLaw):
        worth += " (Muennighoff's R_D* decay)"
    if epochs > EPOCHS_WORTHLESS:
        return [
            f"{epochs:.1f} epochs: beyond ~16 epochs (R_D* ≈ 15.4) more repetition is nearly worthless "
            f"(Muennighoff et al. 2023); {worth}. Dropout (0.1, possibly switched on only late in "
            "training; Xue et al. 2023) is the known remedy; better, get more unique data or train a "
            "smaller model."
        ]
    if epochs > EPOCHS_FADE:
        return [
            f"{epochs:.1f} epochs: beyond ~4 epochs returns fade (Muennighoff et al. 2023); {worth}. "
            "Up to ~4 epochs repeated data is about as good as fresh."
        ]
    return []


def compare(*, laws: list[str | Law] | None = None, **kwargs: Any) -> Comparison:
    """:func:`plan` under every preset (or ``laws``); a law that cannot answer is skipped with its reason."""
    if "law" in kwargs:
        raise InvalidInputError("compare() takes laws=[...], not law=.")
    chosen = list_laws() if laws is None else [get_law(x) for x in laws]
    plans, skipped = [], []
    for law in chosen:
        try:
            plans.append(plan(law=law, **kwargs))
        except InvalidInputError as exc:
            if "give exactly one budget" in str(exc) or "give a budget" in str(exc):
                raise
            skipped.append((law.name, str(exc)))
    return Comparison(plans=tuple(plans), skipped=tuple(skipped))


# --------------------------------------------------------------------------------------------------------
# Chinchilla Table 3
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableRow:
    """One row of a Table-3-style table: a model size and its compute-optimal tokens and FLOPs."""

    #: The size as given (total parameters), and in the law's convention.
    n_params: float
    n_params_law: float
    flops: float
    n_tokens: float
    loss: float | None

    @property
    def gopher_units(self) -> float:
        """FLOPs as a multiple of Gopher's budget (5.76e23), the unit of Table 3."""
        return self.flops / GOPHER_FLOPS

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params_law

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_params": self.n_params,
            "n_params_law": self.n_params_law,
            "flops": self.flops,
            "gopher_units": self.gopher_units,
            "n_tokens": self.n_tokens,
            "tokens_per_param": self.tokens_per_param,
            "loss": self.loss,
        }


@dataclass(frozen=True)
class OptimalTable:
    """Compute-optimal FLOPs and tokens for a list of model sizes under one law."""

    law: str
    param_convention: str
    rows: tuple[TableRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "param_convention": self.param_convention,
            "rows": [r.to_dict() for r in self.rows],
        }


def optimal_table(
    n_params: tuple[float, ...] | list[float] = TABLE3_PARAMS,
    *,
    law: str | Law = "chinchilla-a1",
    vocab_size: int = 32_000,
) -> OptimalTable:
    """Chinchilla Table 3 (Hoffmann et al. 2022): FLOPs and tokens for each model size.

    The default law, ``chinchilla-a1`` (Approach 1, a = b = 0.50 from Table 2), is within 5% of every row of
    Table 3 but 67B (printed 1.5T tokens where 6ND gives 1.43T). Sizes count all parameters; a non-embedding
    law converts them.
    """
    the_law = get_law(law)
    sizes = list(n_params)
    if not sizes:
        raise InvalidInputError("n_params is empty; give at least one model size.")
    rows = []
    for i, n in enumerate(sizes):
        n = _checks.positive(f"n_params[{i}]", n)
        alloc = the_law.optimal_tokens(_law_params(the_law, n, vocab_size))
        rows.append(
            TableRow(
                n_params=n,
                n_params_law=float(alloc.n_params),
                flops=float(alloc.flops),
                n_tokens=float(alloc.n_tokens),
                loss=None if alloc.loss is None else float(alloc.loss),
            )
        )
    return OptimalTable(the_law.name, the_law.param_convention, tuple(rows))


# --------------------------------------------------------------------------------------------------------
# repeated data
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RepeatRow:
    """Training ``n_params`` for ``epochs`` passes over the unique tokens."""

    epochs: float
    n_tokens: float
    effective_tokens: float
    unique_tokens: float
    loss: float | None
    loss_fresh: float | None

    @property
    def effective_fraction(self) -> float:
        """D'/D: 0.984 at 2 epochs, 0.931 at 4, 0.781 at 10, 0.661 at 16, 0.379 at 40."""
        return self.effective_tokens / self.n_tokens

    @property
    def effective_multiple(self) -> float:
        """D'/U: how many fresh passes the repeated data is worth; caps at 1 + R_D* = 16.39."""
        return self.effective_tokens / min(self.unique_tokens, self.n_tokens)

    @property
    def loss_change(self) -> float | None:
        """Predicted loss with repeated data minus with the same number of fresh tokens."""
        if self.loss is None or self.loss_fresh is None:
            return None
        return self.loss - self.loss_fresh

    @property
    def advice(self) -> str:
        if self.epochs <= 1.0:
            return "fresh data"
        if self.epochs <= EPOCHS_FADE:
            return "about as good as fresh"
        if self.epochs <= EPOCHS_WORTHLESS:
            return "returns fade"
        return "nearly worthless: more data, dropout"

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
            "advice": self.advice,
        }


@dataclass(frozen=True)
class RepeatTable:
    """Value of repeated data for ``unique_tokens`` and a model of ``n_params`` (total)."""

    law: str
    unique_tokens: float
    n_params: float
    #: True when n_params was not given: the compute-optimal size for one pass over the unique tokens.
    n_params_assumed: bool
    rows: tuple[RepeatRow, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "unique_tokens": self.unique_tokens,
            "n_params": self.n_params,
            "n_params_assumed": self.n_params_assumed,
            "rows": [r.to_dict() for r in self.rows],
            "warnings": list(self.warnings),
        }


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
    pass over ``unique_tokens``. With the ``muennighoff2023`` law the loss uses N' and D' (eqs. 5-6); with
    another law that predicts loss it is evaluated at D' (the R_D* decay), and an allocation-only law gives
    no loss. D' always uses Muennighoff's R_D* = 15.39.
    """
    U = _checks.positive("unique_tokens", unique_tokens)
    epoch_list = list(epochs)
    if not epoch_list:
        raise InvalidInputError("epochs is empty; give epoch counts like 1,2,4,16.")
    epoch_list = [_checks.positive(f"epochs[{i}]", e) for i, e in enumerate(epoch_list)]
    the_law = get_law(law)
    muen = _muennighoff()
    assumed = n_params is None
    if assumed:
        n_law = float(the_law.optimal_params(U).n_params)
        n_total, _ = _both_conventions(the_law, n_law, vocab_size)
    else:
        n_total = _checks.positive("n_params", n_params)
        n_law = _law_params(the_law, n_total, vocab_size)
    rows = []
    for e in sorted(epoch_list):
        D = U * e
        d_eff = float(muen.effective_tokens(D, U))
        loss = loss_fresh = None
        if isinstance(the_law, DataConstrainedLaw):
            # Fresh = the same N and D with all D tokens unique (U = D): isolates the repetition.
            loss, loss_fresh = float(the_law.loss(n_law, D, U)), float(the_law.loss(n_law, D, D))
        elif the_law.has_loss:
            loss, loss_fresh = float(the_law.loss(n_law, d_eff)), float(the_law.loss(n_law, D))
        rows.append(RepeatRow(e, D, d_eff, U, loss, loss_fresh))
    warnings = []
    top = max(epoch_list)
    if top > EPOCHS_FADE:
        warnings += _repetition_warnings(top, rows[-1].effective_fraction, the_law)
    extrapolation = _extrapolation_warning(the_law, [(n_law, r.n_tokens) for r in rows])
    if extrapolation:
        warnings.append(extrapolation)
    return RepeatTable(the_law.name, U, n_total, assumed, tuple(rows), tuple(warnings))
