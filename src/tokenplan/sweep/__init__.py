"""Sweeps of tiny GPTs: IsoFLOP grids and repetition grids, trained locally or on Ray, resumable.

Needs the ``train`` extra (torch) to train; ``ray`` for the Ray executor. Importing this package is light
(numpy only); torch is imported when a run starts.

    from tokenplan.sweep import load_spec, run_sweep
    result = run_sweep(load_spec("my_sweep.yaml"), "runs/my_sweep")
    print(result.results_csv)   # feed it to `tokenplan fit`
"""

from __future__ import annotations

from tokenplan.sweep.data import Corpus, load_corpus, prepare_chatterbot, prepare_shakespeare
from tokenplan.sweep.grid import (
    RESULT_COLUMNS,
    RunSpec,
    SweepSpec,
    auto_sizes,
    expand,
    load_spec,
    read_results,
    rebuild_results,
    spec_from_dict,
)
from tokenplan.sweep.presets import PRESETS, SIZE_LADDER
from tokenplan.sweep.runner import SweepResult, plan_sweep, run_sweep

__all__ = [
    "PRESETS",
    "RESULT_COLUMNS",
    "SIZE_LADDER",
    "Corpus",
    "RunSpec",
    "SweepResult",
    "SweepSpec",
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
