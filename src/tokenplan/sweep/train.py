"""One training loop for every sweep run: AdamW, warmup + cosine (or WSD), grad clipping, held-out evals.

The run's length is its own budget: ``steps = round(flops_budget / (flops_per_token * batch_tokens))`` with
FLOPs per token from the core's accounting (:meth:`ModelShape.train_flops_per_token`, Chinchilla App. F by
default), and the learning-rate schedule spans exactly those steps (Hoffmann et al. 2022 sec. 3.1: a cosine
cycle longer than the run overestimates its loss). Deterministic given ``seed``: the initial weights, the
data order (:func:`tokenplan.sweep.data.batch_indices`) and dropout come from it, and a checkpoint stores
the RNG state so a resumed run continues the same trajectory.

A run whose loss becomes NaN/inf stops and is reported ``failed``; a run with fewer than ``min_steps``
optimizer steps is reported ``too_few_steps`` (its loss mostly measures the warmup, not the model).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan import _checks
from tokenplan._io import atomic_write
from tokenplan.errors import InvalidInputError, MissingDependencyError
from tokenplan.flops import ModelShape
from tokenplan.sweep.data import Corpus, batch_indices

__all__ = [
    "SCHEDULES",
    "CurvePoint",
    "TrainConfig",
    "TrainResult",
    "load_checkpoint",
    "lr_at",
    "resolve_device",
    "train",
]

SCHEDULES = ("cosine", "wsd")
STATUSES = ("ok", "failed", "too_few_steps")


def gpt_shape(config) -> ModelShape:
    """The core's :class:`~tokenplan.flops.ModelShape` of the sweep's GPT (learned positions, no biases,
    LayerNorm), for any config with its six size fields. Torch-free, so grids count FLOPs without torch;
    :class:`tokenplan.sweep.model.GPTConfig` uses it too, so the accounting and the model never diverge."""
    return ModelShape(
        n_layers=config.n_layers,
        d_model=config.d_model,
        n_heads=config.n_heads,
        vocab_size=config.vocab_size,
        seq_len=config.seq_len,
        tied_embeddings=config.tied_embeddings,
        position="learned",
        bias=False,
        norm="layernorm",
    )


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Everything one run needs besides the data. Give ``flops_budget`` or ``n_tokens``."""

    n_layers: int
    """Transformer blocks."""
    d_model: int
    """Residual width."""
    n_heads: int
    """Attention heads."""
    seq_len: int = 128
    """Context length."""
    vocab_size: int = 256
    """Set from the corpus' tokenizer by the sweep."""
    tied_embeddings: bool = True
    """Tie the LM head to the token embeddings."""
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

    def __post_init__(self) -> None:
        problems: list[str] = []

        def check(fn, *args, **kw):
            try:
                fn(*args, **kw)
            except InvalidInputError as exc:
                problems.append(str(exc))

        for key in ("n_layers", "d_model", "n_heads", "seq_len", "vocab_size", "batch_size"):
            check(_checks.positive_int, key, getattr(self, key))
        for key in ("n_evals", "eval_tokens", "min_steps"):
            check(_checks.positive_int, key, getattr(self, key))
        check(_checks.positive_int, "seed", self.seed, allow_zero=True)
        if (self.flops_budget is None) == (self.n_tokens is None):
            problems.append("give exactly one of flops_budget and n_tokens.")
        for key in ("flops_budget", "n_tokens", "lr"):
            if getattr(self, key) is not None:
                check(_checks.positive, key, getattr(self, key))
        if self.unique_tokens is not None:
            check(_checks.positive_int, "unique_tokens", self.unique_tokens)
        for key in ("min_lr_ratio", "warmup_fraction", "decay_fraction", "dropout_start"):
            check(_checks.in_range, key, getattr(self, key), 0.0, 1.0)
        check(_checks.in_range, "dropout", self.dropout, 0.0, 0.95)
        check(_checks.positive, "weight_decay", self.weight_decay, allow_zero=True)
        check(_checks.positive, "grad_clip", self.grad_clip, allow_zero=True)
        check(_checks.in_range, "beta1", self.beta1, 0.0, 1.0, inclusive=False)
        check(_checks.in_range, "beta2", self.beta2, 0.0, 1.0, inclusive=False)
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule={self.schedule!r} must be one of {', '.join(SCHEDULES)}.")
        if self.flops_method not in ("appendix-f", "6n"):
            problems.append(f"flops_method={self.flops_method!r} must be 'appendix-f' or '6n'.")
        if not problems and self.d_model % self.n_heads:
            problems.append(f"n_heads={self.n_heads} does not divide d_model={self.d_model}.")
        if problems:
            raise InvalidInputError(" ".join(problems))

    # --- derived ---------------------------------------------------------------------------------
    @property
    def model_config(self):
        from tokenplan.sweep.model import GPTConfig

        return GPTConfig(
            n_layers=self.n_layers,
            d_model=self.d_model,
            n_heads=self.n_heads,
            vocab_size=self.vocab_size,
            seq_len=self.seq_len,
            tied_embeddings=self.tied_embeddings,
        )

    @property
    def shape(self):
        """The core's :class:`~tokenplan.flops.ModelShape` of this model."""
        return gpt_shape(self)

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(**data)

    def digest(self) -> str:
        """A short hash of the config (the device excluded): a checkpoint resumes only the same run."""
        d = self.to_dict()
        d.pop("device")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CurvePoint:
    """One held-out evaluation."""

    step: int
    n_tokens: int
    flops: float
    loss: float
    train_loss: float
    lr: float


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What a run produced."""

    status: str
    """'ok', 'failed' (NaN/inf loss or an error) or 'too_few_steps'."""
    loss: float
    """Final held-out loss in nats/token (NaN when failed)."""
    steps: int
    n_tokens: int
    """Training tokens seen (steps x batch_tokens)."""
    flops: float
    """Training FLOPs spent (n_tokens x flops_per_token)."""
    unique_tokens: int | None
    """Distinct training tokens the run drew from (None when it saw fresh data only, epochs <= 1)."""
    epochs: float
    """n_tokens / tokens available to the run."""
    wall_seconds: float
    params: dict[str, int]
    """Parameter groups: embedding, non_embedding, lm_head, total."""
    curve: tuple[CurvePoint, ...] = field(default=(), repr=False)
    error: str = ""
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["curve"] = [asdict(p) for p in self.curve]
        return d


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when a CUDA GPU is visible, else 'cpu'; an explicit CUDA device must exist."""
    import torch

    name = str(device).strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InvalidInputError(
                f"device={device!r} but no CUDA GPU is visible; use --device cpu or auto."
            )
        if ":" in name:
            index = name.split(":", 1)[1]
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise InvalidInputError(
                    f"device={device!r}: {torch.cuda.device_count()} CUDA device(s) are visible."
                )
        return name
    raise InvalidInputError(f"device={device!r} must be auto, cpu, cuda or cuda:N.")


