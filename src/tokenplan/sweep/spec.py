"""A sweep's spec: which runs to train and how, from YAML or flags, validated once with every problem named.

Types are strict where a wrong type would silently change meaning: booleans must be ``true``/``false``
(``'false'`` is an error, not true) and texts must be texts. A number written as text is read as that number,
as a select recipe reads it (``n_sizes: "3"``, ``4M``, ``3e11``: YAML reads ``3e11`` without a dot as text);
text that spells no number is an error naming the key (:func:`tokenplan._checks.number_text`).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tokenplan import _checks
from tokenplan._io import read_yaml
from tokenplan.errors import InvalidInputError
from tokenplan.sweep import choices
from tokenplan.sweep.config import FLOPS_METHODS, SCHEDULES, parse_size
from tokenplan.sweep.data import TOKENIZER_NAMES
from tokenplan.sweep.presets import PRESETS
from tokenplan.units import format_exact

__all__ = [
    "DROPOUT_SCHEDULES",
    "KINDS",
    "SweepSpec",
    "describe",
    "load_spec",
    "preset_dict",
    "redescribe",
    "spec_digest",
    "spec_from_dict",
]

KINDS = choices.KINDS
DROPOUT_SCHEDULES = ("none", "constant", "late")


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
        self._as_tuples()
        problems = _Problems()
        self._check_common(problems)
        if self.kind == "isoflop":
            self._check_isoflop(problems)
        elif self.kind == "repeat":
            self._check_repeat(problems)
        if problems:
            raise InvalidInputError(" ".join(problems), param=problems.param)

    def _as_tuples(self) -> None:
        """The list fields as tuples (a list is taken as given); one value or an array is refused here, in
        one line naming the field, instead of a TypeError from the checks that iterate it."""
        for key in _TUPLE_FIELDS:
            value = getattr(self, key)
            if isinstance(value, list):
                object.__setattr__(self, key, tuple(value))
            elif not isinstance(value, tuple):
                raise InvalidInputError(
                    f"{key}={value!r} must be a tuple or list, e.g. {key}=({_EXAMPLES[key]},); "
                    "spec_from_dict also takes one value or a numpy array.",
                    param=key,
                )

    def _check_common(self, problems: _Problems) -> None:
        check = problems.check
        if self.kind not in KINDS:
            problems.add("kind", f"kind={self.kind!r} must be one of {', '.join(KINDS)}.")
        if self.tokenizer not in TOKENIZER_NAMES:
            names = " or ".join(map(repr, TOKENIZER_NAMES))
            problems.add("tokenizer", f"tokenizer={self.tokenizer!r} must be {names}.")
        if isinstance(self.data, str) and not self.data.strip():  # Path("") is "."
            problems.add(
                "data", "data='' is empty; give a file or folder, or leave data out for the sample."
            )
        for key, valid in (("schedule", SCHEDULES), ("flops_method", FLOPS_METHODS)):
            if getattr(self, key) not in valid:  # was found only per run, naming no spec file
                problems.add(
                    key, f"{key}={getattr(self, key)!r} must be one of {', '.join(valid)}."
                )
        check(_checks.in_range, "val_fraction", self.val_fraction, 0.0, 0.5, inclusive=False)
        for key in ("seq_len", "batch_size", "n_sizes", "n_evals", "eval_tokens", "min_steps"):
            check(_checks.positive_int, key, getattr(self, key))
        check(_checks.positive, "size_spread", self.size_spread)
        check(_checks.positive, "size_center", self.size_center)
        if isinstance(self.size_spread, int | float) and self.size_spread < 1:
            problems.add("size_spread", f"size_spread={self.size_spread!r} must be >= 1.")
        if not self.lrs:
            problems.add("lrs", "lrs is empty; give at least one learning rate.")
        for lr in self.lrs:
            check(_checks.positive, "lrs", lr)
        _once(problems, "lrs", self.lrs, "LR")
        if not self.seeds:
            problems.add("seeds", "seeds is empty; give at least one seed.")
        for seed in self.seeds:
            check(_checks.positive_int, "seeds", seed, allow_zero=True)
        _once(problems, "seeds", self.seeds, "seed")
        check(_checks.in_range, "dropout", self.dropout, 0.0, 0.95)
        check(_checks.in_range, "late_start", self.late_start, 0.0, 1.0)
        for key in ("warmup_fraction", "min_lr_ratio"):
            check(_checks.in_range, key, getattr(self, key), 0.0, 1.0)
        for key in ("weight_decay", "grad_clip", "num_gpus"):
            check(_checks.positive, key, getattr(self, key), allow_zero=True)
        check(_checks.positive, "num_cpus", self.num_cpus)
        check(_checks.strict_bool, "tied_embeddings", self.tied_embeddings)
        check(_checks.device, "device", self.device)
        check(_known_law, self.law)
        if self.model is not None:
            check(parse_size, self.model, param="model")
        if self.n_tokens is not None:
            check(_checks.positive, "n_tokens", self.n_tokens)

    def _check_isoflop(self, problems: _Problems) -> None:
        if not self.budgets:
            problems.add(
                "budgets", "budgets is empty; an isoflop sweep needs FLOP budgets (e.g. 3e11,1e12)."
            )
        for budget in self.budgets:
            problems.check(_checks.positive, "budgets", budget)
        _once(problems, "budgets", self.budgets, "budget")
        if self.sizes != "auto":
            if not self.sizes:
                problems.add("sizes", "sizes is empty; give 'auto' or shapes like L2-d64-h2.")
            for size in self.sizes:
                problems.check(parse_size, size)
            _once(problems, "sizes", self.sizes, "size")

    def _check_repeat(self, problems: _Problems) -> None:
        if self.model is None:
            problems.add("model", "a repeat sweep needs model (e.g. model: L2-d64-h2).")
        if self.n_tokens is None:
            problems.add(
                "n_tokens", "a repeat sweep needs n_tokens (total training tokens per run)."
            )
        if not self.epochs:
            problems.add("epochs", "epochs is empty; give e.g. 1,4,16,64.")
        for e in self.epochs:
            if problems.check(_checks.positive, "epochs", e) and e < 1:
                problems.add(
                    "epochs", f"epochs={e!r} must be >= 1 (a run cannot see less than its data)."
                )
            elif _finite(self.n_tokens) and isinstance(e, int | float):  # n_tokens nan: named above
                if round(self.n_tokens / e) < 1:  # unique_tokens = n_tokens / epochs
                    problems.add(
                        "epochs",
                        f"epochs={e:g} leaves n_tokens / epochs < 1 unique token (n_tokens="
                        f"{self.n_tokens:g}); use fewer epochs or more tokens.",
                    )
        _once(problems, "epochs", self.epochs, "epoch count")
        if not self.dropout_schedules:
            problems.add(
                "dropout_schedules", "dropout_schedules is empty; give none, constant and/or late."
            )
        for d in self.dropout_schedules:
            if d not in DROPOUT_SCHEDULES:
                problems.add(
                    "dropout_schedules",
                    f"dropout schedule {d!r} must be one of {', '.join(DROPOUT_SCHEDULES)}.",
                )
        _once(problems, "dropout_schedules", self.dropout_schedules, "dropout schedule")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, tuple):
                d[key] = list(value)
        return d

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _finite(value: Any) -> bool:
    """A finite number (not a bool): what arithmetic on a key may assume once its own check has run."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _known_law(law: Any) -> None:
    """``law`` names a preset or a saved law file: checked even where the sizes are explicit (it is unused
    there, but an unknown name would be kept in sweep.yaml as if it meant something)."""
    from tokenplan.laws import get_law

    if not isinstance(law, str):
        raise InvalidInputError(
            f"law={law!r} must be a law name such as chinchilla-a1.", param="law"
        )
    get_law(law)


