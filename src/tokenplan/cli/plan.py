"""``tokenplan plan``, ``tokenplan table`` and ``tokenplan repeat``: thin wrappers over tokenplan.plan.

Only click and the light library are imported at start-up; rich tables are imported when printing, and
matplotlib only for ``repeat --plot``.
"""

from __future__ import annotations

import click

from tokenplan.cli._common import console, interval_lines, pair, print_json, report_written
from tokenplan.cli._flags import with_flags
from tokenplan.cli._options import (
    QUANTITY,
    QUANTITY_LIST,
    Number,
    NumberList,
    choice_option,
    count_option,
    interval_option,
    json_option,
    not_empty,
    report_option,
)
from tokenplan.laws import get_law
from tokenplan.laws.presets import LOSS_SCALES
from tokenplan.plan.batch import BATCH_RULES
from tokenplan.plan.result import ZERO
from tokenplan.plan.steps import RUN_OPTIMA
from tokenplan.units import (
    format_bytes,
    format_count,
    format_epochs,
    format_exact,
    format_factor,
    format_gpu_hours,
    format_hours,
    format_out,
    format_ratio,
    format_share,
)
from tokenplan.units import format_quantity as fq

# Warnings of this kind are shown once per comparison, as one line of factors (see _print_comparison).
_EXTRAPOLATION = "outside the data law"
# A run's optima's extrapolation warnings, which plan --compare folds into its one line ("by the largest
# factor") when the run itself extrapolates: the split is at the run's FLOPs, the other optimum below them.
_RUN_OPTIMA = tuple(f"the {name} (" for name in RUN_OPTIMA)


