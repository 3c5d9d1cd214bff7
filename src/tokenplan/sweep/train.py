"""One training loop for every sweep run: AdamW, warmup + cosine (or WSD), grad clipping, held-out evals.

The run's length is its own budget: ``steps = round(flops_budget / (flops_per_token * batch_tokens))`` with
FLOPs per token from the core's accounting (:meth:`ModelShape.train_flops_per_token`, Chinchilla App. F by
default), and the learning-rate schedule spans exactly those steps (Hoffmann et al. 2022 sec. 3.1: a cosine
cycle longer than the run overestimates its loss). Deterministic given ``seed``: the initial weights, the
data order (:func:`tokenplan.sweep.data.batch_indices`) and dropout come from it, and a checkpoint stores
the RNG state so a resumed run continues the same trajectory.

A run whose loss becomes NaN/inf stops and is reported ``failed``, as is one whose final held-out loss is not
below ln(vocab_size), a uniform guess's (gradient clipping can keep a blow-up finite: 18.9 nats at LR 10 on
bytes); both errors start with ``diverged:``. A run with fewer than ``min_steps``
optimizer steps is reported ``too_few_steps`` (its loss mostly measures the warmup, not the model).
"""

from __future__ import annotations

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
from tokenplan.sweep.config import TrainConfig
from tokenplan.sweep.data import Corpus, batch_indices
from tokenplan.sweep.results import divergence

__all__ = [
    "CurvePoint",
    "TrainResult",
    "load_checkpoint",
    "lr_at",
    "resolve_device",
    "train",
]


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
    """'ok', 'failed' (NaN/inf loss, a final loss not below ln(vocab_size), or an error) or
    'too_few_steps'."""
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


@dataclass(frozen=True)
class _Windows:
    """The run's token windows: training data (maybe a unique-token prefix) and held-out windows."""

    data: np.ndarray
    n_windows: int
    available: int
    """Training tokens the run can draw from (whole windows)."""
    val: np.ndarray
    """Held-out windows of seq_len + 1 tokens, shape (n_val, seq_len + 1)."""


