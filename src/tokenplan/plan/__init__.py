"""Budget in, training plan out: the library behind ``tokenplan plan``, ``tokenplan table`` and ``tokenplan
repeat``.

:func:`plan` turns one budget (FLOPs, GPU-hours, a model size, a token count or a target loss) into a frozen
:class:`Plan`: parameters (in the law's convention and converted), tokens, FLOPs, predicted loss, epochs and
effective tokens when unique data is limited (Muennighoff et al. 2023), the data-constrained and all-unique
optima, the inference-aware allocation (Sardana et al. 2024), a batch size and learning rate (DeepSeek
LLM's fitted optima, or Kaplan's critical batch), steps, GPU-hours, the GPU count for 90 days, training
memory, warnings, and advice from Xue et al. 2023 when data repeats. :func:`compare` plans the same budget
under every preset; :func:`optimal_table` is Chinchilla's Table 3; :func:`repeat` is the value of repeated
data per epoch count. Each figure's source is in the result's ``sources``.

The package is callable as its verb: ``tokenplan.plan(flops=1e22)`` is ``tokenplan.plan.plan(flops=1e22)``,
so the top-level ``tokenplan.plan`` plans whether or not this package was imported before.

The library never prints; warnings and advice are returned on the result objects.
"""

from __future__ import annotations

import inspect
import sys
import types

from tokenplan.plan._plan import DEFAULT_LAW, compare, plan
from tokenplan.plan.advice import Advice, Repetition
from tokenplan.plan.batch import BATCH_RULES, BatchPlan
from tokenplan.plan.repeat import REPEAT_EPOCHS, RepeatRow, RepeatTable, repeat
from tokenplan.plan.result import Comparison, Hardware, Memory, Plan, RunVsOptimum
from tokenplan.plan.table import GOPHER_FLOPS, TABLE3_PARAMS, OptimalTable, TableRow, optimal_table

__all__ = [
    "BATCH_RULES",
    "DEFAULT_LAW",
    "GOPHER_FLOPS",
    "REPEAT_EPOCHS",
    "TABLE3_PARAMS",
    "Advice",
    "BatchPlan",
    "Comparison",
    "Hardware",
    "Memory",
    "OptimalTable",
    "Plan",
    "RepeatRow",
    "RepeatTable",
    "Repetition",
    "RunVsOptimum",
    "TableRow",
    "compare",
    "optimal_table",
    "plan",
    "repeat",
]


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`plan` (the module's class is set once, below; Python documents
    assigning a module's ``__class__`` for customising it, "Customizing module attribute access")."""

    def __call__(self, *args, **kwargs) -> Plan:
        return plan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
# inspect.signature (IDEs, IPython's `tokenplan.plan?`) reads this, not __call__'s (*args, **kwargs)
__signature__ = inspect.signature(plan)