def _loss(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _print_warnings(items: list[tuple[str, str]]) -> None:
    if not items:
        return
    from rich.markup import escape

    out = console()
    out.print("[bold yellow]Warnings[/bold yellow]")
    for who, text in items:
        text = _flags(text)
        prefix = f"[bold]{who}[/bold]: " if who else ""
        out.print(f"[yellow]![/yellow] {prefix}{escape(text)}", soft_wrap=False)


def _print_advice(items, *, law: str | None = None) -> None:
    """Advice computed from the plan (Xue et al. 2023 when data repeats), one item per line; ``law`` names
    the plan it was computed from where several are shown (``--compare``)."""
    if not items:
        return
    from rich.markup import escape

    out = console()
    whose = f" (for law {escape(law)}'s plan)" if law else ""
    out.print(f"[bold cyan]Advice[/bold cyan]{whose}")
    for a in items:
        out.print(f"[cyan]>[/cyan] {escape(a.text)}", soft_wrap=False)


def _budget_line(p) -> str:
    names = {
        "flops": "FLOPs budget",
        "gpu_hours": "GPU-hours budget",
        "days": "wall-clock budget",
        "n_params": "model size",
        "n_tokens": "token count",
        "target_loss": "target loss",
        "run": "run you gave (model size and tokens)",
    }
    return names[p.mode]


def _plan_rows(p) -> list[tuple[str, str]]:
    """(quantity, value) rows describing one plan in words."""
    if not p.params_convertible:
        other = "too small to convert: see the warning"
    elif p.param_convention == "total":
        other = f"{fq(p.n_params_non_embedding)} non-embedding"
    else:
        other = f"{fq(p.n_params_total)} total, converted"
    rows = [("budget", _flags(p.sources["budget"]))] if "budget" in p.sources else []
    rows += [
        ("parameters", f"{fq(p.n_params)} ({p.param_convention}; {other})"),
        ("training tokens", fq(p.n_tokens)),
        ("training FLOPs", f"{p.flops:.3g} (6ND)"),
        ("tokens per parameter", f"{p.tokens_per_param:.1f}"),
    ]
    if p.loss is not None:
        rows.append(("predicted loss", f"{p.loss:.4f} nats/token"))
    return (
        rows
        + _run_rows(p.vs_optimum, _params_word(p))
        + _interval_rows(p.intervals)
        + _repetition_rows(p)
        + _inference_rows(p)
        + _batch_rows(p.batch)
        + _hardware_rows(p)
    )


def _params_word(p) -> str:
    """'params', or 'non-embedding params' under a law that counts those (kaplan): the optima a plan prints
    beside its own are the law's, in the law's count (566B non-embedding, where the plan row converts)."""
    return "non-embedding params" if p.param_convention == "non-embedding" else "params"


def _run_rows(vs, params: str = "params") -> list[tuple[str, str]]:
    """A run of your own against the law's optima (mode "run"): the split of its FLOPs, and what the
    cheapest plan reaching its loss costs; ``params`` names the law's parameter count."""
    if vs is None:
        return []
    opt = vs.optimum
    loss = "" if opt.loss is None else f", loss {opt.loss:.4f}"
    rows = [
        (
            "compute-optimal split",
            f"{fq(opt.n_params)} {params} on {fq(opt.n_tokens)} tokens at the same FLOPs{loss}",
        )
    ]
    same, ratio = vs.same_loss, vs.compute_ratio
    if same is not None and ratio is not None:
        rows.append(
            (
                "vs the optimum",
                f"{format_factor(ratio)} the FLOPs of the cheapest plan reaching its loss on fresh data "
                f"({same.loss:.4f}): {fq(same.n_params)} {params} on {fq(same.n_tokens)} tokens, "
                f"{same.flops:.3g} FLOPs",
            )
        )
    return rows


def _flags(text: str) -> str:
    """A library text with its quoted argument names given as this command's flags (`days` -> --days)."""
    ctx = click.get_current_context(silent=True)
    return with_flags(ctx.command, text) if ctx is not None else text


def _interval_rows(iv) -> list[tuple[str, str]]:
    """The loss interval and the N_opt / D_opt intervals at the plan's FLOPs (kinds are printed below)."""
    if iv is None or not iv.any:
        return []
    parts = []
    if iv.loss is not None:
        parts.append(_loss_range(iv))
    if iv.n_params is not None:
        parts.append(f"{_allocation_range(iv)} at {iv.flops:.3g} FLOPs")
    return [(f"{iv.level:.0%} interval", "; ".join(parts))]


def _loss_range(iv) -> str:
    return f"loss {pair(iv.loss, '{:.4f}'.format)}"


def _allocation_range(iv) -> str:
    return f"N_opt {pair(iv.n_params, fq)}, D_opt {pair(iv.n_tokens, fq)}"


def _repetition_rows(p) -> list[tuple[str, str]]:
    """Epochs, D', the penalty and the data-constrained and all-unique optima (with --unique-tokens)."""
    rows: list[tuple[str, str]] = []
    if p.unique_tokens is not None:
        rows += [
            ("unique tokens", fq(p.unique_tokens)),
            ("epochs", _epochs_text(p.epochs)),
            (
                "effective tokens D'",
                f"{fq(p.effective_tokens)} (D'/D = {p.effective_fraction:.3f})",
            ),
        ]
        if p.loss_penalty is not None:
            rows.append(
                ("loss vs fresh data", f"+{p.loss_penalty:.4f} (fresh: {p.loss_fresh:.4f})")
            )
        dc, fresh = p.data_constrained, p.fresh_optimum
        if not dc.binding:
            return [*rows, ("data-constrained optimum", _not_binding(dc))]
        rows += [
            (
                "data-constrained optimum",
                f"{fq(dc.n_params)} params on {fq(dc.n_tokens)} tokens ({format_epochs(dc.epochs)} epochs), "
                f"loss {dc.loss:.4f} ({dc.law})",
            ),
            (
                "",
                f"vs {fq(fresh.n_params)} on {fq(fresh.n_tokens)} tokens if all were unique "
                f"(loss {fresh.loss:.4f})",
            ),
        ]
    return rows


def _epochs_text(epochs: float) -> str:
    """Epochs, and below one what they mean: a single pass over part of the data (0.37 of 500B unique tokens
    is 37% of them, nothing repeated), not a fraction of a repetition."""
    if epochs >= 1.0:
        return format_epochs(epochs)
    share = format_share(epochs)
    return f"{format_epochs(epochs)} (one pass over {share} of the unique tokens: nothing repeats)"


def _not_binding(dc) -> str:
    """The data-constrained optimum when the unique tokens do not limit it: it is the all-unique optimum
    (``plan --flops 1e22 --unique-tokens 500B`` printed it twice, '(0.36 epochs)' and 'vs the same if all
    were unique', as if the limit had bound)."""
    return (
        f"not limited by the data: {fq(dc.n_params)} params on {fq(dc.n_tokens)} tokens, the all-unique "
        f"optimum ({format_epochs(dc.epochs)} epochs of {fq(dc.unique_tokens)}), loss {dc.loss:.4f} ({dc.law})"
    )


def _inference_rows(p) -> list[tuple[str, str]]:
    """The inference-aware allocation and the lifetime FLOPs it saves (with --inference-tokens)."""
    inf = p.inference
    if inf is None:
        return []
    return [
        (
            "inference-aware",
            f"{fq(inf.n_params)} {_params_word(p)} on {fq(inf.n_tokens)} tokens "
            f"({inf.tokens_per_param:,.0f} tokens/param{_inference_epochs(inf)}) at the same loss "
            f"{inf.loss:.4f}{' with repetition' if inf.unique_tokens is not None else ''}",
        ),
        (
            "lifetime FLOPs",
            f"{inf.total_flops:.3g} vs {inf.baseline_total_flops:.3g} "
            f"(saves {inf.flops_saved:.3g}, {100 * inf.fraction_saved:.1f}%) "
            f"serving {fq(inf.inference_tokens)} tokens",
        ),
    ]


def _inference_epochs(inf) -> str:
    """', 18.3 epochs of 25B' when the allocation trains on limited unique tokens, else nothing."""
    if inf.unique_tokens is None:
        return ""
    return f", {format_epochs(inf.epochs)} epochs of {fq(inf.unique_tokens)}"


def _hardware_rows(p) -> list[tuple[str, str]]:
    """GPU-hours, wall-clock (and the GPUs for 90 days), cost and training memory."""
    rows: list[tuple[str, str]] = []
    hw = p.gpu or f"{p.peak_flops:.3g} FLOP/s"
    rows.append(("GPU-hours", f"{format_gpu_hours(p.gpu_hours)} on {hw} at {100 * p.mfu:.0f}% MFU"))
    how = ""
    if p.gpus_assumed:  # --peak-flops names no device memory: one GPU, and the row says why
        how = (
            " (fewest that hold the training state)"
            if p.memory.device_bytes is not None
            else " (assumed: --peak-flops gives no device memory, so the fit of the training state is "
            "not checked)"
        )
    gpus = f"{p.gpus:,} GPU{'' if p.gpus == 1 else 's'}"
    rows.append(("wall-clock", f"{format_hours(p.wall_clock_hours)} on {gpus}{how}"))
    if p.gpus_assumed and p.wall_clock_hours > 90 * 24:
        rows.append(
            ("", f"{p.hardware.gpus_in_90_days:,} GPUs finish in 90 days (--gpus sets the count)")
        )
    if p.cost is not None:
        rows.append(("cost", f"{p.cost:,.0f} at {format_exact(p.price_per_gpu_hour)} per GPU-hour"))
    m = p.memory
    rows.append(
        (
            "training memory",
            f"{format_bytes(m.total_bytes)} = weights {format_bytes(m.weights_bytes)} + grads "
            f"{format_bytes(m.grads_bytes)} + Adam {format_bytes(m.optimizer_bytes)}; "
            f"{format_bytes(m.per_gpu_bytes)}/GPU with ZeRO-3 over {m.gpus:,} (no activations)",
        )
    )
    return rows


def _batch_rows(b) -> list[tuple[str, str]]:
    """Batch, learning rate and steps, naming the fit they come from."""
    size = f"{fq(b.batch_tokens)} tokens = {b.batch_sequences:,} x {b.seq_len}"
    if b.rule == "kaplan":
        return [
            ("batch size", f"{size} (Kaplan B_crit at loss {b.batch_loss:.3f})"),
            *([("batch loss scale", b.note)] if b.note else []),
            ("steps", f"{b.steps:,}"),
        ]
    return [
        ("batch size", f"{size} (DeepSeek LLM B_opt at C = 6 N_nonemb D = {b.deepseek_flops:.3g})"),
        ("learning rate", f"{b.learning_rate:.2e} (DeepSeek LLM eta_opt; both fits of one setup)"),
        *([("batch fit range", b.note)] if b.note else []),
        ("steps", f"{b.steps:,}"),
    ]


def _print_plan(p, citation: str) -> None:
    from rich.table import Table

    title = f"Plan for the {_budget_line(p)} under law {p.law}"
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("quantity", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in _plan_rows(p):
        table.add_row(name, value)
    console().print(table)
    if citation:
        console().print(f"law {p.law}: {citation}")
    console().print(_other_sources(p), soft_wrap=True)
    if p.intervals is not None:
        for line in interval_lines(p.intervals, p.published_intervals):
            console().print(line, soft_wrap=True)
    for note in p.notes:
        console().print(f"note: {note}", soft_wrap=True)
    _print_warnings([("", w) for w in p.warnings])
    _print_advice(p.advice)


def _other_sources(p) -> str:
    """Where the rows the law does not give come from: the accelerator's peak (GPU-hours, wall-clock), the
    bytes per parameter (memory), the total/non-embedding conversion and, with unique tokens, D' (whose
    R_D*), as ``sources`` in JSON."""
    text = (
        f"sources: GPU-hours: {p.hardware.source}; memory: {ZERO}; "
        f"total/non-embedding: {p.sources['n_params_total']}"
    )
    if "effective_tokens" in p.sources:
        text += f"; D': {p.sources['effective_tokens']}"
    return text


def _comparison_table(plans, main, *, same_hours: bool, title: str):
    """The side-by-side table: one row per law, extra columns for repetition and inference; a run of your
    own (the same N and D under every law, named in the title) shows each law's optimum instead."""
    from rich.table import Table

    has_run = plans[0].vs_optimum is not None
    cols = ["law", "N ∝ C^a"]
    cols += ["loss", "N_opt", "FLOPs/opt"] if has_run else ["params", "tokens", "D/N", "loss"]
    if not same_hours:
        cols.append("GPU-hours")
    has_u = plans[0].unique_tokens is not None
    has_inf = any(p.inference is not None for p in plans)
    cols += ["epochs", "D'/D"] if has_u else []
    cols += ["inference N", "saved"] if has_inf else []
    rows = [
        _comparison_row(p, has_run=has_run, same_hours=same_hours, has_u=has_u, has_inf=has_inf)
        for p in plans
    ]
    table = Table(title=title, title_justify="left")
    for i, c in enumerate(cols):  # values never wrap; long headers may
        width = max(len(r[i]) for r in rows)
        table.add_column(c, justify="left" if c == "law" else "right", min_width=width)
    for row in rows:
        if row[0] == main.law:
            row = [f"[bold]{row[0]}[/bold]", *row[1:]]
        table.add_row(*row)
    return table


def _comparison_row(p, *, has_run: bool, same_hours: bool, has_u: bool, has_inf: bool) -> list[str]:
    """One law's row of the comparison table, in :func:`_comparison_table`'s columns (the columns are the
    table's, not the row's: a law without an optimum has no ``vs_optimum`` and shows "-" there)."""
    ne = " (ne)" if p.param_convention == "non-embedding" else ""
    row = [p.law, f"{p.exponents[0]:.3f}"]
    if has_run:
        vs = p.vs_optimum
        ratio = None if vs is None else vs.compute_ratio
        row += [_loss(p.loss), "-" if vs is None else fq(vs.optimum.n_params) + ne]
        row.append("-" if ratio is None else format_factor(ratio).removesuffix("x"))
    else:
        row += [fq(p.n_params) + ne, fq(p.n_tokens), f"{p.tokens_per_param:.1f}", _loss(p.loss)]
    if not same_hours:
        row.append(format_gpu_hours(p.gpu_hours))
    if has_u:
        row += [format_epochs(p.epochs), f"{p.effective_fraction:.3f}"]
    if has_inf:
        inf = p.inference
        row += (
            ["-", "-"]
            if inf is None
            else [fq(inf.n_params) + ne, f"{100 * inf.fraction_saved:.1f}%"]
        )
    return row


def _comparison_notes(comp, main, *, hours: str) -> list[str]:
    plans, first = comp.plans, comp.plans[0]
    hw = first.gpu or f"{first.peak_flops:.3g} FLOP/s"
    notes = [f"{hours} on {hw} at {100 * first.mfu:.0f}% MFU."]
    if first.vs_optimum is not None:
        notes.append(
            "N_opt: each law's compute-optimal model at the run's FLOPs; FLOPs/opt: the run's FLOPs over "
            "those of the cheapest compute-optimal plan reaching its loss (1.00 on the optimum)."
        )
    notes.append(LOSS_SCALES)
    if any(p.law == "kaplan" for p in plans):
        notes.append(
            "(ne): kaplan counts non-embedding parameters; with embeddings (32K vocabulary) its model has "
            + ", ".join(f"{fq(p.n_params_total, digits=4)}" for p in plans if p.law == "kaplan")
            + " parameters (Pearce & Song 2024 conversion)."
        )
    if first.unique_tokens is not None:
        dc = main.data_constrained
        limit = "" if dc.binding else " (not limited by the data: the all-unique optimum)"
        notes.append(
            f"data-constrained optimum ({dc.law}): {fq(dc.n_params)} params on "
            f"{fq(dc.n_tokens)} tokens, {format_epochs(dc.epochs)} epochs, loss {dc.loss:.4f}{limit}."
        )
    return (
        notes
        + _comparison_interval_notes(plans)
        + [f"{law} skipped: {_flags(reason)}" for law, reason in comp.skipped]
    )


def _comparison_interval_notes(plans) -> list[str]:
    """Each law's interval on N_opt, D_opt and the loss (with its kind) and what the single plan notes of it
    (what a loss interval covers with unique tokens, a backtest's reach), then the laws that have none."""
    notes, without = [], []
    for p in plans:
        iv = p.intervals
        if iv is None or not iv.any:
            without.append(p.law)
            continue
        parts = []
        if iv.n_params is not None:
            parts.append(f"{_allocation_range(iv)} ({iv.allocation_kind})")
        if iv.loss is not None:
            parts.append(f"{_loss_range(iv)} ({iv.loss_kind})")
        notes.append(f"{p.law}: {iv.level:.0%} interval: {'; '.join(parts)}.")
        notes += [n if f"law {p.law!r}" in n else f"{p.law}: {n}" for n in iv.notes]
    if without:
        notes.append(
            f"no interval on N_opt, D_opt or the loss: {', '.join(without)} (tokenplan has no fit draws "
            "for them; --law NAME prints the intervals each paper publishes on its constants)."
        )
    return notes


def _print_comparison(comp, main) -> None:
    plans = comp.plans
    first = plans[0]
    budget = {
        "flops": f"{first.flops:.3g} FLOPs",
        "gpu_hours": format_gpu_hours(first.gpu_hours, unit=True),
        "days": format_gpu_hours(first.gpu_hours, unit=True),
        "n_params": f"a {fq(first.n_params_total)}-parameter model",
        "n_tokens": f"{fq(first.n_tokens)} tokens",
        "target_loss": "the target loss",
        "run": f"{fq(first.n_params_total)} parameters on {fq(first.n_tokens)} tokens",
    }[first.mode]
    if first.days is not None:  # a wall-clock budget says what it was
        budget += f" ({format_exact(first.days)} days on {first.gpus:,} GPUs)"
    same_hours = len({round(p.gpu_hours, 6) for p in plans}) == 1
    hours = (
        f"each plan takes {format_gpu_hours(first.gpu_hours, unit=True)}"
        if same_hours
        else "GPU-hours"
    )
    title = f"Every law on {budget}"
    console().print(_comparison_table(plans, main, same_hours=same_hours, title=title))
    for n in _comparison_notes(comp, main, hours=hours):
        console().print(f"note: {n}", soft_wrap=False)
    # Warnings said by every law once, per-law ones prefixed with the law; extrapolations as one line.
    seen: dict[str, list[str]] = {}
    for p in plans:
        for w in p.warnings:
            if not w.startswith(_EXTRAPOLATION) and not (
                p.extrapolation and w.startswith(_RUN_OPTIMA)
            ):
                seen.setdefault(w, []).append(p.law)
    items = [("" if len(laws) == len(plans) else ", ".join(laws), w) for w, laws in seen.items()]
    outside = _extrapolation_line(plans)
    _print_warnings(([("", outside)] if outside else []) + items)
    _print_advice(main.advice, law=main.law)


def _extrapolation_line(plans) -> str:
    """'outside each law's fitted data: chinchilla 44.5x (FLOPs), ...' for the laws that extrapolate."""
    parts = []
    for p in plans:
        if not p.extrapolation:
            continue
        axis, worst = max(p.extrapolation.items(), key=lambda kv: kv[1]["factor"])
        name = {
            "flops": "FLOPs",
            "n_params": "parameters",
            "n_tokens": "tokens",
            "unique_tokens": "unique tokens",
        }.get(axis, "D/N")
        parts.append(f"{p.law} {format_factor(worst['factor'])} ({name})")
    if not parts:
        return ""
    return (
        "outside the data each law was fitted on, by the largest factor (--law NAME shows every "
        "axis): " + ", ".join(parts) + "; an extrapolation."
    )


@click.command()
@click.option("--flops", type=QUANTITY, help="Training compute budget in FLOPs (5.76e23).")
@click.option(
    "--gpu-hours", type=QUANTITY, help="Budget in GPU-hours (needs --gpu or --peak-flops)."
)
@click.option(
    "--days",
    type=Number("21"),
    help="Wall-clock budget in days on --gpus GPUs of --gpu (21 = three weeks): days x 24 x GPUs "
    "GPU-hours.",
)
@click.option(
    "--gpu",
    help="Accelerator: A100, H100, H200, B200, MI300X, L40S, RTX4090 [H100 for the time of a FLOPs, "
    "size, token or loss budget; --gpu-hours and --days need it given].",
)
@click.option("--peak-flops", type=QUANTITY, help="Peak dense bf16 FLOP/s of another accelerator.")
@click.option(
    "--mfu",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.4,
    help="Model FLOPs utilisation: the fraction of peak a run achieves.",
)
@count_option("--gpus", "8", "GPUs for wall-clock and ZeRO-3 memory [fewest that hold the state].")
@click.option("--params", "n_params", type=QUANTITY, help="Model size (all parameters): 7B.")
@click.option("--tokens", "n_tokens", type=QUANTITY, help="Training tokens: which model fits them?")
@click.option("--target-loss", type=float, help="Cheapest compute-optimal plan reaching this loss.")
@click.option(
    "--law",
    default="epoch2024",
    help="Law preset (see `tokenplan laws`) or a law JSON saved by `tokenplan fit`.",
)
@click.option("--compare", is_flag=True, help="Plan under every preset, side by side.")
@click.option(
    "--unique-tokens", type=QUANTITY, help="Unique tokens available (data-constrained planning)."
)
@click.option(
    "--inference-tokens", type=QUANTITY, help="Tokens served over the model's life (Sardana 2024)."
)
@count_option("--seq-len", "2048", "Sequence length.", default=2048)
@click.option(
    "--price-per-gpu-hour",
    type=QUANTITY,
    help="Price of one GPU-hour, to report a cost.",
)
@choice_option(
    "--batch-rule",
    BATCH_RULES,
    default="deepseek",
    help="Batch size rule: DeepSeek LLM's B_opt and learning rate, or Kaplan's critical batch.",
)
@interval_option
@report_option(with_overwrite=True)
@json_option
# One parameter per flag (click passes each option by name); the body only parses, calls and renders.
def plan(law, compare, report, overwrite, as_json, **budget) -> None:
    """Budget in, training plan out: params, tokens, loss, epochs, batch, steps, time and memory.

    Give exactly one budget: --flops, --gpu-hours (with --gpu), --days (with --gpus and --gpu), --params,
    --tokens or --target-loss; or --params with --tokens, a run of your own, planned as given and set
    against the compute-optimal plans. Sizes take suffixes (7B, 1.4T, 5.76e23).

    \b
    Examples:
      tokenplan plan --flops 5.76e23 --compare
      tokenplan plan --gpu-hours 20000 --gpu H100 --unique-tokens 25B
      tokenplan plan --days 21 --gpus 512 --gpu H100
      tokenplan plan --flops 1e22 --unique-tokens 25B --law muennighoff2023
      tokenplan plan --params 13B --law chinchilla-unrounded --inference-tokens 2T
      tokenplan plan --params 8B --tokens 15T --gpus 512
      tokenplan plan --target-loss 2.1 --json
      tokenplan plan --flops 1e20 --law fit.json --interval 0.9
      tokenplan plan --flops 1e22 --unique-tokens 25B --compare --report plan.html
    """
    # ``budget`` holds every other flag: each is named like the keyword of tokenplan.plan.plan.
    from tokenplan import plan as planning
    from tokenplan.laws import PRESETS

    gpu = budget.get("gpu")
    if gpu is not None and not gpu.strip():  # "" would silently mean the default
        from tokenplan.errors import InvalidInputError

        raise InvalidInputError(
            "--gpu is empty; name an accelerator, e.g. --gpu H100.", param="gpu"
        )
    the_law = get_law(law)
    main = planning.plan(law=the_law, **budget)
    comp = None
    if compare:
        laws = list(PRESETS.values())
        if the_law not in laws:
            laws.append(the_law)
        comp = planning.compare(laws=laws, **budget)
    if report:
        from tokenplan.report.plan_page import write_plan_report

        inputs = [law] if law not in PRESETS else []
        report_written(
            write_plan_report(
                report,
                main,
                law=the_law,
                comparison=comp,
                overwrite=overwrite,
                inputs=inputs,
                say=_flags,  # the page names the flags, as the console does
            )
        )
    if as_json:
        print_json(main.to_dict() if comp is None else {**main.to_dict(), **comp.to_dict()})
    elif comp is None:
        _print_plan(main, the_law.citation)
    else:
        _print_comparison(comp, main)


@click.command()
@click.option(
    "--params",
    "n_params",
    type=QUANTITY_LIST,
    help="Model sizes, comma-separated (400M,1B,10B) [Chinchilla Table 3's nine sizes].",
)
@click.option(
    "--law",
    default="chinchilla-a1",
    help="Law preset or saved law JSON; chinchilla-a1 is Approach 1, within 4.1% of Table 3.",
)
@interval_option
@json_option
def table(n_params, law, interval, as_json) -> None:
    """Chinchilla Table 3 style table: compute-optimal FLOPs and tokens for each model size.

    The default law, chinchilla-a1, is Approach 1 with Table 2's exponent a = 0.50 and one scale fitted to
    Table 3: its rows differ from Table 3's printed figures by up to 4.1%, because the paper's own tokens
    per parameter drift from 20.0 to 21.6. No option prints Table 3 itself; --json gives its figures for
    each of its sizes (table3_flops, table3_tokens).

    With a law that carries bootstrap draws (epoch2024, or a fit.json from `tokenplan fit`), each row also
    gets intervals on its loss and on N_opt, D_opt at its FLOPs (--interval sets the level).

    \b
    Examples:
      tokenplan table
      tokenplan table --params 400M,1B,10B --law epoch2024
      tokenplan table --params 10M,100M --law fit.json --interval 0.9
    """
    from tokenplan import plan as planning

    result = planning.optimal_table(
        tuple(n_params) if n_params else planning.TABLE3_PARAMS, law=law, interval=interval
    )
    if as_json:
        print_json(result.to_dict())
        return
    console().print(_optimal_table(result))
    extra = _interval_table(result)
    if extra is not None:
        console().print(extra)
    console().print(f"law {result.law}: {result.source}")
    if result.note:
        console().print(f"note: {result.note}")
    ivs = result.rows[0].intervals
    for line in interval_lines(ivs, result.published_intervals):
        console().print(line, soft_wrap=True)
    if result.param_convention != "total":
        console().print(
            f"note: law {result.law} counts {result.param_convention} parameters; the sizes given "
            "count all parameters and were converted (Pearce & Song 2024); FLOPs (6ND) and tokens per "
            f"parameter use the {result.param_convention} count, as the law does."
        )
    for w in result.warnings:
        console().print(f"warning: {w}")


def _optimal_table(result):
    """The rich table of :func:`tokenplan.plan.optimal_table` (Table 3's columns, plus the loss)."""
    from rich.table import Table

    has_loss = any(r.loss is not None for r in result.rows)
    t = Table(title=f"Chinchilla Table 3 style, law {result.law}", title_justify="left")
    converted = result.param_convention != "total"  # kaplan: FLOPs and tokens/param use the law's N
    heads = ["Parameters", f"{result.param_convention}\nparams"] if converted else ["Parameters"]
    for c in (*heads, "FLOPs", "FLOPs (in Gopher unit)", "Tokens", "Tokens/param"):
        t.add_column(c, justify="right")
    if has_loss:
        t.add_column("Loss", justify="right")
    ranged = any(r.inside_range is not None for r in result.rows)
    if ranged:  # as predict's column: how far each row lies outside the law's fitted data
        t.add_column("in range", justify="right")
    for r in result.rows:
        row = [
            fq(r.n_params),
            *([fq(r.n_params_law)] if converted else []),
            f"{r.flops:.2e}",
            _gopher(r.gopher_units),
            fq(r.n_tokens),
            format_ratio(r.tokens_per_param),
        ]
        if has_loss:
            row.append(_loss(r.loss))
        if ranged:
            row.append(_in_range(r))
        t.add_row(*row)
    return t


def _gopher(g: float) -> str:
    """FLOPs in Gopher units as Table 3 prints them (1/29,968; 10.2), in 3 significant figures beyond
    a million either way: 1/1.07e+09, not a 10-digit denominator from a law far outside its data."""
    if g < 0.5:
        return f"1/{1 / g:,.0f}" if 1 / g < 1e6 else f"1/{1 / g:#.3g}"
    return f"{g:,.1f}" if g < 1e6 else f"{g:#.3g}"


def _in_range(row) -> str:
    """'yes', or how far the row lies outside the law's fitted data at most ('44.5x out')."""
    if row.inside_range is None:
        return "unknown"
    far = max(row.extrapolation.values())
    if row.inside_range:
        return "yes"
    return format_out(far)


def _interval_table(result):
    """Per row, the intervals on the loss and on N_opt, D_opt at its FLOPs; None when there are none."""
    from rich.table import Table

    ivs = [r.intervals for r in result.rows]
    if not any(iv is not None and iv.any for iv in ivs):
        return None
    t = Table(title=f"{ivs[0].level:.0%} intervals", title_justify="left")
    for c in ("Parameters", "FLOPs", "Loss", "N_opt", "D_opt"):
        t.add_column(c, justify="right")
    for r, iv in zip(result.rows, ivs):
        t.add_row(
            fq(r.n_params),
            f"{r.flops:.2e}",
            pair(iv.loss, "{:.3f}".format),
            pair(iv.n_params, fq),
            pair(iv.n_tokens, fq),
        )
    return t


@click.command()
@click.option("--unique-tokens", type=QUANTITY, required=True, help="Unique tokens you have (25B).")
@click.option(
    "--epochs",
    type=NumberList("1,4,16"),
    help="Epoch counts, comma-separated plain numbers [1,2,4,10,16,40,100].",
)
@click.option(
    "--params",
    "n_params",
    type=QUANTITY,
    help="Model size (all parameters) [compute-optimal for one pass over the unique tokens].",
)
@click.option("--law", default="muennighoff2023", help="Law for the loss.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    callback=not_empty("a file name ending in .png"),
    help="Write a PNG plot here.",
)
@click.option("--overwrite", is_flag=True, help="Allow --plot to replace an existing file.")
@json_option
def repeat(unique_tokens, epochs, n_params, law, plot_path, overwrite, as_json) -> None:
    """Value of repeated data: effective tokens D', D'/D and the loss change per epoch count.

    Uses Muennighoff et al. 2023 (eqs. 5-6): up to ~4 epochs repeated tokens are about as good as fresh;
    beyond ~16 more repetition adds almost nothing.

    \b
    Examples:
      tokenplan repeat --unique-tokens 25B
      tokenplan repeat --unique-tokens 25B --epochs 1,4,16,64 --params 7B --plot repeat.png
    """
    from tokenplan import plan as planning
    from tokenplan._io import check_output

    if plot_path:  # refused before any work: an existing file (unless --overwrite) or the law file
        check_output(plot_path, param="plot_path", overwrite=overwrite, inputs=[law])
    result = planning.repeat(
        unique_tokens,
        tuple(epochs) if epochs else planning.REPEAT_EPOCHS,
        n_params=n_params,
        law=law,
    )
    written = None
    if plot_path:
        from tokenplan.report import plot_repeat

        written = str(plot_repeat(result, plot_path))
    if as_json:
        print_json({**result.to_dict(), "plot": written})
        return
    _print_repeat(result)
    if written:
        console().print(f"plot written to {written}")


def _print_repeat(result) -> None:
    """The table of `tokenplan repeat`, its warnings and advice."""
    from rich.table import Table

    model, how = f"a {fq(result.n_params)}-parameter model", []
    if result.param_convention == "non-embedding" and not result.params_convertible:
        # its total would be a conversion below one layer (see the warning)
        model = f"a model of {fq(result.n_params_law)} non-embedding parameters"
        how.append(f"as law {result.law} counts them; too small to convert: see the warning")
    elif result.param_convention == "non-embedding":
        how.append(f"{fq(result.n_params_law)} non-embedding, as law {result.law} counts them")
    if result.n_params_assumed:
        how.append("compute-optimal for one pass")
    how_text = f" ({'; '.join(how)})" if how else ""
    t = Table(
        title=(
            f"Repeating {format_count(result.unique_tokens, 'unique token')} on {model}{how_text}, "
            f"law {result.law}"
        ),
        title_justify="left",
    )
    ranged = any(r.inside_range is not None for r in result.rows)
    cols = ("epochs", "tokens", "D'", "D'/D", "D'/U", "loss", "Δloss vs fresh")
    for c in (*cols, *(["in range"] if ranged else []), "advice"):
        t.add_column(c, justify="left" if c == "advice" else "right")
    for r in result.rows:
        dl = (
            "-"
            if r.loss_change is None
            else f"+{r.loss_change:.4f} ({100 * r.relative_penalty:.2f}%)"
        )
        t.add_row(
            format_exact(r.epochs),
            fq(r.n_tokens),
            fq(r.effective_tokens),
            f"{r.effective_fraction:.3f}",
            f"{r.effective_multiple:.2f}",
            _loss(r.loss),
            dl,
            *([_in_range(r)] if ranged else []),
            r.advice,
        )
    console().print(t)
    sources = result.sources or {}
    console().print(f"law {result.law}: {sources['loss']}", soft_wrap=True)
    console().print(
        f"sources: D': {sources['effective_tokens']}; advice: {sources['advice']}", soft_wrap=True
    )
    for note in result.notes:
        console().print(f"note: {note}", soft_wrap=True)
    _print_warnings([("", w) for w in result.warnings])
    _print_advice(result.advice)
