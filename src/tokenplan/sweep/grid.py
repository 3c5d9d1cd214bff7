"""Sweep grids (IsoFLOP and repetition) from a YAML spec, and the resumable results files they fill.

Layout of a sweep directory::

    sweep.yaml              the resolved spec (a re-run must match it, or pass extend=True)
    corpus.npz              the tokenized corpus every run trains on (made once)
    runs/<run_id>/config.json   the run's resolved config, written before it starts
    runs/<run_id>/result.json   its metrics and curve, written atomically when it ends
    runs/<run_id>/ckpt.pt       a checkpoint of a long run in progress (removed when it ends)
    results.csv             one row per finished run (the schema ``tokenplan fit`` reads)
    curves.csv              one row per held-out evaluation
    results_best_lr.csv     with an LR mini-sweep: the best LR's run per (budget, model, ...)

Crash safety: a run is finished exactly when its ``result.json`` exists; that file is written to a temporary
name, fsynced and renamed, so it is either whole or absent. ``results.csv`` and ``curves.csv`` are rebuilt
from all ``result.json`` files (again temp + fsync + rename) after every finished run and at every start, so
a SIGKILL at any moment loses at most the runs in progress (which resume from their checkpoints) and never
duplicates or tears a row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tokenplan import _checks
from tokenplan._io import write_text_atomic
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.presets import PRESETS, SIZE_LADDER

__all__ = [
    "CURVE_COLUMNS",
    "DROPOUT_SCHEDULES",
    "KINDS",
    "RESULT_COLUMNS",
    "RunSpec",
    "SweepSpec",
    "auto_sizes",
    "expand",
    "finished_records",
    "load_spec",
    "parse_size",
    "preset_dict",
    "read_results",
    "rebuild_results",
    "result_row",
    "spec_from_dict",
    "with_overrides",
]

KINDS = ("isoflop", "repeat")
DROPOUT_SCHEDULES = ("none", "constant", "late")

RESULT_COLUMNS = (
    "run_id",
    "status",
    "n_params",
    "n_params_non_embedding",
    "n_params_embedding",
    "n_params_lm_head",
    "n_tokens",
    "flops",
    "flops_budget",
    "loss",
    "unique_tokens",
    "epochs",
    "dropout",
    "dropout_start",
    "lr",
    "batch_tokens",
    "steps",
    "seed",
    "kind",
    "wall_seconds",
    # extras after the contract's columns
    "model",
    "dropout_schedule",
    "error",
)
CURVE_COLUMNS = ("run_id", "step", "n_tokens", "flops", "loss", "n_params", "train_loss", "lr")


# --- the spec -------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """A sweep: which runs to train and how. Loaded from YAML (:func:`load_spec`) or built from flags."""

    kind: str = "isoflop"
    """'isoflop' (budgets x model sizes) or 'repeat' (one model, fixed tokens, unique tokens varied)."""
    description: str = ""
    # data
    data: str | None = None
    """Text/JSONL file or directory; None = the shipped Shakespeare sample."""
    tokenizer: str = "byte"
    """'byte' or 'gpt2'."""
    val_fraction: float = 0.1
    """Held-out share of every document (its tail)."""
    text_field: str = "text"
    """JSONL field holding the text."""
    # isoflop
    budgets: tuple[float, ...] = ()
    """Training FLOPs per run (isoflop)."""
    sizes: str | tuple[str, ...] = "auto"
    """'auto' (around each budget's optimum by ``law``) or shapes like 'L2-d64-h2'."""
    n_sizes: int = 5
    """With sizes='auto': models per budget."""
    size_spread: float = 4.0
    """With sizes='auto': the largest model is this many times the predicted optimum (the smallest 1/x)."""
    size_center: float = 1.0
    """With sizes='auto': centre the sizes on this multiple of the law's optimum (tiny byte-level models
    are compute-optimal well below Chinchilla's ~20 tokens/param; the cpu-demo preset uses 0.35)."""
    law: str = "chinchilla-a1"
    """Law that predicts the optimum for sizes='auto'."""
    # repeat
    model: str | None = None
    """The one model of a repeat sweep, e.g. 'L2-d64-h2'."""
    n_tokens: float | None = None
    """Total training tokens per run (repeat)."""
    epochs: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
    """Repeat: unique tokens = n_tokens / epochs."""
    dropout_schedules: tuple[str, ...] = ("none",)
    """Repeat: 'none', 'constant' (p from the start) and/or 'late' (p from ``late_start``)."""
    dropout: float = 0.1
    """p of the 'constant' and 'late' schedules."""
    late_start: float = 0.5
    """Fraction of training after which 'late' dropout switches on."""
    # training
    seq_len: int = 128
    batch_size: int = 16
    lrs: tuple[float, ...] = (3e-3,)
    """Peak LRs; more than one runs a per-size LR mini-sweep (see results_best_lr.csv)."""
    seeds: tuple[int, ...] = (0,)
    schedule: str = "cosine"
    warmup_fraction: float = 0.05
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    tied_embeddings: bool = True
    n_evals: int = 8
    eval_tokens: int = 16384
    min_steps: int = 50
    flops_method: str = "appendix-f"
    # resources
    device: str = "auto"
    num_cpus: float = 1.0
    """CPUs per run (Ray) — and torch threads per worker."""
    num_gpus: float = 0.0
    """GPUs per run (Ray)."""

    def __post_init__(self) -> None:
        problems: list[str] = []

        def check(fn, *args, **kw):
            try:
                return fn(*args, **kw)
            except InvalidInputError as exc:
                problems.append(str(exc))

        if self.kind not in KINDS:
            problems.append(f"kind={self.kind!r} must be one of {', '.join(KINDS)}.")
        if self.tokenizer not in ("byte", "gpt2"):
            problems.append(f"tokenizer={self.tokenizer!r} must be 'byte' or 'gpt2'.")
        check(_checks.in_range, "val_fraction", self.val_fraction, 0.0, 0.5, inclusive=False)
        for key in ("seq_len", "batch_size", "n_sizes", "n_evals", "eval_tokens", "min_steps"):
            check(_checks.positive_int, key, getattr(self, key))
        check(_checks.positive, "size_spread", self.size_spread)
        check(_checks.positive, "size_center", self.size_center)
        if self.size_spread < 1:
            problems.append(f"size_spread={self.size_spread!r} must be >= 1.")
        if not self.lrs:
            problems.append("lrs is empty; give at least one learning rate.")
        for lr in self.lrs:
            check(_checks.positive, "lrs", lr)
        if not self.seeds:
            problems.append("seeds is empty; give at least one seed.")
        for s in self.seeds:
            check(_checks.positive_int, "seeds", s, allow_zero=True)
        check(_checks.in_range, "dropout", self.dropout, 0.0, 0.95)
        check(_checks.in_range, "late_start", self.late_start, 0.0, 1.0)
        check(_checks.positive, "num_cpus", self.num_cpus)
        check(_checks.positive, "num_gpus", self.num_gpus, allow_zero=True)
        if self.kind == "isoflop":
            if not self.budgets:
                problems.append(
                    "budgets is empty; an isoflop sweep needs FLOP budgets (e.g. 3e11,1e12)."
                )
            for b in self.budgets:
                check(_checks.positive, "budgets", b)
            if self.sizes != "auto":
                if not self.sizes:
                    problems.append("sizes is empty; give 'auto' or shapes like L2-d64-h2.")
                for s in self.sizes:
                    check(parse_size, s)
        else:
            if self.model is None:
                problems.append("a repeat sweep needs model (e.g. model: L2-d64-h2).")
            else:
                check(parse_size, self.model)
            if self.n_tokens is None:
                problems.append("a repeat sweep needs n_tokens (total training tokens per run).")
            else:
                check(_checks.positive, "n_tokens", self.n_tokens)
            if not self.epochs:
                problems.append("epochs is empty; give e.g. 1,4,16,64.")
            for e in self.epochs:
                if check(_checks.positive, "epochs", e) is not None and e < 1:
                    problems.append(
                        f"epochs={e!r} must be >= 1 (a run cannot see less than its data)."
                    )
            if not self.dropout_schedules:
                problems.append("dropout_schedules is empty; give none, constant and/or late.")
            for d in self.dropout_schedules:
                if d not in DROPOUT_SCHEDULES:
                    problems.append(
                        f"dropout schedule {d!r} must be one of {', '.join(DROPOUT_SCHEDULES)}."
                    )
        if problems:
            raise InvalidInputError(" ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, tuple):
                d[key] = list(value)
        return d

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


_TUPLE_FIELDS = ("budgets", "epochs", "dropout_schedules", "lrs", "seeds")
_NUMBER_FIELDS = (
    "n_tokens",
    "val_fraction",
    "size_spread",
    "size_center",
    "dropout",
    "late_start",
    "warmup_fraction",
    "min_lr_ratio",
    "weight_decay",
    "grad_clip",
    "num_cpus",
    "num_gpus",
)


def spec_from_dict(data: dict[str, Any], *, source: str = "spec") -> SweepSpec:
    """Build a :class:`SweepSpec` from a mapping (YAML), reporting unknown keys with the valid ones."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{source}: a sweep spec must be a mapping of keys to values.")
    data = dict(data)
    preset = data.pop("preset", None)
    if preset is not None:
        data = {**preset_dict(preset), **data}
    valid = {f.name for f in fields(SweepSpec)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise InvalidInputError(
            f"{source}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(valid))}."
        )
    for key in _TUPLE_FIELDS:
        if key in data:
            data[key] = _as_tuple(key, data[key])
    if "sizes" in data and data["sizes"] != "auto":
        data["sizes"] = tuple(str(s) for s in _as_tuple("sizes", data["sizes"], numeric=False))
    from tokenplan.units import parse_quantity

    for key in _NUMBER_FIELDS:  # YAML reads 3e11 (no dot) as a string; accept 4M too
        if isinstance(data.get(key), str):
            data[key] = parse_quantity(data[key], name=key)
    try:
        return SweepSpec(**data)
    except TypeError as exc:  # wrong value types that dataclass init cannot take
        raise InvalidInputError(f"{source}: {exc}") from None


def _as_tuple(key: str, value: Any, *, numeric: bool = True) -> tuple:
    from tokenplan.units import parse_quantity

    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        value = [value]
    if not numeric or key == "dropout_schedules":
        return tuple(str(v).strip() for v in value)
    out = []
    for v in value:
        x = parse_quantity(v, name=key) if isinstance(v, str) else v
        if key == "seeds":
            out.append(int(_checks.positive_int("seeds", x, allow_zero=True)))
        else:
            out.append(float(_checks.positive(key, x)))
    return tuple(out)


def preset_dict(name: str) -> dict[str, Any]:
    """A preset's keys (a copy); an unknown name lists the presets."""
    key = _checks.choice("sweep preset", name, PRESETS)
    return dict(PRESETS[key])


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a YAML file (``preset: NAME`` may supply defaults)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"spec={str(path)!r} does not exist.")
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not valid YAML ({exc}).") from None
    if data is None:
        raise InvalidInputError(f"{path} is empty; see docs/sweep.md for a spec's keys.")
    return spec_from_dict(data, source=str(path))


# --- model sizes ----------------------------------------------------------------------------------------
_SIZE = re.compile(r"^L(\d+)-d(\d+)-h(\d+)$")


def parse_size(text: str) -> tuple[int, int, int]:
    """'L2-d64-h2' -> (n_layers=2, d_model=64, n_heads=2)."""
    match = _SIZE.match(str(text).strip())
    if not match:
        raise InvalidInputError(
            f"model size {text!r} is not of the form L<layers>-d<d_model>-h<heads>, e.g. L2-d64-h2."
        )
    L, d, h = (int(g) for g in match.groups())
    if min(L, d, h) < 1 or d % h:
        raise InvalidInputError(
            f"model size {text!r}: need layers, d_model, heads >= 1 and heads | d_model."
        )
    return L, d, h


def _label(L: int, d: int, h: int) -> str:
    return f"L{L}-d{d}-h{h}"


def _total_params(L: int, d: int, h: int, *, vocab_size: int, seq_len: int, tied: bool) -> int:
    from tokenplan.flops import ModelShape

    shape = ModelShape(
        n_layers=L,
        d_model=d,
        n_heads=h,
        vocab_size=vocab_size,
        seq_len=seq_len,
        tied_embeddings=tied,
        bias=False,
    )
    return shape.params().total


def auto_sizes(
    flops: float,
    *,
    n_sizes: int = 5,
    spread: float = 4.0,
    center: float = 1.0,
    law: str = "chinchilla-a1",
    vocab_size: int = 256,
    seq_len: int = 128,
    tied_embeddings: bool = True,
) -> list[str]:
    """Model shapes from :data:`SIZE_LADDER` log-spaced around the compute-optimal size for ``flops``.

    The optimum N_opt(C) comes from ``law`` (total parameters, Chinchilla's convention), times ``center``;
    targets run from N_opt / spread to N_opt x spread, each mapped to the nearest shape (log distance);
    duplicates are replaced by the neighbouring shapes so exactly ``n_sizes`` distinct shapes come back,
    smallest first.
    """
    import numpy as np

    from tokenplan.laws import get_law

    n_opt = get_law(law).optimal(_checks.positive("flops", flops)).n_params
    n_opt *= _checks.positive("center", center)
    ladder = [
        math.log(_total_params(*s, vocab_size=vocab_size, seq_len=seq_len, tied=tied_embeddings))
        for s in SIZE_LADDER
    ]
    n_sizes = min(_checks.positive_int("n_sizes", n_sizes), len(SIZE_LADDER))
    targets = np.log(n_opt) + np.log(spread) * np.linspace(-1.0, 1.0, n_sizes)
    chosen = sorted({int(np.argmin([abs(x - t) for x in ladder])) for t in targets})
    while len(chosen) < n_sizes:  # fill with neighbours, nearer to the optimum first
        candidates = [i for i in range(len(ladder)) if i not in chosen]
        best = min(
            candidates,
            key=lambda i: (min(abs(i - j) for j in chosen), abs(ladder[i] - math.log(n_opt))),
        )
        chosen = sorted([*chosen, best])
    return [_label(*SIZE_LADDER[i]) for i in chosen]


# --- runs -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run of a sweep: its id, the trainer config and the grid coordinates it stands for."""

    run_id: str
    kind: str
    flops_budget: float
    config: Any = field(repr=False)  # a TrainConfig
    model: str
    dropout_schedule: str = "none"
    epochs_target: float | None = None

    @property
    def cost(self) -> float:
        """FLOPs the run will spend (to schedule the longest runs first)."""
        return self.config.steps * self.config.batch_tokens * self.config.flops_per_token

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "flops_budget": self.flops_budget,
            "model": self.model,
            "dropout_schedule": self.dropout_schedule,
            "epochs_target": self.epochs_target,
            "config": self.config.to_dict(),
        }


