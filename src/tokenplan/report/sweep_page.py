"""The ``tokenplan sweep --report FILE.html`` page: every run, its curve, and the law the runs imply.

Shows the status of every run in results.csv (ok, failed, too_few_steps; trained by this call or finished
before it and resumed); the training curves (held-out loss against FLOPs, one line per run); the IsoFLOP view
(final loss against model size per budget, with the Approach-2 profile and its minimum) or, for a repetition
grid, the final loss against epochs per dropout schedule; and the law fitted from the ok runs (Approach 2 and
Approach 3 where the grid supports them), with each fit's N_opt ∝ C^a, or in words (the fit page's) why a
fitted law has no compute-optimal allocation.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan.errors import InvalidInputError
from tokenplan.report import _html

if TYPE_CHECKING:
    from tokenplan.sweep import SweepResult, SweepSpec

__all__ = ["sweep_report", "write_sweep_report"]

_MAX_CURVE_POINTS = (
    20_000  # curves beyond this are thinned (every k-th eval) to keep the page light
)


def sweep_report(
    result: SweepResult, spec: SweepSpec, *, say: Callable[[str], str] | None = None
) -> str:
    """The HTML page of a finished (or resumed) sweep, read from its results.csv and curves.csv.

    ``say`` rewrites the fits' notes, which name `tokenplan fit`'s arguments in Python's spelling
    (`` `approach` 1``): ``tokenplan sweep --report`` gives them as that command's flags (``--approach 1``).
    """
    alt = _html.require()
    from tokenplan.sweep import read_results

    rows = read_results(result.results_csv)
    _mark_this_call(rows, result.trained_ids)
    _repetition_cells(rows)
    fits, fit_notes = _fits(result, spec)
    iso = next((f for name, f in fits if name == "Approach 2"), None)
    failed = frozenset(r["run_id"] for r in rows if r.get("status") == "failed")
    charts = {"curves": _curves_chart(alt, result, leave_out=failed)}
    if spec.kind == "isoflop":
        charts["isoflop"] = _isoflop_chart(alt, rows, iso)
    else:
        charts["repeat"] = _repeat_chart(alt, rows)
    return _html.page(
        "sweep.html",
        subject=f"{spec.kind} grid, {result.n_runs} runs",
        charts=charts,
        descriptions={k: _describe(k, iso) for k in charts},
        padding=_html.POINT_PADDING,  # no run's marker cut in half at an axis
        s=result,
        spec=spec,
        rows=rows,
        fits=[(name, f, _fit_rows(f)) for name, f in fits],
        fit_notes=[(say or str)(n) for n in fit_notes],
        budgets=_budget_lines(fits, rows, result),
        profiles=iso is not None,  # the IsoFLOP caption names the profiles only when they are drawn
        curves_left_out=len(failed),
    )


def _describe(chart: str, iso: Any) -> str:
    """What a chart shows, for a screen reader (its aria-label; Vega's default is 'Vega visualization')."""
    return {
        "curves": "Line chart of each run's held-out loss against the FLOPs spent so far, one line per "
        "run, coloured by model size",
        "isoflop": "Scatter plot of each run's final held-out loss against model size, one colour per "
        "FLOPs budget" + (", with the Approach-2 profiles and their minima" if iso else ""),
        "repeat": "Line chart of the final held-out loss against epochs over the unique data, one line "
        "per dropout schedule",
    }[chart] + "; the table of every run below lists the numbers."


def write_sweep_report(
    path: str | os.PathLike[str],
    result: SweepResult,
    spec: SweepSpec,
    *,
    overwrite: bool = False,
    inputs: tuple = (),
    say: Callable[[str], str] | None = None,
) -> Path:
    """Write :func:`sweep_report` to ``path`` (checked first, written atomically)."""
    _html.check(path, overwrite=overwrite, inputs=inputs)
    html = sweep_report(result, spec, say=say)
    return _html.write_page(html, path, overwrite=overwrite, inputs=inputs)


def _mark_this_call(rows: list[dict], trained_ids: tuple[str, ...]) -> None:
    """Each row: trained by this call, or finished before it (results.csv is in grid order, so the rows
    this call trained are found by run id, not by position)."""
    trained = set(trained_ids)
    for row in rows:
        row["this_call"] = "trained" if row.get("run_id") in trained else "finished earlier"


def _repetition_cells(rows: list[dict]) -> None:
    """Each row's unique tokens, epochs and dropout as the run table shows them: a repetition grid varies
    them (its runs differ in nothing else the table showed: 12 rows of one size and budget), an IsoFLOP
    grid's template leaves them out. Dropout: 'none', or the rate and its schedule ('0.1 constant',
    '0.1 late from 50%')."""
    from tokenplan.units import format_epochs, format_quantity

    for row in rows:
        unique, epochs = _num(row.get("unique_tokens")), _num(row.get("epochs"))
        row["unique_text"] = format_quantity(unique) if math.isfinite(unique) else "-"
        row["epochs_text"] = format_epochs(epochs) if math.isfinite(epochs) else "-"
        p, start = _num(row.get("dropout")), _num(row.get("dropout_start"))
        schedule = row.get("dropout_schedule") or ("constant" if p else "none")
        later = f" from {start:.0%}" if math.isfinite(start) and start > 0 else ""
        row["dropout_text"] = f"{p:g} {schedule}{later}" if math.isfinite(p) and p > 0 else "none"


def _num(text: Any) -> float:
    try:
        x = float(text)
    except (TypeError, ValueError):
        return math.nan
    return x


# --------------------------------------------------------------------------------------------------------
# fits
# --------------------------------------------------------------------------------------------------------
def _fits(result: SweepResult, spec: SweepSpec) -> tuple[list[tuple[str, Any]], list[str]]:
    """(name, fit) for each approach the ok runs support, and a note for each that they do not."""
    from tokenplan import fit as fitlib
    from tokenplan.fit.report import runs_left_out
    from tokenplan.runs import read_runs

    notes: list[str] = []
    if spec.kind != "isoflop":
        return [], ["a repetition grid trains one model size: there is no N(C) law to fit."]
    try:
        runs = read_runs(result.best_lr_csv or result.results_csv)
    except InvalidInputError as exc:
        return [], [f"no law: {exc}"]
    fits = []
    fresh = (
        runs.fresh_only()
    )  # as `tokenplan fit` fits Approaches 1 and 2: repeated tokens are not fresh
    if len(fresh) < len(runs):
        notes.append(
            f"{runs_left_out(len(runs) - len(fresh))} of Approaches 2 and 3, as "
            "`tokenplan fit` leaves them out."
        )
    for name, fn in (
        ("Approach 2", lambda: ("Approach 2", fitlib.fit_isoflop(fresh))),
        ("Approach 3", lambda: _approach3(fitlib, runs)),
    ):
        try:
            fits.append(fn())
        except InvalidInputError as exc:
            notes.append(f"{name} not fitted: {exc}")
    return fits, notes


def _approach3(fitlib, runs) -> tuple[str, Any]:
    """Approach 3 as `tokenplan fit RESULTS` fits it by default (the form its backtest chooses), without
    the bootstrap: the page shows the point estimate. The name says the form."""
    report = fitlib.run_fit(runs, fitlib.FitOptions(n_boot=0))
    return f"Approach 3, form {report.form}", report.fits["3"]


def _fit_rows(fit: Any) -> list[tuple[str, float]]:
    d = fit.to_dict()
    params = d.get("params", {})
    return [
        *params.items(),
        *((k, v) for k, v in d.get("exponents", {}).items() if k not in params),
    ]


def _budget_lines(
    fits: list[tuple[str, Any]], rows: list[dict], result: Any = None
) -> list[dict[str, Any]]:
    """N_opt and D_opt of each fit at each budget of the grid, and how far that allocation lies outside
    the runs both fits are fitted on (the fresh ones), in `tokenplan fit`'s 'in range' words: a fit's
    optimum at a budget the grid trained can still be far from every size it trained."""
    from tokenplan.fit.report import allocation_in_range

    budgets = sorted({_num(r.get("flops_budget")) for r in rows} - {math.nan})
    budgets = [b for b in budgets if math.isfinite(b) and b > 0]
    rng = _fresh_range(result) if fits and result is not None else None
    out = []
    for b in budgets:
        row: dict[str, Any] = {"flops": b}
        for name, f in fits:
            a = f.law.optimal(b)
            N, D = float(a.n_params), float(a.n_tokens)
            far = {} if rng is None else rng.extrapolation(N, D)
            alloc = {"n_params": N, "n_tokens": D, "extrapolation": far}
            row[name] = (N, D, allocation_in_range(alloc))
        out.append(row)
    return out


def _fresh_range(result) -> Any:
    """The (N, D) range of the runs on fresh data, which Approaches 2 and 3 are fitted on (None: unread)."""
    from tokenplan.laws.base import FittedRange
    from tokenplan.runs import read_runs

    try:
        fresh = read_runs(result.best_lr_csv or result.results_csv).fresh_only()
    except InvalidInputError:
        return None
    return FittedRange.of_runs(fresh.n_params, fresh.n_tokens) if len(fresh) else None


# --------------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------------
def _curves_chart(alt: Any, result: SweepResult, *, leave_out: frozenset[str] = frozenset()) -> Any:
    """The runs' training curves; those of ``leave_out`` (failed runs) are not drawn: a diverged run's
    loss of 343 nats at mid-run set the linear axis and pressed every other curve into a flat line."""
    from tokenplan.runs import read_curves

    try:
        curves = read_curves(result.curves_csv)
    except InvalidInputError:
        return None
    n = len(curves.loss)
    step = max(1, math.ceil(n / _MAX_CURVE_POINTS))
    shown = [
        i
        for i in range(0, n, step)
        if np.isfinite(curves.loss[i]) and str(curves.run_id[i]) not in leave_out
    ]
    rows = _html.point_rows(curves, ("flops", "n_tokens", "loss", "n_params"), shown)
    # the legend lists the sweep's own model sizes (9.26k, 16.2k ...), not round values between them
    sizes = sorted({r["n_params"] for r in rows})
    legend = alt.Legend(values=sizes, **_html.QUANTITY)
    pick = alt.selection_point(name="pick_run", fields=["run"], on="click", clear="dblclick")
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            _html.log_axis(alt, "flops:Q", "training FLOPs so far", ".0e"),
            alt.Y("loss:Q", scale=alt.Scale(zero=False), title="held-out loss (nats/token)"),
            alt.Color(
                "n_params:Q",
                scale=alt.Scale(type="log", scheme="viridis"),
                title="params",
                legend=legend,
            ),
            alt.Detail("run:N"),
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.12)),
            tooltip=[
                "run:N",
                alt.Tooltip("n_tokens:Q", **_html.QUANTITY),
                alt.Tooltip("loss:Q", format=".4f"),
            ],
        )
        .add_params(pick)
        .properties(width=780, height=340)
    )


