"""Fit scaling laws to your own runs: Chinchilla Approaches 1, 2, 3, the data-constrained law, bootstrap.

>>> from tokenplan.runs import read_runs                                      # doctest: +SKIP
>>> from tokenplan.fit import fit_parametric                                  # doctest: +SKIP
>>> fit_parametric(read_runs("runs.csv")).law.optimal(1e21)                   # doctest: +SKIP

Each function returns one frozen result object (``.law`` is a :class:`tokenplan.laws.Law` you can save and
plan with). scipy is imported only inside the functions.
"""

from __future__ import annotations

from tokenplan.fit.approach1 import EnvelopeFit, fit_envelope
from tokenplan.fit.backtest import (
    Backtest,
    BacktestRow,
    Holdout,
    backtest,
    choose_form,
    parse_holdout,
)
from tokenplan.fit.bootstrap import (
    BootstrapResult,
    Resampling,
    bootstrap_data_constrained,
    bootstrap_envelope,
    bootstrap_isoflop,
    bootstrap_parametric,
)
from tokenplan.fit.data_constrained import (
    DataConstrainedFit,
    data_constrained_objective,
    fit_data_constrained,
)
from tokenplan.fit.forms import FORMS, KaplanFit, fit_form, fit_kaplan
from tokenplan.fit.isoflop import IsoflopFit, IsoflopProfile, fit_isoflop
from tokenplan.fit.parametric import PAPER_GRID, ParametricFit, fit_parametric
from tokenplan.fit.report import FitOptions, FitReport, run_fit

__all__ = [
    "FORMS",
    "PAPER_GRID",
    "Backtest",
    "BacktestRow",
    "BootstrapResult",
    "DataConstrainedFit",
    "EnvelopeFit",
    "FitOptions",
    "FitReport",
    "Holdout",
    "IsoflopFit",
    "IsoflopProfile",
    "KaplanFit",
    "ParametricFit",
    "Resampling",
    "backtest",
    "bootstrap_data_constrained",
    "bootstrap_envelope",
    "bootstrap_isoflop",
    "bootstrap_parametric",
    "choose_form",
    "data_constrained_objective",
    "fit_data_constrained",
    "fit_envelope",
    "fit_form",
    "fit_isoflop",
    "fit_kaplan",
    "fit_parametric",
    "parse_holdout",
    "run_fit",
]