def _fmt(x: float) -> str:
    """3e+11 -> '3e11', 0.003 -> '0.003' (file-name friendly)."""
    return f"{x:.3g}".replace("e+", "e").replace("e0", "e")


def _run_id(prefix: str, config) -> str:
    return f"{prefix}-{config.digest()[:6]}"


def expand(spec: SweepSpec, *, vocab_size: int | None = None) -> list[RunSpec]:
    """All runs of ``spec`` (deterministic order; ids are stable across re-runs of the same spec)."""
    from tokenplan.sweep.train import TrainConfig

    if vocab_size is None:
        vocab_size = 256 if spec.tokenizer == "byte" else 50257
    common = {
        "seq_len": spec.seq_len,
        "vocab_size": vocab_size,
        "tied_embeddings": spec.tied_embeddings,
        "batch_size": spec.batch_size,
        "schedule": spec.schedule,
        "warmup_fraction": spec.warmup_fraction,
        "min_lr_ratio": spec.min_lr_ratio,
        "weight_decay": spec.weight_decay,
        "grad_clip": spec.grad_clip,
        "n_evals": spec.n_evals,
        "eval_tokens": spec.eval_tokens,
        "min_steps": spec.min_steps,
        "flops_method": spec.flops_method,
        "device": spec.device,
    }
    runs: list[RunSpec] = []
    if spec.kind == "isoflop":
        for budget in spec.budgets:
            sizes = (
                auto_sizes(
                    budget,
                    n_sizes=spec.n_sizes,
                    spread=spec.size_spread,
                    center=spec.size_center,
                    law=spec.law,
                    vocab_size=vocab_size,
                    seq_len=spec.seq_len,
                    tied_embeddings=spec.tied_embeddings,
                )
                if spec.sizes == "auto"
                else list(spec.sizes)
            )
            for size in sizes:
                L, d, h = parse_size(size)
                for lr in spec.lrs:
                    for seed in spec.seeds:
                        config = TrainConfig(
                            n_layers=L,
                            d_model=d,
                            n_heads=h,
                            flops_budget=budget,
                            lr=lr,
                            seed=seed,
                            **common,
                        )
                        prefix = f"iso-C{_fmt(budget)}-{size}-lr{_fmt(lr)}-s{seed}"
                        runs.append(
                            RunSpec(
                                run_id=_run_id(prefix, config),
                                kind="isoflop",
                                flops_budget=budget,
                                config=config,
                                model=size,
                            )
                        )
    else:
        L, d, h = parse_size(spec.model)
        for epochs in spec.epochs:
            unique = round(spec.n_tokens / epochs)
            for schedule in spec.dropout_schedules:
                dropout = 0.0 if schedule == "none" else spec.dropout
                start = spec.late_start if schedule == "late" else 0.0
                for lr in spec.lrs:
                    for seed in spec.seeds:
                        config = TrainConfig(
                            n_layers=L,
                            d_model=d,
                            n_heads=h,
                            n_tokens=spec.n_tokens,
                            unique_tokens=unique,
                            dropout=dropout,
                            dropout_start=start,
                            lr=lr,
                            seed=seed,
                            **common,
                        )
                        prefix = (
                            f"rep-{spec.model}-D{_fmt(spec.n_tokens)}-ep{_fmt(epochs)}-{schedule}"
                            f"-lr{_fmt(lr)}-s{seed}"
                        )
                        budget = config.steps * config.batch_tokens * config.flops_per_token
                        runs.append(
                            RunSpec(
                                run_id=_run_id(prefix, config),
                                kind="repeat",
                                flops_budget=budget,
                                config=config,
                                model=spec.model,
                                dropout_schedule=schedule,
                                epochs_target=float(epochs),
                            )
                        )
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(
            "the spec lists the same run twice (duplicate sizes, LRs or seeds)."
        )
    return runs


