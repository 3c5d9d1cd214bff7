"""Chinchilla Table 3 for any law: compute-optimal FLOPs and tokens for a list of model sizes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tokenplan.plan.advice as adv
from tokenplan import _checks
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.laws import (
    Intervals,
    Law,
    PublishedInterval,
    get_law,
    intervals,
    published_intervals,
)
from tokenplan.laws.prediction import check_level, unbounded_axes, within_tolerance
from tokenplan.plan.steps import law_params, usable_allocation
from tokenplan.units import format_exact
from tokenplan.units import format_quantity as fq

__all__ = ["GOPHER_FLOPS", "TABLE3", "TABLE3_PARAMS", "OptimalTable", "TableRow", "optimal_table"]

# Chinchilla Table 3's unit of compute: the Gopher budget, 5.76e23 FLOPs (Hoffmann et al. 2022, Table 3).
GOPHER_FLOPS = 5.76e23
# Chinchilla Table 3 as printed (Hoffmann et al. 2022): parameters -> (FLOPs, tokens). The 67B row prints
# 1.5T tokens where 6ND at 5.76e23 gives 1.43T (REFERENCE.md sec. 1).
TABLE3 = {
    400e6: (1.92e19, 8.0e9),
    1e9: (1.21e20, 20.2e9),
    10e9: (1.23e22, 205.1e9),
    67e9: (5.76e23, 1.5e12),
    175e9: (3.85e24, 3.7e12),
    280e9: (9.90e24, 5.9e12),
    520e9: (3.43e25, 11.0e12),
    1e12: (1.27e26, 21.2e12),
    10e12: (1.30e28, 216.2e12),
}
TABLE3_PARAMS = tuple(TABLE3)


@dataclass(frozen=True)
class TableRow:
    """One row of a Table-3-style table: a model size and its compute-optimal tokens and FLOPs."""

    #: The size as given (total parameters), and in the law's convention.
    n_params: float
    n_params_law: float
    flops: float
    n_tokens: float
    loss: float | None
    #: Intervals on the loss and on N_opt, D_opt at this row's FLOPs (the same as ``tokenplan plan``'s).
    intervals: Intervals | None = None
    #: Table 3's own FLOPs and tokens for this size, as printed (None for a size Table 3 does not list).
    table3_flops: float | None = None
    table3_tokens: float | None = None
    #: How far the row lies outside the law's fitted data, per axis, as a factor >= 1 (1.0 = inside;
    #: ``predict``'s ``extrapolation``); empty when the law records no fitted range.
    extrapolation: dict[str, float] = field(default_factory=dict)

    @property
    def inside_range(self) -> bool | None:
        """True inside the law's fitted range on every axis (as ``predict`` says), None when unknown."""
        return within_tolerance(self.extrapolation.values())

    @property
    def gopher_units(self) -> float:
        """FLOPs as a multiple of Gopher's budget (5.76e23), the unit of Table 3."""
        return self.flops / GOPHER_FLOPS

    @property
    def tokens_per_param(self) -> float:
        return self.n_tokens / self.n_params_law

    def to_dict(self) -> dict[str, Any]:
        return {
            **record(
                self,
                "n_params n_params_law flops gopher_units n_tokens tokens_per_param loss "
                "table3_flops table3_tokens",
            ),
            "intervals": None if self.intervals is None else self.intervals.to_dict(),
            "inside_range": self.inside_range,
            "extrapolation": dict(self.extrapolation),
            "extrapolation_unbounded": unbounded_axes(self.extrapolation),
        }

    def __repr__(self) -> str:
        loss = "None" if self.loss is None else f"{self.loss:.4f}"
        return (
            f"TableRow(n_params={fq(self.n_params)}, flops={self.flops:.3g}, "
            f"n_tokens={fq(self.n_tokens)}, tokens_per_param={fq(self.tokens_per_param)}, "
            f"loss={loss})"
        )


@dataclass(frozen=True)
class OptimalTable:
    """Compute-optimal FLOPs and tokens for a list of model sizes under one law."""

    law: str
    param_convention: str
    rows: tuple[TableRow, ...]
    #: Where the figures come from (the law's citation).
    source: str = ""
    #: The intervals the preset's paper publishes for its constants, as printed (empty otherwise).
    published_intervals: tuple[PublishedInterval, ...] = ()
    #: How the law's rows relate to Table 3's printed ones (for chinchilla-a1, which stands in for it).
    note: str = ""
    #: The rows outside the data the law was fitted on, and by how far (an extrapolation, as plan warns).
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **record(self, "law param_convention"),
            "rows": [r.to_dict() for r in self.rows],
            "source": self.source,
            "note": self.note,
            "published_intervals": [p.to_dict() for p in self.published_intervals],
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        """The law and one short line per row; everything else is in ``to_dict()``."""
        rows = "".join(f"\n    {r!r}," for r in self.rows)
        return (
            f"OptimalTable(law={self.law!r}, param_convention={self.param_convention!r}, "
            f"rows=({rows}\n))"
        )


