"""The named steps :func:`tokenplan.plan.plan` runs, in order: validate the options, allocate the budget,
assess repetition, choose the batch, size the hardware, collect warnings and advice.

Each step is a small function of plain values, testable alone; none prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import tokenplan.laws.repetition as repeated_data
import tokenplan.plan.advice as adv
from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN, conversion_floor, convert_params
from tokenplan.hardware import Accelerator, get_accelerator
from tokenplan.laws import Allocation, DataConstrainedAllocation, DataConstrainedLaw, Law, get_law
from tokenplan.laws.prediction import check_level
from tokenplan.laws.presets import LOSS_SCALES
from tokenplan.plan.batch import BATCH_RULES, RULE_NAMES, BatchPlan, batch_plan
from tokenplan.plan.result import BYTES_PER_PARAM, Hardware, Memory, RunVsOptimum
from tokenplan.plan.smallest import below_one, smallest_budget
from tokenplan.units import format_count, format_epochs, format_exact
from tokenplan.units import format_quantity as fq

__all__ = [
    "RUN",
    "Options",
    "allocate",
    "both_conventions",
    "choose_batch",
    "convention_warning",
    "conversion_warning",
    "convertible",
    "data_constrained_warnings",
    "law_params",
    "loss_scale_notes",
    "micro_batch_warning",
    "muennighoff",
    "plan_warnings",
    "repetition_law",
    "saturation_warning",
    "size_hardware",
    "usable_allocation",
    "validate",
    "versus_optimum",
    "versus_optimum_warnings",
]

DEFAULT_GPU = "H100"
MODES = ("flops", "gpu_hours", "days", "n_params", "n_tokens", "target_loss")
# A run of the user's own: a model size with its token count (Llama-3-8B on 15T tokens), not a budget to split.
RUN = "run"
RUN_BUDGET = ("n_params", "n_tokens")
# The budgets that are compute on hardware: FLOPs = GPU-hours x 3600 x peak FLOP/s x MFU.
COMPUTE_MODES = ("flops", "gpu_hours", "days")
HOURS_PER_DAY = 24.0
# What a run's warnings call the optima it is set against (``plan --compare`` leaves their warning to its
# one extrapolation line: the split is at the run's FLOPs, the cheaper optimum below them).
RUN_OPTIMA = ("compute-optimal split", "cheapest optimum at its loss")


@dataclass(frozen=True)
class Options:
    """Everything :func:`plan` was given, validated: one budget, the law, the hardware and the extras."""

    mode: str
    budget: float
    law: Law
    gpu: str | None
    peak_flops: float
    device_bytes: float | None
    hardware_source: str
    mfu: float
    gpus: int | None
    unique_tokens: float | None
    inference_tokens: float | None
    seq_len: int
    price_per_gpu_hour: float | None
    vocab_size: int
    batch_rule: str
    interval: float
    #: The token count of a run of the user's own (mode "run", ``budget`` its model size), else None.
    run_tokens: float | None = None


def _number(name: str, value: Any) -> float:
    """A finite number > 0; booleans are refused (``True`` is not a budget)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{name}={value!r} is not a number.", param=name)
    return _checks.quantity(name, value)


def _optional(name: str, value: Any) -> float | None:
    return None if value is None else _number(name, value)


# What a value under one would count: a model size or token count below one names no model or data.
_COUNTED = {"n_params": "parameter", "n_tokens": "token", "unique_tokens": "unique token"}
_COUNTED |= {"inference_tokens": "inference token"}


def _count(name: str, value: Any) -> float:
    """A count (parameters, tokens): a number, at least one."""
    return _checks.at_least_one(name, _number(name, value), _COUNTED[name])


def _optional_count(name: str, value: Any) -> float | None:
    return None if value is None else _count(name, value)


def _refuse_below_one_flop_per_second(peak: float, mfu: float, param: str) -> None:
    """Peak x MFU under 1 FLOP/s is a typo (an exponent's sign), not hardware: GPU-hours would come out
    past float range, or a GPU-hours budget would plan a model of a few parameters."""
    if peak * mfu < 1.0:
        raise InvalidInputError(
            f"`peak_flops` x `mfu` = {format_exact(peak)} x {format_exact(mfu)} = {peak * mfu:.3g} FLOP/s is less than 1 FLOP/s; "
            "give the accelerator's peak in FLOP/s (an H100's dense BF16 is 9.89e14) or `gpu` NAME.",
            param=param,
        )


