"""The ``tokenplan fit --report FILE.html`` page: the law, the data behind it, and how sure it is.

Shows the runs (loss against compute, coloured by size); the IsoFLOP profiles with their fitted minima
(Approach 2); the compute-optimal frontier N_opt(C) of every fitted approach with its bootstrap band, against
the published laws; the residuals of the loss-predicting fit; the backtest table and predicted-vs-actual plot
(when the fit ran backtests); the parameter table with intervals; and the approaches (or forms) side by side.

Input: ``summary`` is what ``tokenplan fit --json`` prints (every number on the page is read from it, so the
page and the JSON agree), and the fit objects for the curves: ``fits`` maps "1", "2", "3" or
"data-constrained" to the fit results, ``intervals`` the same keys to bootstrap results.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.report import _html
from tokenplan.report.fit_plots import COMPARE, n_opt_axis, other_n

__all__ = ["fit_report", "write_fit_report"]

TITLES = {
    "1": "Approach 1 (training-curve envelope)",
    "2": "Approach 2 (IsoFLOP profiles)",
    "3": "Approach 3 (parametric L = E + A/N^α + B/D^β)",
    "data-constrained": "Data-constrained law (Muennighoff et al. 2023)",
}
_FRONTIER_DECADES = 4  # the frontier runs from the smallest run's compute to 10^4 x the largest

#: What each chart shows, for a screen reader (its aria-label; Vega's default is 'Vega visualization').
DESCRIPTIONS = {
    "runs": "Scatter plot of the final loss of every run against its training compute, coloured by model "
    "size; hover a point for its run.",
    "isoflop": "Scatter plot of the loss of each FLOPs budget's runs against model size, with the fitted "
    "profile and its minimum per budget.",
    "frontier": "Line chart of the compute-optimal model size N_opt against training compute for each "
    "fitted approach and published law; the approaches side by side table gives their exponents.",
    "residuals": "Scatter plot of each run's log loss residual, predicted minus actual, against its "
    "training compute; the chart's title gives their RMS.",
    "backtest": "Scatter plot of the loss each form predicted for each held-out run against its actual "
    "loss; the backtest table above gives each form's errors.",
}


def fit_report(
    summary: Mapping[str, Any],
    *,
    runs: Any,
    fits: Mapping[str, Any],
    intervals: Mapping[str, Any] | None = None,
    backtests: Mapping[str, Any] | None = None,
) -> str:
    """The HTML page of one fit (see the module docstring for the arguments)."""
    from tokenplan.fit.report import allocation_in_range, no_loss_fit_reason

    alt = _html.require()
    intervals = dict(intervals or {})
    frontier = _frontier_rows(runs, fits, intervals)
    charts = {
        "runs": _runs_chart(alt, runs),
        "isoflop": _isoflop_chart(alt, fits["2"]) if "2" in fits else None,
        "frontier": _frontier_chart(alt, runs, fits, frontier),
        "residuals": _residuals_chart(alt, runs, fits),
        "backtest": _backtest_chart(alt, backtests) if backtests else None,
    }
    key = _primary(summary, fits)
    return _html.page(
        "fit.html",
        subject=summary["runs"]["source"],
        charts=charts,
        descriptions=DESCRIPTIONS,
        padding=_html.POINT_PADDING,  # no run's marker cut in half at an axis
        s=summary,
        primary=key,
        titles=TITLES,
        tables=[(k, TITLES.get(k, k), _param_rows(summary["fits"][k])) for k in summary["fits"]],
        compared=_compared(summary, fits),
        backtests=(summary.get("backtests") or {}),
        no_fit_reason=no_loss_fit_reason(summary.get("warnings") or ()),
        in_range=[allocation_in_range(a) for a in summary.get("allocations") or ()],
        # the frontier's caption names what is drawn: (line, level %, refits) of each band
        bands=sorted({(b["law"], 100 * b["level"], b["refits"]) for b in frontier[1]}),
    )


def write_fit_report(
    path: str | os.PathLike[str], summary: Mapping[str, Any], **kwargs: Any
) -> Path:
    """Write :func:`fit_report` to ``path`` (checked first, written atomically; ``overwrite``, ``inputs``)."""
    overwrite, inputs = kwargs.pop("overwrite", False), kwargs.pop("inputs", ())
    _html.check(path, overwrite=overwrite, inputs=inputs)
    html = fit_report(summary, **kwargs)
    return _html.write_page(html, path, overwrite=overwrite, inputs=inputs)


def _primary(summary: Mapping[str, Any], fits: Mapping[str, Any]) -> str:
    for key in ("3", "data-constrained", "2", "1"):
        if key in fits and key in summary["fits"]:
            return key
    return next(iter(summary["fits"]))


# --------------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------------
def _param_rows(fit: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(name, --json key suffix, interval or None) for each parameter and exponent of one fit."""
    ivs = ((fit.get("intervals") or {}).get("intervals")) or {}
    rows = [(n, f"params.{n}", ivs.get(n)) for n in fit.get("params", {})]
    rows += [
        (n, f"exponents.{n}", ivs.get(n))
        for n in fit.get("exponents", {})
        if n not in fit.get("params", {})
    ]
    return rows


