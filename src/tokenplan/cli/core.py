"""``tokenplan laws`` and ``tokenplan flops``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tokenplan.cli._common import console, print_json
from tokenplan.cli._options import QUANTITY, choice_option, count_option, json_option
from tokenplan.flops import NORMS, POSITIONS, SHAPE_SOURCES
from tokenplan.units import format_quantity as fq

if TYPE_CHECKING:
    from tokenplan.flops import ModelShape, ShapeReport


@click.command()
@json_option
def laws(as_json: bool) -> None:
    """List the scaling-law presets: citation, parameter convention, and the data each was fitted on.

    Any of these names works with `tokenplan plan --law NAME`; so does a law saved by `tokenplan fit`.
    """
    from tokenplan.laws import list_laws, published_intervals

    rows = []
    for law in list_laws():
        row = {
            "name": law.name,
            "kind": type(law).__name__,
            "param_convention": law.param_convention,
            "predicts_loss": law.has_loss,
            "exponents": {"a": law.exponents[0], "b": law.exponents[1]},
            "description": law.description,
            "citation": law.citation,
        }
        row["tokens_per_param_at_1e24"] = float(law.optimal(1e24).tokens_per_param)
        rng = law.fitted_range
        row["fitted_range"] = None if rng is None else rng.to_dict()
        row["published_intervals"] = [p.to_dict() for p in published_intervals(law)]
        rows.append(row)
    if as_json:
        print_json({"laws": rows})
        return
    from rich.table import Table

    table = Table(title="Scaling-law presets", title_justify="left")
    cells = [
        [
            r["name"],
            r["param_convention"],
            f"{r['exponents']['a']:.3f}",
            f"{r['tokens_per_param_at_1e24']:.1f}",
            _span(r["fitted_range"]),
        ]
        for r in rows
    ]
    for i, col in enumerate(("name", "N counts", "N∝C^a", "D/N@1e24", "fitted FLOPs")):
        table.add_column(col, min_width=max(len(c[i]) for c in cells))  # values never wrap
    for c in cells:
        table.add_row(*c)
    console().print(table)
    for r in rows:
        what = r["description"] + ("" if r["predicts_loss"] else " (no loss prediction)")
        console().print(f"[bold]{r['name']}[/bold]: {what}. {r['citation']}.", soft_wrap=True)
        if r["fitted_range"] is not None:
            console().print(f"  fitted range: {r['fitted_range']['source']}", soft_wrap=True)


def _span(rng) -> str:
    """The fitted FLOPs of a law as ``1.4e18..1.3e22`` ('-' when unknown)."""
    if rng is None:
        return "-"
    lo, hi = (f"{x:.2g}".replace("e+", "e") for x in rng["flops"])
    return f"{lo}..{hi}"


def _sources_epilog() -> str:
    """The named shapes and where their sizes come from: one paragraph per source."""
    names: dict[str, list[str]] = {}
    for name, source in SHAPE_SOURCES.items():
        names.setdefault(source, []).append(name)
    return "Named shapes (--shape) and their sources:\n\n" + "\n\n".join(
        f"{', '.join(shapes)}: {source}." for source, shapes in names.items()
    )


@click.command(epilog=_sources_epilog())
@click.option(
    "--shape",
    "shape_name",
    help=f"A named shape ({', '.join(SHAPE_SOURCES)}; sources below).",
)
@count_option("--layers", "12", "Number of transformer blocks.")
@count_option("--d-model", "768", "Residual width.")
@count_option("--heads", "12", "Attention (query) heads.")
@count_option(
    "--kv-heads",
    "8",
    "Key/value heads: fewer than --heads is grouped-query attention, 1 multi-query [default: --heads].",
)
@count_option("--kv-size", "64", "Per-head key/value size [default: d_model/heads].")
@count_option("--ffw-size", "3072", "MLP hidden size [default: 4 d_model].")
@count_option("--vocab", "50257", "Vocabulary size [default: 50257, or the shape's].")
@count_option("--seq-len", "2048", "Sequence length [default: 2048, or the shape's].")
@click.option(
    "--tied/--untied", default=None, help="LM head tied to the token embeddings [default: tied]."
)
@choice_option("--position", POSITIONS, help="Position encoding [default: learned].")
@click.option("--bias/--no-bias", default=None, help="Biases in linear layers and norms.")
@choice_option("--norm", NORMS, help="Norm type [default: layernorm].")
@click.option(
    "--gated/--no-gated", "gated_mlp", default=None, help="SwiGLU-style gated MLP (3 matrices)."
)
@click.option("--tokens", type=QUANTITY, help="Training tokens, to report total training FLOPs.")
@json_option
def flops(
    shape_name,
    layers,
    d_model,
    heads,
    kv_heads,
    kv_size,
    ffw_size,
    vocab,
    seq_len,
    tied,
    position,
    bias,
    norm,
    gated_mlp,
    tokens,
    as_json,
) -> None:
    """Parameters and FLOPs of a transformer shape: total and non-embedding N, 6N and Chinchilla App. F.

    \b
    Examples:
      tokenplan flops --shape gpt2-small
      tokenplan flops --shape llama2-70b --tokens 2T
      tokenplan flops --layers 12 --d-model 768 --heads 12 --vocab 50257 --seq-len 1024 --tokens 300B
    """
    from tokenplan.flops import ShapeReport

    sizes = {
        "n_layers": layers,
        "d_model": d_model,
        "n_heads": heads,
        "n_kv_heads": kv_heads,
        "kv_size": kv_size,
        "ffw_size": ffw_size,
        "vocab_size": vocab,
        "seq_len": seq_len,
        "tied_embeddings": tied,
        "position": position,
        "bias": bias,
        "norm": norm,
        "gated_mlp": gated_mlp,
    }
    report = ShapeReport(_shape(shape_name, sizes), n_tokens=tokens or None)
    if as_json:
        print_json(report.to_dict())
        return
    _render_shape(report)


flops.tokenplan_flags = {
    "shape": "--shape",
    "n_layers": "--layers",
    "n_heads": "--heads",
    "n_kv_heads": "--kv-heads",
    "vocab_size": "--vocab",
}


def _shape(shape_name: str | None, sizes: dict[str, object]) -> ModelShape:
    """The named shape with the sizes given on top, or a shape from the sizes alone."""
    from dataclasses import replace

    from tokenplan import _checks
    from tokenplan.errors import InvalidInputError
    from tokenplan.flops import SHAPES, ModelShape

    overrides = {k: v for k, v in sizes.items() if v is not None}
    if shape_name:
        base = SHAPES[_checks.choice("shape", shape_name, SHAPES, param="shape")]
        # a preset with a size changed is no longer that preset: the name says what changed
        changed = [f"{k}={v}" for k, v in overrides.items() if getattr(base, k) != v]
        name = f"{base.name} with {', '.join(changed)}" if changed else base.name
        return replace(base, **overrides, name=name)
    flags = (("--layers", "n_layers"), ("--d-model", "d_model"), ("--heads", "n_heads"))
    missing = [flag for flag, key in flags if key not in overrides]
    if missing:
        raise InvalidInputError(
            f"missing {', '.join(missing)}; give the shape's sizes or --shape NAME (e.g. gpt2-small)."
        )
    overrides.setdefault("vocab_size", 50257)
    return ModelShape(**overrides)


def _render_shape(report: ShapeReport) -> None:
    from rich.table import Table

    shape, p, d = report.shape, report.params, report.to_dict()
    per_token = d["flops_per_token"]
    head = "tied" if shape.tied_embeddings else "untied"
    heads = f"{shape.n_heads} heads" + (
        f" ({shape.kv_heads} KV)" if shape.kv_heads != shape.n_heads else ""
    )
    t = Table(
        title=(
            f"{shape.name or 'model'}: {shape.n_layers} layers, d_model {shape.d_model}, "
            f"{heads}, vocab {shape.vocab_size}, seq {shape.seq_len}; {head} LM head, "
            f"{shape.position} positions, {shape.norm}, {'gated' if shape.gated_mlp else 'plain'} MLP, "
            f"{'with' if shape.bias else 'no'} biases"
        ),
        title_justify="left",
    )
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_row("total params", f"{p.total:,} ({fq(p.total)})")
    t.add_row("non-embedding params (Kaplan N)", f"{p.non_embedding:,} ({fq(p.non_embedding)})")
    t.add_row("embedding params", f"{p.embedding:,}")
    t.add_row("untied LM head params", f"{p.lm_head:,}")
    t.add_row("train FLOPs/token, 6N (total)", f"{per_token['6N_total']:.4g}")
    t.add_row("train FLOPs/token, 6N (non-embedding)", f"{per_token['6N_non_embedding']:.4g}")
    t.add_row("train FLOPs/token, App. F", f"{per_token['appendix_f']:.4g}")
    t.add_row(
        "train FLOPs/token, App. F w/o embeddings+logits",
        f"{per_token['appendix_f_no_embeddings']:.4g}",
    )
    t.add_row("App. F / 6N", f"{per_token['appendix_f_over_6N']:.3f}")
    if report.n_tokens is not None:
        tokens, total = fq(report.n_tokens), d["training_flops"]
        t.add_row(f"training FLOPs for {tokens} tokens (6ND)", f"{total['6ND']:.4g}")
        t.add_row(f"training FLOPs for {tokens} tokens (App. F)", f"{total['appendix_f']:.4g}")
    console().print(t)
    if d["shape"]["source"]:
        console().print(f"{shape.name}: {d['shape']['source']}.")
    for note in report.notes:
        console().print(f"note: {note}", highlight=False)
