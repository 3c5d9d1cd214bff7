"""Where runs execute: in this process (``serial``), a pool of worker processes (``local``), or Ray (``ray``).

Every executor runs :func:`run_task` for each task and yields the finished run's record (or, for a worker
that died, a record marked ``lost``, which is not saved so that the next sweep retries it). ``run_task``
writes the run's ``result.json`` itself (atomically), so a run that finished is on disk even if the
process that started it is killed the next instant; the driver writes it too when it is missing (a Ray
worker on another machine).

- ``local``: one process per worker (spawned, so CUDA and torch's thread pools start clean), one torch
  thread each: on a CPU, N single-threaded processes beat one N-threaded process for models this small.
  Tasks arrive longest first, so the pool does not end waiting on one big run. Workers die with the driver
  (``PR_SET_PDEATHSIG`` on Linux). With CUDA GPUs, worker i uses ``cuda:(i mod n_gpus)``.
- ``ray``: one Ray task per run with that run's ``num_cpus``/``num_gpus``; connects to ``address`` or starts
  a local instance; the corpus goes through the object store once; per-eval events come back on a
  ``ray.util.queue.Queue``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan._io import atomic_write, write_text_atomic
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "EXECUTORS",
    "LocalExecutor",
    "RayExecutor",
    "SerialExecutor",
    "get_executor",
    "run_task",
]

Event = dict[str, Any]
EventCallback = Callable[[Event], None]


# --- the corpus in a worker ---------------------------------------------------------------------------
_CORPUS_CACHE: dict[str, Any] = {}


def save_corpus(corpus, path: str | Path, meta: dict[str, Any]) -> None:
    """Store a tokenized corpus as .npz (atomically) so workers load it without re-tokenizing."""
    with atomic_write(path, "wb") as f:
        np.savez(
            f,
            train=corpus.train,
            val=corpus.val,
            meta=np.array(
                json.dumps(
                    {
                        **meta,
                        "tokenizer": corpus.tokenizer,
                        "vocab_size": corpus.vocab_size,
                        "fingerprint": corpus.fingerprint,
                        "source": corpus.source,
                    }
                )
            ),
        )


def load_corpus_npz(path: str | Path):
    """Load (and cache in this process) a corpus saved by :func:`save_corpus`."""
    from tokenplan.sweep.data import Corpus

    key = str(Path(path).resolve())
    if key not in _CORPUS_CACHE:
        try:  # allow_pickle=False (numpy's default): arrays only, nothing in the file is executed
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                corpus = Corpus(
                    train=z["train"],
                    val=z["val"],
                    tokenizer=meta["tokenizer"],
                    vocab_size=int(meta["vocab_size"]),
                    source=meta.get("source", ""),
                    fingerprint=meta["fingerprint"],
                )
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise InvalidInputError(
                f"corpus file {str(path)!r} is damaged or not a tokenplan corpus "
                f"({type(exc).__name__}); delete it and re-run the sweep to rebuild it.",
                param="corpus",
            ) from None
        _CORPUS_CACHE[key] = (corpus, meta)
    return _CORPUS_CACHE[key]


# --- one run ----------------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {"events": None, "index": 0, "parent": None}


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _clean_json(value.item())
    return value


def _failure(run: dict[str, Any], error: str) -> dict[str, Any]:
    from tokenplan.sweep.train import TrainConfig

    config = TrainConfig.from_dict(run["config"])
    return {
        "status": "failed",
        "loss": None,
        "steps": 0,
        "n_tokens": 0,
        "flops": 0.0,
        "unique_tokens": config.unique_tokens,
        "epochs": 0.0,
        "wall_seconds": 0.0,
        "params": config.shape.params().to_dict(),
        "curve": [],
        "error": error,
        "device": "",
    }


def make_record(task: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    run = task["run"]
    return _clean_json(
        {
            "run_id": run["run_id"],
            "kind": run["kind"],
            "flops_budget": run["flops_budget"],
            "model": run["model"],
            "dropout_schedule": run["dropout_schedule"],
            "epochs_target": run["epochs_target"],
            "config": run["config"],
            "corpus": task.get("fingerprint", ""),
            "result": result,
        }
    )


def failure_record(task: dict[str, Any], error: str) -> dict[str, Any]:
    """The record of a run that could not train (an exception in the worker, a lost worker ...)."""
    return make_record(task, _failure(task["run"], error))


def run_task(task: dict[str, Any], corpus=None, events=None) -> dict[str, Any]:
    """Train one run of a sweep and write ``runs/<run_id>/result.json``; return its record.

    ``task`` holds ``run`` (a :meth:`RunSpec.to_dict`), ``out_dir``, ``corpus_path``, ``threads`` and
    ``checkpoint_every``. Errors inside training become a ``failed`` record, never an exception.
    """
    import torch

    from tokenplan.sweep.train import TrainConfig, train

    torch.set_num_threads(max(1, int(task.get("threads", 1))))
    events = events if events is not None else _WORKER["events"]
    run = task["run"]
    run_dir = Path(task["out_dir"]) / "runs" / run["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    config = TrainConfig.from_dict(run["config"])
    if config.device == "auto" and torch.cuda.is_available() and task.get("spread_gpus", True):
        config = TrainConfig.from_dict(
            {**run["config"], "device": f"cuda:{_WORKER['index'] % torch.cuda.device_count()}"}
        )
    if not (run_dir / "config.json").exists():
        write_text_atomic(run_dir / "config.json", json.dumps(run, indent=2))
    log = run_dir / "log.txt"

    def on_eval(event: Event) -> None:
        if _WORKER["parent"] is not None and os.getppid() != _WORKER["parent"]:
            os._exit(3)  # the driver is gone: stop; the checkpoint lets the next sweep resume
        event = {"event": "eval", "run_id": run["run_id"], **event}
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                f"step {event['step']}/{event['steps']} | loss {event['loss']:.4f} | train "
                f"{event['train_loss']:.4f} | lr {event['lr']:.2e} | {event['ms_per_step']:.0f} ms\n"
            )
        if events is not None:
            try:
                events.put(event)
            except Exception:
                pass

    if corpus is None:
        corpus, _ = load_corpus_npz(task["corpus_path"])
    if events is not None:
        try:
            events.put({"event": "run_start", "run_id": run["run_id"], "pid": os.getpid()})
        except Exception:
            pass
    try:
        result = train(
            config,
            corpus,
            on_eval=on_eval,
            checkpoint=run_dir / "ckpt.pt",
            checkpoint_every=float(task.get("checkpoint_every", 60.0)),
        ).to_dict()
    except InvalidInputError as exc:
        if exc.param == "checkpoint":  # refused, not a result: the run is retried once it is gone
            return {**failure_record(task, str(exc)), "lost": True}
        result = _failure(run, str(exc))
    except Exception as exc:
        result = _failure(run, f"{type(exc).__name__}: {exc}")
    record = make_record(task, result)
    write_text_atomic(run_dir / "result.json", json.dumps(record, indent=1, allow_nan=False))
    return record


# --- executors -----------------------------------------------------------------------------------------
class SerialExecutor:
    """Runs in this process, one after another (debugging; tiny sweeps)."""

    name = "serial"

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads

    def run(self, tasks: list[dict], *, on_event: EventCallback | None = None) -> Iterator[dict]:
        class _Direct:
            def put(self, event):
                if on_event is not None:
                    on_event(event)

        for task in tasks:
            yield run_task({**task, "threads": self.threads}, events=_Direct())


def _init_worker(events, threads: int, parent: int, counter) -> None:
    _WORKER.update(events=events, parent=parent)
    with counter.get_lock():
        _WORKER["index"] = counter.value
        counter.value += 1
    try:  # die with the driver (Linux): a killed sweep leaves no orphan trainers behind
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


class LocalExecutor:
    """A pool of ``workers`` processes with ``threads`` torch threads each (default: one per core)."""

    name = "local"

    def __init__(self, *, workers: int | None = None, threads: int = 1) -> None:
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.threads = threads

    def run(self, tasks: list[dict], *, on_event: EventCallback | None = None) -> Iterator[dict]:
        import multiprocessing as mp
        import queue as queue_mod
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if not tasks:
            return
        ctx = mp.get_context("spawn")
        events = ctx.Queue()
        counter = ctx.Value("i", 0)
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(events, self.threads, os.getpid(), counter),
        )

        def drain() -> None:
            while True:
                try:
                    event = events.get_nowait()
                except (queue_mod.Empty, OSError, ValueError):
                    return
                if on_event is not None:
                    on_event(event)

        finished = False
        try:
            futures = {pool.submit(run_task, {**t, "threads": self.threads}): t for t in tasks}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    try:
                        record = future.result()
                    except Exception as exc:
                        # Not a result: nothing is written, so the next sweep retries this run.
                        record = {
                            **failure_record(futures[future], f"worker lost: {exc}"),
                            "lost": True,
                        }
                    yield record
            time.sleep(0.05)
            drain()
            finished = True
        finally:
            if not finished:  # interrupted: stop the trainers now (their checkpoints stay)
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=finished, cancel_futures=True)
            events.close()


def _ray_task(task: dict, corpus, events) -> dict:
    return run_task(task, corpus=corpus, events=events)


class RayExecutor:
    """One Ray task per run (``num_cpus``/``num_gpus`` of the run); ``address`` or a local instance."""

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus

    def run(self, tasks: list[dict], *, on_event: EventCallback | None = None) -> Iterator[dict]:
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise MissingDependencyError("ray", "ray") from None
        if not tasks:
            return
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, **kwargs)
            started = True
        try:
            corpus, _ = load_corpus_npz(tasks[0]["corpus_path"])
            corpus_ref = ray.put(corpus)
            events = Queue(actor_options={"num_cpus": 0})
            remote = ray.remote(_ray_task)
            refs = {}
            for task in tasks:
                threads = max(1, int(task.get("num_cpus", 1)))
                ref = remote.options(
                    num_cpus=task.get("num_cpus", 1),
                    num_gpus=task.get("num_gpus", 0),
                    max_retries=0,
                ).remote({**task, "threads": threads, "spread_gpus": False}, corpus_ref, events)
                refs[ref] = task
            pending = list(refs)

            def drain() -> None:
                try:
                    batch = events.get_nowait_batch(events.qsize())
                except Exception:
                    return
                for event in batch:
                    if on_event is not None:
                        on_event(event)

            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=0.25)
                drain()
                for ref in done:
                    try:
                        record = ray.get(ref)
                    except Exception as exc:
                        record = {
                            **failure_record(refs[ref], f"ray task lost: {exc}"),
                            "lost": True,
                        }
                    yield record
            drain()
        finally:
            if started:
                ray.shutdown()


EXECUTORS = {"serial": SerialExecutor, "local": LocalExecutor, "ray": RayExecutor}


def get_executor(
    name: str = "local",
    *,
    workers: int | None = None,
    threads: int = 1,
    ray_address: str | None = None,
) -> SerialExecutor | LocalExecutor | RayExecutor:
    """'local' (process pool), 'ray' or 'serial'; an unknown name lists the valid ones."""
    from tokenplan import _checks

    key = _checks.choice("executor", name, EXECUTORS)
    if workers is not None:
        _checks.positive_int("workers", workers)
    if key == "local":
        return LocalExecutor(workers=workers, threads=threads)
    if key == "ray":
        return RayExecutor(address=ray_address, num_cpus=workers)
    return SerialExecutor(threads=threads)
