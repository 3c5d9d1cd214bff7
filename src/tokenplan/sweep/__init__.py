"""Sweeps of tiny GPTs: IsoFLOP grids and repetition grids, trained locally or on Ray, resumable.

Needs the ``train`` extra (torch) to train; ``ray`` for the Ray executor. Importing this package is light:
the names below are imported on first use (PEP 562), so the CLI's option lists (:mod:`.choices`) load no
sweep code; torch is imported when a run starts.

    from tokenplan.sweep import load_spec, run_sweep
    result = run_sweep(load_spec("my_sweep.yaml"), "runs/my_sweep")
    print(result.results_csv)   # feed it to `tokenplan fit`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenplan._lazy import lazy_exports

if TYPE_CHECKING:
    from tokenplan.sweep.config import GPTConfig, TrainConfig
    from tokenplan.sweep.data import Corpus, load_corpus, prepare_chatterbot, prepare_shakespeare
    from tokenplan.sweep.grid import RunSpec, auto_sizes, expand
    from tokenplan.sweep.presets import PRESETS, SIZE_LADDER
    from tokenplan.sweep.results import RESULT_COLUMNS, read_results, rebuild_results
    from tokenplan.sweep.runner import SweepResult, plan_sweep, run_sweep
    from tokenplan.sweep.spec import SweepSpec, load_spec, spec_from_dict

_HOME = {  # public name -> the module that defines it (imported on first use, PEP 562)
    "Corpus": "data",
    "GPTConfig": "config",
    "PRESETS": "presets",
    "RESULT_COLUMNS": "results",
    "RunSpec": "grid",
    "SIZE_LADDER": "presets",
    "SweepResult": "runner",
    "SweepSpec": "spec",
    "TrainConfig": "config",
    "auto_sizes": "grid",
    "expand": "grid",
    "load_corpus": "data",
    "load_spec": "spec",
    "plan_sweep": "runner",
    "prepare_chatterbot": "data",
    "prepare_shakespeare": "data",
    "read_results": "results",
    "rebuild_results": "results",
    "run_sweep": "runner",
    "spec_from_dict": "spec",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())


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