# --- results files -----------------------------------------------------------------------------------
def _num(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float):
        if not math.isfinite(x):
            return "nan"
        return repr(x)
    return x


def result_row(record: dict[str, Any]) -> dict[str, Any]:
    """One results.csv row from a run's result.json record."""
    cfg, res = record["config"], record["result"]
    p = res["params"]
    return {
        "run_id": record["run_id"],
        "status": res["status"],
        "n_params": p["total"],
        "n_params_non_embedding": p["non_embedding"],
        "n_params_embedding": p["embedding"],
        "n_params_lm_head": p["lm_head"],
        "n_tokens": res["n_tokens"],
        "flops": _num(float(res["flops"])),
        "flops_budget": _num(float(record["flops_budget"])),
        "loss": _num(res["loss"] if res["loss"] is not None else math.nan),
        "unique_tokens": _num(res["unique_tokens"]),
        "epochs": _num(float(res["epochs"])),
        "dropout": _num(float(cfg["dropout"])),
        "dropout_start": _num(float(cfg["dropout_start"])),
        "lr": _num(float(cfg["lr"])),
        "batch_tokens": cfg["batch_size"] * cfg["seq_len"],
        "steps": res["steps"],
        "seed": cfg["seed"],
        "kind": record["kind"],
        "wall_seconds": f"{float(res['wall_seconds']):.3f}",
        "model": record.get("model", ""),
        "dropout_schedule": record.get("dropout_schedule", "none"),
        "error": res.get("error", ""),
    }


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "result" not in record or "config" not in record:
        return None
    return record