def _windows_of(config: TrainConfig, corpus: Corpus) -> _Windows:
    T = config.seq_len
    data = corpus.train
    if config.unique_tokens is not None:
        if config.unique_tokens > data.size:
            raise InvalidInputError(
                f"unique_tokens={config.unique_tokens:,} exceeds the corpus' {data.size:,} training "
                "tokens; use a bigger corpus or fewer unique tokens (more epochs).",
                param="unique_tokens",
            )
        data = data[: config.unique_tokens]
    n_windows = _windows(data, T)
    if n_windows < 1:
        raise InvalidInputError(
            f"the training data ({data.size:,} tokens) is shorter than one window of seq_len+1="
            f"{T + 1} tokens; lower seq_len or raise unique_tokens.",
            param="seq_len",
        )
    n_val = min(config.eval_tokens // T, _windows(corpus.val, T))
    if n_val < 1:
        raise InvalidInputError(
            f"the held-out split ({corpus.val.size:,} tokens) is shorter than seq_len+1={T + 1}; "
            "use more data or a larger val_fraction.",
            param="seq_len",
        )
    val_index = (np.arange(n_val) * T)[:, None] + np.arange(T + 1)[None, :]
    return _Windows(data, n_windows, n_windows * T, corpus.val[val_index])


class _Run:
    """One run's model, optimizer and progress; :func:`train` drives it step by step."""

    def __init__(self, config: TrainConfig, windows: _Windows, device: str) -> None:
        import torch

        from tokenplan.sweep.model import GPT

        self.torch, self.config, self.windows, self.device = torch, config, windows, device
        torch.manual_seed(config.seed)
        self.model = GPT(config.model_config).to(device)
        self.optimizer = self._adamw()
        self.val_batch = torch.from_numpy(windows.val).to(device)
        self.offsets = np.arange(config.seq_len + 1)[None, :]
        self.step, self.curve, self.wall_before = 0, [], 0.0
        self.elapsed = 0.0
        """Seconds this call has trained (wall_before holds those of earlier, checkpointed calls)."""

    def _adamw(self):
        config, torch = self.config, self.torch
        named = list(self.model.named_parameters())
        # weight decay on matrices only, not on norms or the (tied) embeddings
        decay = [p for n, p in named if p.dim() >= 2 and not n.startswith("w")]
        no_decay = [p for n, p in named if not (p.dim() >= 2 and not n.startswith("w"))]

        def adamw(**kw):  # fresh group dicts each time: AdamW writes its defaults into them
            groups = [
                {"params": decay, "weight_decay": config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ]
            return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), **kw)

        try:  # the fused kernel: 4-9% more tokens/s on tiny CPU models (docs/benchmarks.md)
            return adamw(fused=True)
        except (RuntimeError, TypeError):  # a device or dtype without a fused AdamW
            return adamw()

    def resume(self, path: Path) -> None:
        """Continue from ``path`` if it holds a checkpoint of this very config (else start over)."""
        state = load_checkpoint(path, device=self.device)
        if state["digest"] != self.config.digest():  # another config's: ignored, then replaced
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.torch.set_rng_state(state["rng"])
        self.step = int(state["step"])
        self.curve = [CurvePoint(**p) for p in state["curve"]]
        self.wall_before = float(state["wall_seconds"])

    def save(self, path: Path, wall: float) -> None:
        state = {
            "digest": self.config.digest(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.torch.get_rng_state(),
            "step": self.step,
            "curve": [asdict(c) for c in self.curve],
            "wall_seconds": wall,
        }
        try:
            with atomic_write(path, "wb") as f:
                self.torch.save(state, f)
        except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as a RuntimeError
            raise OSError(f"could not write the checkpoint {path}: {exc}") from None

    def train_step(self, steps: int) -> tuple[float, float]:
        """One optimizer step (dropout switch, LR, batch, clip); returns (train loss, lr)."""
        config, model, torch = self.config, self.model, self.torch
        step = self.step
        dropout_on = config.dropout > 0 and step >= config.dropout_start * steps
        p = config.dropout if dropout_on else 0.0
        if p != model.dropout:
            model.set_dropout(p)
        lr = lr_at(config, step, steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        idx, _ = batch_indices(self.windows.n_windows, config.batch_size, step, seed=config.seed)
        rows = self.windows.data[idx[:, None] * config.seq_len + self.offsets]
        batch = torch.from_numpy(rows).to(self.device)
        _, loss = model(batch[:, :-1], batch[:, 1:])
        train_loss = loss.item()
        if math.isfinite(train_loss):
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            self.optimizer.step()
            self.step += 1
        return train_loss, lr

    def evaluate(self) -> float:
        """Mean held-out loss over the evaluation windows (nats/token)."""
        model, B = self.model, self.config.batch_size
        model.eval()
        total, count = 0.0, 0
        with self.torch.no_grad():
            for i in range(0, len(self.val_batch), B):
                chunk = self.val_batch[i : i + B]
                _, loss = model(chunk[:, :-1], chunk[:, 1:])
                total += float(loss) * chunk.shape[0]
                count += chunk.shape[0]
        model.train()
        return total / count


def _own_rng(device: str):
    """Seed and use torch's generator inside the block, then give the caller's back: the model's init and
    dropout draw from the global generator, and ``torch.manual_seed(config.seed)`` reseeded the caller's
    stream for good (a notebook's ``torch.rand`` after ``run_sweep(executor="serial")`` repeated itself)."""
    import torch

    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    return torch.random.fork_rng(devices=cuda)


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
    config resumes from it (the file is removed when the run finishes). A checkpoint that cannot be read
    without running code from it is refused (:func:`load_checkpoint`).
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingDependencyError("torch", "train") from None
    checkpoint_every = _checks.positive("checkpoint_every", checkpoint_every, allow_zero=True)
    if config.vocab_size != corpus.vocab_size:
        config = replace(config, vocab_size=corpus.vocab_size)
    device = resolve_device(config.device)
    windows = _windows_of(config, corpus)
    steps = config.steps
    epochs = steps * config.batch_tokens / windows.available
    unique = windows.available if (config.unique_tokens is not None or epochs > 1.0) else None

    def result(status: str, loss: float, run: _Run | None, wall: float, error: str = ""):
        return _result(
            config, windows, status, loss, run, wall, error, unique=unique, device=device
        )

    if steps < 1:
        return result(
            "too_few_steps", math.nan, None, 0.0, "the budget buys less than one optimizer step"
        )
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    with _own_rng(device):
        run = _Run(config, windows, device)
        if ckpt_path is not None and ckpt_path.exists():
            run.resume(ckpt_path)
        error = _loop(run, steps, on_eval, ckpt_path, checkpoint_every)
    wall = run.wall_before + run.elapsed
    if error:
        return result("failed", math.nan, run, wall, error)
    if ckpt_path is not None:
        ckpt_path.unlink(missing_ok=True)
    final = run.curve[-1].loss if run.curve else math.nan
    why = divergence(final, config.vocab_size)  # finite, yet no better than the start
    if why:
        return result("failed", math.nan, run, wall, why)
    status = "ok" if steps >= config.min_steps else "too_few_steps"
    return result(status, final, run, wall)


def _result(
    config: TrainConfig,
    windows: _Windows,
    status: str,
    loss: float,
    run: _Run | None,
    wall: float,
    error: str,
    *,
    unique: int | None,
    device: str,
) -> TrainResult:
    done = run.step if run is not None else 0
    return TrainResult(
        status=status,
        loss=loss,
        steps=done,
        n_tokens=done * config.batch_tokens,
        flops=done * config.batch_tokens * config.flops_per_token,
        unique_tokens=unique,
        epochs=done * config.batch_tokens / windows.available,
        wall_seconds=wall,
        params=config.shape.params().to_dict(),
        curve=tuple(run.curve) if run is not None else (),
        error=error,
        device=device,
    )


def _loop(
    run: _Run,
    steps: int,
    on_eval: Callable[[dict[str, Any]], None] | None,
    ckpt_path: Path | None,
    checkpoint_every: float,
) -> str:
    """Train ``run`` to ``steps``, evaluating and checkpointing; return an error text if it diverged."""
    eval_at = _eval_steps(steps, run.config.n_evals)
    B, fpt = run.config.batch_tokens, run.config.flops_per_token
    t0 = time.perf_counter()
    last_ckpt = window_t0 = t0
    window_steps = 0
    run.model.train()
    while run.step < steps:
        train_loss, lr = run.train_step(steps)
        run.elapsed = time.perf_counter() - t0
        if not math.isfinite(train_loss):
            return f"diverged: loss became {train_loss} at step {run.step}"
        window_steps += 1
        if run.step in eval_at:
            val_loss = run.evaluate()
            now = time.perf_counter()
            point = CurvePoint(run.step, run.step * B, run.step * B * fpt, val_loss, train_loss, lr)
            run.curve.append(point)
            if on_eval is not None:
                ms = 1000.0 * (now - window_t0) / max(window_steps, 1)
                on_eval({**asdict(point), "steps": steps, "ms_per_step": ms})
            window_t0, window_steps = now, 0
            run.elapsed = now - t0
            if not math.isfinite(val_loss):
                return f"diverged: held-out loss {val_loss} at step {run.step}"
        if ckpt_path is not None and time.perf_counter() - last_ckpt >= checkpoint_every:
            run.save(ckpt_path, run.wall_before + time.perf_counter() - t0)
            last_ckpt = time.perf_counter()
    run.elapsed = time.perf_counter() - t0
    return ""
