"""The one base of every fit result (Approaches 1, 2, 3, the Kaplan form, the data-constrained law).

A result is a frozen dataclass with a ``law`` (a :class:`tokenplan.laws.Law` to save, plan and predict with)
and ``warnings``; it names its ``approach`` and the law's ``param_names`` and adds its own ``details()``. ``to_dict`` is
shared, so every result serialises with the same keys: approach, params, exponents (a, b), the details,
warnings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from tokenplan._record import record

__all__ = ["FitResult", "FrontierFit", "fitted_law_fields"]


class FitResult:
    """Mixin for fit results: subclasses define ``approach``, ``param_names``, the ``law`` and ``warnings``
    fields and (optionally) :meth:`details`."""

    approach: ClassVar[int | str] = 3
    #: the fitted constants: attributes of ``law``, in the order of ``to_dict()["params"]``
    param_names: ClassVar[str] = ""

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b): N_opt ∝ C^a, D_opt ∝ C^b."""
        return self.law.exponents  # type: ignore[attr-defined]

    @property
    def params(self) -> dict[str, float]:
        """The fitted constants by name (``param_names`` of the law)."""
        return record(self.law, self.param_names)  # type: ignore[attr-defined]

    def details(self) -> dict[str, Any]:
        """Result-specific fields of :meth:`to_dict` (objective, run counts ...)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        a, b = self.exponents
        return {
            "approach": self.approach,
            "params": self.params,
            "exponents": {"a": a, "b": b},
            **self.details(),
            "warnings": list(self.warnings),  # type: ignore[attr-defined]
        }


class FrontierFit(FitResult):
    """Mixin for Approaches 1 and 2: the law is N_opt = k C^a and ``b`` (D_opt ∝ C^b) is fitted on its own
    (a + b ≈ 1 under C = 6ND)."""

    param_names = "k a"

    @property
    def exponents(self) -> tuple[float, float]:
        return self.law.a, self.b  # type: ignore[attr-defined]


def fitted_law_fields(
    name: str, method: str, data: Any, description: str, *, flops: Any = None, **fields: Any
) -> dict[str, Any]:
    """The fields every law from ``tokenplan fit`` carries: its ``name``, a citation saying it was
    "fitted by tokenplan (METHOD) on SOURCE", a ``description``, the FLOPs range it was fitted on (of
    ``flops``, default ``data.flops``) and, for run tables, their parameter convention. ``fields`` are
    added or override (e.g. the law's constants)."""
    from tokenplan.runs import RunTable

    C = data.flops if flops is None else flops
    what = "runs" if isinstance(data, RunTable) else "curves"
    out: dict[str, Any] = {
        "name": name,
        "citation": f"fitted by tokenplan ({method}) on {data.source or what}",
        "description": description,
        "fitted_flops": (float(np.min(C)), float(np.max(C))),
    }
    if isinstance(data, RunTable):
        out["param_convention"] = data.param_convention
    return {**out, **fields}
