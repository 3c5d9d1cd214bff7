"""``tokenplan fit``: fit a scaling law to your runs (Chinchilla Approaches 1/2/3, data-constrained).

Parses flags, calls :func:`tokenplan.fit.run_fit`, saves the law (:func:`tokenplan.laws.save_law`), plots
and renders the :class:`tokenplan.fit.FitReport`; it computes nothing itself."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from tokenplan import datasets
from tokenplan.cli._common import console, print_json, report_written
from tokenplan.cli._options import (
    QUANTITY_LIST,
    choice_option,
    count_option,
    json_option,
    not_empty,
    report_option,
)
from tokenplan.cli._progress import stage_progress
from tokenplan.errors import InvalidInputError
from tokenplan.fit.choices import APPROACHES, FORM_CHOICES, LAW_KINDS, PROFILES, REDUCTIONS
from tokenplan.units import format_factor
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
        if key in out:  # the later pair would replace the earlier one without a word
            raise InvalidInputError(
                f"--columns: field {key!r} is given twice ({out[key]!r} and {col!r}); give each field "
                "once."
            )
        out[key] = col
    return out


def _read(runs_path, example, columns, drop_highest, drop_invalid):
    """The run table from RUNS or from a packaged example (``--example``)."""
    from tokenplan.runs import read_runs

    if (runs_path is None) == (example is None):
        names = "|".join(datasets.FIT_EXAMPLE_NAMES)
        raise InvalidInputError(
            f"give a run table (RUNS) or --example {names}, not both or neither.", param="example"
        )
    opts = {
        "columns": _parse_columns(columns),
        "drop_highest": drop_highest,
        "drop_invalid": drop_invalid,
    }
    if example is not None:
        return datasets.load(datasets.FIT_EXAMPLES[example], **opts)
    return read_runs(runs_path, **opts)


def _curves(runs_path, curves_path, approach, notes):
    """Training curves for Approach 1: --curves, or a curves.csv beside the results (said in a note)."""
    from tokenplan.runs import read_curves

    if curves_path:
        return read_curves(curves_path)
    if runs_path is None or approach not in ("1", "all"):
        return None
    beside = Path(runs_path).with_name("curves.csv")
    if beside.is_file() and beside.resolve() != Path(runs_path).resolve():
        notes.append(f"Approach 1 uses the curves found next to the results: {beside}.")
        return read_curves(beside)
    return None


class _RunsFile(click.Path):
    """A file path; a sweep folder given in its place names the file of it to give ('File 'sweeps/micro'
    is a directory.' left the user to look inside)."""

    def __init__(self, name: str) -> None:
        super().__init__(dir_okay=False)
        self.file_name = name

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        inside = Path(value) / self.file_name
        if Path(value).is_dir() and inside.is_file():
            self.fail(
                f"{str(value)!r} is a folder; give the {self.file_name} in it: {inside}", param, ctx
            )
        return super().convert(value, param, ctx)


@click.command()
@click.argument("runs_path", metavar="RUNS", required=False, type=_RunsFile("results.csv"))
@choice_option(
    "--example",
    datasets.FIT_EXAMPLE_NAMES,
    help="Fit a packaged public table instead of RUNS: Chinchilla Fig. 4 points or datablations C4 runs.",
)
@choice_option(
    "--approach",
    APPROACHES,
    default="3",
    help="Chinchilla approach: 1 envelope of curves, 2 IsoFLOP profiles, 3 parametric L(N, D).",
)
@choice_option(
    "--form",
    FORM_CHOICES,
    default="auto",
    help="Approach 3's form; auto backtests each on your runs and keeps the best extrapolator.",
)
@choice_option(
    "--law",
    LAW_KINDS,
    dest="law_kind",
    default="chinchilla",
    help="data-constrained fits R_D*, R_N* of Muennighoff et al. 2023 (needs unique_tokens).",
)
@click.option("--columns", help="Map fields to your columns: loss=val_loss_c4,n_params=params.")
@click.option(
    "--curves", "curves_path", type=_RunsFile("curves.csv"), help="Training curves (Approach 1)."
)
@count_option("--drop-highest", "5", "Drop the K highest-loss runs.", allow_zero=True, default=0)
@click.option(
    "--drop-invalid",
    is_flag=True,
    help="Drop rows with NaN/inf/non-positive values or sizes under one (counted).",
)
@click.option("--delta", type=float, default=1e-3, help="Huber delta (log-loss units).")
@choice_option(
    "--reduction",
    REDUCTIONS,
    default="sum",
    help="Huber SUM (correct) or MEAN (reproduces the early stop behind Hoffmann's constants).",
)
@click.option("--alpha-equals-beta", is_flag=True, help="Same as --form shared-exponent.")
@click.option(
    "--overestimate-weight",
    type=float,
    default=1.0,
    help="Approach 3: weight of residuals where the law over-predicts the loss (asymmetric Huber).",
)
@choice_option("--profile", PROFILES, default="parabola", help="Approach 2 per-budget profile.")
@click.option(
    "--bins-per-decade",
    type=float,
    help="Approach 2: group FLOPs into log bins (else exact/clustered).",
)
@click.option("--fit-base", is_flag=True, help="data-constrained: also refit E, A, B, alpha, beta.")
@click.option(
    "--backtest",
    is_flag=True,
    help="Show the leave-largest-out backtest table (auto always runs it).",
)
@click.option(
    "--holdout",
    help="Backtest cut: 'params>=1e9', 'flops>=1e20', 'tokens>=100B' or 'top15%' [top 15% by compute]; "
    "implies --backtest.",
)
@count_option(
    "--bootstrap",
    "1000",
    "Bootstrap refits for intervals, e.g. 1000 [200 for Approach 3's Chinchilla-family forms, else 0].",
    dest="n_boot",
    allow_zero=True,
    default=None,
)
@count_option(
    "--seed", "0", "Seed of the bootstrap resampling (default 0).", allow_zero=True, default=0
)
@click.option(
    "--ci",
    type=float,
    default=80.0,
    help="Interval level in % (80 = 10th/90th).",
)
@click.option(
    "--budgets", type=QUANTITY_LIST, help="FLOP budgets for N_opt/D_opt (and their intervals)."
)
@click.option(
    "--save",
    "save_path",
    type=click.Path(dir_okay=False),
    callback=not_empty("a file name ending in .json"),
    help="Write the fitted law (JSON).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Allow --save, --plot and --report to replace an existing file.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    callback=not_empty("a file name ending in .png, .pdf or .svg"),
    help="Write a figure (PNG/PDF/SVG).",
)
@report_option(dest="report_page")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print nothing (no progress, warnings or result); --json and errors still.",
)
@json_option
def fit(runs_path, example, approach, form, law_kind, columns, curves_path, drop_highest,
        drop_invalid, delta, reduction, alpha_equals_beta, overestimate_weight, profile,
        bins_per_decade, fit_base, backtest, holdout, n_boot, seed, ci, budgets, save_path,
        overwrite, plot_path, report_page, quiet, as_json) -> None:  # fmt: skip
    """Fit a scaling law to your training runs (CSV, TSV, JSONL or Parquet; one row per run).

    Column names are matched with common aliases (params/N/"Model Size", tokens/D, flops/C/"Training FLOP",
    loss/val_loss, unique_tokens, run_id); tokens are derived as C/(6N) when absent. Rows whose status is
    not "ok" are dropped and counted.

    \b
    Examples:
      tokenplan fit results.csv --save fit.json
      tokenplan fit --example chinchilla --drop-highest 5 --backtest
      tokenplan fit runs.csv --bootstrap 1000 --budgets 5.76e23 --holdout "params>=1e9"
      tokenplan fit results.csv --approach all --curves curves.csv --plot fit.png
      tokenplan fit --example datablations --law data-constrained
      tokenplan fit results.csv --approach all --curves curves.csv --report fit.html
    """
    from tokenplan.fit import FitOptions

    form = _check_flags(drop_highest, ci, alpha_equals_beta, form)
    backtest = backtest or holdout is not None  # a held-out cut asks for the backtest it defines
    save, plot = _outputs(save_path, plot_path, overwrite, inputs=[runs_path, curves_path])
    inputs = [runs_path, curves_path]
    if report_page:  # refuse a bad --report path before fitting
        from tokenplan.report import _html

        _html.require()
        _html.check(
            report_page, overwrite=overwrite, inputs=inputs, outputs={"save": save, "plot": plot}
        )
    options = FitOptions(
        approach=approach, law=law_kind, form=form, delta=delta, reduction=reduction,
        overestimate_weight=overestimate_weight, profile=profile, bins_per_decade=bins_per_decade,
        fit_base=fit_base, n_boot=n_boot, seed=seed, level=ci / 100.0, budgets=tuple(budgets or ()),
        backtest=backtest, holdout=holdout,
    )  # fmt: skip
    with stage_progress(
        quiet=quiet, units=_UNITS, prefix="fit: "
    ) as progress:  # open until every file is written,
        runs, notes, report = _read_and_fit(  # so that an error there stays the one line on stderr
            options, runs_path, example, columns, drop_highest, drop_invalid, curves_path, progress
        )
        save, refused = _save(report, save)
        if plot is not None:
            _plot(plot, report, runs, backtest)
        summary = {**report.to_dict(), "notes": notes + list(report.notes),
                   "saved": str(save) if save else None, "plot": plot_path}  # fmt: skip
        if report_page:
            _write_report(report_page, summary, report, runs, overwrite=overwrite, inputs=inputs,
                          quiet=quiet)  # fmt: skip
    if as_json:
        print_json(summary)
    elif not quiet:
        auto = form == "auto" and len(report.backtests) > 1
        _print_report(report, notes, save, plot_path, show_backtest=backtest or auto)
    if refused is not None:  # after the result: the fit is printed, only its law file is refused
        raise refused


