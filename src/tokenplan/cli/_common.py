"""What every command shares: the ``--json`` option, JSON output, the rich console, quantity parameters."""

from __future__ import annotations

import math
import sys
from typing import Any

import click

from tokenplan._json import dumps
from tokenplan.errors import InvalidInputError
from tokenplan.units import parse_list, parse_quantity

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables."
)


interval_option = click.option(
    "--interval",
    type=float,
    default=0.8,
    help="Level of the intervals on loss, N_opt and D_opt (0.8 = 10th..90th percentile).",
)


def interval_lines(ivs, published) -> list[str]:
    """Which kind each interval is and where it comes from, then what the preset's paper publishes."""
    pct = f"{ivs.level:.0%}"
    lines = []
    if ivs.loss is not None:
        what = "the loss"
        if ivs.n_params is not None and ivs.allocation_source == ivs.loss_source:
            what = "the loss, N_opt and D_opt"
        lines.append(f"{pct} interval on {what}: {ivs.loss_kind} ({ivs.loss_source})")
    if ivs.n_params is not None and (ivs.loss is None or ivs.allocation_source != ivs.loss_source):
        lines.append(
            f"{pct} interval on N_opt and D_opt: {ivs.allocation_kind} ({ivs.allocation_source})"
        )
    if not ivs.any:
        lines.append(f"interval: none on the loss, N_opt or D_opt ({ivs.loss_source})")
    by_source: dict[str, list[str]] = {}
    for p in published:
        by_source.setdefault(p.source, []).append(p.text)
    for source, texts in by_source.items():
        lines.append(f"published by {source}: {'; '.join(texts)}")
    return lines + [f"note: {n}" for n in ivs.notes]


def pair(values, fmt) -> str:
    """``lo .. hi`` with ``fmt`` applied to each end, or '-'."""
    if values is None or not all(math.isfinite(x) for x in values):
        return "-"
    return f"{fmt(values[0])} .. {fmt(values[1])}"


def print_json(obj: dict[str, Any]) -> None:
    """Write ``obj`` as one JSON object on stdout."""
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


_CONSOLE = None


def console():
    """A shared rich Console (created on first use, to keep start-up light)."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        _CONSOLE = Console(highlight=False)
    return _CONSOLE


def err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    """A warning line on stderr (yellow on a terminal)."""
    err_console().print(f"[yellow]warning:[/yellow] {message}", soft_wrap=True)


def _parse(kind: click.ParamType, parse: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    """(the flag, ``parse(value, name=flag)``); a parse error becomes click's usage error on that flag."""
    flag = param.opts[0] if param is not None and param.opts else "value"
    try:
        return flag, parse(value, name=flag)
    except InvalidInputError as exc:
        kind.fail(str(exc), param, ctx)


class Quantity(click.ParamType):
    """A number with an optional K/M/B/T suffix (``7B``, ``1.4T``, ``5.76e23``), required to be > 0."""

    name = "QUANTITY"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        flag, x = _parse(self, parse_quantity, value, param, ctx)
        if x < 0 or (x == 0 and not self.allow_zero):
            self.fail(
                f"{flag}={value!r} must be {'>= 0' if self.allow_zero else '> 0'}.", param, ctx
            )
        return x


class QuantityList(click.ParamType):
    """A comma-separated list of quantities: ``400M,1B,10B``."""

    name = "LIST"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        flag, values = _parse(self, parse_list, value, param, ctx)
        bad = [v for v in values if v <= 0]
        if bad:
            self.fail(f"{flag}={value!r}: every value must be > 0.", param, ctx)
        return values


QUANTITY = Quantity()
QUANTITY_LIST = QuantityList()


def report_option(*, with_overwrite: bool = False, dest: str = "report"):
    """``--report FILE.html`` (one self-contained page); ``with_overwrite`` also adds ``--overwrite``.

    ``dest`` names the function argument (a command whose body already uses ``report`` maps
    ``tokenplan_flags["report"] = "--report"``)."""

    def decorate(f):
        f = click.option(
            "--report",
            dest,
            type=click.Path(dir_okay=False),
            help="Also write a self-contained HTML report page (needs the report extra).",
        )(f)
        if with_overwrite:
            f = click.option(
                "--overwrite", is_flag=True, help="Allow --report to replace an existing file."
            )(f)
        return f

    return decorate


def report_written(path) -> None:
    """Say where the report went (on stderr, so --json output stays one object)."""
    err_console().print(f"report written to {path}", soft_wrap=True)
