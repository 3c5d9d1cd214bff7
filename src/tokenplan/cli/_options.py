"""The options several commands declare (``--json``, ``--report``, ``--interval``, a choice among
the library's names) and the quantity parameter types (``7B``, ``1.4T``, ``400M,1B,10B``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import click

from tokenplan.errors import InvalidInputError
from tokenplan.units import parse_list, parse_quantity

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object on stdout instead of tables."
)


def choice_option(flag: str, choices: Sequence[str], *, dest: str | None = None, **kwargs: Any):
    """``flag`` taking one of ``choices``, names the library defines (a method, a form, a backend):
    click checks the value and lists the names in ``--help`` and in its error. ``dest`` names the
    function argument where it differs from the flag."""
    decls = (flag,) if dest is None else (flag, dest)
    return click.option(*decls, type=click.Choice(choices), **kwargs)


def count_option(
    flag: str,
    example: str,
    help: str,
    *,
    dest: str | None = None,
    allow_zero: bool = False,
    **kwargs,
):
    """``flag`` taking a whole number > 0 (>= 0 with ``allow_zero``): ``1.5``, ``-1``, ``nan`` or ``abc``
    is one line naming the flag, with ``example`` as the fix. ``dest`` as in :func:`choice_option`."""
    decls = (flag,) if dest is None else (flag, dest)
    kind = Number(example, whole=True, allow_zero=allow_zero)
    return click.option(*decls, type=kind, help=help, **kwargs)


interval_option = click.option(
    "--interval",
    type=float,
    default=0.8,
    help="Level of the intervals on loss, N_opt and D_opt (0.8 = 10th..90th percentile).",
)


def report_option(*, with_overwrite: bool = False, dest: str = "report"):
    """``--report FILE.html`` (one self-contained page); ``with_overwrite`` also adds ``--overwrite``.

    ``dest`` names the function argument (a command whose body already uses ``report`` maps
    ``tokenplan_flags["report"] = "--report"``)."""

    def decorate(f):
        f = click.option(
            "--report",
            dest,
            type=click.Path(dir_okay=False),
            callback=_not_empty,
            help="Also write a self-contained HTML report page (needs the report extra).",
        )(f)
        if with_overwrite:
            f = click.option(
                "--overwrite", is_flag=True, help="Allow --report to replace an existing file."
            )(f)
        return f

    return decorate


def not_empty(what: str):
    """A click callback refusing an empty output path (``--report "$PAGE"`` with PAGE unset), ``what`` the
    fix ("a file name ending in .html"): read as no flag at all, the command ran and wrote nothing without a
    word (``data sample --out ''`` raised KeyError)."""

    def check(ctx: Any, param: Any, value: Any) -> Any:
        if value is not None and not str(value).strip():
            raise click.BadParameter(
                f"{value!r} is an empty path; give {what}, or leave the flag out.", ctx, param
            )
        return value

    return check


_not_empty = not_empty("a file name ending in .html")


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


class NumberList(click.ParamType):
    """A comma-separated list of plain numbers > 0 with no K/M/B/T suffix (``1,4,16``): counts that are not
    sizes, such as epochs. ``example`` is the list the error suggests; a quantity's fix (``7B, 1.4T``) would
    be the wrong one there."""

    name = "LIST"

    def __init__(self, example: str) -> None:
        self.example = example

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        flag = param.opts[0] if param is not None and param.opts else "value"
        fix = f"give plain numbers > 0, comma-separated (no K/M/B/T suffix): e.g. {flag} {self.example}."
        parts = value.split(",") if isinstance(value, str) else [""]
        for part in parts:
            try:
                float(part)
            except ValueError:
                what = (
                    "has an empty item"
                    if not part.strip()
                    else f"has {part.strip()!r}, not a plain number"
                )
                self.fail(f"{flag}={value!r} {what}; {fix}", param, ctx)
        values = [_parse(self, parse_quantity, p, param, ctx)[1] for p in parts]  # finite, in range
        if any(v <= 0 for v in values):
            self.fail(f"{flag}={value!r}: every value must be > 0; {fix}", param, ctx)
        return values


QUANTITY = Quantity()
QUANTITY_LIST = QuantityList()


class Number(click.ParamType):
    """A plain number > 0 with no K/M/B/T suffix (``21``, ``1.5``): days, not a size. ``whole`` asks for a
    whole number written as one (a GPU count: ``8``); ``allow_zero`` also takes 0 (a seed, a count of runs
    to drop); ``example`` is the value the error suggests."""

    def __init__(self, example: str, *, whole: bool = False, allow_zero: bool = False) -> None:
        self.example, self.whole, self.allow_zero = example, whole, allow_zero
        self.name = "INTEGER" if whole else "NUMBER"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        flag = param.opts[0] if param is not None and param.opts else "value"
        try:  # a count is written as one (click's int: 8, not 8.0 or 1e3)
            x = int(value) if self.whole else float(value)
        except (TypeError, ValueError):
            x = math.nan
        in_range = x >= 0 if self.allow_zero else x > 0  # False for NaN
        if not (in_range and (self.whole or math.isfinite(x))):
            kind = "a whole number" if self.whole else "a plain number"
            bound = ">= 0" if self.allow_zero else "> 0"
            self.fail(
                f"{flag}={value!r} must be {kind} {bound} (no K/M/B/T suffix); "
                f"e.g. {flag} {self.example}.",
                param,
                ctx,
            )
        return x
