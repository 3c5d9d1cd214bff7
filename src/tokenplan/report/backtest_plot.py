"""The figure of ``tokenplan fit --backtest --plot``: predicted against actual loss of the held-out runs.

Matplotlib is imported on use, through its object API (no pyplot, no backend switch: no global state).
"""

from __future__ import annotations

import os
from pathlib import Path

from tokenplan._io import atomic_path

__all__ = ["plot_backtest"]


def plot_backtest(path: str | os.PathLike[str], backtests: dict) -> Path:
    """Predicted vs actual loss (with intervals) of every backtested form; ``path`` ends .png/.pdf/.svg."""
    from tokenplan.report._figure import figure_format, new_figure

    out = Path(path)
    fmt = figure_format(out)
    fig = new_figure(figsize=(5.5, 5))
    ax = fig.add_subplot()
    lo, hi = float("inf"), 0.0
    for form, bt in backtests.items():
        actual = [r.actual for r in bt.rows]
        pred = [r.predicted for r in bt.rows]
        err = (
            [
                [r.predicted - r.interval[0] for r in bt.rows],
                [r.interval[1] - r.predicted for r in bt.rows],
            ]
            if all(r.interval for r in bt.rows)
            else None
        )
        label = f"{form}: mean |error| {bt.mean_abs_error:.2%}"
        ax.errorbar(actual, pred, yerr=err, fmt="o", ms=4, capsize=2, label=label, alpha=0.8)
        lo, hi = min(lo, *actual, *pred), max(hi, *actual, *pred)
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="predicted = actual")
    ax.set_xlabel("actual loss (held-out runs)")
    ax.set_ylabel("predicted loss (fit without them)")
    first = next(iter(backtests.values()))
    ax.set_title(f"Backtest: {first.holdout}, fitted on {first.n_train} runs", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt)
    return out
