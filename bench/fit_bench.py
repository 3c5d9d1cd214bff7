"""Benchmark: the full 4,500-start Approach-3 fit on Epoch's Chinchilla points, against a plain scipy loop.

    /work/venv/bin/python bench/fit_bench.py [--repeats 3] [--baseline-starts 4500] [--n-boot 1000]

Baseline (same process): scipy.optimize.minimize(method="L-BFGS-B", jac=True, default tolerances) from every
start of the paper's grid, one after another, keeping the best. Candidate: tokenplan's batched
Levenberg-Marquardt over all starts at once (successive-halving pruning) + L-BFGS-B polish of the best 5.
Also times 1,000 bootstrap refits (warm start + 2 seeded grid starts per replicate, solved as one batch).
Prints medians and the speed-up ratio; the objective must agree with the baseline to 1e-6 (relative).

``--form auto`` (the default of `tokenplan fit`): `run_fit` backtests every form (shared exponent, Kaplan,
Chinchilla) on the same points and refits the chosen one on all of them; timed against the single batched
fit of the same run (ratio), wall and process CPU time (the target, <= 10 s on 2 cores, is for the whole).
The data default to the packaged copy (tokenplan.datasets), so no ../shared is needed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tokenplan import datasets
from tokenplan.fit import FitOptions, Resampling, bootstrap_parametric, fit_parametric, run_fit
from tokenplan.fit.parametric import _make_problem, paper_grid, scipy_loop
from tokenplan.runs import read_runs

DATA = datasets.path("chinchilla_fig4")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--baseline-starts", type=int, default=4500, help="subsample the grid for the loop"
    )
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--auto-only", action="store_true", help="time only --form auto vs one fit")
    args = ap.parse_args(argv)
    if not Path(args.data).exists():
        print(f"reference data {args.data} not found", file=sys.stderr)
        return 2
    runs = read_runs(args.data, drop_highest=5)
    grid = paper_grid()

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        fit = fit_parametric(runs)
        times.append(time.perf_counter() - t0)
    fast = statistics.median(times)
    print(
        f"batched fit, 4500 starts: median {fast:.2f} s over {args.repeats} runs "
        f"(all: {', '.join(f'{t:.2f}' for t in times)}); objective {fit.objective:.10g}"
    )
    print(f"  {fit!r}")
    _time_auto(runs, fast, args.repeats)
    if args.auto_only:
        return 0

    problem = _make_problem(
        runs, delta=1e-3, reduction="sum", overestimate_weight=1.0, alpha_equals_beta=False
    )
    idx = np.linspace(0, len(grid) - 1, min(args.baseline_starts, len(grid))).astype(int)
    t0 = time.perf_counter()
    _, f_loop, nits = scipy_loop(problem, grid[idx])
    slow = time.perf_counter() - t0
    per_start = slow / len(idx)
    full_est = per_start * len(grid)
    print(
        f"scipy L-BFGS-B loop, {len(idx)} starts: {slow:.1f} s ({per_start * 1e3:.1f} ms/start, "
        f"median {int(np.median(nits))} iterations); objective {f_loop:.10g}"
    )
    print(
        f"speed-up (4500-start loop estimate {full_est:.1f} s / batched {fast:.2f} s): "
        f"{full_est / fast:.0f}x"
    )
    rel = (fit.objective - f_loop) / f_loop
    print(
        f"objective difference (batched - loop) / loop: {rel:.2e} "
        f"({'OK' if rel <= 1e-6 else 'WORSE than baseline'})"
    )

    t0 = time.perf_counter()
    boot = bootstrap_parametric(
        runs, fit, resampling=Resampling(n_boot=args.n_boot, seed=0), budgets=(5.76e23,)
    )
    tb = time.perf_counter() - t0
    print(f"bootstrap, {args.n_boot} refits: {tb:.2f} s, {boot.n_failed} failed")
    print(
        f"  80% intervals: alpha {boot.intervals['alpha']}, beta {boot.intervals['beta']}, "
        f"a {boot.intervals['a']}"
    )
    return 0


def _time_auto(runs, single: float, repeats: int) -> None:
    """`run_fit` with --form auto (3 backtests + the final fit), wall and CPU, against one batched fit;
    then the whole `tokenplan fit` command as a fresh process against `python -c pass`, interleaved."""
    load_before = os.getloadavg()
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        report = run_fit(runs, FitOptions())
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"--form auto ({len(report.backtests)} backtests + final fit, {len(runs)} points): median wall "
        f"{wall:.2f} s, CPU {cpu:.2f} s over {repeats} runs (all wall: "
        f"{', '.join(f'{t:.2f}' for t in walls)}); {wall / single:.1f}x one batched fit; chose "
        f"{report.form} ({report.backtest.mean_abs_error:.2%} mean |error| on {report.backtest.n_heldout} "
        f"held out); target <= 10 s"
    )
    cli, base = [], []
    cmd = [
        sys.executable,
        "-m",
        "tokenplan",
        "fit",
        "--example",
        "chinchilla",
        "--drop-highest",
        "5",
    ]
    for _ in range(repeats):
        for out, argv in ((base, [sys.executable, "-c", "pass"]), (cli, cmd)):
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            out.append(time.perf_counter() - t0)
    load_after = os.getloadavg()
    print(
        f"`tokenplan fit --example chinchilla --drop-highest 5` (whole process): median wall "
        f"{statistics.median(cli):.2f} s (all: {', '.join(f'{t:.2f}' for t in cli)}); `python -c pass` "
        f"{statistics.median(base):.3f} s; load average (1 min) {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after, on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    raise SystemExit(main())
