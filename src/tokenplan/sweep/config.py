"""The one model config and the run config built on it. Torch-free, so grids are expanded and FLOPs counted
without importing torch; :mod:`tokenplan.sweep.model` builds the network from :class:`GPTConfig` and
:mod:`tokenplan.sweep.train` trains a :class:`TrainConfig`.

A :class:`TrainConfig` *is* a :class:`GPTConfig` (the model's six fields, validated once) plus how to train
it; :meth:`TrainConfig.model_config` drops the training fields. Both count parameters and FLOPs through the
core's :class:`~tokenplan.flops.ModelShape`, so the accounting and the network never diverge (a test checks
the network's parameter count against it).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.flops import ModelShape

__all__ = ["SCHEDULES", "GPTConfig", "TrainConfig", "parse_size", "size_label"]

SCHEDULES = ("cosine", "wsd")
FLOPS_METHODS = ("appendix-f", "6n")
_SIZE = re.compile(r"^L(\d+)-d(\d+)-h(\d+)$")


def parse_size(text: str, *, param: str = "sizes") -> tuple[int, int, int]:
    """'L2-d64-h2' -> (n_layers=2, d_model=64, n_heads=2); ``param`` is the key named in errors."""
    match = _SIZE.match(str(text).strip())
    if not match:
        raise InvalidInputError(
            f"{param}={text!r} is not of the form L<layers>-d<d_model>-h<heads>, e.g. L2-d64-h2.",
            param=param,
        )
    L, d, h = (int(g) for g in match.groups())
    if min(L, d, h) < 1 or d % h:
        raise InvalidInputError(
            f"{param}={text!r}: need layers, d_model, heads >= 1 and heads | d_model.",
            param=param,
        )
    return L, d, h


def size_label(n_layers: int, d_model: int, n_heads: int) -> str:
    """(2, 64, 2) -> 'L2-d64-h2' (the inverse of :func:`parse_size`)."""
    return f"L{n_layers}-d{d_model}-h{n_heads}"


class _Problems(list):
    """Collects validation messages so a config reports every problem at once (litgpt style)."""

    def check(self, fn, *args, **kw) -> None:
        try:
            fn(*args, **kw)
        except InvalidInputError as exc:
            self.append(str(exc))


@dataclass(frozen=True, kw_only=True)
class GPTConfig:
    """The model's shape. Sizes follow the names of :class:`tokenplan.flops.ModelShape`."""

    n_layers: int
    """Transformer blocks."""
    d_model: int
    """Residual stream width."""
    n_heads: int
    """Attention heads; must divide d_model."""
    vocab_size: int = 256
    """Token vocabulary (256 for the byte-level tokenizer, 50257 for GPT-2 BPE)."""
    seq_len: int = 128
    """Context length (learned position embeddings of this many positions)."""
    tied_embeddings: bool = True
    """Share the LM head with the token embedding matrix (GPT-2); False adds vocab x d_model parameters."""

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise InvalidInputError(" ".join(problems), param=_only_param(problems, self))

    def _problems(self) -> _Problems:
        problems = _Problems()
        for key in ("n_layers", "d_model", "n_heads", "vocab_size", "seq_len"):
            problems.check(_checks.positive_int, key, getattr(self, key))
        problems.check(_checks.strict_bool, "tied_embeddings", self.tied_embeddings)
        if not problems and self.d_model % self.n_heads:
            problems.append(
                f"n_heads={self.n_heads} does not divide d_model={self.d_model}; "
                "choose n_heads that divides d_model."
            )
        return problems

    @property
    def shape(self) -> ModelShape:
        """The core's :class:`ModelShape` of this model: learned positions, no biases, LayerNorm."""
        sizes = ("n_layers", "d_model", "n_heads", "vocab_size", "seq_len", "tied_embeddings")
        return ModelShape(
            **{key: getattr(self, key) for key in sizes},
            position="learned",
            bias=False,
            norm="layernorm",
        )

    @property
    def label(self) -> str:
        """A short name such as ``L2-d64-h2``."""
        label = size_label(self.n_layers, self.d_model, self.n_heads)
        return label + ("" if self.tied_embeddings else "-untied")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _only_param(problems: list[str], config: Any) -> str | None:
    """The field name when exactly one problem names one field (so the CLI can name its flag)."""
    if len(problems) != 1:
        return None
    names = [f.name for f in fields(config) if problems[0].startswith(f"{f.name}=")]
    return names[0] if len(names) == 1 else None


