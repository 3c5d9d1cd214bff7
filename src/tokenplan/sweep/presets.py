"""Data tables for sweeps: the ladder of model shapes and the named presets (no logic here).

The ladder keeps the aspect ratio d_model / n_layers between 16 and 64 (Kaplan et al. 2020 fig. 5: loss
depends weakly on shape in that range) and heads of 16-64 dimensions, so that ``--sizes auto`` can pick
shapes by parameter count alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "SIZE_LADDER"]

# (n_layers, d_model, n_heads), smallest to largest.
SIZE_LADDER: tuple[tuple[int, int, int], ...] = (
    (1, 16, 1),
    (1, 24, 1),
    (1, 32, 2),
    (1, 48, 2),
    (2, 48, 2),
    (2, 64, 2),
    (2, 80, 2),
    (3, 96, 3),
    (3, 112, 4),
    (4, 128, 4),
    (4, 160, 5),
    (5, 192, 6),
    (6, 224, 7),
    (6, 256, 8),
    (8, 320, 10),
    (8, 384, 6),
    (10, 448, 7),
    (12, 512, 8),
    (12, 640, 10),
    (14, 768, 12),
    (16, 896, 14),
    (18, 1024, 16),
    (20, 1280, 20),
    (24, 1536, 24),
)

PRESETS: dict[str, dict[str, Any]] = {
    # Seconds on one core: for tests and a first look.
    "micro": {
        "kind": "isoflop",
        "description": "2 budgets x 2 sizes of tiny models; seconds on one core (tests, smoke runs).",
        "budgets": [3e9, 6e9],
        "sizes": ["L1-d16-h1", "L1-d32-h2"],
        "seq_len": 32,
        "batch_size": 8,
        "lrs": [3e-3],
        "n_evals": 2,
        "eval_tokens": 1024,
        "min_steps": 10,
    },
    # ~10 minutes on an idle 2-core CPU (15 runs, 2 workers).
    "cpu-demo": {
        "kind": "isoflop",
        "description": "IsoFLOP sweep, 3 budgets (3e11..3e12 FLOPs) x 5 sizes around 0.35x the "
        "Chinchilla optimum (where tiny byte-level models are optimal); ~6-10 minutes on 2 cores.",
        "budgets": [3e11, 1e12, 3e12],
        "sizes": "auto",
        "n_sizes": 5,
        "size_spread": 4.0,
        # A first cpu-demo centred on Chinchilla's N_opt (size_center 1.0) found the lowest loss at the
        # smallest size of every budget (docs/results/cpu-demo-chinchilla-centred); 0.35 brackets it.
        "size_center": 0.35,
        "seq_len": 128,
        "batch_size": 16,
        "lrs": [3e-3],
        "n_evals": 6,
        "eval_tokens": 16384,
        "min_steps": 50,
    },
    # Data repetition at CPU scale: 1..64 epochs x no/constant/late dropout (12 runs of one model).
    "repeat-demo": {
        "kind": "repeat",
        "description": "Repetition sweep: one model (L2-d64-h2), 4M tokens, unique tokens for "
        "1/4/16/64 epochs x dropout none/constant 0.1/late 0.1 from half-way; ~15 minutes on 2 cores.",
        "model": "L2-d64-h2",
        "n_tokens": 4e6,
        "epochs": [1, 4, 16, 64],
        "dropout_schedules": ["none", "constant", "late"],
        "dropout": 0.1,
        "late_start": 0.5,
        "seq_len": 128,
        "batch_size": 16,
        "lrs": [3e-3],
        "n_evals": 8,
        "eval_tokens": 16384,
        "min_steps": 50,
    },
    # For a single GPU: budgets 1e15..1e17 (hours on one modern GPU; cost scales with the budgets' sum).
    "gpu-small": {
        "kind": "isoflop",
        "description": "IsoFLOP sweep for one GPU: 5 budgets 1e15..1e17 x 7 sizes on a corpus you "
        "supply (byte-level; add tokenizer: gpt2 for BPE); hours on one modern GPU.",
        "budgets": [1e15, 3e15, 1e16, 3e16, 1e17],
        "sizes": "auto",
        "n_sizes": 7,
        "size_spread": 4.0,
        "seq_len": 512,
        "batch_size": 32,
        "lrs": [1e-3],
        "n_evals": 10,
        "eval_tokens": 262144,
        "min_steps": 200,
        "device": "auto",
        "num_gpus": 1.0,
    },
}