def budget_mode(values: dict[str, Any]) -> str:
    """The one budget given, by name, or "run" for ``n_params`` with ``n_tokens`` (a run of the user's own);
    raises naming the flags when none or several other budgets are given."""
    given = [k for k in MODES if values.get(k) is not None]
    if tuple(given) == RUN_BUDGET:
        return RUN
    if len(given) != 1:
        if not given:
            names = ", ".join(f"`{k}`" for k in MODES)
            raise InvalidInputError(f"give a budget: one of {names}.", param="flops")
        raise InvalidInputError(
            f"give exactly one budget; got {' and '.join(f'`{k}`' for k in given)} (they conflict). "
            "Only `n_params` with `n_tokens` go together, as a run of your own.",
            param=given[1],
        )
    return given[0]


def hardware_spec(
    gpu: str | Accelerator | None, peak_flops: Any
) -> tuple[str | None, float, float | None, str]:
    """(name, peak FLOP/s, memory bytes or None, source of the figures)."""
    if gpu is not None and peak_flops is not None:
        raise InvalidInputError("give `gpu` NAME or `peak_flops`, not both.", param="peak_flops")
    if peak_flops is not None:
        return None, _number("peak_flops", peak_flops), None, "peak FLOP/s given by the user"
    acc = gpu if isinstance(gpu, Accelerator) else get_accelerator(gpu or DEFAULT_GPU)
    return acc.name, acc.peak_flops, acc.memory_bytes, acc.source


def _hardware_given(mode: str, kw: dict[str, Any]) -> None:
    """A GPU-hours or wall-clock budget is compute only on named hardware; days also need the GPU count."""
    if mode in ("gpu_hours", "days") and kw["gpu"] is None and kw["peak_flops"] is None:
        raise InvalidInputError(
            f"`{mode}` needs the hardware: add `gpu` NAME (A100, H100, H200, B200, MI300X, L40S, "
            "RTX4090) or `peak_flops` FLOP/s.",
            param="gpu",
        )
    if mode == "days" and kw["gpus"] is None:
        raise InvalidInputError(
            "`days` needs the GPU count: add `gpus` N (the budget is then days x 24 x N GPU-hours).",
            param="gpus",
        )


def budget_gpu_hours(opts: Options) -> float | None:
    """The GPU-hours of a GPU-hours or wall-clock budget (days x 24 x GPUs); None for the other budgets."""
    if opts.mode == "gpu_hours":
        return opts.budget
    if opts.mode == "days":
        assert opts.gpus is not None  # validate() refuses days without gpus
        return opts.budget * HOURS_PER_DAY * opts.gpus
    return None


def budget_derivation(opts: Options) -> str | None:
    """A wall-clock budget in words: '21 days x 24 h x 512 GPUs = 258,048 GPU-hours' (None otherwise)."""
    if opts.mode != "days":
        return None
    return (
        f"{format_exact(opts.budget)} days x 24 h x {opts.gpus:,} GPUs = {budget_gpu_hours(opts):,.6g} GPU-hours "
        f"(derived from the wall-clock budget: `days` {format_exact(opts.budget)}, `gpus` {opts.gpus:,})"
    )


def validate(**kw: Any) -> Options:
    """Check every option before any work: a bad value raises naming its parameter."""
    mode = budget_mode(kw)
    name = "n_params" if mode == RUN else mode  # a run's budget is its model
    budget = _count(name, kw[name]) if name in _COUNTED else _number(name, kw[name])
    law = get_law(kw["law"])
    mfu = _checks.in_range("mfu", kw["mfu"], 0.0, 1.0, inclusive="high")  # a share of peak, not 0
    _hardware_given(mode, kw)
    gpu, peak, device_bytes, source = hardware_spec(kw["gpu"], kw["peak_flops"])
    _refuse_below_one_flop_per_second(peak, mfu, "peak_flops" if gpu is None else "mfu")
    return Options(
        mode=mode,
        budget=budget,
        law=law,
        gpu=gpu,
        peak_flops=peak,
        device_bytes=device_bytes,
        hardware_source=source,
        mfu=mfu,
        gpus=None if kw["gpus"] is None else _checks.positive_int("gpus", kw["gpus"]),
        unique_tokens=_optional_count("unique_tokens", kw["unique_tokens"]),
        inference_tokens=_optional_count("inference_tokens", kw["inference_tokens"]),
        seq_len=_checks.positive_int("seq_len", kw["seq_len"]),
        price_per_gpu_hour=_optional("price_per_gpu_hour", kw["price_per_gpu_hour"]),
        vocab_size=_checks.positive_int("vocab_size", kw["vocab_size"]),
        batch_rule=_checks.choice("batch rule", kw["batch_rule"], BATCH_RULES, param="batch_rule"),
        interval=check_level(kw.get("interval", 0.8)),
        run_tokens=_count("n_tokens", kw["n_tokens"]) if mode == RUN else None,
    )


