"""The one place run tables are read and validated: CSV (or TSV), JSONL or Parquet -> :class:`RunTable`.

A run table has one row per training run (model size, tokens or FLOPs, final loss). Column names are matched
case-insensitively against common aliases (``params``/``N``/``Model Size``, ``tokens``/``D``, ``flops``/``C``/
``Training FLOP``, ``loss``/``val_loss`` ...); ``columns={"loss": "val_loss_c4"}`` maps anything else.
When tokens are missing they are derived as D = C / (6N) (and FLOPs as C = 6ND), with a note saying so.

Rows that share a run id and carry a step (or token) column are a training *curve*; the last row of each run
is its final result and the whole curve is kept for Chinchilla's Approach 1. The sweep engine's
``results.csv`` (one row per run, with ``status``) and ``curves.csv`` are read as they are.

Nothing is ever dropped silently: every dropped row is counted with its reason in ``RunTable.dropped``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Self

import numpy as np

from tokenplan import _checks
from tokenplan._io import csv_separator, utf8_problem
from tokenplan._json import json_lines, json_problem
from tokenplan.errors import InvalidInputError, MissingDependencyError
from tokenplan.flops import FLOPS_PER_PARAM_TOKEN
from tokenplan.units import decimal_comma_fix, parse_quantity

__all__ = [
    "ALIASES",
    "Curves",
    "Points",
    "RunTable",
    "read_curves",
    "read_points",
    "read_runs",
    "runs_from_arrays",
]

# Canonical field -> accepted column names (compared after lower-casing and mapping spaces/dashes to "_").
ALIASES: dict[str, tuple[str, ...]] = {
    "run_id": ("run_id", "run", "id", "name", "run_name"),
    # A model name labels a run, but one model may be trained to several token counts (a row per model and
    # token count): it names one training curve only with a step column (:func:`_run_ids`).
    "model": ("model", "model_name"),
    "n_params": (
        "n_params",
        "params",
        "n",
        "model_size",
        "params_n",
        "num_params",
        "n_parameters",
        "parameters",
    ),
    "n_tokens": ("n_tokens", "tokens", "d", "tokens_d", "train_tokens", "num_tokens"),
    "flops": ("flops", "c", "training_flop", "training_flops", "compute", "train_flops"),
    "loss": ("loss", "val_loss", "l", "final_loss", "eval_loss", "val_loss_c4", "valid_loss"),
    "unique_tokens": ("unique_tokens", "u", "unique_tokens_u", "unique"),
    "flops_budget": ("flops_budget", "budget", "flop_budget"),
    "step": ("step", "iteration", "iter"),
    "status": ("status",),
    "kind": ("kind",),
    "epochs": ("epochs", "epochs_d_over_u"),
}
REQUIRED = ("n_params", "loss")
_NUMERIC = (
    "n_params",
    "n_tokens",
    "flops",
    "loss",
    "unique_tokens",
    "flops_budget",
    "step",
    "epochs",
)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


class _Rows:
    """The base of the tables read here (frozen dataclasses): each ``np.ndarray`` field holds one value a
    row, aligned with ``n_params``; the other fields (``source``, counts, notes) describe the whole table."""

    n_params: np.ndarray

    def __len__(self) -> int:
        return len(self.n_params)

    def take(self, idx: np.ndarray) -> Self:
        """The rows at positions ``idx``, in that order; repeats allowed (a bootstrap resample). Every array
        field is taken, so a field added later comes along; a field that is None stays None."""
        idx = np.asarray(idx, dtype=np.intp)
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: v[idx] for k, v in arrays.items() if isinstance(v, np.ndarray)})


@dataclass(frozen=True)
class Curves(_Rows):
    """Training curves: one row per logged point (run_id, step, n_tokens, flops, loss, n_params)."""

    run_id: np.ndarray
    n_params: np.ndarray
    n_tokens: np.ndarray
    flops: np.ndarray
    loss: np.ndarray
    source: str = ""
    #: Problems with the rows that do not stop a fit (a step logged twice), one line each.
    warnings: tuple[str, ...] = ()

    @property
    def n_runs(self) -> int:
        return len(np.unique(self.run_id))

    def __repr__(self) -> str:
        return f"Curves(points={len(self)}, runs={self.n_runs}, source={self.source!r})"


@dataclass(frozen=True)
class RunTable(_Rows):
    """Validated final results, one per run. Arrays are float64 and aligned; ``unique_tokens`` is NaN for
    fresh (never repeated) data. ``dropped`` maps a reason to the number of rows dropped for it."""

    run_id: np.ndarray
    n_params: np.ndarray
    n_tokens: np.ndarray
    flops: np.ndarray
    loss: np.ndarray
    unique_tokens: np.ndarray
    flops_budget: np.ndarray | None = None
    source: str = ""
    param_column: str = "n_params"
    dropped: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    curves: Curves | None = None
    #: Problems with the rows that do not stop a fit (a FLOPs column far from 6ND), one line each.
    warnings: tuple[str, ...] = ()

    @property
    def n_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    @property
    def param_convention(self) -> str:
        """Which N the table holds: "non-embedding" (Kaplan) when read from the sweep's
        ``n_params_non_embedding`` column, else "total" (Chinchilla, embeddings counted)."""
        return "non-embedding" if self.param_column == "n_params_non_embedding" else "total"

    @property
    def has_unique_tokens(self) -> bool:
        return bool(np.isfinite(self.unique_tokens).any())

    @property
    def n_points(self) -> int:
        """Distinct (N, D) pairs: runs at the same size and token count (seeds, copied rows) are one point
        of the law's surface, so they count once towards the number of parameters a fit can identify."""
        if not len(self):
            return 0
        return len(np.unique(np.column_stack([self.n_params, self.n_tokens]), axis=0))

    def require_points(self, k: int, what: str) -> None:
        """Refuse a fit of ``k`` parameters on fewer than ``k`` distinct (N, D) points, saying how many
        rows there were and what was dropped (a law through k points of k parameters fits any data)."""
        if self.n_points >= k:
            return
        extra = []
        if self.n_points < len(self):
            extra.append(f"{len(self)} runs; runs at the same N and D count once")
        if self.dropped:
            extra.append("dropped: " + "; ".join(f"{n} {why}" for why, n in self.dropped.items()))
        more = f" ({'; '.join(extra)})" if extra else ""
        raise InvalidInputError(
            f"{what} needs at least {k} runs at distinct (N, D) to fit {k} parameters; got "
            f"{self.n_points}{more}."
        )

    def subset(self, mask: np.ndarray, *, reason: str | None = None) -> RunTable:
        """The runs where ``mask`` is true; the others are counted under ``reason`` in ``dropped``."""
        mask = np.asarray(mask, dtype=bool)
        dropped = dict(self.dropped)
        n_out = int((~mask).sum())
        if reason and n_out:
            dropped[reason] = dropped.get(reason, 0) + n_out
        return replace(self.take(np.flatnonzero(mask)), dropped=dropped)

    def fresh_only(self) -> RunTable:
        """The runs on fresh data (no repetition: unique_tokens empty or >= n_tokens); the others are
        counted as dropped. Chinchilla's laws assume fresh data; repeated runs belong to the
        data-constrained law."""
        repeated = np.isfinite(self.unique_tokens) & (
            self.unique_tokens < self.n_tokens * (1 - 1e-9)
        )
        return self.subset(~repeated, reason="repeated data (fit them with --law data-constrained)")

    def drop_highest(self, k: int) -> RunTable:
        """Drop the ``k`` highest-loss runs (Epoch AI drops 5 such outliers from Chinchilla's Fig. 4 data)."""
        if k <= 0:
            return self
        if k >= len(self):
            raise InvalidInputError(f"--drop-highest {k} would drop all {len(self)} runs.")
        order = np.argsort(-self.loss, kind="stable")
        mask = np.ones(len(self), dtype=bool)
        mask[order[:k]] = False
        return self.subset(mask, reason=f"highest-loss runs (--drop-highest {k})")

    def __repr__(self) -> str:
        return (
            f"RunTable(runs={len(self)}, dropped={self.n_dropped}, sizes={len(np.unique(self.n_params))}, "
            f"loss=[{self.loss.min():.4g}, {self.loss.max():.4g}], source={self.source!r})"
            if len(self)
            else f"RunTable(runs=0, source={self.source!r})"
        )


