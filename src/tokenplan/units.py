"""Parsing and formatting of quantities with SI-style suffixes: ``7B``, ``1.4T``, ``400M``, ``5.76e23``.

Used by the CLI and by anything that reads sizes typed by a person. ``K``/``M``/``B``/``T`` mean 1e3/1e6/1e9/
1e12 (``G`` is accepted for 1e9, ``P`` for 1e15, ``E`` for 1e18); scientific notation and underscores/commas
(``1_000``, ``1,000``) work too; a comma must group thousands (``3,1`` is refused, not read as 31).
"""

from __future__ import annotations

import math
import re

from tokenplan.errors import InvalidInputError

__all__ = [
    "MAX_QUANTITY",
    "decimal_comma_fix",
    "format_bytes",
    "format_epochs",
    "format_exact",
    "format_factor",
    "format_gpu_hours",
    "format_hours",
    "format_quantity",
    "format_share",
    "parse_list",
    "parse_quantity",
]

# The largest quantity a person may type. The biggest training runs are ~5e26 FLOPs; 1e30 leaves three
# orders of magnitude of headroom, while values near 1e300 only overflow the laws (N^(1/a) -> inf) and
# print nonsense. Anything larger is refused with the name of the flag.
MAX_QUANTITY = 1e30

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
# The exa suffix must be an upper-case E: "1e" is a cut-off exponent far more often than 1 exa.
# Commas are thousands separators only, in groups of three ('1,000', '2,500,000.5'): '3,1' is a decimal
# comma (a semicolon-separated table from a European locale), which dropping the comma would read as 31.
_THOUSANDS = re.compile(r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?\s*[a-zA-Z]?\s*$")
_PATTERN = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKmMbBgGtTpPE]?)\s*$")


def parse_quantity(text: str | float | int, *, name: str = "value") -> float:
    """Parse ``'7B'`` -> 7e9, ``'5.76e23'`` -> 5.76e23, ``'400m'`` -> 4e8; raise naming ``name`` if malformed.

    The result is always finite and at most :data:`MAX_QUANTITY` in size: ``'1e400'``, ``'nan'`` and
    ``'inf'`` are refused, never returned as ``inf``/``nan``. The sign is kept (callers check the range).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise InvalidInputError(
            f"{name}={text!r} is not a quantity; use a number like 7e9, 7B, 1.4T, 400M or 5.76e23.",
            param=name,
        )
    if isinstance(text, int | float):
        return _finite(float(text) if abs(text) < 1e308 else float("inf"), text, name)
    fix = decimal_comma_fix(text)
    if fix:
        raise InvalidInputError(f"{name}={text!r}: {fix}", param=name)
    raw = text.strip().replace("_", "").replace(",", "")
    match = _PATTERN.match(raw)
    if not match:
        if raw.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise InvalidInputError(f"{name}={text!r} must be a finite number.", param=name)
        raise InvalidInputError(
            f"{name}={text!r} is not a quantity; use a number like 7e9, 7B, 1.4T, 400M or 5.76e23.",
            param=name,
        )
    return _finite(float(match.group(1)) * _SUFFIX[match.group(2).upper()], text, name)


def decimal_comma_fix(text: str) -> str | None:
    """For a number whose comma does not group thousands (``'3,1'``), the fix: write it with a point
    (``3.1``, the last comma as the decimal point); None for any other text."""
    if "," not in text or _THOUSANDS.match(text):
        return None
    head, _, tail = text.strip().rpartition(",")
    return (
        "a comma in a number separates thousands (1,000,000); for a decimal comma write a point "
        f"({head.replace(',', '')}.{tail})."
    )


def _finite(x: float, text: object, name: str) -> float:
    if not math.isfinite(x):
        raise InvalidInputError(f"{name}={text!r} must be a finite number.", param=name)
    if abs(x) > MAX_QUANTITY:
        raise InvalidInputError(
            f"{name}={text!r} is too large (more than {MAX_QUANTITY:.0e}); check the exponent.",
            param=name,
        )
    return x


def parse_list(text: str, *, name: str = "value") -> list[float]:
    """Parse a comma-separated list of quantities: ``'400M,1B,10B'`` -> [4e8, 1e9, 1e10]."""
    if not isinstance(text, str):
        raise InvalidInputError(
            f"{name}={text!r} is not a list; give a comma-separated list like 400M,1B,10B.",
            param=name,
        )
    parts = text.split(",")
    if not any(p.strip() for p in parts) or any(not p.strip() for p in parts):
        raise InvalidInputError(
            f"{name}={text!r} has an empty item; give a comma-separated list like 400M,1B,10B.",
            param=name,
        )
    return [parse_quantity(p, name=name) for p in parts]


def format_quantity(value: float, *, digits: int = 3) -> str:
    """Format 7.02e9 -> ``'7.02B'``; values >= 1e15 fall back to scientific notation (FLOPs read better so)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    x = float(value)
    if x == 0:
        return "0"
    # rounded before the suffix is chosen: 999.6M is 1B at 3 figures, not '1e+03M'
    x = float(f"{x:.{digits}g}") if math.isfinite(x) else x
    if abs(x) >= 1e15 or abs(x) < 1:
        return f"{x:.{digits - 1}e}"
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"