# --- allocation ---------------------------------------------------------------------------------------------
def muennighoff() -> DataConstrainedLaw:
    law = get_law("muennighoff2023")
    assert isinstance(law, DataConstrainedLaw)  # the preset's type, not user input
    return law


def law_params(
    law: Law, n_params_total: float, vocab_size: int, *, param: str = "n_params"
) -> float:
    """A total parameter count expressed in the law's convention; refused below the conversion's floor,
    where a non-embedding law would be handed a meaningless count."""
    if law.param_convention == "total":
        return n_params_total
    if not convertible(n_params_total, vocab_size):
        raise InvalidInputError(
            f"{param}={format_exact(n_params_total)} is {_below_floor(vocab_size)}; law {law.name!r} counts "
            "non-embedding parameters, so give a larger model or a law that counts all parameters "
            "(epoch2024).",
            param=param,
        )
    return convert_params(n_params_total, to=law.param_convention, vocab_size=vocab_size)


def convertible(n_params_total: float, vocab_size: int) -> bool:
    """Whether a model of this total size has a non-embedding count (at least one layer,
    :func:`conversion_floor`)."""
    return n_params_total >= conversion_floor(vocab_size=vocab_size)[1]


def _below_floor(vocab_size: int) -> str:
    n_nonemb, n_total = conversion_floor(vocab_size=vocab_size)
    return (
        f"below the smallest model the total <-> non-embedding conversion describes: {fq(n_total)} "
        f"parameters ({fq(n_nonemb)} non-embedding), one layer at Pearce & Song 2024's d_model = 39.2 x "
        f"n_layers with a {vocab_size:,}-token vocabulary"
    )


# What a plan computes from a model below the conversion floor (conversion_warning's default).
_PLAN_MEANS_NOTHING = (
    "the plan's other-convention parameter count, and the DeepSeek batch and learning rate computed from "
    "the non-embedding one, mean nothing"
)


def conversion_warning(
    n_params_total: float,
    vocab_size: int,
    *,
    law: Law | None = None,
    n_params_law: float | None = None,
    means_nothing: str = _PLAN_MEANS_NOTHING,
) -> str | None:
    """A plan (or a ``repeat`` table) whose model is too small for the conversion: ``means_nothing`` says
    what of it then means nothing (a plan's other-convention count, batch and learning rate). Under a
    ``law`` counting non-embedding parameters the model is quoted as it counts it (``n_params_law``), not
    by its converted total."""
    if convertible(n_params_total, vocab_size):
        return None
    model = format_count(n_params_total, "parameter")
    if law is not None and law.param_convention == "non-embedding" and n_params_law is not None:
        model = f"{fq(n_params_law)} non-embedding parameters (law {law.name!r} counts them)"
    return (
        f"{model} is {_below_floor(vocab_size)}: {means_nothing}. Count a real shape with "
        "`tokenplan flops`."
    )


def both_conventions(law: Law, n_params: float, vocab_size: int) -> tuple[float, float]:
    """(total, non-embedding) for ``n_params`` counted in the law's convention."""
    if law.param_convention == "total":
        return n_params, convert_params(n_params, to="non-embedding", vocab_size=vocab_size)
    return convert_params(n_params, to="total", vocab_size=vocab_size), n_params


def allocate(opts: Options) -> Allocation:
    """(N, D, C) for the budget under the law; with the data-constrained law, FLOPs and unique tokens, the
    data-constrained optimum (Muennighoff et al. 2023 sec. 5). A budget whose optimum is under one
    parameter or one token is refused, naming the smallest budget that plans a whole model. A run of your
    own (mode "run") is taken as given, under any law; a budget needs the law's optimum."""
    if opts.mode != RUN:
        opts.law.require_optimum("law")
    alloc = usable_allocation(opts.law, lambda: _allocate(opts), _quoted(opts))
    if opts.mode == RUN:
        _refuse_run_below_one(opts, alloc)
    elif below_one(alloc):
        _refuse_below_one(opts, alloc)
    return alloc


def _quoted(opts: Options) -> str:
    """The budget as a message quotes it: "`flops` 1e+13" (the CLI gives the flag)."""
    if opts.mode == RUN:
        return f"`n_params` {format_exact(opts.budget)} with `n_tokens` {format_exact(opts.run_tokens)}"
    return f"`{opts.mode}` {format_exact(opts.budget)}"


