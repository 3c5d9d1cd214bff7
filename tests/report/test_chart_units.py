"""The report charts print numbers in the tables' units (184B, 1.4T, 400M, 16.2K), in a browser: an axis said
200G tokens beside a table's 184B (d3's SI format, written at ~19 places of the spec builders)."""

from __future__ import annotations

import pytest

from report_browser import assert_healthy, cli_in_process

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

# every chart of the page drawn again as SVG (the page draws on canvas), and the text of its labels
_LABELS_JS = """
async () => {
  const specs = JSON.parse(document.getElementById("tokenplan-charts").textContent);
  const out = {};
  for (const id of Object.keys(specs)) {
    const div = document.createElement("div");
    document.body.appendChild(div);
    await vegaEmbed(div, specs[id], {renderer: "svg", actions: false});
    out[id] = [...div.querySelectorAll("text")].map(t => t.textContent);
  }
  return out;
}
"""

_VALUES = [
    1.0,
    12.0,
    999.0,
    16234.0,
    4.0e5,
    2.0e8,
    1.84e11,
    2.0e11,
    1.4e12,
    3.6e14,
    1.0e15,
    5.76e23,
]


def test_chart_axes_and_formats_use_the_tables_units(tmp_path, open_report):
    from tokenplan.units import format_quantity

    page = tmp_path / "plan.html"
    cli_in_process("plan", "--flops", "5.76e23", "--report", str(page))
    view = open_report(page)
    assert_healthy(view, {"frontier", "isoloss"})
    labels = view.page.evaluate(_LABELS_JS)
    ticks = {t for texts in labels.values() for t in texts if t[:1].isdigit()}
    assert {"10B", "100B", "1T", "10T", "200M"} <= ticks, sorted(ticks)
    assert not [t for t in ticks if t[-1] in "GPkE"], sorted(ticks)  # was 10G, 100G, 1P
    # the one format function, as a tooltip or legend uses it, prints what the tables print
    spec = {
        "data": {"values": [{"i": i, "x": x} for i, x in enumerate(_VALUES)]},
        "mark": "text",
        "encoding": {
            "y": {"field": "i", "type": "ordinal", "axis": None},
            "text": {"field": "x", "type": "quantitative", "format": "", "formatType": "quantity"},
        },
        "config": {"customFormatTypes": True},
    }
    shown = view.page.evaluate(
        """async (spec) => {
          const div = document.createElement("div");
          document.body.appendChild(div);
          await vegaEmbed(div, spec, {renderer: "svg", actions: false});
          return [...div.querySelectorAll("text")].map(t => t.textContent);
        }""",
        spec,
    )
    assert shown == [format_quantity(x) for x in _VALUES]