def format_count(value: float, noun: str) -> str:
    """``value`` (as :func:`format_quantity` writes it) with ``noun``, plural unless it reads as one:
    '1 unique token', '25B unique tokens' (not '1 unique tokens')."""
    text = format_quantity(value)
    return f"{text} {noun}" if text == "1" else f"{text} {noun}s"


def format_ratio(x: float) -> str:
    """A ratio such as tokens per parameter to a tenth from 1 to a million (20.0), else in 3 significant
    figures: 0.000567, not '0.0'; 1.67e+299, not 300 digits."""
    return f"{x:.1f}" if 1 <= x < 1e6 else f"{x:#.3g}"


def format_loss(x: float) -> str:
    """A loss to 4 decimals (2.1742), in 4 significant figures beyond 1e5 or below 1e-3: a law far outside
    its data predicts 1.547e+58 at 1e-150 parameters, not a 59-digit number."""
    return f"{x:.4f}" if 1e-3 <= abs(x) < 1e5 else f"{x:.4g}"


def format_hours(h: float) -> str:
    """Hours in the unit a person would use (a tiny plan's 9 seconds are not '0.0 h')."""
    if h < 1 / 60:
        return f"{h * 3600:.2g} s"
    if h < 1:
        return f"{h * 60:.1f} min"
    if h < 48:
        return f"{h:,.1f} h"
    if h < 24 * 365:
        return f"{h / 24:,.1f} days"
    return f"{h / (24 * 365):,.1f} years"


def format_gpu_hours(h: float, *, unit: bool = False) -> str:
    """GPU-hours with the precision a small run needs: 7,022; 2.5; 0.11 (6.6 GPU-minutes), not 0. With
    ``unit`` the unit follows the number, before the minutes: '0.7 GPU-hours (42 GPU-minutes)' (a caller
    appending ' GPU-hours' printed '0.7 (42 GPU-minutes) GPU-hours')."""
    hours = " GPU-hours" if unit else ""
    if h >= 10:
        return f"{h:,.0f}{hours}"
    if h >= 1:
        return f"{h:.1f}{hours}"
    if h >= 1 / 60:
        return f"{h:.2g}{hours} ({h * 60:.2g} GPU-minutes)"
    return f"{h:.2g}{hours} ({h * 3600:.2g} GPU-seconds)"


def format_factor(f: float) -> str:
    """How far a point lies outside a fitted range, as a factor in 3 significant figures: 1.99x, 44.5x,
    756x, 33,300x, 1.23e+07x; beyond float range 'more than 1e308x'. The one format of every such factor:
    the extrapolation warnings, the 'in range' columns of predict, table and fit, and the interval notes."""
    if math.isinf(f):
        return "more than 1e308x"
    r = float(f"{f:.3g}")  # rounded first: 99.97 is '100x', not '100.x'
    if r < 100:
        return f"{r:#.3g}x"
    return f"{r:,.0f}x" if r < 1e6 else f"{r:.3g}x"


def format_out(f: float) -> str:
    """The 'in range' cell of a point outside a fitted range, the same in predict, table and fit:
    '44.5x out', or 'no: beyond float range' for a factor that overflowed (D/N of a vanished N term)."""
    return "no: beyond float range" if math.isinf(f) else f"{format_factor(f)} out"


def format_exact(x: float) -> str:
    """``x`` as ``:g`` writes it (4, 2.5, 1e+22) when that reads back as ``x``, else the shortest text that
    does (``repr``): a number echoed back to the person who typed it is never rounded into another one.
    ``:g`` keeps 6 significant figures, so 1.0000001 epochs printed as '1' (one pass, with the advice of a
    repeated one beside it) and ``--params 0.9999999`` was refused as '--params 1 is less than one
    parameter'."""
    text = f"{x:g}"
    return text if float(text) == x else repr(float(x))


def format_share(x: float) -> str:
    """A share as a whole percentage (37%), with decimals only where rounding would land on 0% or 100% for a
    share that is neither (0.999 of the unique tokens is 99.9%, not '100%')."""
    for decimals in range(0, 10):
        text = f"{100 * x:.{decimals}f}"
        if float(text) not in (0.0, 100.0) or x in (0.0, 1.0):
            return f"{text}%"
    return f"{100 * x:.10g}%"


def format_epochs(e: float, decimals: int = 2) -> str:
    """Epochs to the hundredth (9.10), in scientific notation from 10,000 on: 1.84e+11 epochs (a plan on
    one unique token) is not a number to read to the hundredth, as '184260640753.58' asked.

    A count that is not whole never reads as a whole one: where the hundredth would round it onto an
    integer ('1.00' for 1.0000001 epochs, a repeated plan; '1.0' in the advice for 1.001), more decimals
    are shown, as many as it takes (1.0000001, 0.999)."""
    if abs(e) >= 1e4:
        return f"{e:.3g}"
    text = f"{e:.{decimals}f}"
    if float(text) != round(float(text)) or e == round(e):
        return text
    for more in range(decimals + 1, 16):
        text = f"{e:.{more}f}"
        if float(text) != round(float(text)):
            return text
    return format_exact(e)


def format_bytes(b: float) -> str:
    """TB with 2 decimals, else GB, MB or kB with 1 (a 1M-parameter model's 16 MB is not '0.0 GB')."""
    if b >= 1e12:
        return f"{b / 1e12:,.2f} TB"
    unit, size = next(
        (u, s) for u, s in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)) if b >= s or u == "kB"
    )
    return f"{b / size:,.1f} {unit}"