def _save(report, save):
    """(the path written or None, the error that refused it or None): ``save_law`` refuses a law its own
    loader would refuse (a fitted exponent <= 0), and fit still prints the result before that one line."""
    if save is None:
        return None, None
    from tokenplan.laws import save_law

    meta = {k: v for k, v in report.to_dict().items() if k != "law"}
    try:
        return save_law(report.law, save, fit=meta, overwrite=True), None
    except InvalidInputError as exc:
        return None, exc


#: what each progress stage counts (the bootstrap stages are named per approach; see run_fit)
_UNITS = {"read": "runs"} | {
    f"bootstrap ({k})": "refits"
    for k in ("approach 1", "approach 2", "approach 3", "data-constrained")
}

fit.tokenplan_flags = {
    "n_boot": "--bootstrap",
    "level": "--ci",
    "law_kind": "--law",
    "save": "--save",
    "plot": "--plot",
    "holdout": "--holdout",
    "form": "--form",
    "example": "--example",
    "report": "--report",
    "curves": "--curves",
}


def _read_and_fit(
    options, runs_path, example, columns, drop_highest, drop_invalid, curves_path, progress
):
    """Read the runs (and curves) and fit them, each stage reported to ``progress`` (refits counted)."""
    from tokenplan.fit import run_fit

    tick = progress or (lambda stage, done, total: None)
    tick("read", 0, None)
    runs = _read(runs_path, example, columns, drop_highest, drop_invalid)
    notes: list[str] = []
    curves = _curves(runs_path, curves_path, options.approach, notes)
    tick("read", len(runs), len(runs))
    auto = options.form == "auto" and options.approach in ("3", "all")
    stage = "fit and backtest" if auto else "fit"
    tick(stage, 0, None)
    report = run_fit(runs, options, curves=curves, progress=progress)
    tick(stage, 1, 1)
    return runs, notes, report