def _compared(summary: Mapping[str, Any], fits: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each fitted approach side by side: its allocation exponents."""
    out = []
    for key, fit in fits.items():
        a, b = fit.exponents
        out.append({"key": key, "title": TITLES.get(key, key), "a": a, "b": b, "law": fit.law})
    return out


# --------------------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------------------
def _size_color(alt: Any) -> Any:
    """Runs coloured by model size; the gradient legend labels the ticks d3 picks (as a log axis does)
    in the tables' units: 200K .. 10M, where it read 200,000 .. 10,000,000."""
    scale = alt.Scale(type="log", scheme="viridis")
    return alt.Color(
        "n_params:Q", scale=scale, title="params N", legend=alt.Legend(**_html.QUANTITY_AXIS)
    )


def _runs_chart(alt: Any, runs: Any) -> Any:
    rows = _html.point_rows(runs, ("flops", "n_params", "n_tokens", "loss"), range(len(runs)))
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_circle(size=55, opacity=0.85)
        .encode(
            _html.log_axis(alt, "flops:Q", "training FLOPs C", ".0e"),
            alt.Y("loss:Q", scale=alt.Scale(type="log", nice=False), title="final loss"),
            _size_color(alt),
            tooltip=[
                "run:N",
                alt.Tooltip("n_params:Q", **_html.QUANTITY),
                alt.Tooltip("n_tokens:Q", **_html.QUANTITY),
                alt.Tooltip("loss:Q", format=".4f"),
            ],
        )
        .properties(width=780, height=320)
        .interactive()
    )


def _isoflop_chart(alt: Any, iso: Any) -> Any:
    pts = [
        {"n_params": float(n), "loss": float(v), "budget": _html.budget_label(p.flops)}
        for p in iso.profiles
        for n, v in zip(p.n_params, p.loss)
    ]
    x = _html.log_axis(alt, "n_params:Q", "parameters N")
    y = alt.Y("loss:Q", scale=alt.Scale(zero=False), title="loss")
    color = _html.budget_color(alt, [r["budget"] for r in pts], "FLOPs")
    return alt.layer(
        alt.Chart(alt.Data(values=pts)).mark_circle(size=30).encode(x, y, color),
        *_html.profile_layers(
            alt, iso, x, y, color, size=170, unbracketed="NO: outside the sizes tried"
        ),
    ).properties(width=780, height=340)


def _band(samples: Mapping[str, np.ndarray], grid: np.ndarray, level: float) -> np.ndarray | None:
    """(lo, hi) of N_opt(C) over bootstrap draws at each C, or None when the draws cannot give it."""
    with np.errstate(all="ignore"):
        if {"E", "A", "B", "alpha", "beta"} <= set(samples):
            A, B, al, be = (np.asarray(samples[k], float) for k in ("A", "B", "alpha", "beta"))
            G = (al * A / (be * B)) ** (1.0 / (al + be))
            n = G[:, None] * (grid[None, :] / FLOPS_PER_PARAM_TOKEN) ** (be / (al + be))[:, None]
        elif {"k", "a"} <= set(samples):
            k, a = np.asarray(samples["k"], float), np.asarray(samples["a"], float)
            n = k[:, None] * grid[None, :] ** a[:, None]
        else:
            return None
    n = n[np.all(np.isfinite(n) & (n > 0), axis=1)]
    if len(n) < 5:
        return None
    q = 50 * (1 - level), 50 * (1 + level)
    return np.percentile(n, q, axis=0)


