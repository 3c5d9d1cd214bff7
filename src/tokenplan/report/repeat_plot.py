"""The value of repeated data as a PNG: D'/D and the loss change against epochs (``tokenplan repeat``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tokenplan._io import atomic_write, check_output
from tokenplan.errors import InvalidInputError
from tokenplan.laws.repetition import R_D_STAR_C4
from tokenplan.units import format_count
from tokenplan.units import format_quantity as fq

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tokenplan.plan import RepeatTable

__all__ = ["decay_mark", "plot_repeat"]


def decay_mark(R_D_star: float) -> tuple[float, str]:
    """(epochs, label) of the mark where one more epoch is worth 1/e of fresh data, 1 + R_D* (Muennighoff et
    al. 2023, eq. 5): '~16' for their C4 fit (16.39, also the ~16 of their epoch rule), and the law's own
    count for a data-constrained law of one's own (R_D* = 5: 6 epochs, where '~16' was drawn)."""
    if R_D_star == R_D_STAR_C4:
        return 16.0, "~16 (R_D*): an epoch worth ~1/e"
    return 1.0 + R_D_star, f"{1.0 + R_D_star:.3g} (1 + R_D*, the law's own): an epoch worth 1/e"


def plot_repeat(table: RepeatTable, path: str | os.PathLike[str]) -> Path:
    """Draw ``table`` (from :func:`tokenplan.plan.repeat`) to the PNG file ``path``; return the path.

    The file is written atomically (a temporary file in the same directory, then renamed), so an existing
    file is either replaced whole or left untouched. Needs matplotlib: ``pip install 'tokenplan[plot]'``.
    """
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"`plot_path` {str(out)!r} must end in .png.", param="plot_path")
    # the checks of every output: a folder, a path under a file or an unwritable folder is refused, a
    # missing folder is created by the write (the CLI checked --overwrite first)
    check_output(out, param="plot_path", overwrite=True)
    fig = repeat_figure(table)
    with atomic_write(out, "wb") as fh:
        fig.savefig(fh, format="png")
    return out


def repeat_figure(table: RepeatTable) -> Figure:
    """The figure :func:`plot_repeat` writes, laid out and ready to save."""
    from tokenplan.report._figure import legible_log_ticks, new_figure

    rows = table.rows
    epochs = [r.epochs for r in rows]
    fig = new_figure(figsize=(9, 3.6), dpi=120)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(epochs, [r.effective_fraction for r in rows], "o-", color="C0")
    ax1.set_xscale("log")
    # below 0 as far as above 1: a run of epochs worth nothing (D'/D ~ 0) shows its marker whole
    ax1.set_ylim(-0.05, 1.05)
    ax1.set_xlabel("epochs")
    ax1.set_ylabel("D'/D (value of the tokens vs fresh)")
    # each label stands on the floor left of its line, in two short lines: the D'/D curve is above 0.6 up
    # to 16 epochs (one line from 0.05 up the right of the ~16 line crossed it)
    decay_at, decay = decay_mark(table.R_D_star)
    for x, label in ((4, "~4 epochs:\nfading"), (decay_at, decay.replace(": ", ":\n", 1))):
        ax1.axvline(x, color="grey", lw=0.8, ls="--")
        ax1.text(x, 0.04, label, fontsize=7, color="grey", rotation=90, va="bottom", ha="right")
    ax1.set_title(format_count(table.unique_tokens, "unique token"), fontsize=9)
    changes = [r.loss_change for r in rows]
    if all(c is not None for c in changes):
        ax2.plot(epochs, changes, "o-", color="C3")
        ax2.set_ylabel("loss change vs fresh data (nats/token)")
    else:
        ax2.text(
            0.5, 0.5, f"law {table.law} predicts no loss", ha="center", transform=ax2.transAxes
        )
    ax2.set_xscale("log")
    ax2.set_xlabel("epochs")
    ax2.set_title(f"{fq(table.n_params)}-parameter model, law {table.law}", fontsize=9)
    fig.tight_layout()
    legible_log_ticks(fig)  # epochs as 1, 2, 5, 10 (not 10^0, 2×10^0)
    fig.tight_layout()
    return fig
