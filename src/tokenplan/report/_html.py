"""What every HTML report page shares: the template engine, the inline chart bundle, safe embedding.

A report is one self-contained file: the Vega-Embed/Vega-Lite/Vega bundle (from ``vl-convert``, ~0.9 MB),
the styles, the chart specs and the numbers all sit inline, and a Content-Security-Policy forbids every
network request, so the page opens from ``file://`` with no network. Charts are built with altair
(Vega-Lite); pages are jinja2 templates beside this module (``templates/``), HTML-escaped by default.

Numbers a reader sees are written by :func:`num`, which also stores the exact value in ``data-value`` and
the path of that value in the command's ``--json`` output in ``data-key``: the browser tests compare the two.

Needs the ``report`` extra: ``pip install 'tokenplan[report]'``.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tokenplan._io import check_output, write_text_atomic
from tokenplan._json import to_jsonable
from tokenplan.errors import MissingDependencyError
from tokenplan.units import (
    format_bytes,
    format_epochs,
    format_factor,
    format_gpu_hours,
    format_hours,
    format_quantity,
    format_share,
)

__all__ = ["check", "num", "page", "require", "safe_json", "write_page"]


def require() -> Any:
    """Import altair (and check jinja2 and vl-convert) or say which extra to install; return altair."""
    try:
        import altair
        import jinja2  # noqa: F401
        import vl_convert  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "altair", "report") from None
    return altair


@functools.cache
def _bundle() -> str:
    """Vega-Embed + Vega-Lite + Vega as one script that sets ``window.vegaEmbed`` (made once per process)."""
    import vl_convert

    js = vl_convert.javascript_bundle()
    # The bundle is inlined in a <script> element: nothing in it may close that element.
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


@functools.cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["num"] = num
    env.filters["q"] = lambda x: "-" if x is None else format_quantity(x)
    return env


def safe_json(obj: Any) -> str:
    """JSON that can sit inside a <script> element: no ``<``, ``>`` or ``&`` survive (they become \\u escapes).

    Pool text or run names holding ``</script><script>...`` therefore stay data, never markup.
    """
    text = json.dumps(to_jsonable(obj), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


#: ``num`` formats that print a unit as the CLI does.
_UNIT_FORMATS = {
    "hours": format_hours,
    "gpu_hours": format_gpu_hours,
    "bytes": format_bytes,
    "epochs": format_epochs,
    "share": format_share,
}


def num(value: float | int | None, key: str = "", fmt: str = "q") -> Any:
    """A number as the reader sees it, carrying its exact value and its ``--json`` path for the tests.

    ``fmt``: ``"q"`` (7.0B, 1.4T), ``"e"`` (5.76e+23), ``"int"`` (12,345), ``"pct"`` (value as a
    percentage), ``"factor"`` (5.51, 132, 3,190: :func:`~tokenplan.units.format_factor` without its x),
    ``"hours"`` (2.5 s, 42.0 min, 3.1 days), ``"gpu_hours"`` (7,022; 0.7 (42 GPU-minutes)),
    ``"bytes"`` (16.0 MB, 1.12 TB), ``"epochs"`` (12.28; 1.0000001, never rounded onto a whole count): the
    CLI's units (:mod:`tokenplan.units`), or a format spec such as
    ``".4f"``.
    """
    from markupsafe import Markup, escape

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Markup('<span class="num">-</span>')
    if fmt == "q":
        text = format_quantity(value)
    elif fmt == "e":
        text = f"{value:.3g}"
    elif fmt == "int":
        text = f"{round(value):,}"
    elif fmt == "pct":
        text = f"{100 * value:.1f}%"
    elif fmt == "factor":  # the CLI's factors, 3 significant figures; the page writes the 'x'
        text = format_factor(value).removesuffix("x")
    elif fmt in _UNIT_FORMATS:
        text = _UNIT_FORMATS[fmt](value)
    else:
        text = format(value, fmt)
    attrs = f' data-key="{escape(key)}" data-value="{float(value)!r}"' if key else ""
    return Markup(f'<span class="num"{attrs}>{escape(text)}</span>')


#: The charts' numbers in the tables' units (:func:`tokenplan.units.format_quantity`: 184B, 1.4T, 400M,
#: 16.2K), where d3's SI format (``~s``) wrote 200G beside a table's 184B: legends and tooltips take
#: ``**QUANTITY``, axes and gradient legends ``**QUANTITY_AXIS`` (d3 still picks which log ticks get a
#: label, or every tick of a log axis is labelled). ``quantity`` is the one Vega expression function templates/base.html registers.
QUANTITY = {"format": "", "formatType": "quantity"}
QUANTITY_AXIS = {"format": "~s", "labelExpr": "datum.label === '' ? '' : quantity(datum.value)"}


def log_axis(alt: Any, field: str, title: str, fmt: str | None = None) -> Any:
    """A log-scale x axis with :data:`QUANTITY_AXIS` (or ``fmt``, a d3 format) tick labels; not "nice": a
    padded domain (:data:`POINT_PADDING`) rounded out to powers of ten would add an empty decade."""
    axis = alt.Axis(**QUANTITY_AXIS) if fmt is None else alt.Axis(format=fmt)
    return alt.X(field, scale=alt.Scale(type="log", nice=False), title=title, axis=axis)


def budget_label(flops: float) -> str:
    """A FLOPs budget as the charts name it in legends and tooltips (3e+14)."""
    return f"{flops:.2g}"


def budget_color(alt: Any, labels: Iterable[str], title: str) -> Any:
    """The colour of each FLOPs budget (viridis) and its legend, in the order of the budgets. Sorted as
    text, ``1e+15`` came before ``3e+14`` and took the darker colour: the colours no longer followed the
    budgets."""
    order = sorted(set(labels), key=float)
    return alt.Color("budget:N", title=title, scale=alt.Scale(scheme="viridis"), sort=order)


def point_rows(table: Any, fields: Iterable[str], index: Iterable[int]) -> list[dict[str, Any]]:
    """Chart rows of a run table or of training curves: ``run`` and the float ``fields`` at ``index``."""
    return [
        {"run": str(table.run_id[i]), **{f: float(getattr(table, f)[i]) for f in fields}}
        for i in index
    ]


def profile_layers(
    alt: Any, iso: Any, x: Any, y: Any, color: Any, *, size: int, unbracketed: str
) -> list[Any]:
    """An Approach-2 fit's IsoFLOP profiles as layers: each budget's fitted curve (60 points in log N)
    and its minimum, a black-edged diamond with budget, N, loss and bracketing in the tooltip.

    Shared by the fit and sweep pages, which draw the same valleys; ``unbracketed`` is the tooltip's text
    for a minimum outside the sizes tried. Such a minimum is an extrapolation of the profile: the curve is
    drawn on to it (so the diamond sits on its curve, not apart from the runs) and the diamond is hollow.
    """
    import numpy as np

    curve, minima = [], []
    for p in iso.profiles:
        label = budget_label(p.flops)
        lo, hi = np.log(p.n_params.min()), np.log(p.n_params.max())
        if np.isfinite(p.n_params_opt) and p.n_params_opt > 0:
            lo, hi = min(lo, np.log(p.n_params_opt)), max(hi, np.log(p.n_params_opt))
        xs = np.linspace(lo, hi, 60)
        curve += [
            {"n_params": float(np.exp(v)), "loss": float(np.polyval(p.coef, v)), "budget": label}
            for v in xs
        ]
        minima.append(
            {
                "n_params": p.n_params_opt,
                "loss": p.loss_opt,
                "budget": label,
                "bracketed": "yes" if p.bracketed else unbracketed,
            }
        )

    def marks(bracketed: bool) -> Any:
        rows = [m for m in minima if (m["bracketed"] == "yes") == bracketed]
        return alt.Chart(alt.Data(values=rows)).mark_point(
            shape="diamond", size=size, filled=bracketed, stroke="black", strokeWidth=1.5
        )

    tooltip = [
        "budget:N",
        alt.Tooltip("n_params:Q", **QUANTITY),
        alt.Tooltip("loss:Q", format=".4f"),
        "bracketed:N",
    ]
    layers = [alt.Chart(alt.Data(values=curve)).mark_line().encode(x, y, color)]
    if any(m["bracketed"] == "yes" for m in minima):  # an empty layer has an infinite extent
        layers.append(marks(True).encode(x, y, color, tooltip=tooltip))
    if any(m["bracketed"] != "yes" for m in minima):
        layers.append(marks(False).encode(x, y, tooltip=tooltip))
    return layers


# Pixels each continuous x/y scale's domain is widened by at both ends, so that a marker on the smallest or
# largest value (the first run's FLOPs, the lowest loss) shows whole inside the plot, not cut in half at the
# axis (the largest markers, the IsoFLOP minima's diamonds, reach about 8 px from their centre).
POINT_PADDING = 10


# Pixels kept between two axis labels: Vega hides a label that would come closer (a log axis labels
# 4e+14 5e+14 6e+14 7e+14 8e+14 and, with no gap asked for, kept 7e+14 and 8e+14 1.7 px apart, reading as
# one "7e+148e+14").
LABEL_GAP = 4


def _spec(chart: Any, padding: int = 0, description: str | None = None) -> dict[str, Any]:
    """An altair chart (or a ready Vega-Lite dict) as a Vega-Lite spec dict that may use :data:`QUANTITY`
    (Vega-Lite reads a custom ``formatType`` only with ``config.customFormatTypes``), its axis labels
    :data:`LABEL_GAP` pixels apart, its continuous x/y scales widened by ``padding`` pixels at both ends
    (e.g. :data:`POINT_PADDING`), and ``description`` (its aria-label) when given."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    if description:
        spec = {**spec, "description": description}
    if not spec.get("description"):  # a page's own bug: every chart says what it shows (aria-label)
        raise ValueError(
            "a report chart has no description: Vega would label it 'Vega visualization'"
        )
    config = {**spec.get("config", {}), "customFormatTypes": True}
    config["axis"] = {"labelSeparation": LABEL_GAP, **config.get("axis", {})}
    if padding:
        config["scale"] = {"continuousPadding": padding, **config.get("scale", {})}
    return {**spec, "config": config}


