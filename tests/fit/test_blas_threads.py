"""The fits' small L-BFGS-B runs use one BLAS thread (src/tokenplan/fit/_threads.py; docs/benchmarks.md,
"BLAS threads in the fit": on 2 busy cores the Approach-3 floor check took 0.87 s with BLAS's default 2
threads and 0.04 s with one), and the caller's thread count is back when the fit returns."""

from __future__ import annotations

import subprocess
import sys

import pytest
import scipy.optimize

from tokenplan.fit import fit_data_constrained, fit_parametric
from tokenplan.runs import runs_from_arrays

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}


@pytest.fixture
def seen(monkeypatch):
    """BLAS thread counts seen inside every scipy.optimize.minimize call."""
    calls: list[set[int]] = []
    inner = scipy.optimize.minimize

    def spy(*args, **kwargs):
        calls.append(_blas_threads())
        return inner(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    return calls


def _fresh_runs():
    N = [1e7, 3e7, 1e8, 3e8] * 3
    D = [d for d in (2e8, 6e8, 2e9) for _ in range(4)]
    L = [1.7 + 400 / n**0.34 + 1500 / d**0.28 for n, d in zip(N, D)]
    return runs_from_arrays(N, L, n_tokens=D)


def test_the_approach3_polish_and_floor_check_run_on_one_blas_thread(seen):
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        fit_parametric(_fresh_runs(), grid={"a": (5.0,), "b": (7.0,), "e": (0.5,)})
        after = _blas_threads()
    assert seen, "fit_parametric ran no scipy optimisation"
    assert all(s == {1} for s in seen), seen
    assert after == {2}  # the caller's setting is back


def test_the_data_constrained_fit_runs_on_one_blas_thread(seen):
    N = [1e8, 1e8, 3e8, 3e8, 1e9]
    D = [2e9, 8e9, 6e9, 2.4e10, 2e10]
    U = [2e9, 2e9, 3e9, 3e9, 2e10]
    runs = runs_from_arrays(N, [3.3, 3.2, 2.95, 2.9, 2.7], n_tokens=D, unique_tokens=U)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        fit_data_constrained(runs, starts=(5.0,), check_outside=False)
    assert seen and all(s == {1} for s in seen), seen


def test_importing_tokenplan_and_its_fit_sets_no_thread_limit():
    """The limit lives in the fits' calls: importing loads no threadpoolctl."""
    code = "import sys, tokenplan, tokenplan.fit.parametric; print('threadpoolctl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