def _once(problems: _Problems, key: str, values: tuple, noun: str) -> None:
    """A value listed twice would train the same runs twice: refused naming the key and the value."""
    seen: set = set()
    for v in values:
        if not isinstance(v, int | float | str):
            continue  # refused by the checks above, as the wrong type
        if v in seen:
            shown = f"{v:g}".replace("e+0", "e").replace("e+", "e") if isinstance(v, float) else v
            problems.add(
                key,
                f"{key} lists {shown} twice, which would train the same runs twice; give each "
                f"{noun} once.",
            )
            return
        seen.add(v)


class _Problems(list):
    """Every problem of a spec at once; ``param`` names the key when exactly one key is at fault."""

    def __init__(self) -> None:
        super().__init__()
        self.params: set[str] = set()

    def add(self, param: str | None, message: str) -> None:
        self.append(message)
        self.params.add(param or "?")

    def check(self, fn, *args, **kw) -> bool:
        try:
            fn(*args, **kw)
        except InvalidInputError as exc:
            self.add(exc.param, str(exc))
            return False
        return True

    @property
    def param(self) -> str | None:
        return next(iter(self.params)) if len(self.params) == 1 and "?" not in self.params else None


# --- reading specs ----------------------------------------------------------------------------------
_TUPLE_FIELDS = ("budgets", "epochs", "dropout_schedules", "lrs", "seeds")
_EXAMPLES = {
    "budgets": "1e12",
    "epochs": "4",
    "dropout_schedules": "'none'",
    "lrs": "3e-3",
    "seeds": "0",
}
_TEXT_FIELDS = (
    "kind",
    "description",
    "data",
    "tokenizer",
    "text_field",
    "law",
    "model",
    "schedule",
    "flops_method",
    "device",
)
_BOOL_FIELDS = ("tied_embeddings",)
_INT_FIELDS = ("n_sizes", "seq_len", "batch_size", "n_evals", "eval_tokens", "min_steps")
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