def _isoflop_chart(alt: Any, rows: list[dict], iso: Any) -> Any:
    pts = [
        {
            "run": r["run_id"],
            "n_params": _num(r.get("n_params")),
            "loss": _num(r.get("loss")),
            "budget": _html.budget_label(_num(r.get("flops_budget"))),
            "status": r.get("status", ""),
        }
        for r in rows
        if math.isfinite(_num(r.get("loss"))) and math.isfinite(_num(r.get("n_params")))
    ]
    x = _html.log_axis(alt, "n_params:Q", "parameters N")
    y = alt.Y("loss:Q", scale=alt.Scale(zero=False), title="final held-out loss")
    labels = [r["budget"] for r in pts]
    if iso is not None:
        labels += [_html.budget_label(p.flops) for p in iso.profiles]
    color = _html.budget_color(alt, labels, "FLOPs budget")
    tip = ["run:N", "status:N", alt.Tooltip("loss:Q", format=".4f")]
    layers = [
        alt.Chart(alt.Data(values=pts))
        .mark_point(filled=True, size=60)
        .encode(x, y, color, alt.Shape("status:N"), tooltip=tip)
    ]
    if iso is not None:
        layers += _html.profile_layers(
            alt, iso, x, y, color, size=160, unbracketed="no (outside the grid)"
        )
    return alt.layer(*layers).properties(width=780, height=360)


def _repeat_chart(alt: Any, rows: list[dict]) -> Any:
    pts = [
        {
            "run": r["run_id"],
            "epochs": _num(r.get("epochs")),
            "loss": _num(r.get("loss")),
            "dropout": r.get("dropout_schedule") or "none",
            "status": r.get("status", ""),
        }
        for r in rows
        if math.isfinite(_num(r.get("loss"))) and _num(r.get("epochs")) > 0
    ]
    return (
        alt.Chart(alt.Data(values=pts))
        .mark_line(point=True)
        .encode(
            # not "nice": padded 10 px, not rounded out to 0.1 .. 100 for 1 .. 64 epochs
            alt.X(
                "epochs:Q",
                scale=alt.Scale(type="log", nice=False),
                title="epochs over the unique data",
            ),
            alt.Y("loss:Q", scale=alt.Scale(zero=False), title="final held-out loss"),
            alt.Color("dropout:N", title="dropout schedule"),
            tooltip=["run:N", "status:N", alt.Tooltip("loss:Q", format=".4f")],
        )
        .properties(width=780, height=340)
    )
