"""The ``tokenplan plan --report FILE.html`` page: the plan, its evidence, and every law beside it.

Shows the plan table (citation, warnings); every preset law's compute-optimal allocation on one frontier
(N vs C and D vs C) with the plan marked; iso-loss contours of the chosen law with the budget's compute line
D = C / 6N; with unique tokens the repetition curves (Muennighoff et al. 2023: D'/D and the loss change
against epochs), the data-constrained optimum and the dropout advice; with inference tokens the lifetime
cost curves (Sardana et al. 2024). Curves are evaluated from the laws themselves, nothing is refitted.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan.errors import InvalidInputError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws import DataConstrainedLaw, KaplanLaw, Law, get_law
from tokenplan.laws.presets import LOSS_SCALES
from tokenplan.laws.repetition import R_D_STAR_C4
from tokenplan.report import _html
from tokenplan.report.repeat_plot import decay_mark

if TYPE_CHECKING:
    from tokenplan.plan import Comparison, Plan

__all__ = ["plan_report", "write_plan_report"]

# The frontier spans this factor either side of the plan's budget; iso-loss maps this factor in N and D.
_FRONTIER_SPAN = 1e3
_MAP_SPAN = 100.0
_WIDTH, _HEIGHT = 430, 300

#: What each chart shows, for a screen reader (its aria-label; Vega's default is 'Vega visualization').
DESCRIPTIONS = {
    "frontier": "Line charts of each law's compute-optimal model size N and training tokens D against "
    "training compute, with each law's allocation of this plan's FLOPs as a dot and the plan as a "
    "diamond; the table above gives the plan's numbers.",
    "isoloss": "Contour lines of the law's predicted loss over model size and training tokens, with the "
    "line of this plan's FLOPs dashed and the plan as a diamond.",
    "repeat": "Line charts of the value of a repeated token (D'/D) and the predicted loss change against "
    "fresh data, each against the number of epochs, with the ~4-epoch, 1/e and this plan's epochs marked.",
    "inference": "Line chart of training, inference and lifetime total FLOPs against model size for every "
    "model that reaches the plan's loss, with the compute-optimal and the inference-aware models marked.",
}


def plan_report(
    plan: Plan,
    *,
    law: Law | str | None = None,
    comparison: Comparison | None = None,
    say: Callable[[str], str] | None = None,
) -> str:
    """The HTML page for ``plan`` (from :func:`tokenplan.plan.plan`) as a string.

    ``law`` is the law object the plan used (needed for a law loaded from a file; a preset is found by
    name). ``comparison`` (from :func:`tokenplan.plan.compare`) adds the every-law table. ``say`` rewrites
    the library's sentences (warnings, notes, sources, why a law was skipped), which name arguments in
    Python's spelling (`` `days` 30``): ``tokenplan plan --report`` gives the flags, as its console does
    (``--days 30``).
    """
    _check_types(plan, comparison)
    alt = _html.require()
    the_law = get_law(law if law is not None else plan.law)
    frontier_laws = _frontier_laws(the_law)
    charts = {
        "frontier": _frontier_chart(alt, plan, frontier_laws),
        "isoloss": _isoloss_chart(alt, plan, the_law) if the_law.has_loss else None,
        "repeat": None,
        "inference": _inference_chart(alt, plan, the_law) if plan.inference else None,
    }
    repeat = None
    if plan.unique_tokens is not None:
        repeat = _repeat_table(plan, the_law)
        charts["repeat"] = _repeat_chart(alt, plan, repeat)
    return _html.page(
        "plan.html",
        subject=_headline(plan),
        charts=charts,
        descriptions=DESCRIPTIONS,
        plan=plan,
        law=the_law,
        comparison=comparison,
        compare_key="plans." if comparison is not None else None,
        repeat=repeat,
        # the text's '1/e' epoch: the C4 fit's ~16, or 1 + R_D* of a law of one's own (as the chart's mark)
        repeat_decay=None if repeat is None or repeat.R_D_star == R_D_STAR_C4 else repeat.R_D_star,
        # kaplan's allocation (Table 6) is not its L(N, D)'s optimum: the page says where that one is
        line_optimum=_line_optimum(plan, the_law) if isinstance(the_law, KaplanLaw) else None,
        frontier_laws=[lw.name for lw in frontier_laws],
        citations={lw.name: lw.citation for lw in frontier_laws},
        loss_scales=LOSS_SCALES[:1].upper()
        + LOSS_SCALES[1:],  # plan --compare's note, as a sentence
        say=say or str,
    )


def _check_types(plan: object, comparison: object) -> None:
    """plan_report(None), a plan's to_dict() or a dict as ``comparison`` failed inside the page
    ('dict' object has no attribute 'law', jinja2's UndefinedError): name them."""
    from tokenplan.plan import Comparison, Plan

    for name, value, kind, how in (
        ("plan", plan, Plan, "tokenplan.plan(flops=...)"),
        ("comparison", comparison, Comparison, "tokenplan.compare(flops=...)"),
    ):
        if not isinstance(value, kind) and not (name == "comparison" and value is None):
            raise InvalidInputError(
                f"{name} must be a {kind.__name__} (from {how}), not {type(value).__name__}.",
                param=name,
            )


def write_plan_report(
    path: str | os.PathLike[str],
    plan: Plan,
    *,
    law: Law | str | None = None,
    comparison: Comparison | None = None,
    overwrite: bool = False,
    inputs: tuple = (),
    say: Callable[[str], str] | None = None,
) -> Path:
    """Write :func:`plan_report` to ``path`` (refused over an input, or an existing file without overwrite)."""
    _html.check(path, overwrite=overwrite, inputs=inputs)
    html = plan_report(plan, law=law, comparison=comparison, say=say)
    return _html.write_page(html, path, overwrite=overwrite, inputs=inputs)


def _headline(plan: Plan) -> str:
    from tokenplan.units import format_quantity as fq

    return f"{fq(plan.n_params)} parameters on {fq(plan.n_tokens)} tokens ({plan.law})"


# --------------------------------------------------------------------------------------------------------
# frontier: every law's N_opt(C) and D_opt(C)
# --------------------------------------------------------------------------------------------------------
def _frontier_laws(law: Law) -> list[Law]:
    from tokenplan.laws import PRESETS

    laws = list(PRESETS.values())
    if law not in laws:
        laws.append(law)
    return laws


def _frontier_rows(plan: Plan, laws: list[Law]) -> tuple[list[dict], list[dict]]:
    """(lines, points): each law's optimum over the budget range, and at the plan's budget."""
    grid = np.logspace(
        math.log10(plan.flops / _FRONTIER_SPAN), math.log10(plan.flops * _FRONTIER_SPAN), 41
    )
    lines, points = [], []
    for lw in laws:
        for c in [*grid, plan.flops]:
            try:
                a = lw.optimal(float(c))
            except (InvalidInputError, ValueError, OverflowError):
                continue
            row = {
                "law": lw.name,
                "flops": float(c),
                "n_params": a.n_params,
                "n_tokens": a.n_tokens,
            }
            (points if c == plan.flops and row not in lines else lines).append(row)
    for row in points:
        row["chosen"] = row["law"] == plan.law
    return lines, points


def _frontier_chart(alt: Any, plan: Plan, laws: list[Law]) -> Any:
    lines, points = _frontier_rows(plan, laws)
    pick = alt.selection_point(name="pick_law", fields=["law"], bind="legend")
    log = alt.Scale(type="log")
    color = alt.Color("law:N", title="law", scale=alt.Scale(scheme="tableau10"))
    opacity = alt.condition(pick, alt.value(1.0), alt.value(0.15))
    chosen = {
        "law": plan.law,
        "flops": plan.flops,
        "n_params": plan.n_params,
        "n_tokens": plan.n_tokens,
    }
    panels = []
    for field, title in (("n_params", "parameters N"), ("n_tokens", "tokens D")):
        x = alt.X("flops:Q", scale=log, title="training FLOPs C", axis=alt.Axis(format=".0e"))
        y = alt.Y(f"{field}:Q", scale=log, title=title, axis=alt.Axis(**_html.QUANTITY_AXIS))
        tip = [
            alt.Tooltip("law:N"),
            alt.Tooltip("flops:Q", format=".3g"),
            alt.Tooltip(f"{field}:Q", **_html.QUANTITY),
        ]
        base = (
            alt.Chart(alt.Data(values=lines))
            .mark_line()
            .encode(x, y, color, opacity=opacity, tooltip=tip)
        )
        if not panels:  # one selection, defined once, drives both panels
            base = base.add_params(pick)
        dots = (
            alt.Chart(alt.Data(values=points))
            .mark_point(filled=True, size=45)
            .encode(x, y, color, opacity=opacity, tooltip=tip)
        )
        star = (
            alt.Chart(alt.Data(values=[chosen]))
            .mark_point(shape="diamond", size=220, stroke="black", strokeWidth=2, fill="white")
            .encode(x, y, tooltip=tip)
        )
        panels.append(
            alt.layer(base, dots, star).properties(width=_WIDTH - 60, height=_HEIGHT, title=title)
        )
    return alt.hconcat(*panels)


# --------------------------------------------------------------------------------------------------------
# iso-loss contours of the chosen law, with the compute line
# --------------------------------------------------------------------------------------------------------
def _loss_fn(plan: Plan, law: Law):
    if isinstance(law, DataConstrainedLaw) and plan.unique_tokens is not None:
        return lambda n, d: law.loss(n, d, plan.unique_tokens)
    return law.loss


def _isoloss_rows(plan: Plan, law: Law) -> tuple[list[dict], list[float]]:
    """Iso-loss lines D(N) at a few loss levels around the plan's: for each N, the D where L(N, D) = level."""
    loss = _loss_fn(plan, law)
    log_n = np.linspace(
        math.log(plan.n_params / _MAP_SPAN), math.log(plan.n_params * _MAP_SPAN), 121
    )
    log_d = np.linspace(
        math.log(plan.n_tokens / _MAP_SPAN), math.log(plan.n_tokens * _MAP_SPAN), 400
    )
    grid = np.asarray(loss(np.exp(log_n)[:, None], np.exp(log_d)[None, :]), dtype=float)
    here = float(loss(plan.n_params, plan.n_tokens))
    levels = sorted(
        {round(here + k * 0.1 * (here - law.irreducible_loss), 4) for k in range(-3, 5)}
    )
    rows = []
    for level in levels:
        for i, row in enumerate(grid):  # loss falls with D: interpolate log D at the level
            if not row[-1] <= level <= row[0]:
                continue
            d = math.exp(float(np.interp(level, row[::-1], log_d[::-1])))
            rows.append({"loss": level, "n_params": math.exp(log_n[i]), "n_tokens": d})
    return rows, levels


def _line_optimum(plan: Plan, law: Law) -> dict[str, float]:
    """The lowest loss of ``law`` on the plan's compute line D = C/6N (N within 10^4 either side of the
    plan's, 4,001 points in log N): where the line touches the lowest iso-loss contour."""
    n = np.exp(np.linspace(math.log(plan.n_params / 1e4), math.log(plan.n_params * 1e4), 4001))
    d = plan.flops / (FLOPS_PER_PARAM_TOKEN * n)
    loss = np.asarray(_loss_fn(plan, law)(n, d), dtype=float)
    i = int(np.nanargmin(loss))
    return {"n_params": float(n[i]), "n_tokens": float(d[i]), "loss": float(loss[i])}


def _isoloss_chart(alt: Any, plan: Plan, law: Law) -> Any:
    rows, _ = _isoloss_rows(plan, law)
    n = np.exp(
        np.linspace(math.log(plan.n_params / _MAP_SPAN), math.log(plan.n_params * _MAP_SPAN), 61)
    )
    budget = [
        {"n_params": float(x), "n_tokens": plan.flops / (FLOPS_PER_PARAM_TOKEN * float(x))}
        for x in n
    ]
    log = alt.Scale(type="log")
    x = alt.X("n_params:Q", scale=log, title=f"parameters N ({plan.param_convention})")
    x = x.axis(**_html.QUANTITY_AXIS)
    y = alt.Y("n_tokens:Q", scale=log, title="training tokens D").axis(**_html.QUANTITY_AXIS)
    contours = (
        alt.Chart(alt.Data(values=rows))
        .mark_line()
        .encode(
            x,
            y,
            alt.Color("loss:O", title="loss", scale=alt.Scale(scheme="viridis", reverse=True)),
            tooltip=[
                alt.Tooltip("loss:Q", format=".4f"),
                alt.Tooltip("n_params:Q", **_html.QUANTITY),
            ],
        )
    )
    line = (
        alt.Chart(alt.Data(values=budget))
        .mark_line(color="crimson", strokeDash=[6, 4])
        .encode(x, y, tooltip=[alt.Tooltip("n_params:Q", **_html.QUANTITY)])
    )
    point = {"n_params": plan.n_params, "n_tokens": plan.n_tokens, "loss": plan.loss}
    star = (
        alt.Chart(alt.Data(values=[point]))
        .mark_point(shape="diamond", size=220, stroke="black", strokeWidth=2, fill="white")
        .encode(x, y, tooltip=[alt.Tooltip("loss:Q", format=".4f")])
    )
    return alt.layer(contours, line, star).properties(width=2 * _WIDTH - 120, height=_HEIGHT + 40)


# --------------------------------------------------------------------------------------------------------
# repeated data (Muennighoff et al. 2023)
# --------------------------------------------------------------------------------------------------------
def _repeat_table(plan: Plan, law: Law):
    from tokenplan.plan import repeat
    from tokenplan.plan.steps import repetition_law

    top = max(100.0, 2.0 * (plan.epochs or 1.0))
    decay_at = decay_mark(repetition_law(law).R_D_star)[0]
    epochs = sorted({*np.round(np.logspace(0, math.log10(top), 40), 4).tolist(), 4.0, decay_at})
    if plan.epochs is not None and plan.epochs > 1.0:
        epochs = sorted({*epochs, float(plan.epochs)})
    return repeat(plan.unique_tokens, epochs, n_params=plan.n_params_total, law=law)


def _repeat_chart(alt: Any, plan: Plan, table) -> Any:
    rows = [r.to_dict() for r in table.rows]
    x = alt.X("epochs:Q", scale=alt.Scale(type="log"), title="epochs over the unique tokens")
    tip = [alt.Tooltip("epochs:Q", format=".3g"), alt.Tooltip("advice:N")]
    decay_at, decay = decay_mark(table.R_D_star)
    marks = [
        {"epochs": 4.0, "what": "~4: returns fade"},
        {"epochs": decay_at, "what": decay},
    ]
    if plan.epochs is not None:
        marks.append({"epochs": max(plan.epochs, 1.0), "what": "this plan"})
    rules = (
        alt.Chart(alt.Data(values=marks))
        .mark_rule(strokeDash=[4, 3])
        .encode(
            x="epochs:Q",
            # the domain in the marks' order: a bare range maps onto the sorted names, which put
            # "this plan" first (pale grey) and "~4" last (crimson, the colour meant for the plan)
            color=alt.Color(
                "what:N",
                title="",
                scale=alt.Scale(
                    domain=[m["what"] for m in marks],
                    range=["#999999", "#555555", "crimson"][: len(marks)],
                ),
            ),
            tooltip=["what:N", alt.Tooltip("epochs:Q", format=".3g")],
        )
    )
    frac = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=True)
        .encode(
            x,
            alt.Y("effective_fraction:Q", title="D'/D (value of a repeated token)"),
            tooltip=[*tip, alt.Tooltip("effective_fraction:Q", format=".3f")],
        )
    )
    panels = [alt.layer(frac, rules).properties(width=_WIDTH - 60, height=_HEIGHT - 40)]
    if any(r["loss_change"] is not None for r in rows):
        dl = alt.Chart(alt.Data(values=[r for r in rows if r["loss_change"] is not None]))
        dl = dl.mark_line(point=True).encode(
            x,
            alt.Y("loss_change:Q", title="Δloss vs fresh data (nats/token)"),
            tooltip=[*tip, alt.Tooltip("loss_change:Q", format=".4f")],
        )
        panels.append(alt.layer(dl, rules).properties(width=_WIDTH - 60, height=_HEIGHT - 40))
    return alt.hconcat(*panels)