def _write_report(path, summary, report, runs, *, overwrite, inputs, quiet) -> None:
    """--report: the self-contained HTML page of this fit (numbers from the --json summary)."""
    from tokenplan._json import to_jsonable
    from tokenplan.report.fit_page import write_fit_report

    page = write_fit_report(
        path, to_jsonable(summary), runs=runs, fits=report.fits, intervals=report.intervals,
        backtests=report.backtests, overwrite=overwrite, inputs=inputs,
    )  # fmt: skip
    if not quiet:
        report_written(page)


def _check_flags(drop_highest, ci, alpha_equals_beta, form) -> str:
    """Flag checks click cannot do; returns the form (--alpha-equals-beta is --form shared-exponent)."""
    if drop_highest < 0:
        raise InvalidInputError(f"--drop-highest {drop_highest} must be >= 0.")
    if not 0 < ci < 100:
        raise InvalidInputError(f"--ci {ci} must lie in (0, 100).")
    if ci <= 1:  # plan's and predict's --interval 0.8 typed here would be a 0.8% interval
        raise InvalidInputError(
            f"--ci {ci:g} is a percentage (a {ci:g}% interval); for 80% give --ci 80 "
            "(plan and predict take the fraction, --interval 0.8)."
        )
    if alpha_equals_beta:
        if form not in ("auto", "shared-exponent"):
            raise InvalidInputError(f"--alpha-equals-beta contradicts --form {form}.")
        return "shared-exponent"
    return form


