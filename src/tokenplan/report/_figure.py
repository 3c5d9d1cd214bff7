"""Matplotlib figures through the object API: a ``Figure`` on its own Agg canvas.

No pyplot and no ``matplotlib.use``: choosing a backend or keeping pyplot's list of open figures is global
state that belongs to the user's program, not to a library. Matplotlib (the ``plot`` extra) is imported
only when a figure is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokenplan.errors import MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["new_figure"]


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