def _frontier_rows(
    runs: Any, fits: Mapping[str, Any], intervals: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """N_opt(C) of each fit and each published law on one FLOP grid (lines), and the fits' bootstrap
    bands where there are draws (bands)."""
    from tokenplan.laws import get_law

    grid = np.logspace(
        math.log10(float(runs.flops.min())),
        math.log10(float(runs.flops.max())) + _FRONTIER_DECADES,
        60,
    )
    lines, bands = [], []
    for key, fit in fits.items():
        name = _marked(f"fit: {TITLES.get(key, key).split(' (')[0]}", fit.law)
        n = np.asarray(fit.law.optimal(grid).n_params, float)
        lines += [
            {"flops": float(c), "n_params": float(v), "law": name, "kind": "fitted"}
            for c, v in zip(grid, n)
        ]
        boot = intervals.get(key)
        band = None if boot is None else _band(boot.samples, grid, boot.level)
        if band is not None:
            refits = boot.n_boot - boot.n_failed
            bands += [
                {"flops": float(c), "lo": float(lo), "hi": float(hi), "law": name}
                | {"level": boot.level, "refits": refits}
                for c, lo, hi in zip(grid, band[0], band[1])
            ]
    for ref in COMPARE:
        law = get_law(ref)
        n = np.asarray(law.optimal(grid).n_params, float)
        name = _marked(ref, law)
        lines += [
            {"flops": float(c), "n_params": float(v), "law": name, "kind": "published"}
            for c, v in zip(grid, n)
        ]
    return lines, bands


def _marked(name: str, law: Any) -> str:
    """A frontier line's legend name, with the N its law counts when not total (``other_n``)."""
    mark = other_n(law)
    return f"{name} ({mark})" if mark else name


def _frontier_chart(alt: Any, runs: Any, fits: Mapping[str, Any], rows: tuple[list, list]) -> Any:
    """The frontier of :func:`_frontier_rows`'s (lines, bands), the IsoFLOP minima and the largest run."""
    from tokenplan.laws import get_law

    lines, bands = rows
    x = _html.log_axis(alt, "flops:Q", "training FLOPs C", ".0e")
    y = alt.Y(
        "n_params:Q",
        scale=alt.Scale(type="log"),
        title=n_opt_axis([*(f.law for f in fits.values()), *map(get_law, COMPARE)]),
        axis=alt.Axis(**_html.QUANTITY_AXIS),
    )
    # opaque legend symbols: taken from the first layer, the bands' 0.22 opacity left them too pale to tell
    # the laws apart
    color = alt.Color("law:N", title="law", legend=alt.Legend(symbolOpacity=1))
    layers = []
    if bands:
        layers.append(
            alt.Chart(alt.Data(values=bands))
            .mark_area(opacity=0.22)
            .encode(x, alt.Y("lo:Q", scale=alt.Scale(type="log")), alt.Y2("hi:Q"), color)
        )
    layers.append(
        alt.Chart(alt.Data(values=lines))
        .mark_line()
        .encode(
            x,
            y,
            color,
            alt.StrokeDash("kind:N", title="", sort=["fitted", "published"]),
            tooltip=[
                "law:N",
                alt.Tooltip("flops:Q", format=".3g"),
                alt.Tooltip("n_params:Q", **_html.QUANTITY),
            ],
        )
    )
    if "2" in fits:
        mins = [{"flops": p.flops, "n_params": p.n_params_opt} for p in fits["2"].profiles]
        layers.append(
            alt.Chart(alt.Data(values=mins))
            .mark_point(color="black", filled=True, size=50)
            .encode(
                x,
                y,
                tooltip=[
                    alt.Tooltip("flops:Q", format=".3g"),
                    alt.Tooltip("n_params:Q", **_html.QUANTITY),
                ],
            )
        )
    # the largest run's compute: right of this rule every line is an extrapolation
    largest = [{"flops": float(runs.flops.max())}]
    layers.append(
        alt.Chart(alt.Data(values=largest))
        .mark_rule(color="gray", strokeDash=[3, 3])
        .encode(x, tooltip=[alt.Tooltip("flops:Q", format=".3g", title="largest run's FLOPs")])
    )
    return alt.layer(*layers).properties(width=780, height=360)


def _predicted(runs: Any, fits: Mapping[str, Any]) -> tuple[str, np.ndarray] | None:
    """The loss the loss-predicting fit gives each run: Approach 3's, else --law data-constrained's. A
    data-constrained law (also Approach 3 of that form, which --form auto picks for runs that repeat data)
    is given each run's unique tokens; without them it predicted every run as if its tokens were fresh."""
    from tokenplan.fit import DataConstrainedFit

    for key, name in (("3", "Approach 3"), ("data-constrained", "data-constrained")):
        fit = fits.get(key)
        if fit is None:
            continue
        if not isinstance(fit, DataConstrainedFit):
            return name, np.asarray(fit.law.loss(runs.n_params, runs.n_tokens), float)
        U = np.where(np.isfinite(runs.unique_tokens), runs.unique_tokens, runs.n_tokens)
        loss = fit.law.loss(runs.n_params, runs.n_tokens, np.minimum(U, runs.n_tokens))
        return name, np.asarray(loss, float)
    return None


def _residuals_chart(alt: Any, runs: Any, fits: Mapping[str, Any]) -> Any:
    pred = _predicted(runs, fits)
    if pred is None:
        return None
    name, p = pred
    r = np.log(p) - np.log(np.asarray(runs.loss, float))
    rows = [
        {
            "run": str(runs.run_id[i]),
            "flops": float(runs.flops[i]),
            "residual": float(r[i]),
            "n_params": float(runs.n_params[i]),
        }
        for i in range(len(runs))
    ]
    dots = (
        alt.Chart(alt.Data(values=rows))
        .mark_circle(size=45)
        .encode(
            _html.log_axis(alt, "flops:Q", "training FLOPs C", ".0e"),
            alt.Y("residual:Q", title=f"log L_pred − log L ({name})"),
            _size_color(alt),
            tooltip=["run:N", alt.Tooltip("residual:Q", format=".4f")],
        )
    )
    zero = alt.Chart(alt.Data(values=[{"z": 0.0}])).mark_rule(color="black").encode(y="z:Q")
    rms = float(np.sqrt(np.mean(r**2)))
    return alt.layer(dots, zero).properties(width=780, height=260, title=f"RMS {rms:.3g}")


def _backtest_chart(alt: Any, backtests: Mapping[str, Any]) -> Any:
    rows = [
        {
            "form": form,
            "run": r.run_id,
            "actual": r.actual,
            "predicted": r.predicted,
            "error": r.error,
        }
        for form, bt in backtests.items()
        for r in bt.rows
    ]
    if not rows:
        return None
    lo = min(min(r["actual"], r["predicted"]) for r in rows)
    hi = max(max(r["actual"], r["predicted"]) for r in rows)
    diag = [{"actual": lo, "predicted": lo}, {"actual": hi, "predicted": hi}]
    x = alt.X("actual:Q", scale=alt.Scale(zero=False), title="actual loss (held out)")
    y = alt.Y(
        "predicted:Q", scale=alt.Scale(zero=False), title="predicted by the law fitted without it"
    )
    return alt.layer(
        alt.Chart(alt.Data(values=diag)).mark_line(color="#888888", strokeDash=[4, 3]).encode(x, y),
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=60)
        .encode(
            x,
            y,
            alt.Color("form:N"),
            tooltip=["form:N", "run:N", alt.Tooltip("error:Q", format="+.2%")],
        ),
    ).properties(width=520, height=420)
