"""The figure of ``tokenplan fit --plot``: IsoFLOP curves with fitted profiles and minima, the N_opt(C)
frontier against published laws, and residuals of the parametric fit. Matplotlib is imported on use."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tokenplan._io import atomic_write
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = ["plot_fit"]

COMPARE = ("chinchilla-a1", "chinchilla-a2", "epoch2024", "kaplan")


def plot_fit(
    path: str | os.PathLike[str],
    *,
    runs,
    parametric=None,
    isoflop=None,
    envelope=None,
    data_constrained=None,
    compare: tuple[str, ...] = COMPARE,
) -> Path:
    """Write a 3-panel figure to ``path`` (format from the suffix); returns the path. Written atomically."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("matplotlib", "plot") from None
    from tokenplan.laws import get_law

    out = Path(path)
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in ("png", "pdf", "svg"):
        raise InvalidInputError(f"--plot {out}: use a .png, .pdf or .svg file name.")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))

    # 1. IsoFLOP profiles (or the raw runs when there are none)
    ax = axes[0]
    if isoflop is not None:
        cmap = plt.get_cmap("viridis")
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
        sc = ax.scatter(runs.n_params, runs.loss, c=np.log10(runs.flops), s=10)
        fig.colorbar(sc, ax=ax, label="log10 FLOPs")
        ax.set_title("runs")
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("loss")

    # 2. the frontier N_opt(C)
    ax = axes[1]
    lo, hi = float(runs.flops.min()), float(runs.flops.max()) * 1e4
    C = np.logspace(np.log10(lo), np.log10(hi), 100)
    fitted = [
        (f"approach {k}", f) for k, f in (("1", envelope), ("2", isoflop), ("3", parametric)) if f
    ]
    if data_constrained is not None:
        fitted.append(("data-constrained base", data_constrained))
    for label, f in fitted:
        ax.plot(C, f.law.optimal(C).n_params, lw=2, label=f"{label} (a={f.exponents[0]:.3f})")
    for name in compare:
        law = get_law(name)
        ax.plot(
            C, law.optimal(C).n_params, lw=1, ls="--", label=f"{name} (a={law.exponents[0]:.2f})"
        )
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
    ax.set_ylabel("N_opt")
    ax.set_title("compute-optimal frontier")
    ax.legend(fontsize=7)

    # 3. residuals of the loss-predicting fit
    ax = axes[2]
    law = None
    if parametric is not None:
        law = parametric.law
        pred = law.loss(runs.n_params, runs.n_tokens)
    elif data_constrained is not None:
        law = data_constrained.law
        U = np.where(np.isfinite(runs.unique_tokens), runs.unique_tokens, runs.n_tokens)
        pred = law.loss(runs.n_params, runs.n_tokens, np.minimum(U, runs.n_tokens))
    if law is not None:
        resid = np.log(pred) - np.log(runs.loss)
        ax.scatter(runs.flops, resid, s=10, c=np.log10(runs.n_params))
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("training FLOPs C")
        ax.set_ylabel("log L_pred - log L")
        ax.set_title(f"residuals (RMS {np.sqrt(np.mean(resid**2)):.3g})")
    else:
        ax.text(0.5, 0.5, "no loss-predicting fit\n(use --approach 3)", ha="center", va="center")
        ax.set_axis_off()
    fig.tight_layout()
    try:
        with atomic_write(out, "wb") as fh:
            fig.savefig(fh, dpi=110, format=suffix)
    finally:
        plt.close(fig)
    return out