def _refuse_run_below_one(opts: Options, alloc: Allocation) -> None:
    """A run of the user's own is planned as given, so nothing is bisected: under one parameter or one
    token it is refused naming the argument."""
    if float(alloc.n_params) < 1.0:
        raise InvalidInputError(
            f"`n_params` {format_exact(opts.budget)} is less than one parameter; give at least 1.",
            param="n_params",
        )
    if float(alloc.n_tokens) < 1.0:
        raise InvalidInputError(
            f"`n_tokens` {format_exact(opts.run_tokens)} is less than one token; give at least 1.",
            param="n_tokens",
        )


def _counted(x: float, noun: str) -> str:
    """'1 token', '3.49 tokens', '4.77e-02 parameters': the noun singular only when the number reads 1."""
    shown = fq(x)
    return f"{shown} {noun}" if shown == "1" else f"{shown} {noun}s"


def _refuse_below_one(opts: Options, alloc: Allocation) -> None:
    """Kaplan's law plans 2.2e-06 parameters on 1 FLOP, epoch2024 0.048 on 3.5 tokens: no model. Raise
    naming the smallest budget (the highest target loss) whose optimum has one parameter and one token,
    computed from the law (:func:`tokenplan.plan.smallest.smallest_budget`)."""
    target = opts.mode == "target_loss"
    smallest = smallest_budget(
        lambda x: _allocate(replace(opts, budget=x)),
        opts.budget,
        floor=opts.law.irreducible_loss if target else None,
    )
    N, D = float(alloc.n_params), float(alloc.n_tokens)
    count = "parameter" if opts.law.param_convention == "total" else "non-embedding parameter"
    what = f"{_counted(N, count)} on {_counted(D, 'token')}"
    if smallest is None:
        _no_usable_plan(
            opts.law, _quoted(opts), f"it allocates {what}, and no budget up to 1e+30 plans more"
        )
    less = "one parameter" if N < 1.0 else "one token"
    edge, value = ("highest", f"{smallest:.3f}") if target else ("smallest", f"{smallest:.3g}")
    raise InvalidInputError(
        f"{_quoted(opts)} plans less than {less} under law {opts.law.name!r} ({what}); the {edge} "
        f"`{opts.mode}` that plans at least one parameter and one token is {value}.",
        param=opts.mode,
    )


def usable_allocation(law: Law, make, budget: str) -> Allocation:
    """``make()``, refused with the law's name when floating point cannot carry it (N/D or D/N out of
    range, or an overflow): a fitted law whose N or D term vanished gives such numbers (N_opt ~1e-157 on
    ~1e168 tokens), and every later step would compute nonsense from them or fail. ``budget`` is the
    quoted argument and value the message names ("`flops` 1e+13"; the CLI gives the flag).
    """
    try:
        alloc = make()
        N, D, C = float(alloc.n_params), float(alloc.n_tokens), float(alloc.flops)
        usable = all(math.isfinite(v) and v > 0 for v in (N, D, C))  # before N / D: 0 divides
        usable = usable and all(math.isfinite(v) and v > 0 for v in (N / D, D / N))
    except OverflowError:
        usable, N = False, math.nan
    if not usable:
        what = (
            f"it allocates {N:.3g} parameters on {D:.3g} tokens, beyond what can be computed with"
            if math.isfinite(N)
            else "its allocation overflows"
        )
        _no_usable_plan(law, budget, what)
    return alloc


def _no_usable_plan(law: Law, budget: str, what: str) -> None:
    """Raise: a fitted law whose N or D term vanished plans nothing (``what`` says what it allocates)."""
    raise InvalidInputError(
        f"law {law.name!r} has no usable plan for {budget}: {what}, a sign that its fit did not pin "
        "the N and D terms down (see `tokenplan fit`'s warnings); refit on runs that bracket the "
        "optimum at several budgets, or plan with a preset (`tokenplan laws`).",
        param="law",
    )


def _allocate(opts: Options) -> Allocation:
    law = opts.law
    if opts.mode in COMPUTE_MODES:
        hours = budget_gpu_hours(opts)
        flops = opts.budget if hours is None else hours * 3600.0 * opts.peak_flops * opts.mfu
        if isinstance(law, DataConstrainedLaw) and opts.unique_tokens is not None:
            return law.optimal_constrained(flops, opts.unique_tokens)
        return law.optimal(flops)
    if opts.mode == RUN:
        assert opts.run_tokens is not None  # validate() sets it for a run
        return law.allocation(law_params(law, opts.budget, opts.vocab_size), opts.run_tokens)
    if opts.mode == "n_params":
        return law.optimal_tokens(law_params(law, opts.budget, opts.vocab_size))
    if opts.mode == "n_tokens":
        return law.optimal_params(opts.budget)
    return law.optimal_for_loss(opts.budget)


