"""tokenplan: plan LLM pre-training and SFT runs.

The top-level namespace is light (numpy only): laws, FLOP accounting and errors, and the verbs users call,
each imported from its sub-package on first use (PEP 562): ``tokenplan.plan(flops=1e22)`` (the
``tokenplan.plan`` package is callable as its :func:`~tokenplan.plan.plan`), ``compare``, ``repeat``,
``optimal_table``, ``predict``, ``read_runs`` and ``run_fit``, ``load_spec`` and ``run_sweep``. Selection is
``tokenplan.select.run(Recipe(...))``. Training and selection need extras (``pip install 'tokenplan[train]'``,
``'tokenplan[select]'``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

from tokenplan.errors import (
    InvalidInputError,
    MissingDependencyError,
    TokenplanError,
    UnknownNameError,
)
from tokenplan.flops import ModelShape, convert_params, flops_6nd
from tokenplan.laws import (
    Allocation,
    ChinchillaLaw,
    DataConstrainedLaw,
    KaplanLaw,
    Law,
    PowerLawAllocation,
    get_law,
    list_laws,
    load_law,
    predict,
)
from tokenplan.units import format_quantity, parse_quantity

if (
    TYPE_CHECKING
):  # what the lazy names below are, for type checkers (py.typed): not imported at run time
    from tokenplan.fit import run_fit

    # from their defining modules: ``tokenplan.plan.repeat`` is also a submodule's name
    from tokenplan.plan._plan import compare
    from tokenplan.plan.repeat import repeat
    from tokenplan.plan.table import optimal_table
    from tokenplan.runs import read_runs
    from tokenplan.sweep import load_spec, run_sweep

# The verbs, imported from their module on first use: ``import tokenplan`` stays numpy-only.
_LAZY = {
    "plan": "tokenplan.plan",
    "compare": "tokenplan.plan",
    "repeat": "tokenplan.plan",
    "optimal_table": "tokenplan.plan",
    "read_runs": "tokenplan.runs",
    "run_fit": "tokenplan.fit",
    "load_spec": "tokenplan.sweep",
    "run_sweep": "tokenplan.sweep",
}

__all__ = [
    "Allocation",
    "ChinchillaLaw",
    "DataConstrainedLaw",
    "InvalidInputError",
    "KaplanLaw",
    "Law",
    "MissingDependencyError",
    "ModelShape",
    "PowerLawAllocation",
    "TokenplanError",
    "UnknownNameError",
    "__version__",
    "compare",
    "convert_params",
    "flops_6nd",
    "format_quantity",
    "get_law",
    "list_laws",
    "load_law",
    "load_spec",
    "optimal_table",
    "parse_quantity",
    "plan",
    "predict",
    "read_runs",
    "repeat",
    "run_fit",
    "run_sweep",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'tokenplan' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    # ``plan`` is the callable package itself (importing it binds it here); the others are its functions
    value = module if name == "plan" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
