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
from tokenplan.laws.base import NOT_SAVED, Allocation, FittedRange, Law, check_constants
from tokenplan.laws.chinchilla import ChinchillaLaw, PowerLawAllocation
from tokenplan.laws.data_constrained import DataConstrainedAllocation, DataConstrainedLaw
from tokenplan.laws.intervals import Intervals, PublishedInterval, intervals, published_intervals
from tokenplan.laws.kaplan import PF_DAY, KaplanAllocation, KaplanLaw
from tokenplan.laws.kaplan_nd import KaplanNDLaw
from tokenplan.laws.prediction import AllocationInterval, Prediction, Uncertainty
from tokenplan.laws.presets import PRESETS

__all__ = [
    "PF_DAY",
    "PRESETS",
    "Allocation",
    "AllocationInterval",
    "ChinchillaLaw",
    "DataConstrainedAllocation",
    "DataConstrainedLaw",
    "FittedRange",
    "Intervals",
    "KaplanAllocation",
    "KaplanLaw",
    "KaplanNDLaw",
    "Law",
    "PowerLawAllocation",
    "Prediction",
    "PublishedInterval",
    "Uncertainty",
    "get_law",
    "intervals",
    "law_from_dict",
    "list_laws",
    "load_law",
    "predict",
    "published_intervals",
    "save_law",
]

# The layout of a law file written by ``save_law`` / ``tokenplan fit --save``. Bump it when a field's meaning
# changes; a file with another format is refused with a message instead of being misread.
LAW_FILE_FORMAT = "tokenplan-law/2"

_KINDS = {
    cls.__name__: cls
    for cls in (ChinchillaLaw, PowerLawAllocation, KaplanLaw, KaplanNDLaw, DataConstrainedLaw)
}


def list_laws() -> list[Law]:
    """Every preset, in a stable order."""
    return list(PRESETS.values())


def get_law(name: str | Law) -> Law:
    """A preset by name (case-insensitive), or a law saved as JSON by ``tokenplan fit`` (a path)."""
    if isinstance(name, Law):
        return name
    if not isinstance(name, str | os.PathLike):  # Path(None) raised a bare TypeError
        raise InvalidInputError(
            f"law={name!r} must be a preset name ({', '.join(sorted(PRESETS))}), the path of a law "
            f"saved by `tokenplan fit --save`, or a Law; not {type(name).__name__}.",
            param="law",
        )
    text, path = str(name), Path(name)
    # a folder named like no preset is a mistaken path (called "unknown law" before), not a preset name
    folder = path.is_dir() and text.lower() not in PRESETS
    if text.lower().endswith(".json") or os.sep in text or path.is_file() or folder:
        return load_law(text)
    return PRESETS[_checks.choice("law", text, PRESETS, param="law")]


def predict(
    law: str | Law,
    n_params: float,
    n_tokens: float,
    *,
    unique_tokens: float | None = None,
    interval: float = 0.8,
) -> Prediction:
    """``get_law(law).predict(...)``: the loss of ``n_params`` on ``n_tokens`` under a preset's name, a law
    file or a :class:`Law`, with its interval and extrapolation factors (see :meth:`Law.predict`)."""
    return get_law(law).predict(n_params, n_tokens, unique_tokens=unique_tokens, interval=interval)


def law_from_dict(data: dict[str, Any]) -> Law:
    """Rebuild a law from :meth:`Law.to_dict` output (``kind`` names the class)."""
    if not isinstance(data, dict):
        raise InvalidInputError("a saved law must be a JSON object with a 'kind' field.")
    payload = data.get("law", data) if "kind" not in data and "law" in data else data
    if not isinstance(payload, dict):
        raise InvalidInputError(
            f"saved law is {payload!r}; expected a JSON object with a 'kind' field."
        )
    payload = dict(payload)
    kind = payload.pop("kind", None)
    if kind not in _KINDS:
        raise InvalidInputError(
            f"saved law has kind={kind!r}; expected one of {', '.join(sorted(_KINDS))}."
        )
    cls = _KINDS[kind]
    fields = set(cls.__dataclass_fields__) - set(NOT_SAVED)
    unknown = sorted(set(payload) - fields)
    if unknown:
        raise InvalidInputError(
            f"saved law of kind {kind} has unknown fields: {', '.join(unknown)}."
        )
    _check_law_fields(kind, cls, payload)
    for key, value in payload.items():
        if isinstance(value, list):
            payload[key] = tuple(value)
    check_constants(f"saved law of kind {kind}", cls, payload, strict=True)
    _nested_parts(kind, fields, payload)
    try:
        return cls(**payload)
    except TypeError as exc:
        raise InvalidInputError(f"saved law of kind {kind} is incomplete: {exc}.") from None