def versus_optimum(opts: Options, alloc: Allocation) -> RunVsOptimum | None:
    """Mode "run": the law's compute-optimal split of the run's FLOPs, and the cheapest optimum reaching the
    run's fresh-data loss (None where the law has no loss or cannot reach it, or where the split is under one
    parameter or token); None for the other modes and for a law without an optimum (a fit's alpha <= 0)."""
    law = opts.law
    if opts.mode != RUN or not law.has_optimum:
        return None
    flops = float(alloc.flops)
    optimum = usable_allocation(law, lambda: law.optimal(flops), _quoted(opts))
    same_loss = None
    if law.has_loss:
        try:
            same_loss = law.optimal_for_loss(float(law.loss(alloc.n_params, alloc.n_tokens)))
        except InvalidInputError:  # beyond what the law's optimum can reach (or below one layer)
            same_loss = None
        if same_loss is not None and below_one(same_loss):  # e.g. 2M parameters on 10 tokens
            same_loss = None
    return RunVsOptimum(flops, float(alloc.n_params), float(alloc.n_tokens), optimum, same_loss)


def repetition_law(law: Law) -> DataConstrainedLaw:
    """The law that prices repetition in a plan: the plan's own when it models it (the preset or a law
    fitted with ``tokenplan fit --law data-constrained``), else Muennighoff et al. 2023's C4 fit."""
    return law if isinstance(law, DataConstrainedLaw) else muennighoff()


MUENNIGHOFF_EQ = "Muennighoff et al. 2023, Scaling Data-Constrained Language Models"


def effective_tokens_source(law: Law) -> str:
    """Where D' comes from, for ``plan`` and ``repeat`` alike: eq. 5 with the R_D* of
    :func:`repetition_law`, Muennighoff's C4 fit or the law of one's own that priced it (a fitted
    R_D* = 5 gives D'/D = 0.953 at 2 epochs, not the C4 fit's 0.984)."""
    decay = repetition_law(law)
    whose = "" if decay == muennighoff() else f"{decay.citation}: "
    return f"{whose}{MUENNIGHOFF_EQ}, eq. 5 (R_D* = {decay.R_D_star:.4g})"


def data_constrained_optima(
    law: DataConstrainedLaw, alloc: Allocation, flops: float, unique_tokens: float
) -> tuple[DataConstrainedAllocation, Allocation]:
    """``law``'s data-constrained optimum for these FLOPs and unique tokens (the plan itself when it is
    one), and the same law's optimum with every token unique."""
    dc = alloc if isinstance(alloc, DataConstrainedAllocation) else None
    return dc or law.optimal_constrained(flops, unique_tokens), law.optimal(flops)


# --- batch and hardware -------------------------------------------------------------------------------------
def choose_batch(
    opts: Options,
    *,
    n_params_non_embedding: float,
    n_tokens: float,
    loss: float | None,
    loss_law: str = "kaplan",
) -> BatchPlan:
    """The batch (DeepSeek's B_opt by default, Kaplan's B_crit by option) and the steps it takes.

    Kaplan's B_crit needs a loss: the plan's fresh-data loss, or Kaplan's own L(N, D) for a law without one.
    """
    kaplan = get_law("kaplan")
    at_loss = loss if loss is not None else float(kaplan.loss(n_params_non_embedding, n_tokens))
    return batch_plan(
        rule=opts.batch_rule,
        n_params_non_embedding=n_params_non_embedding,
        n_tokens=n_tokens,
        critical_batch_tokens=float(kaplan.critical_batch(at_loss)),
        batch_loss=at_loss,
        seq_len=opts.seq_len,
        loss_law="kaplan" if loss is None else loss_law,
    )


def size_hardware(opts: Options, *, flops: float, n_params_total: float) -> tuple[Hardware, Memory]:
    """GPU-hours at the MFU; without ``gpus``, the fewest GPUs whose memory holds the training state."""
    gpu_hours = flops / (opts.peak_flops * opts.mfu) / 3600.0
    gpus = opts.gpus
    if gpus is None:
        state = BYTES_PER_PARAM * n_params_total
        gpus = 1 if opts.device_bytes is None else max(1, math.ceil(state / opts.device_bytes))
    hw = Hardware(
        gpu=opts.gpu,
        peak_flops=opts.peak_flops,
        mfu=opts.mfu,
        gpus=gpus,
        gpus_assumed=opts.gpus is None,
        gpu_hours=gpu_hours,
        price_per_gpu_hour=opts.price_per_gpu_hour,
        source=opts.hardware_source,
    )
    return hw, Memory(n_params=n_params_total, gpus=gpus, device_bytes=opts.device_bytes)