def spec_from_dict(data: dict[str, Any], *, source: str | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from a mapping (YAML), reporting unknown keys with the valid ones and
    values of the wrong type with their key; ``source`` (a file name) prefixes the messages."""
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}a sweep spec must be a mapping of keys to values.")
    _checks.name_keys(f"{where}sweep spec", data, "kind: isoflop")
    data = dict(data)
    preset = data.pop("preset", None)
    if preset is not None:
        if not isinstance(preset, str):
            raise InvalidInputError(f"{where}preset={preset!r} must be a name.", param="preset")
        try:  # a file's unknown preset names the file, as its other keys do
            data = {**preset_dict(preset), **data}
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}{exc}", param="preset") from None
    valid = {f.name for f in fields(SweepSpec)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise InvalidInputError(
            f"{where}unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(valid))}."
        )
    try:  # a value of the wrong type or out of range: name the file it came from too
        spec = SweepSpec(**{key: _typed(key, value) for key, value in data.items()})
    except InvalidInputError as exc:
        if not where:
            raise
        raise InvalidInputError(f"{where}{exc}", param=exc.param) from None
    if preset is not None:  # keys beside the preset may change its grid, and so its description
        spec = redescribe(spec, spec_from_dict(preset_dict(preset)), source=f"preset {preset}")
    return spec


def _typed(key: str, value: Any) -> Any:
    """``value`` of ``key`` in the type the spec holds, or an error naming the key."""
    if key in _TUPLE_FIELDS:
        return _as_tuple(key, value)
    if key == "sizes":
        if value == "auto":
            return value
        return tuple(_text(key, s) for s in _as_list(value))
    if key in _BOOL_FIELDS:
        return _checks.strict_bool(key, value)
    if value is None and key in ("data", "model", "n_tokens"):
        return None
    if key in _TEXT_FIELDS:
        return _text(key, value)
    if key in _INT_FIELDS or key in _NUMBER_FIELDS:
        # a number written as text is that number, as in a select recipe (YAML reads 3e11 as text)
        value = _plain(_checks.number_text(key, value))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{key}={value!r} must be a number.", param=key)
        if key in _INT_FIELDS:
            return _checks.positive_int(key, value)
    return value


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{key}={value!r} must be a text, not {type(value).__name__}.", param=key
        )
    return value.strip()


def _plain(value: Any) -> Any:
    """A numpy number as the Python one (a spec from Python may hold np.int64(32) or np.float64);
    numpy booleans stay, to be refused as booleans. The spec is written to sweep.yaml, which takes only
    Python numbers."""
    if isinstance(value, numbers.Number) and hasattr(value, "item"):
        return value.item()
    return value


def _as_list(value: Any) -> list:
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if getattr(value, "ndim", None) == 1:  # a numpy array (np.geomspace(...)) or a pandas Series
        return [_plain(v) for v in value.tolist()]
    return [value]


def _as_tuple(key: str, value: Any) -> tuple:
    items = _as_list(value)
    if key == "dropout_schedules":
        return tuple(_text(key, v) for v in items)
    out = []
    for v in items:
        x = _checks.number_text(key, v)
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise InvalidInputError(f"{key}: {v!r} must be a number.", param=key)
        if key == "seeds":
            x = int(x) if isinstance(x, float) and x.is_integer() else x  # quote -1, not -1.0
            out.append(_checks.positive_int("seeds", x, allow_zero=True))
        else:
            out.append(float(_checks.positive(key, x)))
    return tuple(out)


# The keys that decide which runs a grid holds, by kind; the auto-sizes ones count only with sizes='auto'.
_GRID_KEYS = {
    "isoflop": ("budgets", "sizes", "n_sizes", "size_spread", "size_center", "law", "lrs", "seeds"),
    "repeat": (
        "model",
        "n_tokens",
        "epochs",
        "dropout_schedules",
        "dropout",
        "late_start",
        "lrs",
        "seeds",
    ),
}
_AUTO_SIZES_KEYS = ("n_sizes", "size_spread", "size_center", "law")


def redescribe(spec: SweepSpec, origin: SweepSpec, *, source: str) -> SweepSpec:
    """``spec``, built from ``origin`` (a preset or spec file, named by ``source``) with some keys changed:
    when it still carries origin's description but no longer origin's grid, the description is replaced by
    one counted from its own grid (:func:`describe`), saying where it came from and
    what changed. A preset's '2 budgets x 2 sizes' stayed on a 3 x 3 grid's report and sweep.yaml."""
    if not origin.description or spec.description != origin.description:
        return spec  # no description to keep true, or one written for this spec
    from dataclasses import replace

    changed = ["kind"] if spec.kind != origin.kind else []
    auto = "auto" in (spec.sizes, origin.sizes)
    for key in dict.fromkeys(_GRID_KEYS[spec.kind] + _GRID_KEYS[origin.kind]):
        if getattr(spec, key) != getattr(origin, key) and (auto or key not in _AUTO_SIZES_KEYS):
            changed.append(key)
    if not changed:
        return spec
    keys = ", ".join(changed[:-1]) + (" and " if len(changed) > 1 else "") + changed[-1]
    return replace(spec, description=f"{describe(spec)} ({source}, with {keys} changed).")


def describe(spec: SweepSpec) -> str:
    """The grid of ``spec`` in one line, counted from its keys as the grid expands them: '3 budgets
    (3e9..3e10 FLOPs) x 3 model sizes per budget (auto, around 1x chinchilla-a1's optimum) = 9 runs'; a
    repeat grid gives the model, its tokens, the epochs and the dropout schedules."""
    from tokenplan.sweep.presets import SIZE_LADDER
    from tokenplan.units import format_quantity

    if spec.kind == "isoflop":
        if (
            spec.sizes == "auto"
        ):  # auto_sizes gives exactly n_sizes shapes (at most the whole ladder)
            n_sizes = min(spec.n_sizes, len(SIZE_LADDER))
            which = f"auto, around {spec.size_center:g}x {spec.law}'s optimum"
        else:
            n_sizes, which = len(spec.sizes), _span(spec.sizes, str)
        parts = [
            f"{_count(len(spec.budgets), 'budget')} ({_span(sorted(spec.budgets), _g)} FLOPs)",
            f"{_count(n_sizes, 'model size')} per budget ({which})",
        ]
        n_runs = len(spec.budgets) * n_sizes
    else:
        parts = [
            f"one model ({spec.model}) on {format_quantity(spec.n_tokens)} tokens, "
            f"{_count(len(spec.epochs), 'epoch count')} ({_span(sorted(spec.epochs), _g)})",
            f"{_count(len(spec.dropout_schedules), 'dropout schedule')} "
            f"({', '.join(spec.dropout_schedules)})",
        ]
        n_runs = len(spec.epochs) * len(spec.dropout_schedules)
    for key, noun in (("lrs", "LR"), ("seeds", "seed")):
        if len(getattr(spec, key)) > 1:
            parts.append(_count(len(getattr(spec, key)), noun))
    n_runs *= len(spec.lrs) * len(spec.seeds)
    return f"{' x '.join(parts)} = {_count(n_runs, 'run')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _g(x: float) -> str:
    """3e+09 -> '3e9' (as run ids write budgets)."""
    return f"{x:.3g}".replace("e+0", "e").replace("e+", "e")


def _span(values, fmt) -> str:
    """'a' for one value, 'a..b' (first..last) for more."""
    return fmt(values[0]) if len(values) == 1 else f"{fmt(values[0])}..{fmt(values[-1])}"


def preset_dict(name: str) -> dict[str, Any]:
    """A preset's keys (a copy); an unknown name lists the presets."""
    key = _checks.choice("sweep preset", name, PRESETS, param="preset")
    return dict(PRESETS[key])


def load_spec(path: str | Path, *, preset: str | None = None) -> SweepSpec:
    """Read a sweep spec from a YAML file (``preset: NAME`` may supply defaults).

    ``preset`` is the preset the file's keys override when the file names none (``tokenplan sweep
    SPEC.yaml --preset X``); a file that names another preset is refused, not silently preferred.
    """
    if preset is not None:
        preset_dict(preset)  # an unknown name lists the presets
    data = read_yaml(path, what="sweep spec", param="spec_file")
    if data is None:
        raise InvalidInputError(
            f"sweep spec {str(path)!r} is empty; see docs/sweep.md for a spec's keys.",
            param="spec_file",
        )
    if preset is not None and isinstance(data, dict):
        data = dict(data)
        if data.setdefault("preset", preset) != preset:
            raise InvalidInputError(
                f"{path} names preset {data['preset']!r} and preset={preset!r} was given too; keep "
                "one of them.",
                param="preset",
            )
    return spec_from_dict(data, source=str(path))


# Where and how a sweep runs, not which runs it holds: run ids exclude them too (TrainConfig.digest drops the
# device), so a sweep started on a CPU resumes on a GPU, or with more CPUs per run, in the same folder.
_NOT_DIGESTED = ("description", "device", "num_cpus", "num_gpus")


def _normal(spec: SweepSpec) -> dict[str, Any]:
    """The keys that decide a spec's runs, after a YAML-style round trip (so 1 and 1.0 compare equal)."""
    normal = spec_from_dict(spec.to_dict()).to_dict()
    for key in _NOT_DIGESTED:
        normal.pop(key)
    return normal


def spec_digest(spec: SweepSpec) -> str:
    """A hash of the runs a spec describes, after a YAML-style round trip (so 1 and 1.0 compare equal);
    the execution settings (device, CPUs and GPUs per run) and the description are left out."""
    return hashlib.sha256(json.dumps(_normal(spec), sort_keys=True).encode()).hexdigest()[:12]


def spec_changes(old: SweepSpec, new: SweepSpec) -> list[str]:
    """What makes ``new`` another grid than ``old``, one 'key: old -> new' per key that
    :func:`spec_digest` hashes ('lrs: 0.003 -> 0.01'); empty when the digests are equal."""
    a, b = _normal(old), _normal(new)
    return [f"{k}: {shown(k, a.get(k))} -> {shown(k, b.get(k))}" for k in a if a[k] != b.get(k)]


def shown(key: str, value: Any) -> str:
    """A setting as the 'what changed' messages show it ('lrs: 0.003 -> 0.01', 'data: the shipped
    sample -> /data/b.txt'): floats exact (format_exact), lists comma-separated, no quotes; the one style
    of this message and of the runner's changed-corpus refusal."""
    if value is None:
        return "the shipped sample" if key == "data" else "none"
    if isinstance(value, list | tuple):
        return ",".join(shown(key, v) for v in value)
    return format_exact(value) if isinstance(value, float) else str(value)
