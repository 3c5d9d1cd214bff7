"""The data-constrained fit (Muennighoff et al. 2023) on the 182 datablations C4 runs."""

from __future__ import annotations

import re

import pytest

from tokenplan import datasets
from tokenplan.errors import InvalidInputError
from tokenplan.fit import Resampling, data_constrained_objective, fit_data_constrained
from tokenplan.laws import get_law
from tokenplan.runs import read_runs, runs_from_arrays


@pytest.fixture(scope="module")
def c4_runs():
    return read_runs(datasets.path("datablations_c4"))


def test_published_constants_objective(c4_runs):
    """REFERENCE.md sec. 4 (Muennighoff et al. 2023; datablations utils/parametric_fit.ipynb): the SUM of
    Huber(delta=1e-3) on log L over all 182 runs, with the published R_D*=15.387756, R_N*=5.309743 and the
    C4 base law (alpha = beta), is 0.0158259."""
    assert len(c4_runs) == 182
    f = data_constrained_objective(get_law("muennighoff2023"), c4_runs)
    assert f == pytest.approx(0.0158259, abs=5e-8)


def test_refit_lands_on_the_published_constants(c4_runs):
    """Refit with the base law frozen from the paper's starts (R* in linspace(0, 20, 4)) inside the paper's
    box: R_D* ≈ 15.4, R_N* ≈ 5.3 (published 15.387756, 5.309743)."""
    fit = fit_data_constrained(c4_runs)
    assert fit.law.R_D_star == pytest.approx(15.4, abs=0.2)
    assert fit.law.R_N_star == pytest.approx(5.3, abs=0.1)
    assert fit.objective <= data_constrained_objective(get_law("muennighoff2023"), c4_runs)
    # the valley continues outside the box: that is reported, not hidden
    assert any("outside the search box" in w for w in fit.warnings)
    assert "R_D_star=15.3" in repr(fit)


def test_needs_repeated_runs():
    runs = runs_from_arrays([1e8, 2e8, 3e8, 4e8], [3.0, 2.9, 2.8, 2.7], n_tokens=[1e9] * 4)
    with pytest.raises(InvalidInputError, match="repeat data"):
        fit_data_constrained(runs)


def test_bootstrap_data_constrained_is_seeded(c4_runs):
    from tokenplan.fit import bootstrap_data_constrained

    fit = fit_data_constrained(c4_runs, check_outside=False)
    b1 = bootstrap_data_constrained(c4_runs, fit, resampling=Resampling(n_boot=15, seed=2))
    b2 = bootstrap_data_constrained(c4_runs, fit, resampling=Resampling(n_boot=15, seed=2))
    assert b1.intervals == b2.intervals
    lo, hi = b1.intervals["R_D_star"]
    assert 0 < lo <= hi <= fit.bounds[1]


def test_a_frozen_base_law_that_misses_the_runs_says_so(c4_runs):
    """The default fit holds E, A, B, alpha, beta at the C4 fit and fits R_D*, R_N* only. On the repeat sweep
    shipped in docs/results/repeat (123K-parameter byte-level models, losses 1.95..3.00) that base law
    predicts 17..23 nats: 720% off (median), which the fit printed without a word. On its own C4 runs it
    misses by 7.3% (median) and stays quiet; refitting the base (fit_base) brings the sweep's runs to <1%."""
    from pathlib import Path

    sweep = read_runs(Path(__file__).parents[2] / "docs/results/repeat/results.csv")
    fit = fit_data_constrained(sweep, check_outside=False)
    (note,) = [w for w in fit.warnings if w.startswith("the base law")]
    assert "held at Muennighoff et al. 2023's C4 fit and misses these runs by 720% (median" in note
    assert note.endswith("Refit the base law too (--fit-base; fit_base=True from Python).")
    refit = fit_data_constrained(sweep, fit_base=True, check_outside=False)
    assert not [w for w in refit.warnings if w.startswith("the base law")]
    c4 = fit_data_constrained(c4_runs, check_outside=False)
    assert not [w for w in c4.warnings if w.startswith("the base law")]