# --- warnings ---------------------------------------------------------------------------------------------
def last_epoch_worth(rep: adv.Repetition, law: Law) -> float:
    """What one more repeated token is worth against a fresh one at the plan's end (dD'/dD, eq. 5 of
    Muennighoff et al. 2023): with the law's own R_D* when it has one, else Muennighoff's 15.39."""
    return repeated_data.last_epoch_worth(rep.epochs, repetition_law(law).R_D_star)


def repetition_warning(rep: adv.Repetition, law: Law) -> str | None:
    """Muennighoff et al. 2023 (sec. 5-6) in words, beyond ~4 epochs: the text ``predict`` gives too."""
    own = law.R_D_star if isinstance(law, DataConstrainedLaw) else None
    return repeated_data.epochs_warning(rep.epochs, rep.effective_fraction, own)


# What caps the loss on fixed unique data: D' alone (eq. 5) for a law without a repetition term, N' too
# (eq. 6) for the data-constrained law.
_FLOOR_EQ = {False: "eq. 5", True: "eqs. 5-6"}


def repeated_loss_floor(law: Law, unique_tokens: float) -> float:
    """The lowest loss ``law`` gives on ``unique_tokens`` unique tokens however large the budget: D' never
    exceeds (1 + R_D*) U (Muennighoff et al. 2023, eq. 5), and the data-constrained law caps N' too."""
    if isinstance(law, DataConstrainedLaw):
        return float(law.loss_floor(unique_tokens))
    return float(law.loss(1e30, (1.0 + muennighoff().R_D_star) * unique_tokens))


def _target_missed(opts: Options, rep: adv.Repetition) -> str | None:
    """--target-loss plans the compute-optimal N, D for fresh data; repeating the unique tokens adds a
    penalty on top, so the plan can end above the target. Say so rather than print a loss that misses,
    and whether a larger budget can help at all (not when the target is below the unique data's floor:
    ``--target-loss 2 --unique-tokens 1B`` cannot go below 2.1990 under epoch2024)."""
    if opts.mode != "target_loss" or rep.loss is None or rep.loss <= opts.budget * (1 + 1e-9):
        return None
    floor = repeated_loss_floor(opts.law, rep.unique_tokens)
    fix = (
        "more unique tokens or a larger budget (`flops`) close the gap."
        if floor < opts.budget
        else f"more unique tokens close the gap, a larger budget does not: on "
        f"{format_count(rep.unique_tokens, 'unique token')} law {opts.law.name!r} stays above {floor:.4f} however long it trains (D' <= "
        f"(1 + R_D*) U, Muennighoff et al. 2023, {_FLOOR_EQ[isinstance(opts.law, DataConstrainedLaw)]})."
    )
    return (
        f"`target_loss` {format_exact(opts.budget)} is not reached: the plan reaches it on fresh data, but repeating "
        f"{format_count(rep.unique_tokens, 'unique token')} {format_epochs(rep.epochs, 1)} times adds "
        f"{rep.loss_change:+.4f}, so its loss is {rep.loss:.4f}; {fix}"
    )


# tokenplan's threshold: a data-constrained optimum within 0.1% of the loss its unique tokens allow is
# "saturated": more compute cannot buy a visible improvement.
SATURATED = 1e-3


def _flops_reaching(
    law: DataConstrainedLaw, unique_tokens: float, target: float, flops: float
) -> float:
    """The smallest budget whose data-constrained optimum reaches ``target`` (bisection in log C: the
    optimum's loss only falls as the budget grows). Below one compute-optimal pass over the unique tokens
    the data is not the constraint, so the search starts there."""
    lo = math.log(FLOPS_PER_PARAM_TOKEN * float(law.unique_params(unique_tokens)) * unique_tokens)
    hi = math.log(flops)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(law.optimal_constrained(math.exp(mid), unique_tokens).loss) <= target:
            hi = mid
        else:
            lo = mid
    return math.exp(hi)