# --- reading ---------------------------------------------------------------------------------------


def _read_rows(path: Path, what: str = "run table") -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("pandas", "fit") from None
        try:
            frame = pd.read_parquet(path)
        except ImportError:  # pragma: no cover
            raise MissingDependencyError("pyarrow", "fit") from None
        except Exception as exc:
            raise InvalidInputError(f"{path}: not a readable Parquet file ({exc}).") from None
        return frame.to_dict(orient="records")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem, fix = utf8_problem(path, exc)
        raise InvalidInputError(
            f"{path}: {problem}; {fix} (a {what} is a CSV, TSV, JSONL or Parquet file)."
        ) from None
    if suffix in (".jsonl", ".ndjson") or (suffix == ".json" and text.lstrip().startswith("{")):
        rows = []
        for i, row in json_lines(text.splitlines()):
            if isinstance(row, json.JSONDecodeError):
                raise InvalidInputError(
                    f"{path}: line {i} is not valid JSON ({json_problem(row)})."
                )
            if not isinstance(row, dict):
                raise InvalidInputError(f"{path}: line {i} is not a JSON object.")
            rows.append(row)
        return rows
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = json_problem(exc, where="line")
            raise InvalidInputError(f"{path}: not valid JSON ({problem}).") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InvalidInputError(f"{path}: a JSON run table must be a list of objects.")
        return data
    lines = text.splitlines()
    # a semicolon- or tab-separated table (Excel's where the decimal mark is a comma) is read as such; a
    # .tsv file is tab-separated whatever its header holds
    separator = csv_separator(lines[0] if lines else "", suffix=suffix)
    reader = csv.DictReader(lines, delimiter=separator)
    if reader.fieldnames is None:
        return []
    if len(set(reader.fieldnames)) != len(reader.fieldnames):
        raise InvalidInputError(f"{path}: the header repeats a column name: {reader.fieldnames}.")
    rows = []
    for r in reader:
        if None in r or None in r.values():  # a ragged row: more or fewer cells than the header
            n_cells = len(reader.fieldnames) + len(r.get(None, [])) - list(r.values()).count(None)
            raise InvalidInputError(
                f"{path}: line {reader.line_num} has {n_cells} cells for "
                f"{len(reader.fieldnames)} columns (a ragged or truncated row)."
            )
        rows.append(dict(r))
    return rows


#: fields that can never be one column (unique_tokens may repeat n_tokens: fresh data)
_DISTINCT = ("n_params", "n_tokens", "flops", "loss")


def _refuse_shared_column(mapping: dict[str, str], key: str, column: str) -> None:
    """``--columns n_params=Params,n_tokens=Params`` read one column as both (D = N): a typo."""
    for other, col in mapping.items():
        if col == column and key in _DISTINCT and other in _DISTINCT:
            raise InvalidInputError(
                f"--columns: {other} and {key} both name column {column!r}; each needs its own column."
            )


def _resolve_columns(
    header: list[str], columns: dict[str, str] | None, path: Path
) -> dict[str, str]:
    """Canonical field -> the column of the file that holds it."""
    by_norm = {}
    for h in header:
        by_norm.setdefault(_norm(h), h)
    mapping: dict[str, str] = {}
    for key, col in (columns or {}).items():
        if key not in ALIASES:
            raise InvalidInputError(
                f"--columns: unknown field {key!r}; valid fields: {', '.join(ALIASES)}."
            )
        found = col if col in header else by_norm.get(_norm(col))
        if found is None:
            raise InvalidInputError(
                f"--columns {key}={col}: {path} has no column {col!r}; columns found: "
                f"{', '.join(header)}."
            )
        _refuse_shared_column(mapping, key, found)
        mapping[key] = found
    used = set(mapping.values())
    for key, aliases in ALIASES.items():
        if key in mapping:
            continue
        for alias in aliases:
            col = by_norm.get(alias)
            if col is not None and col not in used:
                mapping[key] = col
                used.add(col)
                break
    return mapping


