"""The one JSON encoder of tokenplan: what every ``--json`` output, saved law and run record goes through
(and :func:`json_lines`, the one JSON Lines reader).

JSON has no NaN or infinity and knows nothing of numpy, so values are made plain first: numpy scalars and
arrays become Python numbers and lists, tuples become lists, keys become strings, and non-finite floats
become ``null`` (``allow_nan=False`` then guarantees the text is valid JSON for every reader).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["dumps", "json_default", "json_lines", "json_problem", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy types, tuples and non-string keys made plain, and NaN/inf replaced by None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalar or array
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as strict JSON text (see :func:`to_jsonable`)."""
    return json.dumps(to_jsonable(value), indent=indent, allow_nan=False)


def json_default(value: Any) -> Any:
    """A ``json.dumps(default=...)`` hook for user rows written back out: arrays to lists, dates to ISO
    text, anything else to its string, so a row the user gave us is never refused for its types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number from 1, parsed value) for each non-blank line of a JSON Lines text. A line that is not
    JSON gives its :class:`json.JSONDecodeError` as the value: the caller words the error for its file."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            value = exc
        yield lineno, value


def json_problem(exc: json.JSONDecodeError, *, where: str = "column") -> str:
    """What is wrong with a JSON text, with the position the caller's own line number does not give.

    ``exc.msg`` alone can end mid-phrase ("Unterminated string starting at"): ``where="column"`` (one JSON
    Lines row, whose line the caller names) adds the column, ``"line"`` (a whole document) the line and
    column, ``"none"`` (a position the caller cannot trust) drops the dangling "at"."""
    msg = exc.msg.removesuffix(" at")
    if where == "column":
        return f"{msg} at column {exc.colno}"
    if where == "line":
        return f"{msg} at line {exc.lineno}, column {exc.colno}"
    return msg