def saturation_warning(law: DataConstrainedLaw, dc: DataConstrainedAllocation | None) -> str | None:
    """Muennighoff et al. 2023's loss levels off as the budget grows on fixed unique data (eqs. 5-6;
    :meth:`DataConstrainedLaw.loss_floor`). On that plateau the optimum's size is arbitrary (1e24 FLOPs on
    1B unique tokens: 309B params, at the loss 1e22 FLOPs reach), so say what the compute buys."""
    if dc is None or not math.isfinite(dc.unique_tokens):
        return None
    U, L = float(dc.unique_tokens), float(dc.loss)
    floor = float(law.loss_floor(U))
    if L > floor * (1.0 + SATURATED):
        return None
    enough = min(
        _flops_reaching(law, U, floor * (1.0 + SATURATED), float(dc.flops)), float(dc.flops)
    )
    gap = max(L / floor - 1.0, 0.0)
    above = "is at that floor" if gap < 1e-5 else f"is {100 * gap:.2g}% above that floor"
    return (
        f"{format_count(U, 'unique token')} {'caps' if fq(U) == '1' else 'cap'} the loss of law "
        f"'{law.name}' at {floor:.4f}: D' never exceeds (1 + R_D*) U = {fq((1.0 + law.R_D_star) * U)} and parameters beyond "
        f"{fq(float(law.unique_params(U)))} lose value the same way (Muennighoff et al. 2023, eqs. 5-6). "
        f"The data-constrained optimum of {dc.flops:.3g} FLOPs ({fq(float(dc.n_params))} params on "
        f"{fq(float(dc.n_tokens))} tokens, loss {L:.4f}) {above}, and {enough:.3g} FLOPs ({100 * enough / float(dc.flops):.2g}% of the budget) already get "
        f"within {100 * SATURATED:g}% of it: the rest of the compute buys almost nothing, and the model "
        "size on this plateau is arbitrary. Get more unique data, or spend less."
    )


def micro_batch_warning(batch: BatchPlan, gpus: int) -> str | None:
    """Data parallelism splits a step's sequences over the GPUs: below one sequence per GPU the batch rule
    and the GPU count cannot both hold."""
    per_gpu = batch.batch_sequences / gpus
    if per_gpu >= 1.0:
        return None
    return (
        f"the batch of {batch.batch_sequences:,} sequences ({fq(batch.batch_tokens)} tokens, "
        f"{RULE_NAMES[batch.rule]}) over {gpus:,} GPUs is {per_gpu:.2g} sequences per GPU per step: "
        f"data parallelism needs at least one; use at most {batch.batch_sequences:,} GPUs (`gpus`), "
        "a larger batch, or tensor/pipeline parallelism (not modelled here)."
    )


def overfit_warning(
    opts: Options, rep: adv.Repetition | None, n_params_non_embedding: float
) -> str | None:
    """Kaplan's overfitting bound (eq. 4.4), on the dataset a model is trained on to convergence: it matters
    only when tokens repeat (a single pass over fresh data cannot overfit). Where the plan is a
    data-constrained law's own optimum, which already prices the repeats, the warning says the two papers
    differ instead of telling that optimum to use a smaller model as if nothing had been priced."""
    if rep is None or rep.epochs <= 1.0:
        return None
    bound = float(get_law("kaplan").min_tokens_no_overfit(n_params_non_embedding))
    if rep.unique_tokens >= bound:
        return None
    law = opts.law
    fix = "use a smaller model or more data."
    if isinstance(law, DataConstrainedLaw) and opts.mode in COMPUTE_MODES:
        fix = (
            f"this model is the data-constrained optimum of law {law.name!r}, which already prices "
            "the repeats (Muennighoff et al. 2023, eqs. 5-6); the two papers differ here, and a "
            "smaller model or more data is the cautious choice."
        )
    return (
        f"{format_count(rep.unique_tokens, 'unique token')} is below Kaplan's overfitting bound "
        f"D ≳ 5e3·N^0.74 = {fq(bound)} for {fq(n_params_non_embedding)} non-embedding params "
        f"(Kaplan et al. 2020 eq. 4.4): repeated epochs may overfit; {fix}"
    )


def plan_warnings(
    opts: Options,
    *,
    rep: adv.Repetition | None,
    n_params_total: float,
    n_params_non_embedding: float,
    memory: Memory,
    batch: BatchPlan,
    outside: dict[str, dict[str, float]],
) -> tuple[str, ...]:
    """Every warning of a plan, in a stable order."""
    law = opts.law
    out = [
        conversion_warning(
            n_params_total, opts.vocab_size, law=law, n_params_law=n_params_non_embedding
        )
    ]
    if rep is not None:
        out.append(repetition_warning(rep, law))
        out.append(_target_missed(opts, rep))
    if memory.fits is False:
        need = math.ceil(memory.total_bytes / opts.device_bytes)
        out.append(
            f"weights, gradients and Adam states need {memory.per_gpu_bytes / 1e9:,.0f} GB per GPU on "
            f"{memory.gpus} {opts.gpu} ({opts.device_bytes / 1e9:.0f} GB each); use at least {need} GPUs "
            "with ZeRO-3 (activations come on top)."
        )
    out.append(micro_batch_warning(batch, memory.gpus))
    out.append(overfit_warning(opts, rep, n_params_non_embedding))
    out.append(adv.extrapolation_warning(law, outside))
    out.append(convention_warning(law))
    return tuple(w for w in out if w)