def _to_float(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text == "" or text.lower() in ("none", "null", "na", "nan"):
        return math.nan
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return parse_quantity(text, name="value")


def _column(rows, col, key, path) -> np.ndarray:
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        try:
            out[i] = _to_float(row.get(col))
        except InvalidInputError:
            fix = decimal_comma_fix(str(row.get(col)))  # '3,1': write a point
            raise InvalidInputError(
                f"{path}: row {i + 1}, column {col!r} ({key}) is not a number: {row.get(col)!r}"
                + (f"; {fix}" if fix else ".")
            ) from None
    return out


def _describe_rows(
    idx: np.ndarray, run_id: np.ndarray, values: np.ndarray, row: np.ndarray, *, value="{:g}".format
) -> str:
    """Rows ``idx`` of the parsed arrays by their row in the file (``row``: counted from 1 after the header,
    rows dropped for their status or folded into a curve included), run id and ``value(x)``."""

    def shown_value(x) -> str:
        # an empty cell is read as NaN: '(nan)' sent users looking for a 'nan' in the file
        return "empty or NaN" if isinstance(x, float | np.floating) and math.isnan(x) else value(x)

    shown = [
        f"row {row[i]} ({shown_value(values[i])})"
        if run_id[i] == f"row{row[i]}"  # no run id column: the row number says it all
        else f"row {row[i]} ({run_id[i]}: {shown_value(values[i])})"
        for i in idx[:8]
    ]
    more = f" and {len(idx) - 8} more" if len(idx) > 8 else ""
    return ", ".join(shown) + more


def _open_table(
    path, columns: dict[str, str] | None, what: str, empty: str, param: str | None = None
):
    """Read a run table or curves file: (path, rows, header, column mapping); missing or empty is an
    error naming the file (and ``param``, the argument that gave it, so the CLI names the flag)."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(  # the type, not the value: a DataFrame's repr is many lines
            f"{what} must be a path, not {type(path).__name__}; for columns in memory (a DataFrame) use "
            "tokenplan.runs.runs_from_arrays(df['n_params'], df['loss'], n_tokens=df['n_tokens']).",
            param="path",
        )
    p = Path(path)
    if p.is_dir():
        raise InvalidInputError(
            f"{what} {str(p)!r} is a folder; give a CSV, JSONL or Parquet file.", param=param
        )
    if not p.is_file():
        raise InvalidInputError(f"{what} {str(p)!r} does not exist.", param=param)
    rows = _read_rows(p, what)
    if not rows:
        raise InvalidInputError(f"{p}: {empty}.")
    header = list(dict.fromkeys(k for row in rows for k in row))
    return p, rows, header, _resolve_columns(header, columns, p)


def read_runs(
    path: str | os.PathLike[str],
    *,
    columns: dict[str, str] | None = None,
    drop_highest: int = 0,
    drop_invalid: bool = False,
) -> RunTable:
    """Read and validate a run table (CSV, JSONL or Parquet).

    ``columns`` maps a canonical field (``n_params``, ``n_tokens``, ``flops``, ``loss``, ``unique_tokens``,
    ``run_id``, ``step``, ``flops_budget``, ``status``) to a column name of the file, e.g.
    ``{"n_params": "n_params_non_embedding"}`` to fit on Kaplan's convention. Rows with a ``status`` other
    than ``ok`` are dropped and counted; rows with NaN/inf/non-positive sizes or losses are an error unless
    ``drop_invalid`` (then they are dropped and counted).

    Three steps: :func:`detect_columns` (which column holds what), :func:`_parse_runs` (numbers, derived
    tokens/FLOPs, curves folded to their last point) and :func:`_validate_runs` (every size and loss finite
    and > 0).
    """
    drop_highest = _read_options(columns, drop_highest, drop_invalid)
    p, rows, _header, mapping = detect_columns(path, columns)
    _refuse_identical_rows(rows, p)
    cols, notes, dropped = _parse_runs(rows, mapping, p)
    cols, curves = _fold_curves(cols, mapping, p, notes)
    cols = _validate_runs(cols, mapping, p, drop_invalid=drop_invalid, dropped=dropped)
    _note_copied_rows(cols, notes)
    warnings = _unit_header_warnings(rows, mapping) + _flops_warnings(cols, mapping)
    warnings += () if curves is None else curves.warnings
    table = RunTable(
        run_id=cols.run_id,
        n_params=cols.N,
        n_tokens=cols.D,
        flops=cols.C,
        loss=cols.L,
        unique_tokens=np.where(np.isfinite(cols.U), cols.U, np.nan),
        flops_budget=cols.budget,
        source=str(p),
        param_column=mapping["n_params"],
        dropped=dropped,
        notes=tuple(notes),
        warnings=warnings,
        curves=curves,
    )
    return table.drop_highest(drop_highest) if drop_highest else table


def _read_options(columns: object, drop_highest: object, drop_invalid: object) -> int:
    """read_runs' options checked before the file is read: drop_highest=-1 dropped nothing without a word,
    2.5 or '3' raised TypeError, drop_invalid='no' (truthy) dropped bad rows, and columns='loss=x'
    raised AttributeError. Returns drop_highest as an int."""
    if columns is not None and not isinstance(columns, Mapping):
        raise InvalidInputError(
            f"columns must be a dict such as {{'loss': 'val_loss'}}, not {type(columns).__name__}.",
            param="columns",
        )
    _checks.strict_bool("drop_invalid", drop_invalid)
    return _checks.positive_int("drop_highest", drop_highest, allow_zero=True)


def _refuse_identical_rows(rows: list[dict[str, Any]], p: Path) -> None:
    """Two rows equal in every column are one row written twice (a pasted line, a file appended to
    itself): read as runs they weigh twice in the fit and narrow its intervals, and with a run id they fold
    into a two-point "curve". No column tells them apart, so a second seed is not one (its loss, or its
    seed column, differs): refused, naming both rows (counted from 1 after the header, as elsewhere). Not
    in a curves file (:func:`read_curves`): that is a log, where a resumed run re-logs a step, with the
    same values or others, and gets a warning (:func:`_relogged`)."""
    first: dict[tuple[tuple[str, str], ...], int] = {}
    copies = []
    for i, row in enumerate(rows):
        key = tuple(sorted((str(k), repr(v)) for k, v in row.items()))
        if key in first:
            copies.append((first[key], i))
        else:
            first[key] = i
    if not copies:
        return
    a, b = copies[0]
    more = f" (and {len(copies) - 1} more copied row(s))" if len(copies) > 1 else ""
    raise InvalidInputError(
        f"{p}: rows {a + 1} and {b + 1} are identical in every column{more}: one row written twice "
        "(a pasted line or a file appended to itself); delete the copy. Runs with another seed differ "
        "in their loss or seed column."
    )


# FLOPs conventions (attention, embeddings and the LM head counted or not) put a run's FLOPs within 0.99 to
# 1.10x of 6ND at Chinchilla's sizes (Hoffmann et al. 2022 App. F, Table A4; REFERENCE.md sec. 1). A FLOPs
# column more than 2x from 6ND at the row's own N and D is not a convention: it is another N, a budget
# rather than the run's FLOPs, or a unit slip.
FLOPS_RATIO_LIMIT = 2.0


# a unit in a column's header: "params (M)", "Tokens [B]", "FLOPs (1e18)", "size (millions)"
_HEADER_UNIT = re.compile(
    r"[(\[]\s*(k|m|mn|b|bn|g|t|thousands?|millions?|billions?|trillions?|1e\d+|10\^\d+)\s*[)\]]",
    re.IGNORECASE,
)


_UNIT_SUFFIX = {"k": "K", "t": "T", "m": "M", "b": "B", "g": "B"}


def _unit_header_warnings(rows, mapping) -> tuple[str, ...]:
    """A warning per size column whose header names a unit ("params (M)") while its values are plain
    numbers: tokenplan reads 20 as 20 parameters, not 20 million (a value's own suffix, 20M, is read)."""
    out = []
    for key in ("n_params", "n_tokens", "flops", "unique_tokens"):
        col = mapping.get(key)
        unit = _HEADER_UNIT.search(col) if col else None
        if unit is None:
            continue
        for i, row in enumerate(rows):
            raw = str(row.get(col, "")).strip()
            if re.fullmatch(r"[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?", raw):
                word = unit.group(1)
                power = re.search(r"\d+$", word) if word[0] in "1" else None
                suffix = f"e{power.group()}" if power else _UNIT_SUFFIX[word[0].lower()]
                out.append(
                    f"column {col!r} ({key}) names a unit ({word!r}) in its header, but its plain "
                    f"numbers are read as counts (row {i + 1}: {raw} is {float(raw):g}, not "
                    f"{raw}{suffix}); write each value with its unit ({raw}{suffix}) or in full."
                )
                break
    return tuple(out)


def _flops_warnings(cols: _Cols, mapping) -> tuple[str, ...]:
    """One warning naming the rows whose FLOPs column is more than 2x from 6ND (tokens and FLOPs both
    given; a derived one is 6ND exactly). Not with N read from the sweep's ``n_params_non_embedding``
    (Kaplan's convention, chosen with --columns): its FLOPs count every parameter, and a tiny model's
    embeddings are most of it (5x at d_model 16), so the gap is the convention the user chose."""
    if "n_tokens" not in mapping or "flops" not in mapping:
        return ()
    if mapping["n_params"] == "n_params_non_embedding":
        return ()
    ratio = cols.C / (FLOPS_PER_PARAM_TOKEN * cols.N * cols.D)
    far = np.flatnonzero((ratio > FLOPS_RATIO_LIMIT) | (ratio < 1.0 / FLOPS_RATIO_LIMIT))
    if not len(far):
        return ()
    shown = _describe_rows(far, cols.run_id, ratio, cols.row, value="{:.3g}x".format)
    return (
        f"column {mapping['flops']!r} differs from 6·N·D by more than {FLOPS_RATIO_LIMIT:g}x at "
        f"{shown}: FLOPs conventions differ from 6ND by 0.99-1.10x (Hoffmann et al. 2022, "
        "Table A4), so one of n_params, n_tokens or flops is not this run's (another N convention, a "
        "budget instead of the run's FLOPs, a unit slip): check those rows.",
    )


def _note_copied_rows(cols: _Cols, notes: list[str]) -> None:
    """A note naming rows that repeat an earlier row's N, D, unique tokens and loss exactly under another
    run id (rows pasted and renamed; a row equal in every column is refused, :func:`_refuse_identical_rows`).
    Each copy counts as a run, so it weighs twice in the fit and narrows the bootstrap intervals; a second
    seed (another loss) is not a copy."""
    key = np.column_stack([cols.N, cols.D, np.nan_to_num(cols.U, nan=-1.0), cols.L])
    _, first = np.unique(key, axis=0, return_index=True)
    copies = np.setdiff1d(np.arange(len(key)), first)
    if len(copies):
        shown = ", ".join(str(r) for r in cols.run_id[copies[:8]])
        more = f" and {len(copies) - 8} more" if len(copies) > 8 else ""
        notes.append(
            f"{len(copies)} row(s) repeat an earlier row's n_params, n_tokens and loss exactly "
            f"({shown}{more}): each copy counts as a run and narrows the intervals; remove copied rows."
        )


def detect_columns(path, columns: dict[str, str] | None = None):
    """(path, rows, header, field -> column) of a run table; a missing required column is an error that
    lists the columns found."""
    p, rows, header, mapping = _open_table(
        path, columns, "run table", "the run table is empty (no data rows)"
    )
    missing = [k for k in REQUIRED if k not in mapping]
    if "n_tokens" not in mapping and "flops" not in mapping:
        missing.append("n_tokens or flops")
    if missing:
        raise InvalidInputError(
            f"{p}: missing column(s) for {', '.join(missing)}; columns found: {', '.join(header)}. "
            f"Map them with --columns, e.g. --columns {_columns_example(missing, header, mapping)}."
        )
    return p, rows, header, mapping


# a word in a column's name that suggests the field (for the example of a missing column's message)
_FIELD_WORDS = {"loss": "loss", "n_params": "param", "n_tokens": "token", "flops": "flop"}


def _columns_example(missing: list[str], header: list[str], mapping: dict[str, str]) -> str:
    """``--columns`` pairs for the missing fields from the file's own unmapped columns whose name holds
    the field's word ('test_loss' for loss); the generic example when none does (its columns, val_loss and
    params, are aliases that need no mapping, so they only show the syntax)."""
    free = [h for h in header if h not in mapping.values()]
    pairs = []
    for want in missing:
        for key in want.split(" or "):
            hit = next((h for h in free if _FIELD_WORDS[key] in _norm(h)), None)
            if hit is not None:
                pairs.append(f"{key}={hit}")
                free.remove(hit)
                break
    if not pairs:
        return "loss=val_loss,n_params=params"
    text = ",".join(pairs)
    return f"'{text}'" if any(c in text for c in " ()[]") else text


@dataclass
class _Cols:
    """Aligned per-row arrays while a run table is parsed."""

    run_id: np.ndarray
    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    L: np.ndarray
    U: np.ndarray
    budget: np.ndarray | None
    #: each row's number in the file (from 1 after the header), for messages: rows dropped for their
    #: status or folded into a curve leave gaps
    row: np.ndarray
    order_key: np.ndarray | None = None

    def take(self, idx) -> _Cols:
        arrays = (self.run_id, self.N, self.D, self.C, self.L, self.U)
        budget, order_key = (a if a is None else a[idx] for a in (self.budget, self.order_key))
        return _Cols(*(a[idx] for a in arrays), budget, self.row[idx], order_key)


def _parse_runs(rows, mapping, p) -> tuple[_Cols, list[str], dict[str, int]]:
    """Numbers per field, rows whose status is not ok dropped (counted), D or C derived when absent."""
    notes: list[str] = []
    dropped: dict[str, int] = {}
    run_id = np.array(_run_ids(rows, mapping, notes), dtype=object)
    keep = np.ones(len(rows), dtype=bool)
    if "status" in mapping:
        status = np.array([str(r.get(mapping["status"], "")).strip().lower() for r in rows])
        for value in sorted({str(v) for v in status} - {"ok"}):
            dropped[f"status={value!r} (not 'ok')"] = int((status == value).sum())
        keep &= status == "ok"
    data = {k: _column(rows, mapping[k], k, p)[keep] for k in _NUMERIC if k in mapping}
    if mapping["n_params"] != "n_params":
        notes.append(f"N (model size) read from column {mapping['n_params']!r}.")
    if not keep.any():
        raise InvalidInputError(
            f"{p}: no usable runs: every row was dropped ({'; '.join(f'{v} {k}' for k, v in dropped.items())})."
        )
    N = data["n_params"]
    D, C = _tokens_and_flops(data, mapping, notes)
    U = _unique_tokens(data, D, notes)
    row = np.arange(1, len(rows) + 1)[keep]
    cols = _Cols(run_id[keep], N, D, C, data["loss"], U, data.get("flops_budget"), row)
    cols.order_key = data.get("step", D)
    return cols, notes, dropped


def _run_ids(rows, mapping, notes: list[str]) -> list[str]:
    """Each row's run id: the run id column; else the model column (``model``, ``Model``), which names a
    training curve only when a step column orders it, and otherwise a run per row, a model repeated on
    several rows (one per token count, as Chinchilla's tables) numbered '400M #1', '400M #2' (read as
    one curve, 4 runs of 2 models became 2); else the row number ('row28')."""
    if "run_id" in mapping:
        return [str(r.get(mapping["run_id"], "")) for r in rows]
    if "model" not in mapping:
        return [f"row{i + 1}" for i in range(len(rows))]
    names = [str(r.get(mapping["model"]) or "").strip() for r in rows]
    if "step" in mapping:
        return [name or f"row{i + 1}" for i, name in enumerate(names)]
    total = Counter(names)
    shared = sorted(name for name, k in total.items() if name and k > 1)
    if shared:
        notes.append(
            f"rows sharing a model name ({', '.join(shared[:3])}{', ...' if len(shared) > 3 else ''}) read "
            f"as separate runs, numbered '{shared[0]} #1', ...: no step column orders them as a training "
            "curve (add one, or a run_id column, to read them as one)."
        )
    seen: Counter[str] = Counter()
    out = []
    for i, name in enumerate(names):
        seen[name] += 1
        if not name:
            out.append(f"row{i + 1}")
        else:
            out.append(name if total[name] == 1 else f"{name} #{seen[name]}")
    return out


def _tokens_and_flops(data, mapping, notes) -> tuple[np.ndarray, np.ndarray]:
    """D and C, each derived from the other with C = 6ND where missing (said in a note).

    A product that overflows is inf, without numpy's warning: validation names the rows.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return _derive_tokens_and_flops(data, mapping, notes)


def _derive_tokens_and_flops(data, mapping, notes) -> tuple[np.ndarray, np.ndarray]:
    N = data["n_params"]
    if "n_tokens" in data and "flops" in data:
        D, C = data["n_tokens"], data["flops"]
        fill = ~np.isfinite(D) & np.isfinite(C)
        if fill.any():
            D = np.where(fill, C / (FLOPS_PER_PARAM_TOKEN * N), D)
            notes.append(f"{int(fill.sum())} empty token counts derived as D = C / (6N).")
        fillc = ~np.isfinite(C) & np.isfinite(D)
        return D, np.where(fillc, FLOPS_PER_PARAM_TOKEN * N * D, C)
    if "n_tokens" in data:
        notes.append("no FLOPs column: C = 6ND.")
        return data["n_tokens"], FLOPS_PER_PARAM_TOKEN * N * data["n_tokens"]
    notes.append(f"no tokens column: D derived as C / (6N) from {mapping['flops']!r}.")
    return data["flops"] / (FLOPS_PER_PARAM_TOKEN * N), data["flops"]


def _unique_tokens(data, D, notes) -> np.ndarray:
    """U per run (NaN = fresh); U = D / epochs where only the epoch count was logged."""
    U = data.get("unique_tokens", np.full(len(D), np.nan))
    if "epochs" in data:
        ep = data["epochs"]
        fill = ~np.isfinite(U) & np.isfinite(ep) & (ep > 1)
        if fill.any():
            U = np.where(fill, D / np.where(fill, ep, 1.0), U)
            notes.append(f"{int(fill.sum())} empty unique_tokens derived as n_tokens / epochs.")
    return U


def _fold_curves(cols: _Cols, mapping, p, notes) -> tuple[_Cols, Curves | None]:
    """Rows sharing a run id with a step (or tokens) column are a curve: keep the curve, and its last
    point as the run's result."""
    ids, counts = np.unique(cols.run_id.astype(str), return_counts=True)
    repeated = ids[counts > 1]
    if not len(repeated) or not ("run_id" in mapping or "model" in mapping):
        return cols, None
    if "step" not in mapping and "n_tokens" not in mapping:
        raise InvalidInputError(
            f"{p}: duplicate runs {', '.join(repeated[:5])}: several rows share a run id but there is "
            "no step or tokens column to order them as a training curve."
        )
    _refuse_mixed_sizes(cols, repeated, p)
    key = "step" if "step" in mapping else "n_tokens"
    arrays = (cols.run_id, cols.N, cols.D, cols.C, cols.L, cols.order_key)
    curves = _make_curves(*arrays, str(p), row=cols.row, key=key)
    cols = cols.take(_last_per_run(cols.run_id, cols.order_key))
    notes.append(
        f"rows sharing a run id read as training curves; the last point of each of "
        f"{len(cols.run_id)} runs is its result."
    )
    return cols, curves


def _refuse_mixed_sizes(cols: _Cols, repeated, p) -> None:
    """A training curve is one model: rows sharing a run id with different sizes are two runs under one
    name (a copy-paste typo), and folding them to the last point would drop one unannounced."""
    ids = cols.run_id.astype(str)
    for rid in repeated:
        rows = np.flatnonzero(ids == rid)
        sizes = cols.N[rows][np.isfinite(cols.N[rows])]
        if len(sizes) and not np.allclose(sizes, sizes[0], rtol=1e-6, atol=0.0):
            a, b = sizes[0], sizes[~np.isclose(sizes, sizes[0], rtol=1e-6, atol=0.0)][0]
            raise InvalidInputError(
                f"{p}: run id {str(rid)!r} is on rows with different params ({a:.4g} and {b:.4g}); rows "
                "sharing a run id are one run's training curve, with one model size: give each run "
                "its own id."
            )


def _validate_runs(cols: _Cols, mapping, p, *, drop_invalid: bool, dropped: dict) -> _Cols:
    """Every size and loss finite and > 0, and a run at least one parameter and one (unique) token (an
    error listing the rows, or dropped with ``drop_invalid``); run ids unique; an all-empty budget column
    is no budget column."""
    bad_msgs = []
    bad_any = np.zeros(len(cols.L), dtype=bool)
    for name, arr, least, finite in (
        ("n_params", cols.N, 1.0, True),
        ("n_tokens", cols.D, 1.0, True),
        ("flops", cols.C, 0.0, True),
        ("loss", cols.L, 0.0, True),
        ("unique_tokens", cols.U, 1.0, False),  # empty (NaN) or inf cells are fresh data
    ):
        bad = (arr < least) | (arr <= 0)
        if finite:
            bad |= ~np.isfinite(arr)
        if bad.any():
            bad_any |= bad
            where = _describe_rows(np.flatnonzero(bad), cols.run_id, arr, cols.row)
            bar = "> 0" if least == 0.0 else "at least 1"
            col = mapping.get(name, name)  # the file's own column, when its name is not the field's
            what = name if col == name else f"column {col!r} ({name})"
            bad_msgs.append(f"{what} must be {'finite and ' if finite else ''}{bar} at {where}")
    if bad_msgs:
        if not drop_invalid:
            raise InvalidInputError(
                f"{p}: "
                + "; ".join(bad_msgs)
                + ". Fix the rows or pass --drop-invalid to drop them."
            )
        dropped["NaN/inf/non-positive values or sizes under one (--drop-invalid)"] = int(
            bad_any.sum()
        )
        cols = cols.take(~bad_any)
        if len(cols.L) == 0:
            raise InvalidInputError(f"{p}: no valid runs left after dropping invalid rows.")
    if "run_id" in mapping:
        ids, counts = np.unique(cols.run_id.astype(str), return_counts=True)
        if (counts > 1).any():  # only reachable when curves could not be formed
            raise InvalidInputError(f"{p}: duplicate run ids: {', '.join(ids[counts > 1][:5])}.")
    if cols.budget is not None and not np.isfinite(cols.budget).any():
        cols.budget = None
    return cols


def _last_per_run(run_id: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    idx = {}
    for i, (r, k) in enumerate(zip(run_id, order_key)):
        if r not in idx or k >= order_key[idx[r]]:
            idx[r] = i
    return np.array(sorted(idx.values()), dtype=int)


def _make_curves(run_id, N, D, C, L, order_key, source, *, row, key) -> Curves:
    """The curves' points with finite, positive values, ordered by run and ``key`` (the ``order_key``
    column's field), each ``(run, key)`` once (:func:`_relogged`); ``row`` numbers the rows in the file."""
    ok = np.isfinite(N) & np.isfinite(D) & np.isfinite(L) & (N > 0) & (D > 0) & (L > 0)
    idx, warnings = _relogged(np.flatnonzero(ok), run_id, order_key, row, key, source, (N, D, C, L))
    order = idx[np.lexsort((order_key[idx], run_id[idx].astype(str)))]
    return Curves(
        run_id=run_id[order],
        n_params=N[order],
        n_tokens=D[order],
        flops=np.where(np.isfinite(C), C, FLOPS_PER_PARAM_TOKEN * N * D)[order],
        loss=L[order],
        source=source,
        warnings=warnings,
    )


def _relogged(
    idx, run_id, order_key, row, key: str, source: str, values
) -> tuple[np.ndarray, tuple]:
    """``idx`` with one row per (run, ``key``): a resumed run that logs a step again keeps its later row
    (as a run's result is its last row), with one warning for the steps logged again with other
    ``values`` (the N, D, C, L columns) and one for those logged again with the same values (a
    deterministic resume: harmless, but said). In a run table, rows equal in every column were refused
    before (:func:`_refuse_identical_rows`); a curves file is a log, and gets these warnings."""
    rows_of: dict[tuple, list[int]] = {}
    for i in idx:
        rows_of.setdefault((run_id[i], order_key[i]), []).append(int(i))
    twice = [(k, rs) for k, rs in rows_of.items() if len(rs) > 1]
    if not twice:
        return idx, ()

    def same(rs: list[int]) -> bool:
        return all(
            np.array_equal(v[rs], np.full(len(rs), v[rs[0]]), equal_nan=True) for v in values
        )

    def rows(rs: list[int]) -> str:
        return ", ".join(str(row[i]) for i in rs[:-1]) + f" and {row[rs[-1]]}"

    def shown(groups) -> str:
        text = "; ".join(f"run {rid} {key} {v:g} (rows {rows(rs)})" for (rid, v), rs in groups[:5])
        return text + (f"; and {len(groups) - 5} more" if len(groups) > 5 else "")

    differ = [g for g in twice if not same(g[1])]
    copied = [g for g in twice if same(g[1])]
    warnings = []
    if differ:
        warnings.append(
            f"{source}: a {key} logged twice with different values: {shown(differ)}; the later row "
            "is kept (a resumed run that logged the step again?); delete the earlier row if it is not "
            "the one to fit."
        )
    if copied:
        warnings.append(
            f"{source}: a {key} logged twice with the same values: {shown(copied)}; read once (a "
            "resumed run that logged the step again)."
        )
    kept = np.array(sorted(rs[-1] for rs in rows_of.values()), dtype=int)
    return kept, tuple(warnings)


def require_table(value: object, kind: type = RunTable, *, param: str = "runs") -> None:
    """One clear line for a DataFrame, a path or a list given where a fit needs a :class:`RunTable` (or
    :class:`Curves`): each fit failed on a missing attribute deep inside ("'str' object has no attribute
    'flops_budget'")."""
    how = (
        "read a file with tokenplan.runs.read_runs(path), or build one from columns with "
        "tokenplan.runs.runs_from_arrays(n_params, loss, n_tokens=...)"
        if kind is RunTable
        else "read training curves with tokenplan.runs.read_curves(path)"
    )
    _checks.instance(param, value, kind, how)


def read_curves(path: str | os.PathLike[str], *, columns: dict[str, str] | None = None) -> Curves:
    """Read training curves (the sweep's ``curves.csv``: run_id, step, n_tokens, flops, loss, n_params).

    Rows with missing or non-positive values (e.g. the step-0 point) are skipped; they are not results.
    """
    p, rows, header, mapping = _open_table(
        path, columns, "curves file", "the curves file is empty", param="curves"
    )
    missing = [k for k in ("run_id", "loss") if k not in mapping]
    if "n_tokens" not in mapping and "flops" not in mapping:
        missing.append("n_tokens or flops")
    if missing:
        raise InvalidInputError(
            f"{p}: curves need column(s) {', '.join(missing)}; columns found: {', '.join(header)}."
        )
    # no _refuse_identical_rows: a curves file is a log, and a resumed run re-logs a step (_relogged)
    run_id = np.array([str(r.get(mapping["run_id"], "")) for r in rows], dtype=object)
    data = {k: _column(rows, mapping[k], k, p) for k in _NUMERIC if k in mapping}
    L = data["loss"]
    N = data.get("n_params")
    if N is None:
        raise InvalidInputError(
            f"{p}: curves need an n_params column (or map one with --columns n_params=...)."
        )
    if "n_tokens" in data:
        D = data["n_tokens"]
        C = data.get("flops", FLOPS_PER_PARAM_TOKEN * N * D)
    else:
        C = data["flops"]
        D = C / (FLOPS_PER_PARAM_TOKEN * N)
    key, row = "step" if "step" in data else "n_tokens", np.arange(1, len(rows) + 1)
    return _make_curves(run_id, N, D, C, L, data.get("step", D), str(p), row=row, key=key)


def runs_from_arrays(
    n_params, loss, *, n_tokens=None, flops=None, unique_tokens=None, run_id=None, flops_budget=None
) -> RunTable:
    """A :class:`RunTable` from arrays, lists or pandas Series (for library use and tests); validated like a
    file, each error naming its argument (``.param``): text that is not a number, columns of different
    lengths, NaN, inf or values <= 0, and, as in a file, a run of under one parameter or (unique) token
    (sizes are counts: 4e8, not 0.4 billion). NaN or inf in ``unique_tokens`` is fresh data."""
    arrays = {"n_params": n_params, "loss": loss, "n_tokens": n_tokens, "flops": flops}
    for name, values in {**arrays, "unique_tokens": unique_tokens}.items():
        _checks.no_booleans(name, values)
    N, L = _numbers("n_params", n_params), _numbers("loss", loss)
    if n_tokens is None and flops is None:
        raise InvalidInputError("give n_tokens or flops.", param="n_tokens")
    D = _numbers("n_tokens", n_tokens) if n_tokens is not None else None
    C = _numbers("flops", flops) if flops is not None else None
    given = {"n_params": N, "loss": L, "n_tokens": D, "flops": C}
    U = None if unique_tokens is None else _numbers("unique_tokens", unique_tokens)
    budget = None if flops_budget is None else _numbers("flops_budget", flops_budget)
    ids = None if run_id is None else np.asarray(run_id, dtype=object).ravel()
    for name, arr in {**given, "unique_tokens": U, "flops_budget": budget, "run_id": ids}.items():
        if (
            arr is not None
            and len(arr) != len(N)
            and not (name == "unique_tokens" and len(arr) == 1)
        ):
            raise InvalidInputError(
                f"{name} has {len(arr)} values but n_params has {len(N)}; give one per run.",
                param=name,
            )
    D = C / (FLOPS_PER_PARAM_TOKEN * N) if D is None else D
    C = FLOPS_PER_PARAM_TOKEN * N * D if C is None else C
    # as read_runs: a run is at least one parameter and one token (0.4 for 400M, in billions, is refused)
    for name, arr, least in (
        ("n_params", N, 1),
        ("n_tokens", D, 1),
        ("flops", C, 0),
        ("loss", L, 0),
    ):
        bad = ~np.isfinite(arr) | (arr <= 0) | (arr < least)
        if bad.any():
            bar = "at least 1 (a count, not millions or billions)" if least else "> 0"
            raise InvalidInputError(
                f"{name} must be finite and {bar}; bad at positions "
                f"{np.flatnonzero(bad)[:8].tolist()}.",
                param=name,
            )
    if U is not None and (bad := U < 1).any():  # NaN or inf: fresh data, as an empty cell in a file
        raise InvalidInputError(
            f"unique_tokens must be at least 1 (a count); bad at positions "
            f"{np.flatnonzero(bad)[:8].tolist()}.",
            param="unique_tokens",
        )
    U = np.full(len(N), np.nan) if U is None else U * np.ones(len(N))
    if ids is None:
        ids = np.array([f"run{i}" for i in range(len(N))], dtype=object)
    return RunTable(ids, N, D, C, L, U, flops_budget=budget, source="<arrays>")


def _numbers(name: str, values) -> np.ndarray:
    """One column of :func:`runs_from_arrays` as a flat float array, or an error naming it."""
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must hold numbers; it holds {values!r:.80}.", param=name
        ) from None


@dataclass(frozen=True)
class Points(_Rows):
    """Model sizes and token counts to predict at (``tokenplan predict --points``); ``unique_tokens`` is
    NaN where the data is fresh."""

    n_params: np.ndarray
    n_tokens: np.ndarray
    unique_tokens: np.ndarray
    source: str = ""


def read_points(path: str | os.PathLike[str], *, columns: dict[str, str] | None = None) -> Points:
    """Read (n_params, n_tokens or flops[, unique_tokens]) rows to predict at; the same column aliases as
    :func:`read_runs`, no loss needed. Every value must be finite and > 0 (an empty unique_tokens = fresh)."""
    p, rows, header, mapping = _open_table(
        path, columns, "points file", "the points file is empty", param="points"
    )
    missing = [] if "n_params" in mapping else ["n_params"]
    if "n_tokens" not in mapping and "flops" not in mapping:
        missing.append("n_tokens or flops")
    if missing:
        raise InvalidInputError(
            f"{p}: missing column(s) for {', '.join(missing)}; columns found: {', '.join(header)}.",
            param="points",
        )
    N = _column(rows, mapping["n_params"], "n_params", p)
    # The column the file gives is checked under its own name (a flops of -5 is the flops column's fault).
    given = "n_tokens" if "n_tokens" in mapping else "flops"
    D_or_C = _column(rows, mapping[given], given, p)
    with np.errstate(all="ignore"):
        D = D_or_C if given == "n_tokens" else D_or_C / (FLOPS_PER_PARAM_TOKEN * N)
    U = (
        _column(rows, mapping["unique_tokens"], "unique_tokens", p)
        if "unique_tokens" in mapping
        else np.full(len(N), np.nan)
    )
    row = np.arange(1, len(N) + 1)
    ids = np.array([f"row{i}" for i in row], dtype=object)
    for name, arr, allow_nan in (
        ("n_params", N, False),
        (given, D_or_C, False),
        ("n_tokens", D, False),
        ("unique_tokens", U, True),
    ):
        bad = (np.isfinite(arr) & (arr <= 0)) | (np.isinf(arr) | (np.isnan(arr) & (not allow_nan)))
        if bad.any():
            where = _describe_rows(np.flatnonzero(bad), ids, arr, row)
            raise InvalidInputError(
                f"{p}: {name} must be finite and > 0 at {where}.", param="points"
            )
    from tokenplan.laws.prediction import training_flops

    for i, (n, d) in enumerate(zip(N, D), start=1):  # 6ND within float64, or the row is named
        training_flops(float(n), float(d), source=f"{p}, row {i}", param="points")
    tokens = "n_tokens" if given == "n_tokens" else "n_tokens (flops / 6 n_params)"
    counts = (
        ("n_params", N, "parameter"),
        (tokens, D, "token"),
        ("unique_tokens", U, "unique token"),
    )
    _refuse_under_one(p, counts, ids, row)
    return Points(N, D, U, str(p))


def _refuse_under_one(p, counts, ids: np.ndarray, row: np.ndarray) -> None:
    """A points row counting less than one parameter, token or unique token is refused naming the file, the
    column and the row, as `predict --params 0.5` is refused: it was, but as '--params 0.5 is less than one
    parameter', a flag the user had not given, with no file or row."""
    for name, arr, noun in counts:
        under = np.isfinite(arr) & (arr < 1.0)
        if under.any():
            where = _describe_rows(np.flatnonzero(under), ids, arr, row)
            raise InvalidInputError(
                f"{p}: {name} is less than one {noun} at {where}; give at least 1.", param="points"
            )
