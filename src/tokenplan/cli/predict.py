"""``tokenplan predict``: the loss a law predicts for given model sizes and token counts, with an interval."""

from __future__ import annotations

import click

from tokenplan.cli._common import console, print_json
from tokenplan.cli._options import QUANTITY_LIST, interval_option, json_option
from tokenplan.errors import InvalidInputError
from tokenplan.units import format_epochs, format_loss, format_out, format_ratio
from tokenplan.units import format_quantity as fq


def _points(n_params, n_tokens, unique_tokens, points_path):
    """[(N, D, U or None)] from the flags (lists pair up; a single value is used for every point)."""
    if points_path:
        if n_params or n_tokens or unique_tokens:
            raise InvalidInputError(
                "--points replaces --params/--tokens/--unique-tokens; give one or the other.",
                param="points",
            )
        from tokenplan.runs import read_points

        pts = read_points(points_path)
        return [
            (float(n), float(d), None if u != u else float(u))
            for n, d, u in zip(pts.n_params, pts.n_tokens, pts.unique_tokens)
        ]
    if not n_params or not n_tokens:
        missing = "--params" if not n_params else "--tokens"
        raise InvalidInputError(
            f"{missing} is missing: give --params N --tokens D (comma lists allowed) or --points FILE.",
            param="n_params" if not n_params else "n_tokens",
        )
    lists = {"--params": n_params, "--tokens": n_tokens, "--unique-tokens": unique_tokens or [None]}
    size = max(len(v) for v in lists.values())
    for flag, values in lists.items():
        if len(values) not in (1, size):
            raise InvalidInputError(
                f"{flag} has {len(values)} values; give 1 or {size} (lists pair up element by element)."
            )
    full = {k: v * size if len(v) == 1 else v for k, v in lists.items()}
    return list(zip(full["--params"], full["--tokens"], full["--unique-tokens"]))


@click.command()
@click.option(
    "--law",
    default="epoch2024",
    help="Law preset (see `tokenplan laws`) or a law JSON saved by `tokenplan fit --save`.",
)
@click.option(
    "--params",
    "n_params",
    type=QUANTITY_LIST,
    help="Model sizes: 7B or 400M,1B, counted as the law counts them (non-embedding for kaplan).",
)
@click.option("--tokens", "n_tokens", type=QUANTITY_LIST, help="Training tokens: 140B or 8B,20B.")
@click.option(
    "--unique-tokens",
    type=QUANTITY_LIST,
    help="Unique tokens the training tokens are drawn from: 25B. A law without a repetition term is "
    "taken at the effective tokens D' (Muennighoff et al. 2023), as plan and repeat take it.",
)
@click.option(
    "--points",
    "points_path",
    type=click.Path(dir_okay=False),
    help="CSV/JSONL of points: n_params, n_tokens (or flops), optional unique_tokens.",
)
@interval_option
@json_option
def predict(law, n_params, n_tokens, unique_tokens, points_path, interval, as_json) -> None:
    """Predict the loss of models with N parameters trained on D tokens.

    Each point gets FLOPs (6ND), tokens per parameter, epochs and effective tokens when --unique-tokens is
    given, an interval (and its kind: bootstrap, backtest-calibrated or none) and a warning when it lies
    outside the range of runs the law was fitted on.

    \b
    Examples:
      tokenplan predict --params 70B --tokens 1.4T
      tokenplan predict --law fit.json --params 1B,7B --tokens 20B,140B --interval 0.9
      tokenplan predict --law muennighoff2023 --params 1B --tokens 100B --unique-tokens 10B
    """
    from tokenplan.laws import get_law

    the_law = get_law(law)
    preds = [
        the_law.predict(n, d, unique_tokens=u, interval=interval)
        for n, d, u in _points(n_params, n_tokens, unique_tokens, points_path)
    ]
    if as_json:
        print_json({"law": the_law.name, "predictions": [p.to_dict() for p in preds]})
        return
    _print(the_law, preds, interval)


predict.tokenplan_flags = {"n_params": "--params", "n_tokens": "--tokens", "points": "--points"}


def _print(law, preds, level) -> None:
    from rich.table import Table

    con = console()
    con.print(f"[bold]Predicted loss under law {law.name}[/bold] ({law.citation})", soft_wrap=True)
    repeated = any(p.unique_tokens is not None for p in preds)
    table = Table()
    cols = ["params", "tokens", "FLOPs", "D/N"] + (["epochs", "D'"] if repeated else [])
    cols += ["loss", f"{level:.0%} interval", "in range"]
    for col in cols:
        table.add_column(col, justify="right")
    for p in preds:
        row = [fq(p.n_params), fq(p.n_tokens), f"{p.flops:.3g}", format_ratio(p.tokens_per_param)]
        if repeated:
            row += [
                "-" if p.epochs is None else format_epochs(p.epochs),
                "-" if p.effective_tokens is None else fq(p.effective_tokens),
            ]
        iv = "-" if p.interval is None else " .. ".join(map(format_loss, p.interval))
        far = p.max_extrapolation
        out = format_out(far)
        inside = {None: "unknown", True: "yes"}.get(p.inside_range, out)
        table.add_row(*row, format_loss(p.loss), iv, inside)
    con.print(table)
    kinds = {(p.interval_kind, p.interval_source) for p in preds}
    for kind, source in sorted(kinds):
        con.print(f"interval: {kind} ({source})", soft_wrap=True)
    if all(p.inside_range is None for p in preds):
        con.print("fitted range: not recorded for this law, so extrapolation is not checked.")
    notes = dict.fromkeys(n for p in preds for n in p.notes)
    for n in notes:
        con.print(f"note: {n}", soft_wrap=True)
    warned = dict.fromkeys(
        f"{fq(p.n_params)}/{fq(p.n_tokens)}: {w}" for p in preds for w in p.warnings()
    )
    for w in warned:
        con.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)
