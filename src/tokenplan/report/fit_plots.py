"""The figure of ``tokenplan fit --plot``: IsoFLOP curves with fitted profiles and minima, the N_opt(C)
frontier against published laws, and residuals of the parametric fit. Matplotlib is imported on use,
through its object API (report/_figure.py: no pyplot, no backend switch)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenplan._io import atomic_write

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tokenplan.fit import DataConstrainedFit, EnvelopeFit, IsoflopFit
    from tokenplan.fit.result import HuberFit
    from tokenplan.runs import RunTable

__all__ = ["plot_fit"]

COMPARE = ("chinchilla-a1", "chinchilla-a2", "epoch2024", "kaplan")


def other_n(law: Any) -> str:
    """ "non-embedding N" for a law whose N leaves out the embeddings (Kaplan's), "" for total parameters.
    Its N_opt is drawn as the law states it, beside total-parameter laws, and its line says so: converting
    would need a vocabulary and a shape (Pearce & Song 2024's relation assumes 32K and means nothing below
    one layer, where fitted runs often are), so the line is marked, as ``plan --compare`` marks it (ne)
    (REFERENCE sec. 7: state which N a law uses)."""
    convention = getattr(law, "param_convention", "total")
    return "" if convention == "total" else f"{convention} N"


def n_opt_axis(laws: Any) -> str:
    """The N_opt axis title of both fit pages for the frontier lines of ``laws``: total parameters, and
    where a law counts another N (:func:`other_n`), that its line is marked."""
    if any(other_n(law) for law in laws):
        return "N_opt (total parameters; non-embedding where marked)"
    return "N_opt"


def plot_fit(path: str | os.PathLike[str], **figure: Any) -> Path:
    """Write :func:`fit_figure` (its keyword arguments: ``runs=``, the fits, ``compare=``,
    ``no_fit_reason=``) to ``path`` (format from the suffix); returns the path. Written atomically."""
    from tokenplan.report._figure import figure_format

    out = Path(path)
    fmt = figure_format(out)
    fig = fit_figure(**figure)
    with atomic_write(out, "wb") as fh:
        fig.savefig(fh, dpi=110, format=fmt)
    return out


def fit_figure(
    *,
    runs: RunTable,
    parametric: HuberFit | None = None,
    isoflop: IsoflopFit | None = None,
    envelope: EnvelopeFit | None = None,
    data_constrained: DataConstrainedFit | None = None,
    compare: tuple[str, ...] = COMPARE,
    no_fit_reason: str | None = None,
) -> Figure:
    """The 3-panel figure :func:`plot_fit` writes, laid out and ready to save. ``parametric`` is Approach
    3's fit of L(N, D) in any Chinchilla-family or Kaplan form (a data-constrained one goes in
    ``data_constrained``, which passes each run's unique tokens). ``no_fit_reason`` says in the residuals
    panel why there is no loss-predicting fit (e.g. FitReport's ``Approach 3 skipped: ...``); default:
    Approaches 1 and 2 fit the allocation only."""
    from tokenplan.report._figure import legible_log_ticks, new_figure

    fig = new_figure(figsize=(16, 4.8))
    axes = fig.subplots(1, 3)
    _profiles_panel(fig, axes[0], runs, isoflop)
    fitted = [
        (f"approach {k}", f) for k, f in (("1", envelope), ("2", isoflop), ("3", parametric)) if f
    ]
    if data_constrained is not None:
        fitted.append(("data-constrained base", data_constrained))
    _frontier_panel(axes[1], runs, fitted, isoflop, compare)
    _residuals_panel(axes[2], runs, parametric, data_constrained, no_fit_reason)
    fig.tight_layout()
    legible_log_ticks(fig)  # on the laid-out panels, whose widths set what fits
    fig.tight_layout()  # fewer or shorter labels only leave more room
    return fig


def _profiles_panel(fig: Figure, ax: Axes, runs: RunTable, isoflop: IsoflopFit | None) -> None:
    """1. IsoFLOP profiles with their minima (a red x where the minimum is not bracketed), or the raw runs."""
    from matplotlib import colormaps

    if isoflop is not None:
        cmap = colormaps["viridis"]
        for i, p in enumerate(isoflop.profiles):
            color = cmap(i / max(1, len(isoflop.profiles) - 1))
            ax.scatter(p.n_params, p.loss, s=10, color=color)
            xs = np.linspace(np.log(p.n_params.min()), np.log(p.n_params.max()), 100)
            ax.plot(np.exp(xs), np.polyval(p.coef, xs), color=color, lw=1, label=f"{p.flops:.2g}")
            ax.scatter(
                [p.n_params_opt],
                [p.loss_opt],
                marker="x",
                s=50,
                color="red" if not p.bracketed else color,
            )
        ax.legend(title="FLOPs", fontsize=7)
        ax.set_title(f"IsoFLOP profiles ({isoflop.profile})")
    else:
        lo, hi = _flops_span(runs)
        sc = ax.scatter(
            runs.n_params,
            runs.loss,
            c=np.log10(runs.flops),
            s=10,
            vmin=np.log10(lo),
            vmax=np.log10(hi),
        )
        bar = fig.colorbar(sc, ax=ax, label="log10 FLOPs")
        bar.formatter.set_useOffset(False)  # never '+1.9e1' over ticks 0.0000 .. 0.0008
        ax.set_title("runs")
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("loss")


#: the narrowest span of compute (decades) a panel shows: runs of one budget differ in 6ND only by the
#: rounding of N and D (43.1M x 387B), which a span of their own would spread over every colour and tick
MIN_FLOPS_DECADES = 0.5


def _flops_span(runs: RunTable) -> tuple[float, float]:
    """The compute range the panels draw: the runs', widened about its middle to MIN_FLOPS_DECADES."""
    lo, hi = float(runs.flops.min()), float(runs.flops.max())
    if np.log10(hi / lo) >= MIN_FLOPS_DECADES:
        return lo, hi
    mid, half = np.sqrt(lo * hi), 10 ** (MIN_FLOPS_DECADES / 2)
    return mid / half, mid * half


def _frontier_panel(
    ax: Axes,
    runs: RunTable,
    fitted: list[tuple[str, Any]],
    isoflop: IsoflopFit | None,
    compare: tuple[str, ...],
) -> None:
    """2. The frontier N_opt(C) of each fit against the published laws, to 1e4 x the largest run."""
    from tokenplan.laws import get_law

    lo, hi = float(runs.flops.min()), float(runs.flops.max()) * 1e4
    C = np.logspace(np.log10(lo), np.log10(hi), 100)
    laws = [get_law(name) for name in compare]
    for label, f in fitted:
        label = ", ".join(filter(None, (label, other_n(f.law))))
        ax.plot(C, f.law.optimal(C).n_params, lw=2, label=f"{label} (a={f.exponents[0]:.3f})")
    for name, law in zip(compare, laws):
        label = ", ".join(filter(None, (name, other_n(law))))
        ax.plot(
            C, law.optimal(C).n_params, lw=1, ls="--", label=f"{label} (a={law.exponents[0]:.2f})"
        )
    largest = float(runs.flops.max())  # right of it, every line is an extrapolation
    ax.axvline(largest, color="0.4", ls=":", lw=1, label="largest run (right: extrapolated)")
    if isoflop is not None:
        ax.scatter(
            [p.flops for p in isoflop.profiles],
            [p.n_params_opt for p in isoflop.profiles],
            color="k",
            s=15,
            zorder=3,
            label="IsoFLOP minima",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel(n_opt_axis([*(f.law for _, f in fitted), *laws]))
    ax.set_title("compute-optimal frontier")
    ax.legend(fontsize=7)


def _residuals_panel(
    ax: Axes,
    runs: RunTable,
    parametric: HuberFit | None,
    data_constrained: DataConstrainedFit | None,
    no_fit_reason: str | None,
) -> None:
    """3. Residuals in log loss of the loss-predicting fit (parametric first, else data-constrained), or
    why there is none."""
    law = None
    if parametric is not None:
        law = parametric.law
        pred = law.loss(runs.n_params, runs.n_tokens)
    elif data_constrained is not None:
        law = data_constrained.law
        U = np.where(np.isfinite(runs.unique_tokens), runs.unique_tokens, runs.n_tokens)
        pred = law.loss(runs.n_params, runs.n_tokens, np.minimum(U, runs.n_tokens))
    if law is None:
        from tokenplan.fit.report import no_loss_fit_reason

        why = no_fit_reason or no_loss_fit_reason()
        text = "no loss-predicting fit\n" + textwrap.fill(why, 40)
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
        ax.set_axis_off()
        return
    resid = np.log(pred) - np.log(runs.loss)
    ax.scatter(runs.flops, resid, s=10, c=np.log10(runs.n_params))
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    if (
        np.log10(runs.flops.max() / runs.flops.min()) < MIN_FLOPS_DECADES
    ):  # else autoscaled, with margins
        ax.set_xlim(*_flops_span(runs))
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel("log L_pred - log L")
    ax.set_title(f"residuals (RMS {np.sqrt(np.mean(resid**2)):.3g})")
