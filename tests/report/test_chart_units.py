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


def test_an_unbracketed_minimum_sits_on_its_curve_and_is_hollow():
    """A parabola whose minimum lies outside the sizes tried (cpu-demo's 3e12 budget: 36.7K against sizes
    74K..837K) drew its curve over the sizes only, so the diamond floated apart from it; the curve now runs
    on to the minimum and the diamond is hollow, a bracketed one filled."""
    import altair as alt
    import numpy as np

    from tokenplan.fit.isoflop import IsoflopProfile
    from tokenplan.report import _html

    sizes = np.array([7.4e4, 2e5, 8.37e5])
    coef = np.array([0.1, -2 * 0.1 * np.log(3.67e4), 0.0])  # minimum at 36.7K, left of the sizes
    profiles = [
        IsoflopProfile(3e12, sizes, np.polyval(coef, np.log(sizes)), coef, 3.67e4, 1.9, False),
        IsoflopProfile(3e11, sizes, np.polyval(coef, np.log(sizes)), coef, 2e5, 1.9, True),
    ]
    iso = type("Iso", (), {"profiles": profiles})()
    x, y = alt.X("n_params:Q"), alt.Y("loss:Q")
    curve, filled, hollow = _html.profile_layers(
        alt, iso, x, y, alt.Color("budget:N"), size=100, unbracketed="NO"
    )
    drawn = [r["n_params"] for r in curve.to_dict()["data"]["values"] if r["budget"] == "3e+12"]
    assert min(drawn) == pytest.approx(3.67e4) and max(drawn) == pytest.approx(8.37e5)
    for layer, bracketed, budget in ((filled, True, "3e+11"), (hollow, False, "3e+12")):
        spec = layer.to_dict()
        assert spec["mark"]["filled"] is bracketed
        assert [m["budget"] for m in spec["data"]["values"]] == [budget]