def page(
    template: str,
    *,
    subject: str,
    charts: Mapping[str, Any] | None = None,
    padding: int = 0,
    descriptions: Mapping[str, str] | None = None,
    **context: Any,
) -> str:
    """Render ``templates/<command>.html`` into one self-contained HTML page, stamped with tokenplan's
    version and titled ``tokenplan <command>: <subject>``.

    ``charts`` maps an element id (used as ``{{ chart("id") }}`` in the template) to an altair chart; an id
    mapped to None is a chart this page does not have (its ``chart("id")`` renders nothing). ``padding``:
    pixels added to both ends of each chart's continuous x/y scales (a page of scattered runs passes
    :data:`POINT_PADDING`, so no marker is cut at an axis). ``descriptions``: what each chart shows, by id
    (its aria-label for a screen reader); a chart with neither one nor its own is refused.
    """
    from markupsafe import Markup

    from tokenplan import __version__

    said = descriptions or {}
    specs = {
        name: _spec(c, padding, said.get(name))
        for name, c in (charts or {}).items()
        if c is not None
    }

    def chart(name: str, caption: str = "") -> Markup:
        if name not in specs:
            return Markup("")
        cap = f"<figcaption>{Markup.escape(caption)}</figcaption>" if caption else ""
        return Markup(f'<figure class="chart"><div class="vis" id="{name}"></div>{cap}</figure>')

    env = _environment()
    return env.get_template(template).render(
        title=f"tokenplan {Path(template).stem}: {subject}",
        chart=chart,
        specs_json=Markup(safe_json(specs)),
        bundle=Markup(_bundle()),
        version=__version__,
        **context,
    )


def check(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    outputs: dict[str, str | os.PathLike[str] | None] | None = None,
) -> Path:
    """Refuse a report path before any work: an input, another of the run's ``outputs``, an existing file
    without overwrite, a bad folder."""
    out = check_output(
        path, param="report", overwrite=overwrite, inputs=list(inputs), outputs=outputs
    )
    if out.suffix.lower() not in (".html", ".htm"):
        from tokenplan.errors import InvalidInputError

        raise InvalidInputError(
            f"`report` {str(out)!r} must end in .html (it is one self-contained web page).",
            param="report",
        )
    return out


def write_page(
    html: str,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Write a rendered page to ``path`` atomically, after :func:`tokenplan._io.check_output`."""
    out = check(path, overwrite=overwrite, inputs=inputs)
    write_text_atomic(out, html)
    return out
