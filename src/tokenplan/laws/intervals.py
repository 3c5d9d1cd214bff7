"""The intervals around a plan or a table row: loss, N_opt and D_opt, and what a preset's paper publishes.

:func:`intervals` is the one place ``tokenplan plan`` and ``tokenplan table`` get their intervals from. It
calls the two methods ``tokenplan predict`` uses, so the three commands can never disagree:

- the loss interval is :meth:`Law.predict`'s (kind "bootstrap", "backtest-calibrated" or "none");
- the N_opt / D_opt intervals are :meth:`Law.optimal_interval`'s at the same FLOPs (kind "bootstrap" or
  "none": a backtest calibrates losses, not allocations, so these cover sampling noise only).

:class:`PublishedInterval` is an interval a paper prints for one of its own constants (Epoch's 95% intervals
on E, A, B, alpha, beta; Chinchilla's Table 2 intervals on the exponents). They are reported as printed, with
their level and source, next to tokenplan's own intervals and never mixed into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokenplan._record import record
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.laws.prediction import (
    SAMPLING_ONLY,
    check_level,
    convention_note,
    no_interval,
    repetition_note,
)

if TYPE_CHECKING:
    from tokenplan.laws.base import Law

__all__ = ["Intervals", "PublishedInterval", "intervals", "published_intervals"]


@dataclass(frozen=True)
class PublishedInterval:
    """An interval a paper publishes for one quantity of its law, as printed.

    ``level`` is the coverage the paper states (0.95, 0.8), or ``None`` when it prints a ± without one;
    ``text`` is the interval as the paper writes it.
    """

    quantity: str
    estimate: float
    low: float
    high: float
    level: float | None
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return record(self, "quantity estimate low high level text source")


@dataclass(frozen=True)
class Intervals:
    """Intervals at ``level`` on one plan's loss and on the compute-optimal N and D at its FLOPs.

    ``loss`` brackets ``loss_center`` (the law's loss at the plan's N and D; with unique tokens and a law
    without a repetition term, at the effective tokens D', as the plan's loss). ``n_params`` /
    ``n_tokens`` bracket N_opt(C) and D_opt(C) at ``flops``.
    Each carries its kind ("bootstrap": sampling noise only; "backtest-calibrated": widened by a backtest's
    held-out errors; "none") and source.
    """

    level: float
    flops: float
    loss: tuple[float, float] | None
    loss_center: float | None
    loss_kind: str
    loss_source: str
    n_params: tuple[float, float] | None
    n_tokens: tuple[float, float] | None
    allocation_kind: str
    allocation_source: str
    notes: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """True when at least one quantity has an interval."""
        return self.loss is not None or self.n_params is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "flops": self.flops,
            "loss": None if self.loss is None else list(self.loss),
            "loss_center": self.loss_center,
            "loss_kind": self.loss_kind,
            "loss_source": self.loss_source,
            "n_params": None if self.n_params is None else list(self.n_params),
            "n_tokens": None if self.n_tokens is None else list(self.n_tokens),
            "allocation_kind": self.allocation_kind,
            "allocation_source": self.allocation_source,
            "notes": list(self.notes),
        }


def intervals(
    law: Law,
    n_params: float,
    n_tokens: float,
    *,
    flops: float | None = None,
    unique_tokens: float | None = None,
    interval: float = 0.8,
) -> Intervals:
    """The intervals of a plan with ``n_params`` on ``n_tokens`` (in the law's parameter convention).

    ``flops`` (default 6ND) is where N_opt / D_opt are taken; with ``unique_tokens`` the loss is the
    repeated-data loss (a data-constrained law's own, another law's at D') and a data-constrained law's
    N_opt / D_opt are its data-constrained optimum.
    """
    level = check_level(interval)
    N, D = float(n_params), float(n_tokens)
    C = FLOPS_PER_PARAM_TOKEN * N * D if flops is None else float(flops)
    notes: list[str] = []
    loss = center = None
    loss_kind, loss_source = "none", no_interval(law)
    if law.has_loss:
        pred = law.predict(N, D, unique_tokens=unique_tokens, interval=level)
        loss, center = pred.interval, pred.loss
        loss_kind, loss_source = pred.interval_kind, pred.interval_source
        # the caller gives N in the law's convention (plan and table convert a total first); a plan
        # shows D' itself, so only the note on what its interval covers is kept
        skip = (convention_note(law), repetition_note(law, with_interval=False))
        notes += [n for n in pred.notes if n not in skip]
    alloc = law.optimal_interval(C, interval=level, unique_tokens=unique_tokens)
    return Intervals(
        level=level,
        flops=C,
        loss=loss,
        loss_center=center,
        loss_kind=loss_kind,
        loss_source=loss_source,
        n_params=alloc.n_params,
        n_tokens=alloc.n_tokens,
        allocation_kind=alloc.kind,
        allocation_source=_sampling_only(alloc.source)
        if alloc.kind == "bootstrap"
        else alloc.source,
        notes=tuple(notes),
    )


def _sampling_only(source: str) -> str:
    """A bootstrap source that says it covers sampling noise only (once)."""
    return source if SAMPLING_ONLY in source else f"{source}: {SAMPLING_ONLY}"


def published_intervals(law: Law) -> tuple[PublishedInterval, ...]:
    """The intervals a preset's paper publishes (empty for other laws, or a preset with changed constants)."""
    return law.published_intervals if law.is_preset else ()
