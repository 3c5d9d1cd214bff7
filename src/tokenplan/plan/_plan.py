"""plan(): one budget in, one :class:`Plan` out, as a sequence of named steps (tokenplan.plan.steps);
compare(): the same budget under every preset."""

from __future__ import annotations

import inspect
from typing import Any

import tokenplan.plan.advice as adv
import tokenplan.plan.steps as steps
from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.hardware import Accelerator
from tokenplan.laws import Law, get_law, intervals, list_laws, published_intervals
from tokenplan.plan.result import Comparison, Plan

__all__ = ["DEFAULT_LAW", "compare", "plan"]

DEFAULT_LAW = "epoch2024"
MUENNIGHOFF_EQ = steps.MUENNIGHOFF_EQ


# long: over 60 lines only in its signature (17 keyword options) and docstring: the body is the named steps.
def plan(
    *,
    flops: float | None = None,
    gpu_hours: float | None = None,
    days: float | None = None,
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
    batch_rule: str = "deepseek",
    interval: float = 0.8,
) -> Plan:
    """Plan one training run from exactly one budget.

    Budgets: ``flops`` (training FLOPs); ``gpu_hours`` on ``gpu`` (a name from
    :data:`tokenplan.hardware.ACCELERATORS`) or a custom ``peak_flops`` at utilisation ``mfu``; ``days`` of
    wall-clock on ``gpus`` GPUs of that hardware ("512 H100s for 3 weeks": ``days=21, gpus=512, gpu="H100"``,
    days x 24 x gpus GPU-hours, the derivation in ``Plan.sources["budget"]``); ``n_params``
    (total parameters, the usual "7B": how many tokens should it see?); ``n_tokens`` (which model fits this
    data?); ``target_loss`` (the cheapest compute-optimal N, D reaching it); or ``n_params`` with
    ``n_tokens``, a run of your own ("Llama-3-8B on 15T tokens"), planned as given and set against the law's
    optima in ``Plan.vs_optimum`` (mode "run").

    ``law`` is a preset name, a saved law JSON path or a :class:`~tokenplan.laws.Law`. Kaplan's law counts
    non-embedding parameters: its ``n_params`` is in that convention and ``n_params_total`` converts it
    (``vocab_size`` sets the embedding size of the conversion). ``unique_tokens`` adds epochs, effective
    tokens, Muennighoff's data-constrained optimum and Xue et al.'s advice; with the ``muennighoff2023`` law
    and a FLOPs/GPU-hours budget the plan *is* that optimum. ``inference_tokens`` adds the inference-aware
    allocation. ``batch_rule`` is "deepseek" (DeepSeek LLM's B_opt and learning rate) or "kaplan"
    (Kaplan's B_crit). ``interval`` is the level of the intervals on the loss, N_opt and D_opt
    (``Plan.intervals``: the law's bootstrap draws, calibrated by a backtest when it has one; the same as
    ``Law.predict`` and ``Law.optimal_interval``); ``Plan.published_intervals`` lists the intervals a
    preset's paper prints for its constants. Hardware defaults to an H100; ``gpus`` defaults to the fewest GPUs that hold
    weights, gradients and Adam states with ZeRO-3.
    """
    opts = steps.validate(**{k: v for k, v in locals().items()})
    the_law = opts.law
    alloc = steps.allocate(opts)
    N, D, C = float(alloc.n_params), float(alloc.n_tokens), float(alloc.flops)
    n_total, n_nonemb = steps.both_conventions(the_law, N, opts.vocab_size)
    loss_fresh = float(the_law.loss(N, D)) if the_law.has_loss else None

    rep = dc = fresh = None
    if opts.unique_tokens is not None:
        rep = adv.assess_repetition(the_law, steps.muennighoff(), N, D, opts.unique_tokens)
        loss_fresh = rep.loss_fresh
        dc, fresh = steps.data_constrained_optima(
            steps.repetition_law(the_law), alloc, C, opts.unique_tokens
        )
    loss = loss_fresh if rep is None else rep.loss
    inference = None
    if opts.inference_tokens is not None:
        from tokenplan.inference import inference_optimal

        inference = inference_optimal(
            N, D, opts.inference_tokens, law=the_law, unique_tokens=opts.unique_tokens
        )

    batch = steps.choose_batch(
        opts, n_params_non_embedding=n_nonemb, n_tokens=D, loss=loss_fresh, loss_law=the_law.name
    )
    hardware, memory = steps.size_hardware(opts, flops=C, n_params_total=n_total)
    ivs = intervals(
        the_law, N, D, flops=C, unique_tokens=opts.unique_tokens, interval=opts.interval
    )
    outside = adv.extrapolation(the_law, [(N, D, opts.unique_tokens)])
    warnings = steps.plan_warnings(
        opts,
        rep=rep,
        n_params_total=n_total,
        n_params_non_embedding=n_nonemb,
        memory=memory,
        batch=batch,
        outside=outside,
    ) + steps.inference_warnings(the_law, inference)
    vs_optimum = steps.versus_optimum(opts, alloc)
    warnings += steps.versus_optimum_warnings(the_law, (N, D), vs_optimum)
    if dc is not None:
        saturated = steps.saturation_warning(steps.repetition_law(the_law), dc)
        warnings += (saturated,) if saturated else ()
        warnings += steps.data_constrained_warnings(
            steps.repetition_law(the_law), (N, D), dc, fresh
        )
    return Plan(
        law=the_law.name,
        param_convention=the_law.param_convention,
        mode=opts.mode,
        n_params=N,
        n_params_total=n_total,
        n_params_non_embedding=n_nonemb,
        params_convertible=steps.convertible(n_total, opts.vocab_size),
        n_tokens=D,
        flops=C,
        loss=loss,
        loss_fresh=loss_fresh,
        repetition=rep,
        data_constrained=dc,
        fresh_optimum=fresh,
        inference=inference,
        batch=batch,
        hardware=hardware,
        memory=memory,
        warnings=warnings,
        advice=() if rep is None else adv.repetition_advice(rep, n_params=n_total),
        notes=steps.loss_scale_notes(the_law, dc, fresh),
        extrapolation=outside,
        exponents=tuple(float(x) for x in the_law.exponents),
        intervals=ivs,
        published_intervals=published_intervals(the_law),
        sources=_sources(
            the_law,
            rep is not None,
            inference is not None,
            batch.source,
            hardware.source,
            run=opts.mode == steps.RUN,
        )
        | _budget_source(opts),
        days=opts.budget if opts.mode == "days" else None,
        vs_optimum=vs_optimum,
    )


