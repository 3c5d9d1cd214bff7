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

REPO = Path(__file__).resolve().parents[1]
CPU_DEMO = REPO / "docs" / "results" / "cpu-demo"
# The report tests' helpers (browser flags, the synthetic 100k selection) serve the bench too.
sys.path.insert(0, str(REPO / "tests"))

from report_browser import CHROMIUM_FLAGS, synthetic_selection  # noqa: E402


def run(*args: str) -> None:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output


def make_plan(path: Path) -> None:
    run(
        "plan",
        "--flops",
        "1e22",
        "--unique-tokens",
        "25B",
        "--inference-tokens",
        "2T",
        "--compare",
        "--report",
        str(path),
    )


def make_fit(path: Path) -> None:
    """The test fixture (22 runs simulated from a known law, with curves), every approach, 200 refits, backtests."""
    data = REPO / "tests" / "data" / "fit"
    run(
        "fit",
        str(data / "results.csv"),
        "--curves",
        str(data / "curves.csv"),
        "--approach",
        "all",
        "--bootstrap",
        "200",
        "--budgets",
        "1e21",
        "--backtest",
        "--report",
        str(path),
    )


def make_sweep(path: Path) -> None:
    """The page of the shipped cpu-demo sweep (no training: its results.csv and curves.csv as they are)."""
    from tokenplan.report.sweep_page import write_sweep_report
    from tokenplan.sweep import SweepResult, load_spec, read_results

    rows = read_results(CPU_DEMO / "results.csv")
    status = [r["status"] for r in rows]
    result = SweepResult(
        out_dir=str(CPU_DEMO),
        results_csv=str(CPU_DEMO / "results.csv"),
        curves_csv=str(CPU_DEMO / "curves.csv"),
        best_lr_csv=None,
        n_runs=len(rows),
        n_skipped=0,
        n_trained=len(rows),
        counts={s: status.count(s) for s in ("ok", "failed", "too_few_steps")},
        executor="local",
    )
    write_sweep_report(path, result, load_spec(CPU_DEMO / "sweep.yaml"))


def make_select(path: Path) -> None:
    """A synthetic 3,000-row pool in five domains (with duplicates), 0.5% by task-center, tfidf."""
    import json
    import random

    rng = random.Random(0)
    topics = {
        "cooking": "recipe oven bake flour sugar butter simmer sauce garlic onion pasta",
        "physics": "energy mass velocity quantum photon gravity force momentum field wave",
        "coding": "python function loop variable class compile debug array string recursion",
        "history": "empire war treaty king revolution century dynasty colony battle parliament",
        "music": "chord melody rhythm guitar piano tempo harmony scale song concert",
    }
    pool = path.with_suffix(".jsonl")
    with open(pool, "w") as f:
        for i in range(3000):
            dom = rng.choice(sorted(topics))
            words = topics[dom].split()
            resp = " ".join(rng.choice(words) for _ in range(rng.randint(30, 90))).capitalize()
            row = {
                "instruction": f"Tell me about {rng.choice(words)} (item {i}).",
                "input": "",
                "output": resp + ".",
                "domain": dom,
            }
            f.write(json.dumps(row) + "\n")
            if i % 40 == 0:  # an exact duplicate for the dedup stage
                f.write(json.dumps(row) + "\n")
    run(
        "select",
        "-i",
        str(pool),
        "--fraction",
        "0.005",
        "--method",
        "task-center",
        "--embedder",
        "tfidf",
        "--domain-field",
        "domain",
        "--cache-dir",
        "none",
        "--report",
        str(path),
    )


def make_select_100k(path: Path) -> None:
    """A 100k-candidate selection (synthetic embeddings in 50 clusters, 500 picks): the sampled map."""
    from tokenplan.report.select_page import write_select_report

    report, emb, labels, sel, rnd = synthetic_selection(dim=32)
    write_select_report(
        path,
        report,
        embeddings=emb,
        labels=labels,
        selected=sel,
        random=rnd,
        text_of=lambda pos: [f"synthetic row {p}: " + "lorem ipsum dolor " * 12 for p in pos],
    )


PAGES = {
    "plan": make_plan,
    "fit": make_fit,
    "sweep": make_sweep,
    "select": make_select,
    "select-100k": make_select_100k,
}


def make_pages(out: Path, only: list[str] | None) -> dict[str, Path]:
    pages = {}
    for name, make in PAGES.items():
        if only and name not in only:
            continue
        path = out / f"{name}.html"
        t = time.perf_counter()
        make(path)
        print(f"{name}: made in {time.perf_counter() - t:.1f} s")
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
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        wait_base = "document.querySelector('#vis canvas, #vis svg') !== null"
        wait_page = "document.body.dataset.rendered === 'yes'"
        rows = []
        for _ in range(args.repeats):  # interleaved: load from other work hits both alike
            b = load_seconds(browser, base, wait=wait_base)
            for name, path in pages.items():
                rows.append((name, b, load_seconds(browser, path, wait=wait_page)))
        print(f"{'page':12} {'MB':>6} {'render s':>9} {'baseline s':>11} {'ratio':>6}")
        for name, path in pages.items():
            mine = [r[2] for r in rows if r[0] == name]
            bases = [r[1] for r in rows if r[0] == name]
            med, bmed = statistics.median(mine), statistics.median(bases)
            mb = path.stat().st_size / 1e6
            print(f"{name:12} {mb:6.2f} {med:9.2f} {bmed:11.2f} {med / bmed:6.2f}")
            if args.screenshots and name != "select-100k":
                png = args.screenshots / f"report-{name}.png"
                load_seconds(browser, path, wait=wait_page, screenshot=png)
                shrink(png)
                print(f"  screenshot {png} ({png.stat().st_size / 1e3:.0f} kB)")
        browser.close()
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
