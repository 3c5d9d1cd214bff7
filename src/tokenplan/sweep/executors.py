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
import os
import signal
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan import _checks
from tokenplan._io import atomic_write, write_text_atomic
from tokenplan._json import to_jsonable
from tokenplan.errors import InvalidInputError, MissingDependencyError
from tokenplan.sweep import choices

__all__ = [
    "EXECUTORS",
    "EXECUTOR_NAMES",
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


def _failure(run: dict[str, Any], error: str) -> dict[str, Any]:
    from tokenplan.sweep.config import TrainConfig

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
    return to_jsonable(
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


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` torch intra-op threads inside the block only (a serial sweep must not change the
    caller's process for good)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_task(task: dict[str, Any], corpus=None, events=None) -> dict[str, Any]:
    """Train one run of a sweep and write ``runs/<run_id>/result.json``; return its record.

    ``task`` holds ``run`` (a :meth:`RunSpec.to_dict`), ``out_dir``, ``corpus_path``, ``threads`` and
    ``checkpoint_every``. Errors inside training become a ``failed`` record, never an exception; a
    refused checkpoint, or an OSError (a full disk while writing a checkpoint or log.txt: the machine's
    fault, not the run's), makes a ``lost`` record (nothing written, so a re-run retries the run).
    """
    from tokenplan.sweep.train import train

    events = events if events is not None else _WORKER["events"]
    run = task["run"]
    run_dir = Path(task["out_dir"]) / "runs" / run["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "config.json").exists():
        write_text_atomic(run_dir / "config.json", json.dumps(run, indent=2))
    if corpus is None:
        corpus, _ = load_corpus_npz(task["corpus_path"])
    _put(events, {"event": "run_start", "run_id": run["run_id"], "pid": os.getpid()})
    try:
        with torch_threads(max(1, int(task.get("threads", 1)))):
            result = train(
                _run_config(task),
                corpus,
                on_eval=_eval_logger(run["run_id"], run_dir / "log.txt", events),
                checkpoint=run_dir / "ckpt.pt",
                checkpoint_every=float(task.get("checkpoint_every", 60.0)),
            ).to_dict()
    except InvalidInputError as exc:
        if exc.param == "checkpoint":
            return {**failure_record(task, str(exc)), "lost": True}
        result = _failure(run, str(exc))
    except OSError as exc:  # a full disk, a lost mount: the machine's fault, not the run's
        return {**failure_record(task, f"{type(exc).__name__}: {exc}"), "lost": True}
    except Exception as exc:
        result = _failure(run, f"{type(exc).__name__}: {exc}")
    record = make_record(task, result)
    write_text_atomic(run_dir / "result.json", json.dumps(record, indent=1, allow_nan=False))
    return record


def _run_config(task: dict[str, Any]):
    """The run's config; with ``device: auto`` and several GPUs, worker i takes cuda:(i mod n)."""
    import torch

    from tokenplan.sweep.config import TrainConfig

    data = task["run"]["config"]
    if data.get("device") == "auto" and torch.cuda.is_available() and task.get("spread_gpus", True):
        data = {**data, "device": f"cuda:{_WORKER['index'] % torch.cuda.device_count()}"}
    return TrainConfig.from_dict(data)


def _put(events, event: Event) -> None:
    if events is not None:
        try:
            actor = getattr(events, "actor", None)  # a Ray queue: send, do not wait
            if actor is not None:
                # Queue.put waits in ray.get, and Ray lends a task's CPU to another task while it waits:
                # with --workers 1, two runs trained at once. Calls from one task still arrive in order.
                actor.put_nowait.remote(event)
            else:
                events.put(event)
        except Exception:  # a closed queue (driver gone) must not fail the run
            pass


def _eval_logger(run_id: str, log: Path, events) -> EventCallback:
    """After each evaluation: append a line to the run's log.txt and pass the event to the driver."""

    def on_eval(event: Event) -> None:
        if _WORKER["parent"] is not None and os.getppid() != _WORKER["parent"]:
            os._exit(3)  # the driver is gone: stop; the checkpoint lets the next sweep resume
        event = {"event": "eval", "run_id": run_id, **event}
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                f"step {event['step']}/{event['steps']} | loss {event['loss']:.4f} | train "
                f"{event['train_loss']:.4f} | lr {event['lr']:.2e} | {event['ms_per_step']:.0f} ms\n"
            )
        _put(events, event)

    return on_eval


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


class LocalExecutor:
    """A pool of ``workers`` processes with ``threads`` torch threads each (default: as many as fill the
    cores, one thread per core: ``--num-cpus 2`` on 2 cores ran 2 workers of 2 threads, 4 on 2 cores)."""

    name = "local"

    def __init__(self, *, workers: int | None = None, threads: int = 1) -> None:
        self.workers = workers or max(1, (os.cpu_count() or 1) // max(1, threads))
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
    """One Ray task per run (``num_cpus``/``num_gpus`` of the run) on the cluster at ``address``, or on a
    local instance with ``num_cpus`` CPUs (default: what Ray detects) that this executor starts for the
    sweep and shuts down after it. An instance the caller already started is used and left running."""

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus

    def _connect(self, ray) -> bool:
        """Start or join Ray; True when this call started it (and so must shut it down)."""
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if self.address:
            kwargs["address"] = self.address
        else:
            kwargs["num_cpus"] = self.num_cpus
        try:
            ray.init(**kwargs)
        except Exception as exc:  # unreachable cluster, bad address, missing client extras
            raise InvalidInputError(
                f"could not start or reach Ray at {self.address or 'a local instance'} "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}).",
                param="ray_address",
            ) from None
        return True

    def run(self, tasks: list[dict], *, on_event: EventCallback | None = None) -> Iterator[dict]:
        if not tasks:  # nothing to train: neither import nor start Ray
            return
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise MissingDependencyError("ray", "ray") from None
        started = self._connect(ray)
        try:
            corpus, _ = load_corpus_npz(tasks[0]["corpus_path"])
            corpus_ref = ray.put(corpus)
            events = Queue(actor_options={"num_cpus": 0})
            remote = ray.remote(_ray_task)
            refs = {}
            for task in tasks:
                ref = remote.options(
                    num_cpus=task.get("num_cpus", 1),
                    num_gpus=task.get("num_gpus", 0),
                    max_retries=0,
                ).remote(
                    {**task, "threads": max(1, int(task.get("num_cpus", 1))), "spread_gpus": False},
                    corpus_ref,
                    events,
                )
                refs[ref] = task
            yield from _ray_results(ray, refs, events, on_event)
        finally:
            if started:
                ray.shutdown()


def _ray_results(ray, refs: dict, events, on_event: EventCallback | None) -> Iterator[dict]:
    """Yield each task's record as it finishes, passing the queued eval events on meanwhile."""

    def drain() -> None:
        try:
            batch = events.get_nowait_batch(events.qsize())
        except Exception:
            return
        for event in batch:
            if on_event is not None:
                on_event(event)

    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1, timeout=0.25)
        drain()
        for ref in done:
            try:
                record = ray.get(ref)
            except Exception as exc:
                record = {**failure_record(refs[ref], f"ray task lost: {exc}"), "lost": True}
            yield record
    drain()


def check_ray_address(address: str | None) -> None:
    """Refuse what cannot work before anything starts: Ray missing, an address Ray cannot read, or a
    ``ray://`` address without the Ray client (``pip install 'ray[client]'``)."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise MissingDependencyError("ray", "ray")
    if address is not None:
        _checks.ray_address("ray_address", address.strip())


EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor, "serial": SerialExecutor}
EXECUTOR_NAMES = choices.EXECUTOR_NAMES  # tuple(EXECUTORS), in a module the CLI imports cheaply


def get_executor(
    name: str = "local",
    *,
    workers: int | None = None,
    threads: int = 1,
    ray_address: str | None = None,
) -> SerialExecutor | LocalExecutor | RayExecutor:
    """'local' (process pool), 'ray' or 'serial'; an unknown name lists the valid ones."""
    key = _checks.choice("executor", name, EXECUTORS)
    if workers is not None:
        _checks.positive_int("workers", workers)
    if ray_address is not None and key != "ray":
        raise InvalidInputError(
            f"ray_address={ray_address!r} is only used with --executor ray.", param="ray_address"
        )
    if key == "local":
        return LocalExecutor(workers=workers, threads=threads)
    if key == "ray":
        check_ray_address(ray_address)
        return RayExecutor(address=ray_address, num_cpus=workers)
    return SerialExecutor(threads=threads)