def _check_loads(law: Law, payload: dict[str, Any], path: Any) -> None:
    """A law file :func:`load_law` would refuse is never written: a fit may return constants a file may not
    hold (a parametric fit's alpha or beta <= 0, which it warns about; an IsoFLOP exponent a >= 1), and
    ``plan --law FILE`` would then refuse the file the same tool wrote."""
    from tokenplan._json import dumps

    try:
        law_from_dict(json.loads(dumps(payload)))
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"law {law.name!r} is not written to {str(path)!r}: load_law (`tokenplan plan --law FILE`) "
            f"would refuse the file ({str(exc).rstrip('.')}). The fit's warnings say which term the runs "
            "do not pin down; refit on runs that vary the model size and the tokens at each budget.",
            param="save",
        ) from None


def _nested_parts(kind: str, fields: set[str], payload: dict[str, Any]) -> None:
    """Rebuild a saved law's uncertainty and fitted range in place, refusing malformed ones."""
    for key in ("uncertainty", "fitted_range"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise InvalidInputError(
                f"saved law has {key}={payload[key]!r}; expected an object or null."
            )
    if isinstance(payload.get("uncertainty"), dict):
        _rebuild(payload, "uncertainty", Uncertainty.from_dict)
        strange = sorted(set(payload["uncertainty"].names) - set(fields))
        if strange:
            raise InvalidInputError(
                f"saved law's uncertainty has draws of {', '.join(strange)}, which a {kind} does not have."
            )
    if payload.get("param_convention", "total") not in ("total", "non-embedding"):
        raise InvalidInputError(
            f"saved law has param_convention={payload['param_convention']!r}; expected 'total' or "
            "'non-embedding'."
        )
    if isinstance(payload.get("fitted_range"), dict):
        _rebuild(payload, "fitted_range", FittedRange.from_dict)


def _rebuild(payload: dict[str, Any], key: str, from_dict) -> None:
    """Replace ``payload[key]`` (a dict) by ``from_dict(it)``; a missing or malformed field is one error."""
    try:
        payload[key] = from_dict(payload[key])
    except KeyError as exc:
        raise InvalidInputError(f"saved law's {key} lacks the field {exc}.") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"saved law has a malformed {key}: {exc}.") from None


def _check_law_fields(kind: str, cls: type, payload: dict[str, Any]) -> None:
    """Types a saved law's constants check (:func:`tokenplan.laws.base.check_constants`) does not: text
    fields are text, an allocation exponent ``a`` is a fraction, ``fitted_flops`` is a [low, high] pair of
    positive numbers."""
    annotations = {k: str(f.type) for k, f in cls.__dataclass_fields__.items()}
    for key, value in payload.items():
        if annotations.get(key) == "str" and not isinstance(value, str):
            raise InvalidInputError(f"saved law field {key}={value!r} must be a string.")
    if "a" in payload and annotations.get("a") == "float":
        _checks.number_fields(
            f"saved law of kind {kind}", {"a": payload["a"]}, rules={"a": "fraction"}
        )
    flops = payload.get("fitted_flops")
    if flops is not None:
        if not isinstance(flops, list | tuple) or len(flops) != 2:
            raise InvalidInputError(f"saved law field fitted_flops={flops!r} must be [low, high].")
        _checks.number_fields(
            "saved law fitted_flops",
            {"low": flops[0], "high": flops[1]},
            rules=dict.fromkeys(("low", "high"), "positive"),
        )


