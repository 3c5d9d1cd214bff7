"""Matplotlib figures through the object API: a ``Figure`` on its own Agg canvas.

No pyplot and no ``matplotlib.use``: choosing a backend or keeping pyplot's list of open figures is global
state that belongs to the user's program, not to a library. Matplotlib (the ``plot`` extra) is imported
only when a figure is made.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenplan.errors import InvalidInputError, MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "figure_format", "new_figure"]

#: the formats a figure file can have, named by its suffix
FORMATS = ("png", "pdf", "svg")


def figure_format(path: str | os.PathLike[str]) -> str:
    """The format of the ``--plot`` file ``path``, from its suffix (one of :data:`FORMATS`); any other
    suffix is an error naming the flag. The CLI checks it before the work, each writer again before
    drawing."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"--plot {Path(path)}: use a .png, .pdf or .svg file name.", param="plot"
        )
    return fmt


def new_figure(**kwargs: Any) -> Figure:
    """A ``matplotlib.figure.Figure(**kwargs)`` drawn by its own Agg canvas (PNG, PDF and SVG all save)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot") from None
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig
