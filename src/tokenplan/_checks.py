"""Validation at the public boundary: one place that turns bad numbers into clear errors.

Every public function that takes a size, a budget or a count calls these, so that a NaN, a negative or a zero
value is reported with the argument's name instead of producing a silent NaN later.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, Literal

from tokenplan.errors import InvalidInputError, UnknownNameError


def positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is finite and > 0 (>= 0 with ``allow_zero``), else raise.

    Booleans are refused: ``plan(flops=True)`` is a mistake, not a budget of one FLOP.
    """
    if _has_bool(value):
        raise InvalidInputError(f"{name}={value!r} is not a number.", param=name)
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInputError(
            f"{name}={_shown(value)} is not a number{_as_number(value)}.", param=name
        ) from None
    if math.isnan(x) or math.isinf(x):
        raise InvalidInputError(f"{name}={value!r} must be a finite number.", param=name)
    if x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name}={value!r} must be {bound}.", param=name)
    return x


def _as_number(value: object) -> str:
    """For text the CLI reads as a quantity ('7B', '1.4T'): the number to pass instead, since Python takes
    numbers (float() reads '1e21', not '7B'); '' for anything else."""
    if not isinstance(value, str):
        return ""
    from tokenplan.units import format_exact, parse_quantity

    try:
        x = parse_quantity(value, name="value")
    except InvalidInputError:
        return ""
    return f"; pass the number {format_exact(x)} (the CLI's {value.strip()}; tokenplan.units.parse_quantity reads such text)"


def _shown(value: object) -> str:
    """``value`` for a one-line message: an array, Series or DataFrame (whose repr spans lines) by its type
    and shape, anything else by its repr."""
    if getattr(value, "ndim", 0):
        return f"<{type(value).__name__} of shape {getattr(value, 'shape', '?')}>"
    return repr(value)