def load_law(path: str | os.PathLike[str]) -> Law:
    """Load a law saved by :func:`save_law` (``tokenplan fit --save fit.json``), or a bare law JSON.

    A file from another version of tokenplan (another ``format``), or with missing fields, is an error naming
    the file: refit and save again.
    """
    return read_law_file(path)[0]


class _RepeatedKey(Exception):
    pass


def _no_repeated_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice (json keeps the last in silence: a
    hand-edited "E" above the saved one was read as the saved one)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def read_law_file(path: str | os.PathLike[str]) -> tuple[Law, dict[str, Any]]:
    """(law, fit metadata) from a law file; the metadata is ``{}`` for a bare law."""
    if not isinstance(path, str | os.PathLike):  # Path(None) raised a bare TypeError
        raise InvalidInputError(
            f"law file must be a path, not {type(path).__name__}; give a law JSON saved by "
            "`tokenplan fit --save FILE`.",
            param="law",
        )
    p = Path(path)
    if p.is_dir():
        raise InvalidInputError(
            f"law file {str(p)!r} is a folder, not a law file; give a law JSON saved by `tokenplan fit "
            f"--save FILE`, or a preset name ({', '.join(PRESETS)}).",
            param="law",
        )
    if not p.is_file():
        raise InvalidInputError(
            f"law file {str(p)!r} does not exist; give a preset name or a saved law JSON.",
            param="law",
        )
    try:
        data = json.loads(p.read_bytes().decode("utf-8-sig"), object_pairs_hook=_no_repeated_key)
    except _RepeatedKey as exc:
        raise InvalidInputError(
            f"law file {str(p)!r} gives the key {exc.args[0]!r} twice in one object, and JSON would keep "
            "the last in silence; keep one of them.",
            param="law",
        ) from None
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"law file {str(p)!r} is not UTF-8 text; give a law JSON saved by tokenplan fit.",
            param="law",
        ) from None
    except (OSError, ValueError) as exc:
        raise InvalidInputError(
            f"law file {str(p)!r} is not valid JSON: {exc}.", param="law"
        ) from None
    if isinstance(data, dict) and ("format" in data or "fit" in data):
        found = data.get("format")
        if found != LAW_FILE_FORMAT:
            was = f"format {found!r}" if found else "no format field (an older tokenplan)"
            raise InvalidInputError(
                f"law file {str(p)!r} has {was}; this tokenplan reads {LAW_FILE_FORMAT!r}. Refit with "
                "`tokenplan fit RUNS --save FILE` to write it again.",
                param="law",
            )
    try:
        law = law_from_dict(data)
    except InvalidInputError as exc:
        raise InvalidInputError(f"law file {str(p)!r}: {exc}", param="law") from None
    meta = data.get("fit", {}) if isinstance(data, dict) else {}
    if not isinstance(meta, dict):
        raise InvalidInputError(
            f"law file {str(p)!r}: its 'fit' entry must be an object (what the fit used).",
            param="law",
        )
    return law, meta


def save_law(
    law: Law,
    path: str | os.PathLike[str],
    *,
    fit: dict[str, Any] | None = None,
    overwrite: bool = False,
    inputs: tuple = (),
) -> Path:
    """Write ``law`` (and the ``fit`` metadata: approach, form, backtest, runs used ...) as JSON, atomically.

    Refuses an existing file without ``overwrite``, any path equal to one of ``inputs``, and a law that
    :func:`load_law` would refuse (a fitted exponent <= 0: a law built in Python may hold one, a file not).
    """
    from tokenplan._io import atomic_write, check_output
    from tokenplan._json import dumps

    if not isinstance(law, Law):  # save_law(path, law) failed inside pathlib
        raise InvalidInputError(
            f"law must be a Law (e.g. a FitReport's .law), not {type(law).__name__}: "
            "save_law(law, path).",
            param="law",
        )

    payload = law.to_dict()
    _check_loads(law, payload, path)
    dst = check_output(path, param="save", overwrite=overwrite, inputs=inputs)
    doc = {"format": LAW_FILE_FORMAT, "law": payload, "fit": fit or {}}
    with atomic_write(dst) as fh:
        fh.write(dumps(doc) + "\n")
    return dst
