"""Regenerate src/tokenplan/laws/epoch2024_bootstrap.json: the bootstrap behind the epoch2024 preset's interval.

Run:  python bench/epoch2024_bootstrap.py [--n-boot 1000] [--seed 0]

Besiroglu et al. 2024 (Epoch) bootstrapped their Approach-3 refit of the Chinchilla Fig. 4 points 4,000 times
and published 95% intervals for each parameter, not the draws (REFERENCE.md section 2). This re-runs the
same procedure (the 240 points, sum Huber delta 1e-3, 4,500-start grid; resample runs with replacement and
refit) with tokenplan's fitter and stores the draws, so that `tokenplan predict --law epoch2024` can give an
interval on the loss. tests/laws/test_prediction.py checks the stored draws reproduce Epoch's published 95%
parameter intervals.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tokenplan import datasets
from tokenplan._io import write_text_atomic
from tokenplan.fit import Resampling, bootstrap_parametric, fit_parametric

OUT = (
    Path(__file__).resolve().parents[1] / "src" / "tokenplan" / "laws" / "epoch2024_bootstrap.json"
)
NAMES = ("E", "A", "B", "alpha", "beta")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    runs = datasets.load("chinchilla_fig4", drop_highest=5)
    fit = fit_parametric(runs)
    boot = bootstrap_parametric(
        runs, fit, resampling=Resampling(n_boot=args.n_boot, seed=args.seed, level=0.95)
    )
    draws = [[float(f"{boot.samples[k][i]:.7g}") for k in NAMES] for i in range(args.n_boot)]
    draws = [row for row in draws if all(v == v for v in row)]  # failed replicates are NaN
    doc = {
        "kind": "bootstrap",
        "names": list(NAMES),
        "draws": draws,
        "residuals": [],
        "backtest_flops_factor": None,
        "seed": args.seed,
        "source": (
            f"tokenplan's re-run of Besiroglu et al. 2024's bootstrap ({len(draws)} refits of the 240 "
            "Fig. 4 points, seed 0; the paper publishes 95% parameter intervals, not draws): sampling "
            "noise only"
        ),
    }
    write_text_atomic(OUT, json.dumps(doc, separators=(",", ":")) + "\n")
    for k in NAMES:
        lo, hi = boot.intervals[k]
        print(f"{k:6s} 95% interval {lo:.4g} .. {hi:.4g}")
    print(f"wrote {OUT} ({len(draws)} draws)")


if __name__ == "__main__":
    main()
