"""A 2-D map of the pool and the selection: PCA of the embeddings (numpy SVD), pool in grey, picks on top."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tokenplan._io import atomic_write, check_output

__all__ = ["pca_2d", "plot_selection"]


def pca_2d(x: np.ndarray, *, max_fit: int = 20000, seed: int = 0) -> np.ndarray:
    """Project rows of ``x`` on the first two principal axes (fitted on at most ``max_fit`` rows)."""
    x = np.asarray(x, dtype=np.float32)
    fit = x
    if len(x) > max_fit:
        fit = x[np.random.default_rng(seed).choice(len(x), max_fit, replace=False)]
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:  # one-dimensional data: pad with zeros
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    return (x - mean) @ axes


def plot_selection(
    embeddings: np.ndarray,
    selected: np.ndarray,
    path: str | os.PathLike,
    *,
    title: str = "",
    max_points: int = 50000,
    seed: int = 0,
) -> Path:
    """Write a PNG scatter of the pool (grey) and the selected points (red) in PCA space; returns the path."""
    from tokenplan.report._figure import new_figure

    fig = new_figure(figsize=(6, 6), dpi=110)  # first: without matplotlib, fail before any work
    # the folder checks of every output (the pipeline checked overwrite first); a missing one is created
    out = check_output(path, param="plot", overwrite=True)
    xy = pca_2d(embeddings, seed=seed)
    shown = np.arange(len(xy))
    if len(xy) > max_points:
        shown = np.random.default_rng(seed).choice(len(xy), max_points, replace=False)
    sel = np.asarray(selected, dtype=np.int64)
    ax = fig.subplots()
    ax.scatter(xy[shown, 0], xy[shown, 1], s=4, c="0.75", label=f"pool ({len(xy):,})", linewidths=0)
    ax.scatter(xy[sel, 0], xy[sel, 1], s=10, c="tab:red", label=f"selected ({len(sel):,})")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"pool vs selection{': ' + title if title else ''}")
    ax.legend(loc="best", markerscale=2)
    fig.tight_layout()
    with atomic_write(out, "wb") as fh:
        fig.savefig(fh, format="png")
    return out
