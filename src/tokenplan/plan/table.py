"""Chinchilla Table 3 for any law: compute-optimal FLOPs and tokens for a list of model sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
from tokenplan.laws.prediction import check_level
from tokenplan.plan.steps import law_params

__all__ = ["GOPHER_FLOPS", "TABLE3_PARAMS", "OptimalTable", "TableRow", "optimal_table"]

# Chinchilla Table 3's unit of compute: the Gopher budget, 5.76e23 FLOPs (Hoffmann et al. 2022, Table 3).
GOPHER_FLOPS = 5.76e23
# The model sizes of Chinchilla Table 3 (Hoffmann et al. 2022).
TABLE3_PARAMS = (400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12)


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
                self, "n_params n_params_law flops gopher_units n_tokens tokens_per_param loss"
            ),
            "intervals": None if self.intervals is None else self.intervals.to_dict(),
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            **record(self, "law param_convention"),
            "rows": [r.to_dict() for r in self.rows],
            "source": self.source,
            "published_intervals": [p.to_dict() for p in self.published_intervals],
        }


def optimal_table(
    n_params: tuple[float, ...] | list[float] = TABLE3_PARAMS,
    *,
    law: str | Law = "chinchilla-a1",
    vocab_size: int = 32_000,
    interval: float = 0.8,
) -> OptimalTable:
    """Chinchilla Table 3 (Hoffmann et al. 2022): FLOPs and tokens for each model size.

    The default law, ``chinchilla-a1`` (Approach 1, a = b = 0.50 from Table 2), is within 5% of every row of
    Table 3 but 67B (printed 1.5T tokens where 6ND gives 1.43T). Sizes count all parameters; a non-embedding
    law converts them. Each row carries the intervals ``tokenplan plan`` reports at ``interval``: on the
    loss and on N_opt, D_opt at the row's FLOPs (none for a law without bootstrap draws).
    """
    level = check_level(interval)
    the_law = get_law(law)
    sizes = list(n_params)
    if not sizes:
        raise InvalidInputError(
            "n_params is empty; give at least one model size.", param="n_params"
        )
    rows = []
    for i, n in enumerate(sizes):
        n = _checks.quantity(f"n_params[{i}]", n)
        alloc = the_law.optimal_tokens(law_params(the_law, n, vocab_size, param="n_params"))
        n_law, d, c = float(alloc.n_params), float(alloc.n_tokens), float(alloc.flops)
        rows.append(
            TableRow(
                n_params=n,
                n_params_law=n_law,
                flops=c,
                n_tokens=d,
                loss=None if alloc.loss is None else float(alloc.loss),
                intervals=intervals(the_law, n_law, d, flops=c, interval=level),
            )
        )
    return OptimalTable(
        the_law.name,
        the_law.param_convention,
        tuple(rows),
        the_law.citation,
        published_intervals(the_law),
    )