def _budget_source(opts: steps.Options) -> dict[str, str]:
    """How a derived budget was computed (a wall-clock budget's GPU-hours), as ``sources["budget"]``."""
    derivation = steps.budget_derivation(opts)
    return {} if derivation is None else {"budget": derivation}


def _sources(
    law: Law, repeated: bool, inference: bool, batch: str, hardware: str, run: bool = False
) -> dict[str, str]:
    """Where each figure of a plan comes from (``sources`` in JSON)."""
    out = {
        "n_params": law.citation,
        "n_tokens": law.citation,
        "loss": law.citation if law.has_loss else "",
        "n_params_total": "Pearce & Song 2024, sec. 3: N_T = N_E + 47,491 N_E^(1/3)",
        "flops": "Kaplan et al. 2020 sec. 2.1: C = 6ND",
        "batch": batch,
        "hardware": hardware,
        "memory": "Rajbhandari et al. 2020, ZeRO, sec. 3.1",
    }
    rng = adv.fitted_range_of(law)
    if rng is not None and rng.source:
        out["fitted_range"] = rng.source
    published = dict.fromkeys(p.source for p in published_intervals(law))
    if published:
        out["published_intervals"] = "; ".join(published)
    if repeated:
        out |= _repetition_sources(steps.repetition_law(law))
    if run:
        out["vs_optimum"] = (
            f"{law.citation}: the optimum at the run's 6ND FLOPs, and the cheapest optimum reaching its "
            "loss on fresh data (compute_ratio = the run's FLOPs / that optimum's)"
        )
    if inference:
        out["inference"] = (
            "Sardana et al. 2024, Beyond Chinchilla-Optimal: min 6ND + 2N D_inference"
            + (
                f" at the plan's loss with repetition ({MUENNIGHOFF_EQ}, eq. 5: D')"
                if repeated
                else ""
            )
        )
    return out


def _repetition_sources(law) -> dict[str, str]:
    """Where D', the data-constrained optimum and the all-unique optimum come from: Muennighoff et al.
    2023's C4 fit, or the plan's own data-constrained law (a fit of eqs. 5-6 to the user's runs)."""
    if law == steps.muennighoff():
        return {
            "effective_tokens": steps.effective_tokens_source(law),
            "data_constrained": f"{MUENNIGHOFF_EQ}, eqs. 5-6 and sec. 5 (C4 fit)",
            "fresh_optimum": f"{MUENNIGHOFF_EQ}, base law of eqs. 5-6 with all tokens unique",
            "repetition_label": adv.LABEL_SOURCE,
        }
    return {
        "effective_tokens": steps.effective_tokens_source(law),
        "data_constrained": f"{law.citation}: the optimum of {MUENNIGHOFF_EQ}, eqs. 5-6 and sec. 5",
        "fresh_optimum": f"{law.citation}: its base law with all tokens unique",
        "repetition_label": adv.LABEL_SOURCE,
    }


def compare(*, laws: list[str | Law] | None = None, **kwargs: Any) -> Comparison:
    """:func:`plan` under every preset (or ``laws``); a law that cannot answer is skipped with its reason.

    Every option is validated once, before the loop: a bad value raises instead of skipping every law.
    """
    if "law" in kwargs:
        raise InvalidInputError("compare() takes laws=[...], not law=.", param="laws")
    unknown = sorted(set(kwargs) - set(_DEFAULTS))
    if unknown:  # plan() named itself: "plan() got an unexpected keyword argument 'bogus'"
        raise TypeError(
            f"compare() got an unexpected keyword argument {unknown[0]!r}; it takes laws= and "
            f"plan()'s keywords: {', '.join(sorted(_DEFAULTS))}."
        )
    if laws is not None:
        laws = _checks.items("laws", laws, example="['kaplan', 'chinchilla']")
    chosen = list_laws() if laws is None else [get_law(x) for x in laws]
    if not chosen:
        raise InvalidInputError("laws is empty; give at least one law.", param="laws")
    steps.validate(**{**_DEFAULTS, **kwargs, "law": chosen[0]})
    plans, skipped = [], []
    for law in chosen:
        try:
            plans.append(plan(law=law, **kwargs))
        except (
            InvalidInputError
        ) as exc:  # the law cannot answer this budget (e.g. no loss for a target)
            skipped.append((law.name, str(exc)))
    return Comparison(plans=tuple(plans), skipped=tuple(skipped))


# plan()'s defaults, so that compare() validates exactly what each plan() call will see.
_DEFAULTS = {k: p.default for k, p in inspect.signature(plan).parameters.items() if k != "law"}
