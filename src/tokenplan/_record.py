"""The plain-data form of a result object: ``to_dict`` from a list of field names.

Most results serialise as ``{"field": self.field, ...}`` in a chosen order (the order of the ``--json``
output); ``record(self, "law n_params n_tokens")`` says that once instead of a line per field.
"""

from __future__ import annotations

from typing import Any

__all__ = ["record"]


def record(obj: Any, names: str) -> dict[str, Any]:
    """``{name: getattr(obj, name)}`` for each of the white-space separated ``names``, in that order."""
    return {name: getattr(obj, name) for name in names.split()}