# --------------------------------------------------------------------------------------------------------
# inference-aware cost (Sardana et al. 2024)
# --------------------------------------------------------------------------------------------------------
def _inference_chart(alt: Any, plan: Plan, law: Law) -> Any:
    from tokenplan.inference import lifetime_flops, tokens_for_loss

    inf = plan.inference
    rows = []
    for n in np.logspace(
        math.log10(inf.n_params / 8.0), math.log10(inf.baseline_n_params * 4.0), 60
    ):
        d = tokens_for_loss(law, float(n), inf.loss, unique_tokens=inf.unique_tokens)
        if not math.isfinite(d):
            continue
        train, serve = lifetime_flops(n, d, inf.inference_tokens)
        for part, v in (
            ("training", train),
            ("inference", serve),
            ("lifetime total", train + serve),
        ):
            rows.append({"n_params": float(n), "flops": float(v), "part": part, "n_tokens": d})
    marks = [
        {
            "n_params": inf.baseline_n_params,
            "flops": inf.baseline_total_flops,
            "what": "compute-optimal",
        },
        {"n_params": inf.n_params, "flops": inf.total_flops, "what": "inference-aware"},
    ]
    x = alt.X("n_params:Q", scale=alt.Scale(type="log"), title="parameters N (same loss)")
    x = x.axis(**_html.QUANTITY_AXIS)
    y = alt.Y("flops:Q", scale=alt.Scale(type="log"), title="FLOPs").axis(format=".0e")
    curves = (
        alt.Chart(alt.Data(values=rows))
        .mark_line()
        .encode(
            x,
            y,
            alt.StrokeDash("part:N", title="cost"),
            tooltip=[
                "part:N",
                alt.Tooltip("n_params:Q", **_html.QUANTITY),
                alt.Tooltip("flops:Q", format=".3g"),
            ],
        )
    )
    dots = (
        alt.Chart(alt.Data(values=marks))
        .mark_point(size=140, filled=True)
        .encode(
            x,
            y,
            alt.Color("what:N", title="", scale=alt.Scale(range=["#1f77b4", "crimson"])),
            tooltip=[
                "what:N",
                alt.Tooltip("n_params:Q", **_html.QUANTITY),
                alt.Tooltip("flops:Q", format=".3g"),
            ],
        )
    )
    return alt.layer(curves, dots).properties(width=2 * _WIDTH - 120, height=_HEIGHT)
