"""The one base of every fit result (Approaches 1, 2, 3, the Kaplan form, the data-constrained law).

A result is a frozen, keyword-only dataclass holding the fields every fit has: the ``law`` (a
:class:`tokenplan.laws.Law` to save, plan and predict with), the number of runs it used and its ``warnings``.
Subclasses name their ``approach`` and the law's ``param_names`` and add their own fields and ``details()``;
:class:`HuberFit` adds what a law of the loss fitted from many starts reports, :class:`FrontierFit` the
separately fitted exponent of D_opt. ``to_dict`` is shared, so every result serialises with the same keys:
approach, params, exponents (a, b), the details, warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tokenplan._record import record

if TYPE_CHECKING:
    from tokenplan.laws.base import Law

__all__ = ["FitResult", "FrontierFit", "HuberFit", "fitted_law_fields"]


@dataclass(frozen=True, kw_only=True)
class FitResult:
    """Fields and serialisation shared by every fit result; subclasses define ``approach``,
    ``param_names`` and (optionally) :meth:`details`."""

    approach: ClassVar[int | str] = 3
    #: the fitted constants: attributes of ``law``, in the order of ``to_dict()["params"]``
    param_names: ClassVar[str] = ""

    #: the fitted law
    law: Law
    #: the runs (or, for Approach 1, the training curves) the fit used
    n_runs: int
    #: what the fit found doubtful (a constant on a search bound, an unbracketed minimum ...)
    warnings: tuple[str, ...] = ()

    @property
    def exponents(self) -> tuple[float, float]:
        """(a, b): N_opt ∝ C^a, D_opt ∝ C^b."""
        return self.law.exponents

    @property
    def params(self) -> dict[str, float]:
        """The fitted constants by name (``param_names`` of the law)."""
        return record(self.law, self.param_names)

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
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, kw_only=True)
class HuberFit(FitResult):
    """A law of the loss L(N, D) fitted by minimising the sum over runs of Huber(``delta``) on the log-loss
    residuals, from ``n_starts`` starting points (Approach 3, the Kaplan form)."""

    #: the objective at the optimum
    objective: float
    delta: float
    n_starts: int
    #: log L_pred - log L per run, at the optimum
    log_residuals: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


@dataclass(frozen=True, kw_only=True)
class FrontierFit(FitResult):
    """Approaches 1 and 2: the law is N_opt = k C^a, and ``b`` (D_opt ∝ C^b) is fitted on its own
    (a + b ≈ 1 under C = 6ND)."""

    param_names = "k a"

    #: the exponent of D_opt ∝ C^b, fitted to the optima's token counts
    b: float

    @property
    def exponents(self) -> tuple[float, float]:
        return self.law.a, self.b  # type: ignore[attr-defined]


def frontier_notes(approach: str, a: float) -> list[str]:
    """A warning when a frontier exponent a (N_opt ∝ C^a) lies outside 0..1: then D_opt = C/(6 N_opt)
    (or N_opt) would shrink as compute grows, which no run table supports; the optima the power law went
    through do not follow one (published fits: a ≈ 0.5, Hoffmann et al. 2022 Table 2)."""
    if 0.0 < a < 1.0:
        return []
    which = "D_opt" if a >= 1.0 else "N_opt"
    return [
        f"{approach}: fitted a = {a:.3g} (b = {1.0 - a:.3g}) is outside 0..1, so {which} would shrink as "
        "compute grows: the optima do not follow a power law across these budgets, and this allocation "
        "is not meaningful. Add budgets, and sizes on both sides of each optimum."
    ]


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
