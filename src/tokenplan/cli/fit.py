"""``tokenplan fit``: fit a scaling law to your runs (Chinchilla Approaches 1/2/3, data-constrained)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from tokenplan._io import atomic_write
from tokenplan.cli._common import QUANTITY_LIST, console, err_console, json_option, print_json
from tokenplan.errors import InvalidInputError
from tokenplan.units import format_quantity as fq


def _parse_columns(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidInputError(
                f"--columns {part!r}: use field=column pairs, e.g. --columns loss=val_loss,n_params=params."
            )
        key, col = (s.strip() for s in part.split("=", 1))
        out[key] = col
    return out


def _write_json_atomic(path: Path, obj: dict[str, Any]) -> None:
    from tokenplan.cli._common import _clean

    with atomic_write(path) as fh:
        json.dump(_clean(obj), fh, indent=2, allow_nan=False)
        fh.write("\n")


@click.command()
@click.argument("runs_path", metavar="RUNS", type=click.Path(dir_okay=False))
@click.option(
    "--approach",
    type=click.Choice(["1", "2", "3", "all"]),
    default="3",
    show_default=True,
    help="Chinchilla approach: 1 envelope of curves, 2 IsoFLOP profiles, 3 parametric L(N, D).",
)
@click.option(
    "--law",
    "law_kind",
    type=click.Choice(["chinchilla", "data-constrained"]),
    default="chinchilla",
    show_default=True,
    help="data-constrained fits R_D*, R_N* of Muennighoff et al. 2023 (needs unique_tokens).",
)
@click.option("--columns", help="Map fields to your columns: loss=val_loss_c4,n_params=params.")
@click.option(
    "--curves", "curves_path", type=click.Path(dir_okay=False), help="Training curves (Approach 1)."
)
@click.option(
    "--drop-highest", type=int, default=0, show_default=True, help="Drop the K highest-loss runs."
)
@click.option(
    "--drop-invalid", is_flag=True, help="Drop rows with NaN/inf/non-positive values (counted)."
)
@click.option(
    "--delta", type=float, default=1e-3, show_default=True, help="Huber delta (log-loss units)."
)
@click.option(
    "--reduction",
    type=click.Choice(["sum", "mean"]),
    default="sum",
    show_default=True,
    help="Huber SUM (correct) or MEAN (reproduces the early stop behind Hoffmann's constants).",
)
@click.option("--alpha-equals-beta", is_flag=True, help="Approach 3 with alpha = beta.")
@click.option(
    "--overestimate-weight",
    type=float,
    default=1.0,
    show_default=True,
    help="Approach 3: weight of residuals where the law over-predicts the loss (asymmetric Huber).",
)
@click.option(
    "--profile",
    type=click.Choice(["parabola", "cubic", "interp"]),
    default="parabola",
    show_default=True,
    help="Approach 2 per-budget profile.",
)
@click.option(
    "--bins-per-decade",
    type=float,
    help="Approach 2: group FLOPs into log bins (else exact/clustered).",
)
@click.option("--fit-base", is_flag=True, help="data-constrained: also refit E, A, B, alpha, beta.")
@click.option(
    "--bootstrap", "n_boot", type=int, default=0, help="Bootstrap refits for intervals (e.g. 1000)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--ci",
    type=float,
    default=80.0,
    show_default=True,
    help="Interval level in % (80 = 10th/90th).",
)
@click.option(
    "--budgets", type=QUANTITY_LIST, help="FLOP budgets for N_opt/D_opt (and their intervals)."
)
@click.option(
    "--save", "save_path", type=click.Path(dir_okay=False), help="Write the fitted law (JSON)."
)
@click.option("--overwrite", is_flag=True, help="Allow --save to replace an existing file.")
@click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a figure (PNG/PDF/SVG)."
)
@json_option
def fit(
    runs_path,
    approach,
    law_kind,
    columns,
    curves_path,
    drop_highest,
    drop_invalid,
    delta,
    reduction,
    alpha_equals_beta,
    overestimate_weight,
    profile,
    bins_per_decade,
    fit_base,
    n_boot,
    seed,
    ci,
    budgets,
    save_path,
    overwrite,
    plot_path,
    as_json,
) -> None:
    """Fit a scaling law to your training runs (CSV, JSONL or Parquet; one row per run).

    Column names are matched with common aliases (params/N/"Model Size", tokens/D, flops/C/"Training FLOP",
    loss/val_loss, unique_tokens, run_id); tokens are derived as C/(6N) when absent. Rows whose status is
    not "ok" are dropped and counted.

    \b
    Examples:
      tokenplan fit results.csv --save fit.json
      tokenplan fit runs.csv --drop-highest 5 --bootstrap 1000 --budgets 5.76e23
      tokenplan fit results.csv --approach all --curves curves.csv --plot fit.png
      tokenplan fit c4_runs.csv --law data-constrained --columns loss=val_loss_c4
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tokenplan import fit as fitlib
    from tokenplan.runs import read_curves, read_runs

    if n_boot < 0:
        raise InvalidInputError(f"--bootstrap {n_boot} must be >= 0.")
    if drop_highest < 0:
        raise InvalidInputError(f"--drop-highest {drop_highest} must be >= 0.")
    if not 0 < ci < 100:
        raise InvalidInputError(f"--ci {ci} must lie in (0, 100).")
    save = Path(save_path) if save_path else None
    if save is not None and save.exists() and not overwrite:
        raise InvalidInputError(f"--save {save} exists; pass --overwrite to replace it.")
    budgets = tuple(budgets or ())
    level = ci / 100.0
    warnings_out: list[str] = []
    notes: list[str] = []
    results: dict[str, Any] = {}
    objects: dict[str, Any] = {}

    steps = {"1": 1, "2": 1, "3": 1, "all": 3}[approach] + (1 if n_boot else 0) + 1
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
        disable=as_json,
    )
    with progress:
        task = progress.add_task("reading runs", total=steps)
        runs = read_runs(
            runs_path,
            columns=_parse_columns(columns),
            drop_highest=drop_highest,
            drop_invalid=drop_invalid,
        )
        notes.extend(runs.notes)
        progress.advance(task)

        if law_kind == "data-constrained":
            progress.update(task, description="fitting R_D*, R_N*")
            dc = fitlib.fit_data_constrained(runs, fit_base=fit_base, delta=delta)
            objects["data-constrained"] = dc
            results["data-constrained"] = dc.to_dict()
            warnings_out.extend(dc.warnings)
            primary = dc
            progress.advance(task)
        else:
            if runs.has_unique_tokens:
                fresh = runs.fresh_only()
                if len(fresh) < len(runs):
                    notes.append(
                        f"{len(runs) - len(fresh)} runs repeat data and are left out of the Chinchilla "
                        "fit (Chinchilla assumes fresh tokens); fit them with --law data-constrained."
                    )
                runs = fresh
            want = ["1", "2", "3"] if approach == "all" else [approach]

            def attempt(key: str, fit_fn) -> None:
                """Run one approach; under --approach all a table too small for it is a warning."""
                try:
                    fitted = fit_fn()
                except InvalidInputError as exc:
                    if approach == key:
                        raise
                    warnings_out.append(f"Approach {key} skipped: {exc}")
                    return
                objects[key] = fitted
                results[key] = fitted.to_dict()
                warnings_out.extend(fitted.warnings)

            curves = None
            if "1" in want:
                progress.update(task, description="Approach 1: envelope")
                if curves_path:
                    curves = read_curves(curves_path)
                elif runs.curves is not None:
                    curves = runs.curves
                else:
                    beside = Path(runs_path).with_name("curves.csv")
                    if beside.is_file() and beside.resolve() != Path(runs_path).resolve():
                        curves = read_curves(beside)
                        notes.append(
                            f"Approach 1 uses the curves found next to the results: {beside}."
                        )
                if curves is None:
                    msg = "Approach 1 needs training curves: pass --curves curves.csv."
                    if approach == "1":
                        raise InvalidInputError(msg)
                    warnings_out.append(msg + " Skipped.")
                else:
                    attempt("1", lambda: fitlib.fit_envelope(curves))
                progress.advance(task)
            if "2" in want:
                progress.update(task, description="Approach 2: IsoFLOP profiles")
                attempt(
                    "2",
                    lambda: fitlib.fit_isoflop(
                        runs, profile=profile, bins_per_decade=bins_per_decade
                    ),
                )
                progress.advance(task)
            if "3" in want:
                progress.update(task, description="Approach 3: 4,500-start fit")
                attempt(
                    "3",
                    lambda: fitlib.fit_parametric(
                        runs,
                        delta=delta,
                        reduction=reduction,
                        alpha_equals_beta=alpha_equals_beta,
                        overestimate_weight=overestimate_weight,
                    ),
                )
                progress.advance(task)
            if not objects:
                raise InvalidInputError("no approach could be fitted: " + " ".join(warnings_out))
            primary = objects.get("3") or objects.get("2") or objects.get("1")

        boot = None
        if n_boot:
            progress.update(task, description=f"bootstrap: {n_boot} refits")
            if "3" in objects:
                boot = fitlib.bootstrap_parametric(
                    runs, objects["3"], n_boot=n_boot, seed=seed, level=level, budgets=budgets
                )
                results["3"]["intervals"] = boot.to_dict()
            if "2" in objects:
                b2 = fitlib.bootstrap_isoflop(
                    runs,
                    n_boot=n_boot,
                    seed=seed,
                    level=level,
                    budgets=budgets,
                    profile=profile,
                    bins_per_decade=bins_per_decade,
                )
                results["2"]["intervals"] = b2.to_dict()
                boot = boot or b2
            if "1" in objects:
                b1 = fitlib.bootstrap_envelope(
                    curves, n_boot=n_boot, seed=seed, level=level, budgets=budgets
                )
                results["1"]["intervals"] = b1.to_dict()
                boot = boot or b1
            if "data-constrained" in objects:
                bdc = fitlib.bootstrap_data_constrained(
                    runs, objects["data-constrained"], n_boot=n_boot, seed=seed, level=level
                )
                results["data-constrained"]["intervals"] = bdc.to_dict()
                boot = boot or bdc
            progress.advance(task)

    law = primary.law
    allocations = []
    for C in budgets:
        alloc = law.optimal(C)
        row = {"flops": C, "n_params": float(alloc.n_params), "n_tokens": float(alloc.n_tokens)}
        if boot is not None:
            key = f"{C:.3g}"
            row["n_params_interval"] = boot.intervals.get(f"n_params_opt@{key}")
            row["n_tokens_interval"] = boot.intervals.get(f"n_tokens_opt@{key}")
        allocations.append(row)

    runs_info = {
        "source": runs.source,
        "n_used": len(runs),
        "n_dropped": runs.n_dropped,
        "dropped": runs.dropped,
        "param_column": runs.param_column,
    }
    meta = {
        "approach": law_kind if law_kind == "data-constrained" else approach,
        "saved_from": type(primary).__name__,
        "objective": getattr(primary, "objective", None),
        "delta": delta,
        "reduction": reduction,
        "runs": runs_info,
        "fits": results,
        "warnings": warnings_out,
        "notes": notes,
    }
    if save is not None:
        _write_json_atomic(save, {"law": law.to_dict(), "fit": meta})
    if plot_path:
        from tokenplan.report.fit_plots import plot_fit

        plot_fit(
            plot_path,
            runs=runs,
            parametric=objects.get("3"),
            isoflop=objects.get("2"),
            envelope=objects.get("1"),
            data_constrained=objects.get("data-constrained"),
        )

    if as_json:
        print_json(
            {
                **meta,
                "law": law.to_dict(),
                "allocations": allocations,
                "saved": str(save) if save else None,
                "plot": plot_path,
            }
        )
        return
    _print_tables(
        runs_info, results, objects, allocations, boot, warnings_out, notes, save, plot_path
    )


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.4g}"


