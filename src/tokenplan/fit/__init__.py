"""Fit scaling laws to your own runs: Chinchilla Approaches 1, 2, 3, the data-constrained law, bootstrap.

>>> from tokenplan.runs import read_runs                                      # doctest: +SKIP
>>> from tokenplan.fit import fit_parametric                                  # doctest: +SKIP
>>> fit_parametric(read_runs("runs.csv")).law.optimal(1e21)                   # doctest: +SKIP

Each function returns one frozen result object (``.law`` is a :class:`tokenplan.laws.Law` you can save and
plan with). scipy is imported only inside the functions, and the names below on first use (PEP 562), so
importing this package or :mod:`.choices` (as the CLI does for its option lists) loads no fitting code.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from tokenplan._lazy import lazy_exports

if TYPE_CHECKING:
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

_HOME = {  # public name -> the module that defines it (imported on first use, PEP 562)
    "Backtest": "backtest",
    "BacktestRow": "backtest",
    "BootstrapResult": "bootstrap",
    "DataConstrainedFit": "data_constrained",
    "EnvelopeFit": "approach1",
    "FORMS": "forms",
    "FitOptions": "report",
    "FitReport": "report",
    "Holdout": "backtest",
    "IsoflopFit": "isoflop",
    "IsoflopProfile": "isoflop",
    "KaplanFit": "forms",
    "PAPER_GRID": "parametric",
    "ParametricFit": "parametric",
    "Resampling": "bootstrap",
    "backtest": "backtest",
    "bootstrap_data_constrained": "bootstrap",
    "bootstrap_envelope": "bootstrap",
    "bootstrap_isoflop": "bootstrap",
    "bootstrap_parametric": "bootstrap",
    "choose_form": "backtest",
    "data_constrained_objective": "data_constrained",
    "fit_data_constrained": "data_constrained",
    "fit_envelope": "approach1",
    "fit_form": "forms",
    "fit_isoflop": "isoflop",
    "fit_kaplan": "forms",
    "fit_parametric": "parametric",
    "parse_holdout": "backtest",
    "run_fit": "report",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())


class _Package(types.ModuleType):
    """``backtest`` is the function this package exports and the module that defines it: importing the
    module sets the package's attribute to the module (the import system does, after the module ran), and
    ``tokenplan.fit.backtest(runs, ...)`` failed with "'module' object is not callable". The package keeps
    its function, as the eager imports it had did (they bound the function after the module)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
