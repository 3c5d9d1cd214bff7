"""Scaling laws: published presets and the classes behind them.

>>> from tokenplan.laws import get_law
>>> get_law("epoch2024").optimal(5.76e23).n_params  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.laws.base import Allocation, FittedRange, Law
from tokenplan.laws.chinchilla import ChinchillaLaw, PowerLawAllocation
from tokenplan.laws.data_constrained import DataConstrainedAllocation, DataConstrainedLaw
from tokenplan.laws.kaplan import PF_DAY, KaplanAllocation, KaplanLaw
from tokenplan.laws.presets import PRESETS

__all__ = [
    "PF_DAY",
    "PRESETS",
    "Allocation",
    "ChinchillaLaw",
    "DataConstrainedAllocation",
    "DataConstrainedLaw",
    "FittedRange",
    "KaplanAllocation",
    "KaplanLaw",
    "Law",
    "PowerLawAllocation",
    "get_law",
    "law_from_dict",
    "list_laws",
    "load_law",
]

_KINDS = {
    cls.__name__: cls for cls in (ChinchillaLaw, PowerLawAllocation, KaplanLaw, DataConstrainedLaw)
}


def list_laws() -> list[Law]:
    """Every preset, in a stable order."""
    return list(PRESETS.values())


def get_law(name: str | Law) -> Law:
    """A preset by name (case-insensitive), or a law saved as JSON by ``tokenplan fit`` (a path)."""
    if isinstance(name, Law):
        return name
    text = str(name)
    if text.lower().endswith(".json") or os.sep in text or Path(text).is_file():
        return load_law(text)
    return PRESETS[_checks.choice("law", text, PRESETS)]


def law_from_dict(data: dict[str, Any]) -> Law:
    """Rebuild a law from :meth:`Law.to_dict` output (``kind`` names the class)."""
    if not isinstance(data, dict):
        raise InvalidInputError("a saved law must be a JSON object with a 'kind' field.")
    payload = dict(data.get("law", data)) if "kind" not in data and "law" in data else dict(data)
    kind = payload.pop("kind", None)
    if kind not in _KINDS:
        raise InvalidInputError(
            f"saved law has kind={kind!r}; expected one of {', '.join(sorted(_KINDS))}."
        )
    cls = _KINDS[kind]
    fields = set(cls.__dataclass_fields__)
    unknown = sorted(set(payload) - fields)
    if unknown:
        raise InvalidInputError(
            f"saved law of kind {kind} has unknown fields: {', '.join(unknown)}."
        )
    for key, value in payload.items():
        if isinstance(value, list):
            payload[key] = tuple(value)
    if isinstance(payload.get("fitted_range"), dict):
        try:
            payload["fitted_range"] = FittedRange.from_dict(payload["fitted_range"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"saved law has a malformed fitted_range: {exc}.") from None
    try:
        return cls(**payload)
    except TypeError as exc:
        raise InvalidInputError(f"saved law of kind {kind} is incomplete: {exc}.") from None


def load_law(path: str | os.PathLike[str]) -> Law:
    """Load a law saved as JSON (for example by ``tokenplan fit --save fit.json``)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(
            f"law file {str(p)!r} does not exist; give a preset name or a saved law JSON."
        )
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"law file {str(p)!r} is not valid JSON: {exc}.") from None
    return law_from_dict(data)