def test_a_base_law_of_your_own_is_not_called_the_c4_fit():
    """The two-stage form (--form data-constrained, the backtests) passes a base law fitted on the fresh runs;
    a miss of that law was reported as "held at Muennighoff et al. 2023's C4 fit". Only the C4 base is."""
    from pathlib import Path

    from tokenplan.laws.chinchilla import ChinchillaLaw

    sweep = read_runs(Path(__file__).parents[2] / "docs/results/repeat/results.csv")
    base = ChinchillaLaw(E=1.0, A=10.0, B=10.0, alpha=0.3, beta=0.3)
    fit = fit_data_constrained(sweep, base=base, check_outside=False)
    assert not [w for w in fit.warnings if "C4 fit" in w]


def test_a_constant_on_the_search_bound_says_how_to_widen_it(c4_runs):
    """'R_D*=20 sits on the search bound (0.01, 20.0); widen the bounds.': tokenplan fit has no flag for
    the bounds, so the fix was out of a CLI user's reach; the warning now says what the bound means and
    how to act (more runs; bounds= from Python)."""
    import numpy as np

    runs = c4_runs.take(np.flatnonzero(c4_runs.n_params >= 1e9)[:12])
    fit = fit_data_constrained(runs, check_outside=False)
    on_bound = [w for w in fit.warnings if "sits on the search bound" in w]
    assert on_bound, fit.warnings
    for w in on_bound:
        assert not w.endswith("widen the bounds.")
        assert "add runs at more epochs and sizes, or widen it (bounds= from Python" in w


def test_the_outside_warning_names_only_points_outside_the_box(tmp_path):
    """Four datablations C4 runs, 'fit --law data-constrained --fit-base': the warning read 'outside the search
    box (0.01, 20.0) the objective is lower: R_D*=12.7, R_N*=14.4 gives 1.580856e-12 vs 1.712451e-12 inside',
    a point inside the box. The widened search had only walked another path (its bounds steer L-BFGS-B) to a
    better in-box point; that point is now the fit, and the warning names points outside the box only."""
    runs = runs_from_arrays(
        [220.5e6, 14.1e6, 281e6, 8.67e9],
        [2.981407, 5.816824, 3.330755, 2.336741],
        n_tokens=[60e9, 0.8e9, 5.9e9, 178e9],
        unique_tokens=[60e9, 0.1e9, 1.5e9, 178e9],
    )
    fit = fit_data_constrained(runs, fit_base=True)
    lo, hi = fit.bounds
    for w in fit.warnings:
        if "outside the search box" in w:
            rd, rn = (float(v) for v in re.findall(r"R_[DN]\*=([0-9.e+-]+)", w)[:2])
            assert not (lo <= rd <= hi and lo <= rn <= hi), w
    inside = fit_data_constrained(runs, fit_base=True, check_outside=False)
    assert fit.objective <= inside.objective  # the better in-box point is kept, not lost
    assert lo <= fit.law.R_D_star <= hi and lo <= fit.law.R_N_star <= hi


def test_more_constants_than_points_says_the_law_can_pass_through_every_point():
    """Four runs, --fit-base: 6 constants (R_D*, R_N*, and the C4 base law's E, A, B and its one exponent,
    alpha = beta) for 4 points; the objective came out ~1e-12 with no word, where Approach 3 warns of an
    exact fit. Without --fit-base, 2 constants for 4 points: no such warning."""
    runs = runs_from_arrays(
        [220.5e6, 14.1e6, 281e6, 8.67e9],
        [2.981407, 5.816824, 3.330755, 2.336741],
        n_tokens=[60e9, 0.8e9, 5.9e9, 178e9],
        unique_tokens=[60e9, 0.1e9, 1.5e9, 178e9],
    )
    (note,) = [w for w in fit_data_constrained(runs, fit_base=True).warnings if "pass through" in w]
    assert note.startswith(
        "4 distinct (N, D, unique tokens) points for 6 constants (R_D*, R_N* and"
    )
    assert not [w for w in fit_data_constrained(runs).warnings if "pass through" in w]