def inference_warnings(law: Law, inference) -> tuple[str, ...]:
    """The extrapolation warning of the inference-aware allocation, which trains a smaller model far
    longer than the plan (Sardana et al. 2024) and can leave the law's fitted data when the plan does not:
    ``plan --params 7B --inference-tokens 1e15`` asks for 22,775 tokens per parameter. (With unique tokens
    the allocation is sized for the loss with repetition, :func:`tokenplan.inference.inference_optimal`,
    so its saving is at the plan's own loss and needs no warning of its own.)"""
    if inference is None:
        return ()
    n, d = float(inference.n_params), float(inference.n_tokens)
    warning = adv.extrapolation_warning(law, adv.extrapolation(law, [(n, d)]))
    return (
        ()
        if warning is None
        else (f"the inference-aware allocation ({fq(n)} params on {fq(d)} tokens) is {warning}",)
    )


def data_constrained_warnings(
    law: Law, plan_point: tuple[float, float], dc: Allocation | None, fresh: Allocation | None
) -> tuple[str, ...]:
    """The extrapolation warning of the data-constrained optimum and its all-unique optimum, which ``plan
    --unique-tokens`` prints beside the plan: they are ``law``'s (muennighoff2023 under an epoch2024 plan)
    and other points than the plan's, so the plan's own warning does not cover them (``plan --flops 1e24
    --unique-tokens 100B`` printed 61.3B on 2.72T tokens of a law fitted up to 9.26e21 FLOPs unflagged)."""
    return shown_points_warning(
        law, plan_point, [("data-constrained optimum", dc), ("all-unique optimum", fresh)]
    )


def versus_optimum_warnings(
    law: Law, plan_point: tuple[float, float], vs: RunVsOptimum | None
) -> tuple[str, ...]:
    """The extrapolation warning of the optima a run of one's own is set against (``plan --params 8B
    --tokens 15T``: the compute-optimal split, 81B params, is 5x above the largest fitted model where the
    run's 8B is inside)."""
    if vs is None:
        return ()
    named = list(zip(RUN_OPTIMA, (vs.optimum, vs.same_loss)))
    return shown_points_warning(law, plan_point, named)


def shown_points_warning(
    law: Law, plan_point: tuple[float, float], named: list[tuple[str, Allocation | None]]
) -> tuple[str, ...]:
    """One extrapolation warning for the allocations a plan prints beside its own point (which the plan's
    own warning covers), each named with its size, or nothing when they are all inside ``law``'s data."""
    shown = [
        (what, float(a.n_params), float(a.n_tokens), getattr(a, "unique_tokens", None))
        for what, a in named
        if a is not None and (float(a.n_params), float(a.n_tokens)) != plan_point
    ]
    warning = adv.extrapolation_warning(law, adv.extrapolation(law, [p[1:] for p in shown]))
    if warning is None:
        return ()
    what = " and the ".join(f"{w} ({fq(n)} params on {fq(d)} tokens)" for w, n, d, _ in shown)
    return (f"the {what} {'are' if len(shown) > 1 else 'is'} {warning}",)


def loss_scale_notes(
    law: Law, dc: DataConstrainedAllocation | None, fresh: Allocation | None
) -> tuple[str, ...]:
    """A plan with unique tokens prints its data-constrained optimum beside its own loss. When that optimum
    is another law's (muennighoff2023, fitted on C4, beside an epoch2024 plan on MassiveText), its losses
    are on other data: said in ``plan --compare``'s words (:data:`tokenplan.laws.presets.LOSS_SCALES`)."""
    if dc is None or dc.law == law.name:
        return ()
    fresh_loss = "" if fresh is None or fresh.loss is None else f", all-unique {fresh.loss:.4f}"
    return (
        f"the data-constrained optimum's losses (loss {dc.loss:.4f}{fresh_loss}) are law {dc.law}'s, "
        f"the plan's are law {law.name}'s: {LOSS_SCALES}",
    )


def convention_warning(law: Law) -> str | None:
    """Kaplan's law counts non-embedding parameters and predicts WebText2 losses (REFERENCE sec. 3, 7)."""
    if law.param_convention != "non-embedding" or not law.has_loss:
        return None
    return (
        f"law {law.name!r} counts non-embedding parameters and its loss is on WebText2 (GPT-2 "
        "tokenizer): do not compare its loss with Chinchilla-family losses (MassiveText)."
    )