@dataclass(frozen=True, kw_only=True)
class TrainConfig(GPTConfig):
    """Everything one run needs besides the data: the model (inherited fields) and how to train it.

    Give ``flops_budget`` or ``n_tokens``.
    """

    flops_budget: float | None = None
    """Training FLOPs to spend; sets the number of steps."""
    n_tokens: float | None = None
    """Training tokens to see (instead of ``flops_budget``)."""
    batch_size: int = 16
    """Sequences per optimizer step (batch_tokens = batch_size x seq_len)."""
    lr: float = 2e-3
    """Peak learning rate."""
    min_lr_ratio: float = 0.1
    """Final LR as a fraction of the peak (Chinchilla decays 10x)."""
    warmup_fraction: float = 0.05
    """Linear warmup over this fraction of the steps (at least one step)."""
    schedule: str = "cosine"
    """'cosine' or 'wsd' (warmup-stable-decay: constant, then linear decay over ``decay_fraction``)."""
    decay_fraction: float = 0.2
    """WSD only: the final fraction of steps over which the LR decays."""
    weight_decay: float = 0.1
    """AdamW decoupled weight decay on matrices (not on norms or embeddings)."""
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    """Clip the global gradient norm to this (0 disables)."""
    dropout: float = 0.0
    """Dropout probability once it is on."""
    dropout_start: float = 0.0
    """Fraction of training after which dropout is switched on (0 = from the start; Xue et al. 2023)."""
    unique_tokens: int | None = None
    """Train on the first this-many training tokens only, repeating them (None = the whole split)."""
    n_evals: int = 8
    """Held-out evaluations over the run (the last one at the final step)."""
    eval_tokens: int = 16384
    """Held-out tokens per evaluation."""
    min_steps: int = 50
    """Fewer optimizer steps than this flags the run ``too_few_steps``."""
    seed: int = 0
    device: str = "auto"
    """'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'."""
    flops_method: str = "appendix-f"
    """FLOPs per token: 'appendix-f' (Chinchilla App. F) or '6n' (6 x total params)."""

    def _problems(self) -> _Problems:
        problems = super()._problems()
        for key in ("batch_size", "n_evals", "eval_tokens", "min_steps"):
            problems.check(_checks.positive_int, key, getattr(self, key))
        problems.check(_checks.positive_int, "seed", self.seed, allow_zero=True)
        if (self.flops_budget is None) == (self.n_tokens is None):
            problems.append("give exactly one of flops_budget and n_tokens.")
        for key in ("flops_budget", "n_tokens", "lr"):
            if getattr(self, key) is not None:
                problems.check(_checks.positive, key, getattr(self, key))
        if self.unique_tokens is not None:
            problems.check(_checks.positive_int, "unique_tokens", self.unique_tokens)
        for key in ("min_lr_ratio", "warmup_fraction", "decay_fraction", "dropout_start"):
            problems.check(_checks.in_range, key, getattr(self, key), 0.0, 1.0)
        problems.check(_checks.in_range, "dropout", self.dropout, 0.0, 0.95)
        problems.check(_checks.positive, "weight_decay", self.weight_decay, allow_zero=True)
        problems.check(_checks.positive, "grad_clip", self.grad_clip, allow_zero=True)
        problems.check(_checks.in_range, "beta1", self.beta1, 0.0, 1.0, inclusive=False)
        problems.check(_checks.in_range, "beta2", self.beta2, 0.0, 1.0, inclusive=False)
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule={self.schedule!r} must be one of {', '.join(SCHEDULES)}.")
        if self.flops_method not in FLOPS_METHODS:
            problems.append(
                f"flops_method={self.flops_method!r} must be one of {', '.join(FLOPS_METHODS)}."
            )
        return problems

    # --- derived ---------------------------------------------------------------------------------
    @property
    def model_config(self) -> GPTConfig:
        """The model alone (what :class:`tokenplan.sweep.model.GPT` is built from)."""
        return GPTConfig(**{f.name: getattr(self, f.name) for f in fields(GPTConfig)})

    @property
    def flops_per_token(self) -> float:
        return self.shape.train_flops_per_token(method=self.flops_method)

    @property
    def batch_tokens(self) -> int:
        return self.batch_size * self.seq_len

    @property
    def steps(self) -> int:
        """Optimizer steps: round(C / (flops_per_token x batch_tokens)), or round(D / batch_tokens)."""
        if self.flops_budget is not None:
            return round(self.flops_budget / (self.flops_per_token * self.batch_tokens))
        return round(self.n_tokens / self.batch_tokens)

    @property
    def cost(self) -> float:
        """FLOPs the run will spend (steps x batch_tokens x flops_per_token)."""
        return self.steps * self.batch_tokens * self.flops_per_token

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> TrainConfig:
        """A config from a mapping (a run record's ``config``); an unknown or missing key is one error
        naming it, prefixed with ``source`` (the file) when known."""
        where = f"{source}: " if source else ""
        if not isinstance(data, dict):
            raise InvalidInputError(f"{where}a run config must be a mapping of keys to values.")
        _checks.name_keys(f"{where}run config", data, "n_layers: 2")
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise InvalidInputError(
                f"{where}unknown run config key(s) {', '.join(unknown)}; "
                f"valid keys: {', '.join(valid)}."
            )
        missing = [
            f.name
            for f in fields(cls)
            if f.default is MISSING and f.default_factory is MISSING and f.name not in data
        ]
        if missing:
            raise InvalidInputError(f"{where}run config lacks key(s) {', '.join(missing)}.")
        return cls(**data)

    def digest(self) -> str:
        """A short hash of the config (the device excluded): a checkpoint resumes only the same run."""
        d = self.to_dict()
        d.pop("device")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
