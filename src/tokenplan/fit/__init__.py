"""Fit scaling laws to your own runs: Chinchilla Approaches 1, 2, 3, the data-constrained law, bootstrap.

>>> from tokenplan.runs import read_runs                                      # doctest: +SKIP
>>> from tokenplan.fit import fit_parametric                                  # doctest: +SKIP
>>> fit_parametric(read_runs("runs.csv")).law.optimal(1e21)                   # doctest: +SKIP

Each function returns one frozen result object (``.law`` is a :class:`tokenplan.laws.Law` you can save and
plan with). scipy is imported only inside the functions.
"""

from __future__ import annotations

from tokenplan.fit.approach1 import EnvelopeFit, fit_envelope
from tokenplan.fit.bootstrap import (
    BootstrapResult,
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
from tokenplan.fit.isoflop import IsoflopFit, IsoflopProfile, fit_isoflop
from tokenplan.fit.parametric import PAPER_GRID, ParametricFit, fit_parametric

__all__ = [
    "PAPER_GRID",
    "BootstrapResult",
    "DataConstrainedFit",
    "EnvelopeFit",
    "IsoflopFit",
    "IsoflopProfile",
    "ParametricFit",
    "bootstrap_data_constrained",
    "bootstrap_envelope",
    "bootstrap_isoflop",
    "bootstrap_parametric",
    "data_constrained_objective",
    "fit_data_constrained",
    "fit_envelope",
    "fit_isoflop",
    "fit_parametric",
]
