"""Benchmark: one BLAS thread around the fits' small optimisations, against BLAS's default, same process.

    python bench/fit_threads.py [--repeats 5]

The fits' scipy L-BFGS-B runs (the Approach-3 polish and its floor check, the Kaplan form, the
data-constrained fit) call BLAS on a few vectors at a time; OpenBLAS's default of one thread per core makes
each call wake and wait for the other threads (src/tokenplan/fit/_threads.py). Baseline: the code as it was,
BLAS's default threads throughout (``_threads._controller`` returning None, which makes the limit a no-op).
Candidate: the shipped code, one thread inside those runs only. Interleaved, ``--repeats`` each, medians;
the ratio is candidate / baseline. Problems:

- ``approach3``: ``fit_parametric`` on Epoch's Chinchilla points (5 highest-loss dropped), 4,500 starts;
  the time of its floor check (E held at ~0, one L-BFGS-B run) is also given;
- ``data-constrained``: ``fit_data_constrained`` on the 182 datablations C4 runs (18 L-BFGS-B runs);
- ``auto-small``: ``run_fit`` with the defaults (``tokenplan fit tests/data/fit/results.csv``: backtests of
  every form, the final fit, 200 bootstrap refits) on the 22-run test sweep.

Each pair's objectives must agree (the limit changes the order of no sum that matters: 1e-9 relative).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

import tokenplan.fit._threads as threads
import tokenplan.fit.parametric as parametric
from tokenplan import datasets
from tokenplan.fit import FitOptions, fit_data_constrained, fit_parametric, run_fit
from tokenplan.runs import read_runs

SMALL = Path(__file__).resolve().parent.parent / "tests" / "data" / "fit" / "results.csv"


def _floor_timer():
    """Wrap the floor check to time it; returns the list its times go to."""
    spent: list[float] = []
    inner = parametric._floor_free_objective

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    parametric._floor_free_objective = timed
    return spent


def problems():
    fig4 = read_runs(datasets.path("chinchilla_fig4"), drop_highest=5)
    c4 = read_runs(datasets.path("datablations_c4"))
    small = read_runs(SMALL)
    return {
        "approach3": lambda: fit_parametric(fig4).objective,
        "data-constrained": lambda: fit_data_constrained(c4).objective,
        "auto-small": lambda: float(run_fit(small, FitOptions()).law.E),
    }


def run(fn, limited: bool, floor: list[float]) -> tuple[float, float, float]:
    """(wall seconds, floor-check seconds, the result to compare) of one call."""
    if not limited:
        threads._controller = _NONE
    floor.clear()
    try:
        t0 = time.perf_counter()
        value = fn()
        return time.perf_counter() - t0, sum(floor), value
    finally:
        threads._controller = _CONTROLLER


_CONTROLLER = threads._controller
_NONE = lambda: None  # noqa: E731  (the no-op limit: the code before fit/_threads.py)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    floor = _floor_timer()
    blas = ", ".join(f"{i['prefix']} {i['num_threads']} threads" for i in threadpool_info())
    print(f"BLAS: {blas}; cores {os.cpu_count()}; load {os.getloadavg()[0]:.1f} at start")
    for name, fn in problems().items():
        fn()  # warm-up: imports, caches
        base, cand = [], []
        for _ in range(args.repeats):
            base.append(run(fn, False, floor))
            cand.append(run(fn, True, floor))
        b, c = (statistics.median(t[0] for t in ts) for ts in (base, cand))
        fb, fc = (statistics.median(t[1] for t in ts) for ts in (base, cand))
        same = all(np.isclose(x[2], y[2], rtol=1e-9, atol=0) for x, y in zip(base, cand))
        extra = f"; floor check {fb:.3f} s -> {fc:.3f} s" if fb else ""
        print(
            f"{name:17s} default threads {b:.2f} s, one thread {c:.2f} s: ratio {c / b:.2f}x "
            f"(median of {args.repeats}, interleaved){extra}; results equal: {same}"
        )
        print(
            f"{'':17s} runs: default {[round(t[0], 2) for t in base]}, one {[round(t[0], 2) for t in cand]}"
        )
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
