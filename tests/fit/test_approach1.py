"""Approach 1 (envelope of training curves) on curves simulated from a known law."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import TEST_DATA
from tokenplan.errors import InvalidInputError
from tokenplan.fit import Resampling, fit_envelope
from tokenplan.laws import ChinchillaLaw
from tokenplan.runs import Curves, read_curves

TRUTH = ChinchillaLaw(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)


def simulated_curves(sizes=None, max_tokens=1e12):
    sizes = np.logspace(7, 9, 12) if sizes is None else sizes
    ids, N, D = [], [], []
    for i, n in enumerate(sizes):
        d = np.logspace(7, np.log10(max_tokens), 60)
        ids += [f"r{i}"] * len(d)
        N += [n] * len(d)
        D += list(d)
    N, D = np.array(N), np.array(D)
    return Curves(np.array(ids, dtype=object), N, D, 6 * N * D, TRUTH.loss(N, D), "<sim>")


def test_recovers_the_frontier_exponent():
    """The lower envelope of L(N, D) curves over FLOPs is the compute-optimal frontier, so the winning sizes
    follow N_opt ∝ C^a with a = beta/(alpha+beta) (Chinchilla eq. 4); sizes are discrete, hence the tolerance."""
    fit = fit_envelope(simulated_curves())
    assert fit.exponents[0] == pytest.approx(TRUTH.exponents[0], abs=0.03)
    assert len(fit.flops) > 300  # of the 1,500 grid points, the bracketed interior
    assert "EnvelopeFit(a=" in repr(fit)


def test_fixture_curves():
    """tests/data/fit/curves.csv is simulated (noise-free) from E=1.6, A=80, B=400, alpha=0.32, beta=0.34
    (make_fixtures.py), so the envelope's exponent must be a = beta/(alpha+beta) = 0.34/0.66 = 0.5152; five
    discrete sizes per budget limit the precision, as in the simulated test above."""
    fit = fit_envelope(read_curves(TEST_DATA / "fit" / "curves.csv"))
    assert fit.exponents[0] == pytest.approx(0.34 / 0.66, abs=0.03)
    assert fit.exponents[0] + fit.exponents[1] == pytest.approx(1.0)


def test_needs_curves_of_two_sizes():
    with pytest.raises(InvalidInputError, match="2 model sizes"):
        fit_envelope(simulated_curves(sizes=[1e8]))
    with pytest.raises(InvalidInputError, match="needs training curves"):
        fit_envelope(None)


def test_bootstrap_envelope_is_seeded_and_brackets_the_fit():
    from tokenplan.fit import bootstrap_envelope

    curves = simulated_curves()
    fit = fit_envelope(curves)
    b1 = bootstrap_envelope(curves, resampling=Resampling(n_boot=40, seed=5), budgets=(1e20,))
    b2 = bootstrap_envelope(curves, resampling=Resampling(n_boot=40, seed=5), budgets=(1e20,))
    assert b1.intervals == b2.intervals
    lo, hi = b1.intervals["a"]
    assert lo <= fit.exponents[0] <= hi
    assert "n_tokens_opt@1e+20" in b1.intervals


def test_the_saved_law_s_range_is_the_envelope_it_was_fitted_on():
    """run_fit took an Approach-1 law's fitted range from the runs' final points: runs that all trained
    1e11 tokens gave a range of n_tokens [1e11, 1e11], so an allocation the curves' envelope measured
    (1e20 FLOPs: 624M params, 26.7B tokens, a winner between two trained sizes) read '3.74x out'. The range
    is now the envelope points the power law was fitted to."""
    from tokenplan.fit import FitOptions, run_fit
    from tokenplan.runs import runs_from_arrays

    curves = simulated_curves(sizes=np.logspace(7, 9, 9), max_tokens=1e11)
    last = np.flatnonzero(np.r_[curves.run_id[1:] != curves.run_id[:-1], True])
    runs = runs_from_arrays(
        curves.n_params[last], curves.loss[last], n_tokens=curves.n_tokens[last]
    )
    report = run_fit(runs, FitOptions(approach="1", n_boot=0, budgets=(1e19,)), curves=curves)
    fit = report.fits["1"]
    rng = report.law.fitted_range
    assert rng.flops == pytest.approx((fit.flops.min(), fit.flops.max()))
    assert rng.n_params == (fit.n_params.min(), fit.n_params.max())
    assert rng.source.startswith("training-curve envelope of 9 runs")
    (alloc,) = report.allocations
    assert set(alloc["extrapolation"].values()) == {1.0}, alloc