def _print_tables(runs_info, results, objects, allocations, boot, warnings_out, notes, save, plot):
    from rich.table import Table

    con = console()
    dropped = "; ".join(f"{n} {why}" for why, n in runs_info["dropped"].items()) or "none"
    con.print(
        f"[bold]{runs_info['n_used']} runs[/bold] from {runs_info['source']} "
        f"(N = {runs_info['param_column']}); dropped: {dropped}",
        soft_wrap=True,
    )
    for key, res in results.items():
        title = {
            "1": "Approach 1 (training-curve envelope)",
            "2": "Approach 2 (IsoFLOP profiles)",
            "3": "Approach 3 (parametric L = E + A/N^alpha + B/D^beta)",
            "data-constrained": "Data-constrained law (Muennighoff et al. 2023)",
        }[key]
        con.print(f"[bold]{title}[/bold]")
        table = Table()
        table.add_column("parameter")
        table.add_column("value", justify="right")
        intervals = (res.get("intervals") or {}).get("intervals", {})
        if intervals:
            level = res["intervals"]["level"]
            table.add_column(f"{level * 100:g}% interval", justify="right")
        rows = {**res.get("params", {}), **res.get("exponents", {})}
        for name, value in rows.items():
            cells = [name, _fmt(value)]
            if intervals:
                lo_hi = intervals.get(name)
                cells.append(f"{_fmt(lo_hi[0])} .. {_fmt(lo_hi[1])}" if lo_hi else "")
            table.add_row(*cells)
        if "objective" in res:
            extra = [""] if intervals else []
            table.add_row("objective", f"{res['objective']:.7g}", *extra)
        con.print(table)
        if key == "2":
            con.print("[bold]IsoFLOP minima per budget[/bold]")
            prof = Table()
            for col in ("FLOPs", "runs", "N_opt", "D_opt", "loss", "bracketed"):
                prof.add_column(col, justify="right")
            for b in res["budgets"]:
                prof.add_row(
                    f"{b['flops']:.3g}",
                    str(b["n_points"]),
                    fq(b["n_params_opt"]),
                    fq(b["n_tokens_opt"]),
                    f"{b['loss_opt']:.4f}",
                    "yes" if b["bracketed"] else "NO",
                )
            con.print(prof)
    if allocations:
        con.print("[bold]Compute-optimal allocation (the saved law)[/bold]")
        table = Table()
        for col in ("FLOPs", "N_opt", "D_opt"):
            table.add_column(col, justify="right")
        for a in allocations:
            n_iv, d_iv = a.get("n_params_interval"), a.get("n_tokens_interval")
            table.add_row(
                f"{a['flops']:.3g}",
                fq(a["n_params"]) + (f" ({fq(n_iv[0])}..{fq(n_iv[1])})" if n_iv else ""),
                fq(a["n_tokens"]) + (f" ({fq(d_iv[0])}..{fq(d_iv[1])})" if d_iv else ""),
            )
        con.print(table)
    if boot is not None:
        con.print(
            f"bootstrap: {boot.n_boot} refits (seed {boot.seed}), {boot.n_failed} failed; {boot.method}"
        )
    for n in notes:
        con.print(f"note: {n}", soft_wrap=True)
    for w in warnings_out:
        con.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)
    if save:
        con.print(f"saved the law to {save} (use: tokenplan plan --law {save})")
    if plot:
        con.print(f"wrote {plot}")