def positive_int(name: str, value: int, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int if it is a whole number > 0 (>= 0 with ``allow_zero``), else raise. An
    int is kept exact (through a float, 99999999999999999999 came back as 100000000000000000000)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > (-1 if allow_zero else 0):
        return value
    x = positive(name, value, allow_zero=allow_zero)
    if x != int(x) or isinstance(value, bool):
        raise InvalidInputError(f"{name}={value!r} must be a whole number.", param=name)
    return int(x)


def number_text(name: str, value: object) -> object:
    """``value``, a number written as text read as that number; anything else as given, for the caller's
    own check. Sweep specs and select recipes take a number written as text, as their flags do: YAML 1.1
    (PyYAML) reads ``1e3`` and ``3e-3`` (no decimal point) as text, and tools that write YAML may quote
    every value. The text is read as tokenplan reads quantities ('3', '1e3', '0.1', '4M', '1.5B'); a count
    must still be whole. Text that spells no number raises naming the key."""
    if not isinstance(value, str):
        return value
    if not any(c.isdigit() for c in value):
        raise InvalidInputError(
            f"{name}={value!r} is not a number; write it in digits (like 3, 0.25 or 1e3).",
            param=name,
        )
    from tokenplan.units import parse_quantity

    return parse_quantity(value, name=name)


def in_range(
    name: str, value: float, low: float, high: float, *, inclusive: bool | Literal["high"] = True
) -> float:
    """Return ``value`` as a float if it lies in [low, high] (``inclusive=True``), (low, high) (False) or
    (low, high] ("high": a share that may be whole but not empty), else raise (booleans too)."""
    if _has_bool(value):
        raise InvalidInputError(f"{name}={value!r} is not a number.", param=name)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}={_shown(value)} is not a number.", param=name) from None
    closed_low, closed_high = inclusive is True, bool(inclusive)
    ok = (low <= x if closed_low else low < x) and (x <= high if closed_high else x < high)
    if not ok or math.isnan(x):
        raise InvalidInputError(
            f"{name}={value!r} must lie in {'[' if closed_low else '('}{low:g}, {high:g}"
            f"{']' if closed_high else ')'}.",
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


# Seeds feed numpy's SeedSequence and torch.manual_seed: whole numbers in [0, 2**63).
MAX_SEED = 2**63 - 1


def seed(name: str, value: object) -> int:
    """Return ``value`` if it is a whole number in [0, 2**63), else raise (negative seeds included).

    numpy integers are whole numbers too (``seed=rng.integers(100)`` from a notebook); numpy booleans are
    not numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise InvalidInputError(f"{name}={value!r} must be a whole number >= 0.", param=name)
    try:
        if isinstance(value, numbers.Integral | str):
            x = int(value)
        else:  # a float (Python's or numpy's) counts when it is whole: 3.0, not 2.5 or nan
            x = int(value) if float(value).is_integer() else None
    except (TypeError, ValueError, OverflowError):
        x = None
    if x is None or not 0 <= x <= MAX_SEED:
        raise InvalidInputError(
            f"{name}={value!r} must be a whole number between 0 and {MAX_SEED}.", param=name
        )
    return x


def number_fields(
    where: str, values: dict[str, object], *, rules: dict[str, str], param: str | None = None
) -> None:
    """Check the numeric fields of a mapping read from a file (a saved law, a recipe ...).

    ``rules`` maps a key to ``"positive"``, ``"non_negative"`` or ``"fraction"`` (in (0, 1)); keys that are
    absent from ``values`` are skipped. Booleans, strings and NaN are refused: ``"0.34"`` in a JSON file
    is a typo the user should see, not a number to guess. The error names ``where`` and the key, and
    carries ``param`` (the argument that gave the file).
    """
    from tokenplan.units import MAX_QUANTITY

    for key, rule in rules.items():
        if key not in values:
            continue
        v = values[key]
        ok = not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)
        if ok and rule == "fraction":
            ok = 0.0 < v < 1.0
            need = "a number in (0, 1)"
        elif ok:
            ok = v >= 0 if rule == "non_negative" else v > 0
            need = "a number >= 0" if rule == "non_negative" else "a number > 0"
        else:
            need = "a finite number"
        if ok and abs(v) > MAX_QUANTITY:
            ok, need = False, f"a number below {MAX_QUANTITY:.0e}"
        if not ok:
            raise InvalidInputError(f"{where}: {key}={v!r} must be {need}.", param=param)


def ray_address(name: str, value: object) -> str:
    """Return a Ray address ('local', 'auto', 'ray://host:port' or 'host:port') or raise.

    A ``ray://`` address needs the Ray Client (``pip install 'ray[client]'``, which brings grpcio); that is
    checked here, before any work, instead of failing inside Ray with a traceback.
    """
    import importlib.util
    import re

    from tokenplan.errors import MissingDependencyError

    text = value if isinstance(value, str) else None
    ok = text is not None and (
        text in ("local", "auto") or re.fullmatch(r"(ray://)?[\w.\-]+:\d{1,5}", text) is not None
    )
    if not ok:
        raise InvalidInputError(
            f"{name}={value!r} is not a Ray address; use local, auto, host:port or ray://host:port.",
            param=name,
        )
    if text.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise MissingDependencyError(
            f"the Ray Client ({name}={text!r})",
            "ray",
            install="pip install 'ray[client]'",
            param=name,
        )
    return text


def device(name: str, value: object) -> str:
    """Return a torch device name ('auto', 'cpu', 'cuda', 'cuda:N', 'mps') or raise."""
    import re

    if not isinstance(value, str) or not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
        raise InvalidInputError(
            f"{name}={value!r} is not a device; use auto, cpu, cuda, cuda:N or mps.", param=name
        )
    return value


def quantity(name: str, value: object) -> float:
    """A size or budget: finite, > 0 and at most :data:`tokenplan.units.MAX_QUANTITY` (1e30).

    Larger values only overflow the laws (``N ** (1/a)``) and would print nonsense, so they are refused.
    """
    from tokenplan.units import MAX_QUANTITY

    x = positive(name, value)
    if x > MAX_QUANTITY:
        raise InvalidInputError(
            f"{name}={value!r} is too large (more than {MAX_QUANTITY:.0e}); check the exponent.",
            param=name,
        )
    return x


def instance(name: str, value: object, kind: type, how: str) -> None:
    """One line for a value of the wrong type given where a library object goes (a dict or a path for a
    Recipe, a SweepSpec or a RunTable): each failed on a missing attribute deep inside. ``how`` says how to
    make the right one."""
    if not isinstance(value, kind):
        raise InvalidInputError(
            f"{name} must be a {kind.__name__}, not {type(value).__name__}: {how}.", param=name
        )


def at_least_one(name: str, x: float, noun: str) -> float:
    """``x`` (a checked size) if it counts at least one ``noun`` ("parameter", "unique token"): below one the
    laws' closed forms still answer, with nothing behind the numbers (0.5 unique tokens was planned; 1e-300
    overflowed or divided by zero several steps later)."""
    if x < 1.0:
        from tokenplan.units import format_exact

        raise InvalidInputError(
            f"`{name}` {format_exact(x)} is less than one {noun}; give at least 1.", param=name
        )
    return x


def name_keys(what: str, data: dict, example: str, *, param: str | None = None) -> None:
    """Raise if a key of the mapping ``data`` is not a name: YAML reads ``?``, ``1:`` or ``null:`` as the
    keys None, 1 or None, which no option is called (``example`` shows a good line)."""
    odd = [key for key in data if not isinstance(key, str)]
    if odd:
        raise InvalidInputError(
            f"{what} key {odd[0]!r} is not a name; keys are names, e.g. {example}.",
            param=param,
        )


def finite_rows(name: str, x: object, *, what: str) -> Any:
    """``x`` as a non-empty 2-D float32 array with only finite values, or one error naming ``name``.

    A NaN row in an embedding matrix does not fail: KCenterGreedy and facility location return picks with
    a NaN radius or objective, and faiss's K-Means stops with a RuntimeError from C++.
    """
    import numpy as np

    arr = np.asarray(x)
    if arr.ndim != 2 or len(arr) == 0:
        raise InvalidInputError(
            f"{what} needs a non-empty 2-D array, got shape {arr.shape}.", param=name
        )
    try:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must hold numbers, not {arr.dtype} values.", param=name
        ) from None
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise InvalidInputError(
            f"{name} has NaN or inf values in {len(rows)} row(s), first {rows[:5].tolist()}; "
            "drop or re-embed those rows.",
            param=name,
        )
    return arr


def items(name: str, value: object, *, example: str) -> list:
    """``value`` as a list when it is a list, tuple, array or other iterable of items; a lone number, text or
    object is named with ``example`` (iterating 'kaplan' would try the laws 'k', 'a' ...; iterating 4
    raises TypeError deep inside)."""
    # a 0-d numpy array is of an iterable type but cannot be iterated
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Iterable)
        or getattr(value, "ndim", 1) == 0
    ):
        raise InvalidInputError(
            f"{name}={value!r} must be a list, e.g. {name}={example}.", param=name
        )
    return list(value)


def no_booleans(name: str, values: object) -> None:
    """Raise if ``values`` (a number, a sequence or an array of numbers) is or holds a boolean.

    numpy turns ``[1e9, True]`` into ``[1e9, 1.0]``, so sizes given as arrays are checked before their
    conversion: ``True`` is a mistake, not a size of one.
    """
    if _has_bool(values):
        raise InvalidInputError(
            f"{name} holds a boolean (True or False); give numbers.", param=name
        )


def _has_bool(values: object) -> bool:
    import numpy as np

    if isinstance(values, bool | np.bool_):
        return True
    if isinstance(values, np.ndarray):
        if values.dtype == np.bool_:
            return True
        return values.dtype == object and any(_has_bool(v) for v in values.ravel())
    if isinstance(values, list | tuple):
        return any(_has_bool(v) for v in values)
    return False