def _outputs(save_path, plot_path, overwrite, *, inputs):
    """--save and --plot checked before any work: never an input, never an existing file unasked, and
    --plot a figure format (else a bad suffix would be found only after the fit, behind its progress lines)."""
    from tokenplan._io import check_output

    def one(path, param, outputs=None):
        if not path:
            return None
        return check_output(path, param=param, overwrite=overwrite, inputs=inputs, outputs=outputs)

    save = one(save_path, "save")
    plot = one(plot_path, "plot", {"save": save})  # nor the law it saves
    if plot is not None:
        from tokenplan.report._figure import figure_format

        figure_format(plot)
    return save, plot


def _plot(path, report, runs, backtest: bool) -> None:
    """--plot: the backtest figure with --backtest, else the fit figure."""
    if backtest and report.backtests:
        from tokenplan.report.backtest_plot import plot_backtest

        plot_backtest(path, report.backtests)
        return
    from tokenplan.fit import DataConstrainedFit
    from tokenplan.fit.report import no_loss_fit_reason
    from tokenplan.report.fit_plots import plot_fit

    # Approach 3 of any form predicts the loss (the kaplan form too: it was dropped, and the figure said
    # "no loss-predicting fit"); of form data-constrained (--form auto picks it for runs that repeat data)
    # it is drawn as the data-constrained fit it is, with each run's unique tokens
    three = report.fits.get("3")
    constrained = report.fits.get("data-constrained")
    if isinstance(three, DataConstrainedFit):
        constrained, three = constrained or three, None
    plot_fit(
        path,
        runs=runs,
        parametric=three,
        isoflop=report.fits.get("2"),
        envelope=report.fits.get("1"),
        data_constrained=constrained,
        no_fit_reason=no_loss_fit_reason(report.warnings),
    )


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.4g}"


def _print_report(report, notes, save, plot, *, show_backtest: bool) -> None:
    from tokenplan.fit.report import TITLES

    con = console()
    info = report.runs_info
    dropped = "; ".join(f"{n} {why}" for why, n in info["dropped"].items()) or "none"
    con.print(
        f"[bold]{info['n_used']} runs[/bold] from {info['source']} "
        f"(N = {info['param_column']}); dropped: {dropped}",
        soft_wrap=True,
    )
    if report.backtests and show_backtest:
        _print_forms(report)
    results = report.to_dict()["fits"]
    for key, res in results.items():
        title = TITLES[key]
        if key == "3" and report.form:
            title = f"Approach 3, form {report.form}"
        con.print(f"[bold]{title}[/bold]")
        con.print(_param_table(res))
        if key == "2":
            con.print("[bold]IsoFLOP minima per budget[/bold]")
            con.print(_budget_table(res["budgets"]))
    if report.allocations:
        con.print("[bold]Compute-optimal allocation (the saved law)[/bold]")
        con.print(_allocation_table(report.allocations))
    if not report.law.has_optimum:  # the page's lead says the same
        con.print(
            f"the saved law has no compute-optimal allocation: {report.law.no_optimum_reason}.",
            soft_wrap=True,
        )
    boot = report.intervals.get(report.primary)
    if boot is not None:
        con.print(
            f"bootstrap: {boot.n_boot} refits (seed {boot.seed}), {boot.n_failed} failed; {boot.method}"
        )
    unc = report.law.uncertainty
    if unc is not None:
        con.print(f"prediction interval: {unc.kind} ({unc.described})", soft_wrap=True)
    for n in [*notes, *report.notes]:
        con.print(f"note: {n}", soft_wrap=True)
    for w in report.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)
    if save:
        con.print(f"saved the law to {save} (use: tokenplan predict --law {save} ...)")
    if plot:
        con.print(f"wrote {plot}")


