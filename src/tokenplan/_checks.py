"""Validation at the public boundary: one place that turns bad numbers into clear errors.

Every public function that takes a size, a budget or a count calls these, so that a NaN, a negative or a zero
value is reported with the argument's name instead of producing a silent NaN later.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tokenplan.errors import InvalidInputError, UnknownNameError


def positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is finite and > 0 (>= 0 with ``allow_zero``), else raise."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}={value!r} is not a number.", param=name) from None
    if math.isnan(x) or math.isinf(x):
        raise InvalidInputError(f"{name}={value!r} must be a finite number.", param=name)
    if x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name}={value!r} must be {bound}.", param=name)
    return x


def positive_int(name: str, value: int, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int if it is a whole number > 0 (>= 0 with ``allow_zero``), else raise."""
    x = positive(name, value, allow_zero=allow_zero)
    if x != int(x) or isinstance(value, bool):
        raise InvalidInputError(f"{name}={value!r} must be a whole number.", param=name)
    return int(x)


def in_range(name: str, value: float, low: float, high: float, *, inclusive: bool = True) -> float:
    """Return ``value`` as a float if it lies in [low, high] (or (low, high)), else raise."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}={value!r} is not a number.", param=name) from None
    ok = (low <= x <= high) if inclusive else (low < x < high)
    if not ok or math.isnan(x):
        brackets = ("[", "]") if inclusive else ("(", ")")
        raise InvalidInputError(
            f"{name}={value!r} must lie in {brackets[0]}{low:g}, {high:g}{brackets[1]}.",
            param=name,
        )
    return x


def choice(kind: str, name: str, valid: Iterable[str], *, param: str | None = None) -> str:
    """Return ``name`` if it is one of ``valid`` (case-insensitive), else raise listing the valid names."""
    valid = list(valid)
    lowered = {v.lower(): v for v in valid}
    key = str(name).lower()
    if key not in lowered:
        raise UnknownNameError(kind, str(name), sorted(valid), param=param)
    return lowered[key]


def strict_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a real boolean, else raise.

    YAML recipes and Python callers must say ``true``/``false``: the string ``'false'`` is truthy in
    Python, so accepting it would silently turn an option on.
    """
    if isinstance(value, bool):
        return value
    raise InvalidInputError(
        f"{name}={value!r} must be true or false (a boolean, not {type(value).__name__}).",
        param=name,
    )