def finished_records(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """run_id -> result.json record for every finished run in ``out_dir``."""
    runs = Path(out_dir) / "runs"
    records = {}
    if runs.is_dir():
        for path in sorted(runs.glob("*/result.json")):
            record = _read_record(path)
            if record is not None:
                records[record["run_id"]] = record
    return records


def _csv_text(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def rebuild_results(out_dir: str | Path) -> dict[str, int]:
    """Rewrite results.csv, curves.csv (and results_best_lr.csv) from the runs' result.json files."""
    out = Path(out_dir)
    records = finished_records(out)
    ordered = sorted(
        records.values(),
        key=lambda r: (
            r["kind"],
            float(r["flops_budget"]),
            r["result"]["params"]["total"],
            r["run_id"],
        ),
    )
    rows = [result_row(r) for r in ordered]
    write_text_atomic(out / "results.csv", _csv_text(RESULT_COLUMNS, rows))
    curve_rows = []
    for r in ordered:
        n_params = r["result"]["params"]["total"]
        for point in r["result"].get("curve", []):
            curve_rows.append(
                {
                    "run_id": r["run_id"],
                    "step": point["step"],
                    "n_tokens": point["n_tokens"],
                    "flops": _num(float(point["flops"])),
                    "loss": _num(float(point["loss"])),
                    "n_params": n_params,
                    "train_loss": _num(float(point["train_loss"])),
                    "lr": _num(float(point["lr"])),
                }
            )
    write_text_atomic(out / "curves.csv", _csv_text(CURVE_COLUMNS, curve_rows))
    lrs = {float(r["config"]["lr"]) for r in ordered}
    if len(lrs) > 1:
        best: dict[tuple, dict[str, Any]] = {}
        for r, row in zip(ordered, rows):
            if row["status"] != "ok":
                continue
            cfg = r["config"]
            key = (
                r["kind"],
                float(r["flops_budget"]),
                r.get("model"),
                r.get("dropout_schedule"),
                cfg.get("unique_tokens"),
                cfg["seed"],
            )
            if key not in best or float(row["loss"]) < float(best[key]["loss"]):
                best[key] = row
        write_text_atomic(
            out / "results_best_lr.csv", _csv_text(RESULT_COLUMNS, list(best.values()))
        )
    return {
        "runs": len(rows),
        "ok": sum(r["status"] == "ok" for r in rows),
        "failed": sum(r["status"] == "failed" for r in rows),
        "too_few_steps": sum(r["status"] == "too_few_steps" for r in rows),
    }


def read_results(path: str | Path) -> list[dict[str, str]]:
    """Rows of a results.csv as dicts of strings (tests and quick looks; ``tokenplan fit`` has its own
    reader). A missing file reads as no rows."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def spec_digest(spec: SweepSpec) -> str:
    """A hash of the spec after a YAML-style round trip (so 1 and 1.0 compare equal)."""
    normal = spec_from_dict(spec.to_dict()).to_dict()
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:12]


def with_overrides(spec: SweepSpec, **overrides: Any) -> SweepSpec:
    """A copy of ``spec`` with the non-None ``overrides`` applied (CLI flags over a YAML spec)."""
    changes = {k: v for k, v in overrides.items() if v is not None}
    if not changes:
        return spec
    data = spec.to_dict()
    data.update(changes)
    return spec_from_dict(data)
