"""Matplotlib figures through the object API: a ``Figure`` on its own Agg canvas.

No pyplot and no ``matplotlib.use``: choosing a backend or keeping pyplot's list of open figures is global
state that belongs to the user's program, not to a library. Matplotlib (the ``plot`` extra) is imported
only when a figure is made.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenplan.errors import InvalidInputError, MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "figure_format", "legible_log_ticks", "new_figure"]

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


#: the tick mantissas a log axis labels, tried in turn until its labels stand apart: every tick, then
#: 1-2-5, 1-3, the decades only
LOG_LABEL_SETS = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1, 3), (1,))
#: values inside this range are labelled as plain numbers (epochs 1, 2, 5, 10), others as 2×10^5
PLAIN_RANGE = (1e-2, 1e4)


def legible_log_ticks(fig: Figure) -> None:
    """Label every log axis of ``fig`` so that no two tick labels touch.

    Over about a decade matplotlib labels its minor ticks too (2×10^5 3×10^5 4×10^5 ...), which run into
    each other on a panel a few inches wide. Each log axis keeps matplotlib's labels when they stand apart
    (a gap of half a character) and name at least two ticks; else it labels the ticks whose mantissa is in
    the first of :data:`LOG_LABEL_SETS` that does. An axis within :data:`PLAIN_RANGE` (epochs) reads as
    plain numbers. Call it once the figure is laid out: the gaps are measured on the drawn figure.
    """
    # each log axis with the label sets it has left to try; one draw per round measures every axis
    pending: list[tuple[Axis, bool, list[tuple[int, ...] | None]]] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                lo, hi = sorted(axis.get_view_interval())
                plain = PLAIN_RANGE[0] <= lo and hi < PLAIN_RANGE[1]
                pending.append((axis, plain, [*([] if plain else [None]), *LOG_LABEL_SETS]))
    while pending:
        for axis, plain, tries in pending:
            keep = tries.pop(0)
            if keep is not None:
                axis.set_major_formatter(_log_labels(keep, plain=plain))
                axis.set_minor_formatter(_log_labels(keep, plain=plain))
        fig.draw_without_rendering()
        pending = [(a, p, t) for a, p, t in pending if t and not _legible(a)]


def _legible(axis: Axis) -> bool:
    """At least two labels, no two closer than half a character (at the last draw)."""
    boxes = tick_label_boxes(axis)
    return len(boxes) >= 2 and not _touching(boxes, axis)


def tick_label_boxes(axis: Axis) -> list[Any]:
    """The display-space bounding boxes of the tick labels ``axis`` draws (non-empty, inside its view),
    in tick order; measured at the last draw."""
    renderer = axis.figure.canvas.get_renderer()
    lo, hi = sorted(axis.get_view_interval())
    k = 0 if axis.axis_name == "x" else 1
    span = (hi - lo) * 1e-9
    labels = [
        t
        for t in axis.get_ticklabels(which="both")
        if t.get_visible() and t.get_text() and lo - span <= t.get_position()[k] <= hi + span
    ]
    labels.sort(key=lambda t: t.get_position()[k])
    return [t.get_window_extent(renderer) for t in labels]


def _touching(boxes: list[Any], axis: Axis) -> bool:
    """Whether two neighbouring labels are closer than half a character (or overlap)."""
    from matplotlib.transforms import Bbox

    ticks = axis.get_major_ticks()
    size = ticks[0].label1.get_fontsize() if ticks else 10.0
    pad = 0.25 * size * axis.figure.dpi / 72  # half a character between two labels
    grown = [Bbox.from_extents(b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad) for b in boxes]
    return any(a.overlaps(b) for a, b in itertools.pairwise(grown))


def _log_labels(keep: tuple[int, ...], *, plain: bool) -> Any:
    """A tick formatter for a log axis: the ticks whose mantissa is in ``keep`` get a label (10^5,
    2×10^5; or 2, 50 when ``plain``), the others none."""
    from matplotlib.ticker import FuncFormatter

    def label(x: float, pos: Any = None) -> str:
        if not (x > 0 and math.isfinite(x)):
            return ""
        e = math.floor(math.log10(x) + 1e-9)
        m = x / 10.0**e
        if abs(m - round(m)) > 1e-6 * m or round(m) not in keep:
            return ""
        if plain:
            return f"{x:g}"
        power = f"10^{{{e}}}"
        text = power if round(m) == 1 else f"{round(m)}\\times{power}"
        return f"$\\mathdefault{{{text}}}$"

    return FuncFormatter(label)
