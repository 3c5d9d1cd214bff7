"""Sweep grids: the runs an IsoFLOP or repetition spec stands for, with stable ids.

- ``isoflop``: budgets x model sizes (``sizes: auto`` picks shapes from :data:`SIZE_LADDER` log-spaced around
  the law's compute-optimal size) x LRs x seeds.
- ``repeat``: one model, ``n_tokens`` per run, ``unique_tokens = n_tokens / epochs`` for each of ``epochs``,
  crossed with the dropout schedules, LRs and seeds.

A run's id is readable coordinates plus a hash of its config, so the same spec always expands to the same
ids (a re-run resumes) and changing any setting makes new runs instead of reusing old ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.config import TrainConfig, parse_size, size_label
from tokenplan.sweep.presets import SIZE_LADDER
from tokenplan.sweep.spec import SweepSpec

__all__ = ["RunSpec", "auto_sizes", "expand"]


def _total_params(L: int, d: int, h: int, *, vocab_size: int, seq_len: int, tied: bool) -> int:
    from tokenplan.sweep.config import GPTConfig

    config = GPTConfig(
        n_layers=L,
        d_model=d,
        n_heads=h,
        vocab_size=vocab_size,
        seq_len=seq_len,
        tied_embeddings=tied,
    )
    return config.shape.params().total


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
    return [size_label(*SIZE_LADDER[i]) for i in chosen]


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run of a sweep: its id, the trainer config and the grid coordinates it stands for."""

    run_id: str
    kind: str
    flops_budget: float
    config: TrainConfig = field(repr=False)
    model: str
    dropout_schedule: str = "none"
    epochs_target: float | None = None

    @property
    def cost(self) -> float:
        """FLOPs the run will spend (to schedule the longest runs first)."""
        return self.config.cost

    def summary(self) -> dict[str, Any]:
        """What ``--dry-run`` lists: sizes, budget, steps, tokens, dropout and LR of the run."""
        cfg = self.config
        p = cfg.shape.params()
        return {
            "run_id": self.run_id,
            "model": self.model,
            "n_params": p.total,
            "n_params_non_embedding": p.non_embedding,
            "flops_budget": self.flops_budget,
            "steps": cfg.steps,
            "n_tokens": cfg.steps * cfg.batch_tokens,
            "unique_tokens": cfg.unique_tokens,
            "dropout": cfg.dropout,
            "dropout_start": cfg.dropout_start,
            "lr": cfg.lr,
            "too_few_steps": cfg.steps < cfg.min_steps,
        }

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


def _run_id(prefix: str, config: TrainConfig) -> str:
    return f"{prefix}-{config.digest()[:6]}"


def expand(spec: SweepSpec, *, vocab_size: int | None = None) -> list[RunSpec]:
    """All runs of ``spec`` (deterministic order; ids are stable across re-runs of the same spec)."""
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
    grid = _isoflop_runs if spec.kind == "isoflop" else _repeat_runs
    runs = list(grid(spec, common))
    seen: set[str] = set()
    for r in runs:  # each listed value is distinct (SweepSpec checks it), yet two may give one run
        if r.run_id in seen:
            if spec.kind == "repeat":  # epochs a hair apart: n_tokens / epochs rounds to one count
                raise InvalidInputError(
                    f"epochs {_fmt(r.epochs_target)} and another epoch count give the same unique "
                    f"tokens (n_tokens / epochs, rounded): the sweep would train {r.run_id} twice; drop one.",
                    param="epochs",
                )
            raise InvalidInputError(
                f"the spec gives run {r.run_id} twice: two of its values are too close to make "
                "different runs; drop one of them."
            )
        seen.add(r.run_id)
    return runs


def _sizes(spec: SweepSpec, budget: float, vocab_size: int) -> list[str]:
    if spec.sizes != "auto":
        return list(spec.sizes)
    return auto_sizes(
        budget,
        n_sizes=spec.n_sizes,
        spread=spec.size_spread,
        center=spec.size_center,
        law=spec.law,
        vocab_size=vocab_size,
        seq_len=spec.seq_len,
        tied_embeddings=spec.tied_embeddings,
    )


def _isoflop_runs(spec: SweepSpec, common: dict[str, Any]):
    for budget in spec.budgets:
        for size in _sizes(spec, budget, common["vocab_size"]):
            L, d, h = parse_size(size)
            for lr in spec.lrs:
                for seed in spec.seeds:
                    config = TrainConfig(
                        n_layers=L, d_model=d, n_heads=h, flops_budget=budget, lr=lr, seed=seed,
                        **common,
                    )  # fmt: skip
                    prefix = f"iso-C{_fmt(budget)}-{size}-lr{_fmt(lr)}-s{seed}"
                    yield RunSpec(
                        run_id=_run_id(prefix, config),
                        kind="isoflop",
                        flops_budget=budget,
                        config=config,
                        model=size,
                    )


def _repeat_runs(spec: SweepSpec, common: dict[str, Any]):
    L, d, h = parse_size(spec.model, param="model")
    for epochs in spec.epochs:
        unique = round(spec.n_tokens / epochs)
        for schedule in spec.dropout_schedules:
            dropout = 0.0 if schedule == "none" else spec.dropout
            start = spec.late_start if schedule == "late" else 0.0
            for lr in spec.lrs:
                for seed in spec.seeds:
                    config = TrainConfig(
                        n_layers=L, d_model=d, n_heads=h, n_tokens=spec.n_tokens,
                        unique_tokens=unique, dropout=dropout, dropout_start=start, lr=lr, seed=seed,
                        **common,
                    )  # fmt: skip
                    prefix = (
                        f"rep-{spec.model}-D{_fmt(spec.n_tokens)}-ep{_fmt(epochs)}-{schedule}"
                        f"-lr{_fmt(lr)}-s{seed}"
                    )
                    yield RunSpec(
                        run_id=_run_id(prefix, config),
                        kind="repeat",
                        flops_budget=config.cost,
                        config=config,
                        model=spec.model,
                        dropout_schedule=schedule,
                        epochs_target=float(epochs),
                    )
