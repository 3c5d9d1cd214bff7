"""Report pages: size on disk and time to render in headless Chromium, against a one-chart baseline page.

    python bench/report_bench.py [--repeats 5] [--screenshots docs/]

Baseline: altair's own inline page for one line chart (``chart.save(inline=True)``: the same Vega bundle,
one trivial chart), loaded in the same browser in the same run. "render" = navigation start until every
chart of the page has been drawn (the page sets ``data-rendered``). Medians over ``--repeats`` loads.
Pages are made in this process through the CLI (click's runner), so the numbers are those of the command.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from tokenplan.cli import cli

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGES = {
    "plan": [
        "plan",
        "--flops",
        "1e22",
        "--unique-tokens",
        "25B",
        "--inference-tokens",
        "2T",
        "--compare",
    ],
}


def make_pages(out: Path, only: list[str] | None) -> dict[str, Path]:
    pages = {}
    for name, args in PAGES.items():
        if only and name not in only:
            continue
        path = out / f"{name}.html"
        r = CliRunner().invoke(cli, [*args, "--report", str(path)], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        pages[name] = path
    return pages


def baseline(out: Path) -> Path:
    import altair as alt

    path = out / "baseline.html"
    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}, {"x": 2, "y": 3}])).mark_line()
    chart.encode(x="x:Q", y="y:Q").save(str(path), inline=True)
    return path


def load_seconds(browser, path: Path, *, wait: str, screenshot: Path | None = None) -> float:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    t0 = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function(wait, timeout=60_000)
    dt = time.perf_counter() - t0
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return dt


def shrink(png: Path, width: int = 800, colors: int = 64) -> None:
    """Scale a screenshot down and quantise it so that docs stay small."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    h = round(img.height * width / img.width)
    img = img.resize((width, h), Image.LANCZOS).quantize(
        colors=colors, method=Image.Quantize.FASTOCTREE
    )
    img.save(png, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--screenshots", type=Path, help="Write report-<page>.png here.")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(tempfile.mkdtemp(prefix="tokenplan-report-bench-"))
    t0 = time.perf_counter()
    pages = make_pages(out, args.only)
    print(f"pages made in {time.perf_counter() - t0:.1f} s (includes the bundle, built once)")
    base = baseline(out)
    exe = shutil.which("chromium") or sys.exit("no chromium on PATH")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=FLAGS)
        wait_base = "document.querySelector('#vis canvas, #vis svg') !== null"
        wait_page = "document.body.dataset.rendered === 'yes'"
        rows = []
        for _ in range(args.repeats):  # interleaved: load from other work hits both alike
            b = load_seconds(browser, base, wait=wait_base)
            for name, path in pages.items():
                rows.append((name, b, load_seconds(browser, path, wait=wait_page)))
        print(f"{'page':8} {'MB':>6} {'render s':>9} {'baseline s':>11} {'ratio':>6}")
        for name, path in pages.items():
            mine = [r[2] for r in rows if r[0] == name]
            bases = [r[1] for r in rows if r[0] == name]
            med, bmed = statistics.median(mine), statistics.median(bases)
            mb = path.stat().st_size / 1e6
            print(f"{name:8} {mb:6.2f} {med:9.2f} {bmed:11.2f} {med / bmed:6.2f}")
            if args.screenshots:
                png = args.screenshots / f"report-{name}.png"
                load_seconds(browser, path, wait=wait_page, screenshot=png)
                shrink(png)
                print(f"  screenshot {png} ({png.stat().st_size / 1e3:.0f} kB)")
        browser.close()
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
