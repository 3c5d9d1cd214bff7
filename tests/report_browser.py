"""Helpers of the report tests: the system chromium, what a page looked like, numbers vs --json."""

from __future__ import annotations

import math
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

from tokenplan.units import parse_quantity

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    env = os.environ.get("TOKENPLAN_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageView:
    """What a report looked like in the browser."""

    render_seconds: float
    state: str
    errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    #: chart id -> (css width, css height, painted pixels)
    charts: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    #: (data-key, data-value, visible text) of every number on the page
    numbers: list[tuple[str, float, str]] = field(default_factory=list)
    page: Any = None


_CHARTS_JS = """
() => [...document.querySelectorAll('.vis')].map(e => {
  const c = e.querySelector('canvas');
  if (!c) return [e.id, 0, 0, 0];
  const r = c.getBoundingClientRect();
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) painted++;
  }
  return [e.id, r.width, r.height, painted];
})
"""

_NUMBERS_JS = """
() => [...document.querySelectorAll('[data-key]')].map(e =>
  [e.dataset.key, parseFloat(e.dataset.value), e.textContent])
"""


def json_at(obj: Any, key: str) -> Any:
    """The value at a dotted path (``plans.2.n_params``) of a --json object."""
    for part in key.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


_SHOWN = re.compile(r"^[+-]?[\d,]*\.?\d+(?:e[+-]?\d+)?[KMBT%]?$", re.I)


#: Units the pages print as the CLI does (tokenplan.units): hours for time, bytes for memory.
_UNITS = {
    " s": 1 / 3600,
    " min": 1 / 60,
    " h": 1.0,
    " days": 24.0,
    " years": 24.0 * 365,
    " kB": 1e3,
    " MB": 1e6,
    " GB": 1e9,
    " TB": 1e12,
}


def shown_value(text: str) -> tuple[float, float]:
    """(value, tolerance) of a number as printed: '9.05B', '1,234', '34.9%', '2.1511', '1e+22', and with
    a unit: '146.3 days' (in hours), '37.3 MB' (in bytes), '0.0007 (2.5 GPU-seconds)' (the first number)."""
    t = text.strip().replace(",", "").replace("×", "").split(" (")[0]
    scale = 1.0
    for suffix, factor in _UNITS.items():
        if t.endswith(suffix):
            t, scale = t[: -len(suffix)], factor
            break
    assert _SHOWN.match(t), f"not a number as shown: {text!r}"
    if t.endswith("%"):
        t, scale = t[:-1], 0.01
    value = parse_quantity(t) * scale
    mantissa = re.split(r"[eE]", t)[0].rstrip("KMBTkmbt")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    if not decimals and "," in text:  # '3,190': a factor in 3 significant figures (3187.21)
        decimals = -(len(mantissa) - len(mantissa.rstrip("0")))
    unit = parse_quantity(t) / float(mantissa) if float(mantissa) else 1.0
    return value, 0.51 * 10.0**-decimals * abs(unit) * scale


def assert_numbers_match(view: PageView, data: dict) -> int:
    """Every number on the page equals the --json value at its key, exactly and as shown. Returns the count."""
    assert view.numbers, "no numbers carry data-key on the page"
    for key, value, text in view.numbers:
        want = json_at(data, key)
        assert want is not None, key
        assert math.isclose(value, float(want), rel_tol=1e-12, abs_tol=0.0), (key, value, want)
        shown, tol = shown_value(text)
        assert abs(shown - float(want)) <= tol + 1e-12 * abs(float(want)), (key, text, want)
    return len(view.numbers)


def assert_healthy(view: PageView, expected_charts: set[str]) -> None:
    """Rendered, no console errors, nothing fetched from outside file://, every chart drawn."""
    assert view.state == "yes", view.errors
    assert view.errors == []
    assert view.external_requests == []
    assert set(view.charts) == expected_charts
    for name, (w, h, painted) in view.charts.items():
        assert w > 0 and h > 0, name
        assert painted > 1000, (name, painted)


# Each chart of the page drawn again as SVG (the page draws to a canvas, which keeps no marks): for every
# point marker (circle, point, diamond), how far its box reaches outside its plot area, in pixels.
_MARKERS_OUTSIDE_JS = """
async () => {
  const specs = JSON.parse(document.getElementById("tokenplan-charts").textContent);
  const out = {};
  for (const [id, spec] of Object.entries(specs)) {
    const div = document.createElement("div");
    document.body.appendChild(div);
    await vegaEmbed(div, spec, {renderer: "svg", actions: false,
                                expressionFunctions: {quantity: (x) => String(x)}});
    out[id] = [];
    for (const mark of div.querySelectorAll("g.mark-symbol > path")) {
      const bg = mark.closest("g.mark-group > g").querySelector(":scope > path.background");
      const a = bg.getBoundingClientRect(), b = mark.getBoundingClientRect();
      const over = Math.max(a.left - b.left, b.right - a.right, a.top - b.top, b.bottom - a.bottom);
      if (b.width > 0 && over > 0.5) out[id].push(over);
    }
    div.remove();
  }
  return out;
}
"""


def markers_outside(view: PageView) -> dict[str, list[float]]:
    """Chart id -> how far (px) each point marker reaching past its plot area's edge does so (a marker
    on the smallest or largest value of an unpadded axis is cut in half there); empty lists when none."""
    return view.page.evaluate(_MARKERS_OUTSIDE_JS)


# Each drawn chart's scene (the Vega views the page keeps in window.tokenplanViews): axis labels closer than
# 4 px to each other (Vega's own bounds), legend symbols too pale to match a colour (opacity < 0.5), and
# the labels of the legends in order (one list per chart).
_LEGIBILITY_JS = """
() => {
  const out = {};
  for (const [id, view] of Object.entries(window.tokenplanViews)) {
    const res = {touching: [], pale: [], legend: []};
    const walk = (group) => {
      for (const mark of group.items || []) {
        if (!mark.marktype) { walk(mark); continue; }
        const shown = mark.items.filter(t => t.text !== "" && t.opacity !== 0);
        if (mark.role === "axis-label") {
          for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) {
            const a = shown[i].bounds, b = shown[j].bounds, g = 2;
            if (a.x1 - g < b.x2 + g && b.x1 - g < a.x2 + g && a.y1 - g < b.y2 + g && b.y1 - g < a.y2 + g)
              res.touching.push(`${shown[i].text} | ${shown[j].text}`);
          }
        }
        if (mark.role === "legend-label") res.legend.push(...shown.map(t => t.text));
        if (mark.role === "legend-symbol") {
          for (const t of mark.items) {
            const o = t.opacity ?? 1;
            if (o * (t.fillOpacity ?? 1) < 0.5 && o * (t.strokeOpacity ?? 1) < 0.5)
              res.pale.push(o * (t.fillOpacity ?? 1));
          }
        }
        for (const g of mark.items) walk(g);
      }
    };
    walk(view.scenegraph().root);
    out[id] = res;
  }
  return out;
}
"""


def chart_legibility(view: PageView) -> dict[str, dict[str, list]]:
    """Chart id -> {"touching": axis label pairs closer than 4 px ("7e+14 | 8e+14"), "pale": opacities of
    legend symbols too faint to match a colour, "legend": the legends' labels in order}, from the charts
    as the page drew them."""
    return view.page.evaluate(_LEGIBILITY_JS)


def assert_legible(view: PageView) -> None:
    """No two axis labels of any chart touch and no legend symbol is too pale to read."""
    seen = chart_legibility(view)
    problems = {
        k: v["touching"] + [f"pale legend symbol {o:.2f}" for o in v["pale"]]
        for k, v in seen.items()
    }
    assert problems == {k: [] for k in seen}, problems


# Every element that reaches past the right edge of the window without a box of its own to scroll in (a
# chart or table wider than a phone scrolls inside its figure or table; the page itself must not).
_OVERFLOW_JS = """
() => {
  const W = document.documentElement.clientWidth;
  const scrolls = (e) => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (a === document.body) return false;
      if (["auto", "scroll"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const out = [];
  for (const e of document.querySelectorAll("main *")) {
    const r = e.getBoundingClientRect();
    if (r.right > W + 1 && !scrolls(e))
      out.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} reaches ${Math.round(r.right)} px`);
  }
  if (document.documentElement.scrollWidth > W) out.push(`page ${document.documentElement.scrollWidth} px wide`);
  return out;
}
"""


def overflowing(view: PageView) -> list[str]:
    """What sticks out of the window sideways (the page, or an element with no box to scroll in); [] when
    every wide chart and table scrolls in its own box."""
    return view.page.evaluate(_OVERFLOW_JS)


def cli_in_process(*args: str) -> tuple[str, str]:
    """Run `tokenplan ARGS` in this process (click's runner): (stdout, stderr). Raises on failure.

    The report pages inline a ~0.9 MB script bundle that vl-convert builds once per process (2+ CPU-s);
    running the command in-process lets the tests share it. The subprocess tests cover the real entry point.
    """
    from click.testing import CliRunner

    from tokenplan.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def synthetic_selection(*, n: int = 100_000, k: int = 50, picks: int = 500, dim: int = 16):
    """A large selection without a pool: ``n`` unit embeddings in ``k`` Gaussian clusters, ``picks`` rows
    chosen at random and as many for the random baseline (seed 0). Returns (SelectionReport, embeddings,
    labels, selected, random) for :func:`tokenplan.report.select_page.write_select_report`; the report
    tests and bench/report_bench.py both draw the 100k-row map from it."""
    import numpy as np

    from tokenplan.select.metrics import coverage
    from tokenplan.select.pipeline import SelectionReport

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(k, dim))
    labels = rng.integers(0, k, n)
    emb = (centers[labels] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sel = rng.choice(n, picks, replace=False)
    rnd = rng.choice(n, picks, replace=False)
    cov = {"cluster_labels": labels, "n_clusters": k}
    report = SelectionReport(
        method="kcenter",
        n_rows=n,
        n_malformed=0,
        malformed_examples=[],
        drop_reasons={},
        n_candidates=n,
        n_selected=picks,
        selected=sel,
        embedder="synthetic",
        embedder_label="synthetic",
        n_embedded_from_cache=0,
        n_embedded_from_cache_by_view={"synthetic": 0},
        n_clusters=k,
        coverage=coverage(emb, sel, **cov),
        random_baseline=coverage(emb, rnd, **cov),
        output=None,
        plot=None,
        timings={},
    )
    return report, emb, labels, sel, rnd
