"""Sweep tests train tiny models in this process: one torch thread for each test (restored after it).

On a shared 2-core box a multi-threaded torch spends most of its time spinning on a busy core; for models
this small one thread is faster as well as steadier. Subprocess tests set nothing (the CLI's executors
choose their own threads)."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    if importlib.util.find_spec("torch") is None:
        yield
        return
    from tokenplan.sweep.executors import torch_threads

    with torch_threads(1):
        yield
