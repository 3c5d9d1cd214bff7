"""Progress of fit's bootstrap: refits counted to a callback, one line per stage on a non-terminal stderr."""

from __future__ import annotations

import json

import pytest

from helpers import TEST_DATA, run_cli
from tokenplan import datasets
from tokenplan.fit import FitOptions, run_fit
from tokenplan.runs import read_runs

RESULTS = TEST_DATA / "fit" / "results.csv"


@pytest.mark.parametrize("approach, n_boot", [("3", 40), ("2", 7)])
def test_bootstrap_counts_every_refit(approach, n_boot):
    runs = read_runs(datasets.path("chinchilla_fig4"), drop_highest=5)
    events = []
    # binned as the paper's budgets are: unbinned, the points chain into one group (not a budget)
    bins = 3 if approach == "2" else None
    options = FitOptions(approach=approach, n_boot=n_boot, form="chinchilla", bins_per_decade=bins)
    run_fit(runs, options, progress=lambda *e: events.append(e))
    mine = [(d, t) for s, d, t in events if s == f"bootstrap (approach {approach})"]
    assert mine[0] == (0, n_boot) and mine[-1] == (n_boot, n_boot)
    done = [d for d, _ in mine]
    assert done == sorted(done)
    if approach == "2":  # a loop: every refit is reported
        assert done == list(range(n_boot + 1))


def test_cli_prints_one_line_per_stage_off_a_terminal_and_json_stays_clean():
    r = run_cli("fit", str(RESULTS), "--bootstrap", "30", "--json")
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)  # stdout is the JSON alone
    lines = r.stderr.strip().splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "fit: read: 20 runs",  # 22 rows, 2 dropped
        "fit: bootstrap (approach 3): 30 refits",
        "fit: fit and backtest:",
    ]
