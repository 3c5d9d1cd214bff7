"""Which form each selection rule picks on the real-data tables of docs/fit.md ("How far can I trust this").

    python bench/form_candidates_real.py

For each table of that section, ``run_fit`` with ``--form auto`` and no bootstrap (the backtest is the same),
then the picks of bench/interval_coverage.py's ``candidate_forms``: ``auto`` the one-SE rule, ``lowest``
candidate (2), ``ftest`` candidate (1), ``decade`` / ``decade_lowest`` candidates (3) / (3b), ``btest``
candidate (4), ``btest_kaplan`` candidate (5), with every form's backtest mean |error| (and the one-decade
split's), the F test's p-value and the bootstrap test's verdict on alpha = beta (docs/fit.md, "When a
candidate would replace the one-standard-error rule", "Three more candidates", "Candidate (5)").
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from interval_coverage import candidate_forms, decade_backtests, shared_exponent_p
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
            f"{label}: auto {picks['auto']}, (2) lowest {picks['lowest']}, (1) ftest {picks['ftest']}, "
            f"(3) decade {picks['decade']}, (3b) decade_lowest {picks['decade_lowest']}, "
            f"(4) btest {picks['btest']}, (5) btest_kaplan {picks['btest_kaplan']}"
            f" | F test p = {'-' if p is None else f'{p:.3g}'}, bootstrap test rejects "
            f"{picks['boot_rejects']} | backtest mean |error|: {errs}"
        )
        decade = decade_backtests(report, runs)
        if decade is not report.backtests:
            hold = next(iter(decade.values())).holdout if decade else "-"
            errs = ", ".join(f"{f} {b.mean_abs_error:.2%}" for f, b in decade.items())
            print(f"    one-decade backtest ({hold}): {errs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