def _print_forms(report) -> None:
    """The backtest of each form, then the held-out runs of the chosen one."""
    from rich.table import Table

    con = console()
    first = next(iter(report.backtests.values()))
    reach = f"{format_factor(first.flops_factor)} the largest fitted compute"
    # a cut on params or tokens can hold out runs inside the fitted compute
    reach = (
        f"up to {reach}"
        if first.flops_factor > 1.0
        else f"within the fitted compute ({reach}): no extrapolation in compute"
    )
    con.print(
        f"[bold]Backtest[/bold]: fitted on {first.n_train} runs, predicting the {first.n_heldout} held out "
        f"({first.holdout}; {reach})",
        soft_wrap=True,
    )
    table = Table()
    for col in (
        "form",
        "params",
        "mean |error|",
        "max |error|",
        f"inside {first.level:.0%} interval",
    ):
        table.add_column(col, justify="left" if col == "form" else "right")
    from tokenplan.fit.forms import n_free

    for form, bt in report.backtests.items():
        mark = " *" if form == report.form else ""
        table.add_row(
            form + mark,
            str(n_free(form)),
            f"{bt.mean_abs_error:.2%}",
            f"{bt.max_abs_error:.2%}",
            bt.coverage_text,
        )
    con.print(table)
    if report.form:
        con.print(f"form: {report.form} ({report.form_reason})", soft_wrap=True)
    bt = report.backtest
    if bt is not None:
        con.print(_heldout_table(bt))


def _heldout_table(bt):
    from rich.table import Table

    table = Table(title=f"Held-out runs, form {bt.form}")
    for col in (
        "run",
        "params",
        "tokens",
        "actual",
        "predicted",
        "error",
        f"{bt.level:.0%} interval",
    ):
        table.add_column(col, justify="left" if col == "run" else "right")
    for r in bt.rows:
        iv = "-" if r.interval is None else f"{r.interval[0]:.4f} .. {r.interval[1]:.4f}"
        mark = "" if r.inside is None or r.inside else " (out)"
        table.add_row(
            r.run_id, fq(r.n_params), fq(r.n_tokens), f"{r.actual:.4f}", f"{r.predicted:.4f}",
            f"{r.error:+.2%}", iv + mark,
        )  # fmt: skip
    return table


def _param_table(res):
    from rich.table import Table

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
    return table


def _budget_table(budgets):
    from rich.table import Table

    prof = Table()
    for col in ("FLOPs", "runs", "N_opt", "D_opt", "loss", "bracketed"):
        prof.add_column(col, justify="right")
    for b in budgets:
        prof.add_row(
            f"{b['flops']:.3g}",
            str(b["n_points"]),
            fq(b["n_params_opt"]),
            fq(b["n_tokens_opt"]),
            f"{b['loss_opt']:.4f}",
            "yes" if b["bracketed"] else "NO",
        )
    return prof


def _allocation_table(allocations):
    from rich.table import Table

    from tokenplan.fit.report import allocation_in_range

    table = Table()
    for col in ("FLOPs", "N_opt", "D_opt", "in range"):
        table.add_column(col, justify="right")
    for a in allocations:
        n_iv, d_iv = a.get("n_params_interval"), a.get("n_tokens_interval")
        table.add_row(
            f"{a['flops']:.3g}",
            fq(a["n_params"]) + (f" ({fq(n_iv[0])}..{fq(n_iv[1])})" if n_iv else ""),
            fq(a["n_tokens"]) + (f" ({fq(d_iv[0])}..{fq(d_iv[1])})" if d_iv else ""),
            allocation_in_range(a),
        )
    return table
