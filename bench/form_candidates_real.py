"""Which form each selection rule picks on the real-data tables of docs/fit.md ("How far can I trust this").

    python bench/form_candidates_real.py

For each table of that section, ``run_fit`` with ``--form auto`` and no bootstrap (the backtest is the same),
then the picks of bench/interval_coverage.py's ``candidate_forms``: ``auto`` the one-SE rule, ``lowest``
candidate (2), ``ftest`` candidate (1), with every form's backtest mean |error| and the F test's p-value of
alpha = beta (docs/fit.md, "When a candidate would replace the one-standard-error rule").
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from interval_coverage import candidate_forms, shared_exponent_p
from tokenplan import datasets
from tokenplan.fit import FitOptions, run_fit
from tokenplan.runs import read_runs

ROOT = Path(__file__).resolve().parent.parent
TABLES = (  # (label, example or path, drop_highest, holdout): the rows of docs/fit.md's table
    ("chinchilla --drop-highest 5", "chinchilla", 5, None),
    ("chinchilla (all 245)", "chinchilla", 0, None),
    ("datablations", "datablations", 0, None),
    ("datablations --holdout params>=8e9", "datablations", 0, "params>=8e9"),
    ("cpu-demo", ROOT / "docs/results/cpu-demo/results.csv", 0, None),
    (
        "cpu-demo-chinchilla-centred",
        ROOT / "docs/results/cpu-demo-chinchilla-centred/results.csv",
        0,
        None,
    ),
    ("test fixture (simulated)", ROOT / "tests/data/fit/results.csv", 0, None),
)


def main() -> int:
    for label, source, drop, holdout in TABLES:
        if isinstance(source, str):
            runs = datasets.load(datasets.FIT_EXAMPLES[source], drop_highest=drop)
        else:
            runs = read_runs(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = run_fit(runs, FitOptions(n_boot=0, holdout=holdout))
        picks = candidate_forms(report, runs)
        errs = ", ".join(f"{f} {b.mean_abs_error:.2%}" for f, b in report.backtests.items())
        p = shared_exponent_p(report, runs)
        print(
            f"{label}: auto {picks['auto']}, (2) lowest {picks['lowest']}, (1) ftest {picks['ftest']}"
            f" | F test p = {'-' if p is None else f'{p:.3g}'} | backtest mean |error|: {errs}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