def lr_at(config: TrainConfig, step: int, steps: int) -> float:
    """Learning rate for optimizer step ``step`` (0-based) of ``steps``: linear warmup, then cosine to
    ``min_lr_ratio x lr`` at the last step, or WSD (constant, then linear decay)."""
    peak, floor = config.lr, config.lr * config.min_lr_ratio
    warmup = max(1, round(config.warmup_fraction * steps))
    if step < warmup:
        return peak * (step + 1) / warmup
    if config.schedule == "wsd":
        decay_start = max(warmup, round((1.0 - config.decay_fraction) * steps))
        if step < decay_start:
            return peak
        frac = (step - decay_start + 1) / max(1, steps - decay_start)
        return peak + (floor - peak) * min(frac, 1.0)
    frac = (step - warmup + 1) / max(1, steps - warmup)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * min(frac, 1.0)))


def _windows(tokens: np.ndarray, seq_len: int) -> int:
    """Non-overlapping training windows of seq_len + 1 tokens (inputs and shifted targets)."""
    return max(0, (int(tokens.size) - 1) // seq_len)


def _eval_steps(steps: int, n_evals: int) -> set[int]:
    """Steps (1-based counts of completed steps) after which to evaluate; always includes the last."""
    points = np.unique(np.round(np.linspace(0, steps, n_evals + 1)[1:]).astype(int))
    return {int(s) for s in points if s > 0} | {steps}


_CHECKPOINT_KEYS = {
    "digest": str,
    "model": dict,
    "optimizer": dict,
    "step": int,
    "curve": list,
    "wall_seconds": float,
}


def load_checkpoint(path: str | Path, *, device: str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`train`, never running code from the file.

    ``torch.load(..., weights_only=True)`` unpickles only tensors and plain containers and values; a file
    that needs anything else (a crafted pickle, a foreign object) or is damaged is refused with
    :class:`~tokenplan.errors.InvalidInputError` and nothing in it is executed.
    """
    import torch

    path = Path(path)
    refused = InvalidInputError(
        f"checkpoint {str(path)!r} is not a state dict that tokenplan wrote (it needs more than "
        "tensors and plain values to load, or it is damaged); it was refused and not loaded. Delete "
        "it to restart that run from the beginning.",
        param="checkpoint",
    )
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception:  # weights_only: the restricted unpickler stopped; nothing was executed
        raise refused from None
    if not isinstance(state, dict) or not isinstance(state.get("rng"), torch.Tensor):
        raise refused
    for key, kind in _CHECKPOINT_KEYS.items():
        if not isinstance(state.get(key), kind):
            raise refused
    return state


def _save_atomic(obj: Any, path: Path) -> None:
    import torch

    with atomic_write(path, "wb") as f:
        torch.save(obj, f)


def train(
    config: TrainConfig,
    corpus: Corpus,
    *,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: float = 60.0,
) -> TrainResult:
    """Train one model as ``config`` says on ``corpus``; return its :class:`TrainResult`.

    ``on_eval`` is called after every held-out evaluation with a dict (step, steps, n_tokens, flops, loss,
    train_loss, lr, ms_per_step). With ``checkpoint``, the model, optimizer, step and RNG state are saved
    there atomically every ``checkpoint_every`` seconds, and a run that finds a checkpoint of the same
    config resumes from it (the file is removed when the run finishes).
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError("torch", "train") from None
    from tokenplan.sweep.model import GPT

    if config.vocab_size != corpus.vocab_size:
        config = replace(config, vocab_size=corpus.vocab_size)
    device = resolve_device(config.device)
    T, B = config.seq_len, config.batch_size
    steps = config.steps
    params = config.shape.params().to_dict()
    fpt = config.flops_per_token

    data = corpus.train
    if config.unique_tokens is not None:
        if config.unique_tokens > data.size:
            raise InvalidInputError(
                f"unique_tokens={config.unique_tokens:,} exceeds the corpus' {data.size:,} training "
                "tokens; use a bigger corpus or fewer unique tokens (more epochs)."
            )
        data = data[: config.unique_tokens]
    n_windows = _windows(data, T)
    if n_windows < 1:
        raise InvalidInputError(
            f"the training data ({data.size:,} tokens) is shorter than one window of seq_len+1="
            f"{T + 1} tokens; lower seq_len or raise unique_tokens."
        )
    available = n_windows * T
    n_val = min(config.eval_tokens // T, _windows(corpus.val, T))
    if n_val < 1:
        raise InvalidInputError(
            f"the held-out split ({corpus.val.size:,} tokens) is shorter than seq_len+1={T + 1}; "
            "use more data or a larger val_fraction."
        )
    n_tokens = steps * B * T
    epochs = n_tokens / available
    unique = available if (config.unique_tokens is not None or epochs > 1.0) else None

    def result(status: str, loss: float, done: int, curve, wall: float, error: str = ""):
        return TrainResult(
            status=status,
            loss=loss,
            steps=done,
            n_tokens=done * B * T,
            flops=done * B * T * fpt,
            unique_tokens=unique,
            epochs=done * B * T / available,
            wall_seconds=wall,
            params=params,
            curve=tuple(curve),
            error=error,
            device=device,
        )

    if steps < 1:
        return result(
            "too_few_steps", math.nan, 0, [], 0.0, "the budget buys less than one optimizer step"
        )

    torch.manual_seed(config.seed)
    model = GPT(config.model_config).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("w")]
    no_decay = [
        p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith("w"))
    ]

    def adamw(**kw):  # fresh group dicts each time: AdamW writes its defaults into them
        groups = [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), **kw)

    try:  # the fused kernel: 4-9% more tokens/s on tiny CPU models (docs/benchmarks.md)
        optimizer = adamw(fused=True)
    except (RuntimeError, TypeError):  # a device or dtype without a fused AdamW
        optimizer = adamw()
    val_starts = np.arange(n_val) * T
    val_index = val_starts[:, None] + np.arange(T + 1)[None, :]
    val_batch = torch.from_numpy(corpus.val[val_index]).to(device)
    offsets = np.arange(T + 1)[None, :]

    def evaluate() -> float:
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, n_val, B):
                chunk = val_batch[i : i + B]
                _, loss = model(chunk[:, :-1], chunk[:, 1:])
                total += float(loss) * chunk.shape[0]
                count += chunk.shape[0]
        model.train()
        return total / count

    start_step, curve, wall_before = 0, [], 0.0
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    digest = config.digest()
    if ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, device=device)
        if state["digest"] == digest:  # a checkpoint of another config is ignored (and replaced)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["rng"])
            start_step = int(state["step"])
            curve = [CurvePoint(**p) for p in state["curve"]]
            wall_before = float(state["wall_seconds"])

    eval_at = _eval_steps(steps, config.n_evals)
    t0 = time.perf_counter()
    last_ckpt = t0
    window_t0, window_steps = t0, 0
    train_loss = math.nan
    model.train()
    step = start_step
    try:
        for step in range(start_step, steps):
            dropout_on = config.dropout > 0 and step >= config.dropout_start * steps
            p = config.dropout if dropout_on else 0.0
            if p != model.dropout:
                model.set_dropout(p)
            lr = lr_at(config, step, steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx, _ = batch_indices(n_windows, B, step, seed=config.seed)
            batch = torch.from_numpy(data[idx[:, None] * T + offsets]).to(device)
            _, loss = model(batch[:, :-1], batch[:, 1:])
            train_loss = loss.item()
            if not math.isfinite(train_loss):
                wall = wall_before + time.perf_counter() - t0
                return result(
                    "failed",
                    math.nan,
                    step,
                    curve,
                    wall,
                    f"loss became {train_loss} at step {step}",
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            window_steps += 1
            done = step + 1
            if done in eval_at:
                val_loss = evaluate()
                now = time.perf_counter()
                point = CurvePoint(
                    step=done,
                    n_tokens=done * B * T,
                    flops=done * B * T * fpt,
                    loss=val_loss,
                    train_loss=train_loss,
                    lr=lr,
                )
                curve.append(point)
                if on_eval is not None:
                    on_eval(
                        {
                            **asdict(point),
                            "steps": steps,
                            "ms_per_step": 1000.0 * (now - window_t0) / max(window_steps, 1),
                        }
                    )
                window_t0, window_steps = now, 0
                if not math.isfinite(val_loss):
                    wall = wall_before + now - t0
                    return result(
                        "failed",
                        math.nan,
                        done,
                        curve,
                        wall,
                        f"held-out loss {val_loss} at step {done}",
                    )
            if ckpt_path is not None and time.perf_counter() - last_ckpt >= checkpoint_every:
                _save_atomic(
                    {
                        "digest": digest,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "rng": torch.get_rng_state(),
                        "step": done,
                        "curve": [asdict(c) for c in curve],
                        "wall_seconds": wall_before + time.perf_counter() - t0,
                    },
                    ckpt_path,
                )
                last_ckpt = time.perf_counter()
    except FloatingPointError as exc:  # pragma: no cover - torch raises this only with anomaly mode
        return result(
            "failed", math.nan, step, curve, wall_before + time.perf_counter() - t0, str(exc)
        )
    wall = wall_before + time.perf_counter() - t0
    if ckpt_path is not None:
        ckpt_path.unlink(missing_ok=True)
    final = curve[-1].loss if curve else math.nan
    status = "ok" if steps >= config.min_steps else "too_few_steps"
    return result(status, final, steps, curve, wall)
