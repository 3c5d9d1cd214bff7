"""Sweeps of tiny GPTs: IsoFLOP grids and repetition grids, trained locally or on Ray, resumable.

Needs the ``train`` extra (torch) to train; ``ray`` for the Ray executor. Importing this package is light
(numpy only); torch is imported when a run starts.

    from tokenplan.sweep import load_spec, run_sweep
    result = run_sweep(load_spec("my_sweep.yaml"), "runs/my_sweep")
    print(result.results_csv)   # feed it to `tokenplan fit`
"""

from __future__ import annotations

from tokenplan.sweep.config import GPTConfig, TrainConfig
from tokenplan.sweep.data import Corpus, load_corpus, prepare_chatterbot, prepare_shakespeare
from tokenplan.sweep.grid import RunSpec, auto_sizes, expand
from tokenplan.sweep.presets import PRESETS, SIZE_LADDER
from tokenplan.sweep.results import RESULT_COLUMNS, read_results, rebuild_results
from tokenplan.sweep.runner import SweepResult, plan_sweep, run_sweep
from tokenplan.sweep.spec import SweepSpec, load_spec, spec_from_dict

__all__ = [
    "PRESETS",
    "RESULT_COLUMNS",
    "SIZE_LADDER",
    "Corpus",
    "GPTConfig",
    "RunSpec",
    "SweepResult",
    "SweepSpec",
    "TrainConfig",
    "auto_sizes",
    "expand",
    "load_corpus",
    "load_spec",
    "plan_sweep",
    "prepare_chatterbot",
    "prepare_shakespeare",
    "read_results",
    "rebuild_results",
    "run_sweep",
    "spec_from_dict",
]