def optimal_table(
    n_params: tuple[float, ...] | list[float] = TABLE3_PARAMS,
    *,
    law: str | Law = "chinchilla-a1",
    vocab_size: int = 32_000,
    interval: float = 0.8,
) -> OptimalTable:
    """Chinchilla Table 3 (Hoffmann et al. 2022): FLOPs and tokens for each model size.

    The default law, ``chinchilla-a1`` (Approach 1, a = b = 0.50 from Table 2), is within 4.1% of every row
    of Table 3 but 67B (printed 1.5T tokens where 6ND gives 1.43T); ``note`` says so, and rows of Table 3's
    sizes carry its printed figures (``table3_flops``, ``table3_tokens``). Sizes count all parameters; a
    non-embedding law converts them. Each row carries the intervals ``tokenplan plan`` reports at
    ``interval``: on the loss and on N_opt, D_opt at the row's FLOPs (none for a law without bootstrap
    draws).
    """
    level = check_level(interval)
    the_law = get_law(law)
    vocab_size = _checks.positive_int("vocab_size", vocab_size)
    sizes = _checks.items("n_params", n_params, example="[7e9, 70e9]")
    if not sizes:
        raise InvalidInputError(
            "n_params is empty; give at least one model size.", param="n_params"
        )
    rows = []
    rng = adv.fitted_range_of(the_law)
    for i, n in enumerate(sizes):
        n = _checks.at_least_one("n_params", _checks.quantity(f"n_params[{i}]", n), "parameter")
        alloc = usable_allocation(
            the_law,
            lambda n=n: the_law.optimal_tokens(
                law_params(the_law, n, vocab_size, param="n_params")
            ),
            f"`n_params` {format_exact(n)}",
        )
        n_law, d, c = float(alloc.n_params), float(alloc.n_tokens), float(alloc.flops)
        printed_flops, printed_tokens = TABLE3.get(n, (None, None))
        rows.append(
            TableRow(
                n_params=n,
                n_params_law=n_law,
                flops=c,
                n_tokens=d,
                loss=None if alloc.loss is None else float(alloc.loss),
                intervals=intervals(the_law, n_law, d, flops=c, interval=level),
                table3_flops=printed_flops,
                table3_tokens=printed_tokens,
                extrapolation={} if rng is None else rng.extrapolation(n_law, d),
            )
        )
    return OptimalTable(
        the_law.name,
        the_law.param_convention,
        tuple(rows),
        the_law.citation,
        published_intervals(the_law),
        note=_table3_note(the_law, vocab_size),
        warnings=_extrapolation_warnings(the_law, rows),
    )


def _extrapolation_warnings(law: Law, rows: list[TableRow]) -> tuple[str, ...]:
    """One warning naming the rows outside the law's fitted data, by the farthest factor per axis: the
    table's loss and allocation there are the law extrapolated, as ``plan`` and ``predict`` say."""
    points = [(r.n_params_law, r.n_tokens) for r in rows]
    outside = [fq(r.n_params) for r, p in zip(rows, points) if adv.extrapolation(law, [p])]
    warning = adv.extrapolation_warning(law, adv.extrapolation(law, points))
    if warning is None:
        return ()
    return (f"{'row' if len(outside) == 1 else 'rows'} {', '.join(outside)}: {warning}",)


def _table3_note(law: Law, vocab_size: int) -> str:
    """For chinchilla-a1 (the preset standing in for Table 3): how far its rows are from the printed ones.

    The law keeps Table 2's a = 0.50; Table 3's own tokens per parameter drift from 20.0 (400M) to 21.6
    (10T), an exponent of about 0.498, so no single scale can match every row (laws/presets.py says why).
    """
    if not (law.is_preset and law.name == "chinchilla-a1"):
        return ""
    worst = 0.0
    for n, (flops, tokens) in TABLE3.items():
        alloc = law.optimal_tokens(law_params(law, n, vocab_size))
        worst = max(worst, abs(float(alloc.flops) / flops - 1.0))
        if n != 67e9:  # its printed 1.5T is not 6ND at its printed FLOPs
            worst = max(worst, abs(float(alloc.n_tokens) / tokens - 1.0))
    per_param = [TABLE3[n][1] / n for n in TABLE3_PARAMS]  # 20.0 at 400M .. 21.6 at 10T
    drift = f"{per_param[0]:.1f} to {per_param[-1]:.1f}"
    return (
        f"law {law.name} keeps Table 2's exponent a = 0.50, so its rows differ from Table 3's printed "
        f"figures by up to {worst:.1%}: Table 3's tokens per parameter drift from {drift}, which one "
        "exponent of 0.50 cannot follow (and its 67B row prints 1.5T tokens where 6ND gives 1.43T). "
        "Table 3's own figures are in each row's table3_flops and table3_tokens (--json)."
    )
