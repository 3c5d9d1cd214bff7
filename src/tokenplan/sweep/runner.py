"""Run a sweep: expand the grid, skip finished runs, execute the rest, keep the results files current.

:func:`run_sweep` is the one entry point the CLI calls. It never prints: progress reaches the caller as
event dicts through ``on_event`` (``start``, ``run_start``, ``eval``, ``run_done``, ``warning``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenplan import _checks
from tokenplan._io import write_text_atomic
from tokenplan._record import record
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.folder import SweepFolder
from tokenplan.sweep.grid import RunSpec, expand
from tokenplan.sweep.results import (
    DIVERGED,
    damaged_results,
    finished_records,
    rebuild_results,
    relabel_diverged,
)
from tokenplan.sweep.spec import (
    SweepSpec,
    describe,
    load_spec,
    shown,
    spec_changes,
    spec_digest,
)

RESULT_FILES = ("results.csv", "curves.csv", "results_best_lr.csv")

__all__ = ["SweepResult", "fit_command_for", "plan_sweep", "run_sweep"]


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    """What a call of :func:`run_sweep` did."""

    out_dir: str
    results_csv: str
    curves_csv: str
    best_lr_csv: str | None
    n_runs: int
    """Runs in the grid."""
    n_skipped: int
    """Runs already finished before this call (resumed sweeps)."""
    n_trained: int
    """Runs this call finished."""
    trained_ids: tuple[str, ...] = ()
    """The run ids of those runs (results.csv is in grid order, not the order runs finished in)."""
    n_lost: int = 0
    """Runs whose worker died (not recorded; a re-run retries them)."""
    failed_ids: tuple[str, ...] = ()
    """Runs of this grid recorded ``failed`` by an error in training (this call or an earlier one: a failed
    run is final until its ``runs/<run_id>`` folder is deleted). A diverged run (error ``diverged: ...``)
    is a result, not a failure, and is not here. With ``n_lost``, what makes the CLI exit 1."""
    n_diverged: int = 0
    """Runs of this grid recorded ``failed`` because they diverged (a result of their settings)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Rows of results.csv by status: runs, ok, failed, too_few_steps."""
    wall_seconds: float = 0.0
    executor: str = "local"
    grids: tuple[str, ...] = ()
    """The description of each spec trained into the folder, oldest first: more than one after
    ``extend=True``, when results.csv holds the runs of all of them."""

    fit_command: str | None = None
    """The ``tokenplan fit`` call these results support (:func:`fit_command_for`, computed once by
    :func:`run_sweep` from the results it wrote); None when no run is usable (``fit_command_why`` says
    why) or on a result built by hand without it."""
    fit_command_why: str | None = None
    """Why ``fit_command`` is not plain ``tokenplan fit RESULTS`` (None when it is)."""

    def to_dict(self) -> dict[str, Any]:
        out = record(
            self,
            "out_dir results_csv curves_csv best_lr_csv n_runs n_skipped n_trained n_lost n_diverged "
            "counts wall_seconds executor",
        )
        why = {"fit_command": self.fit_command, "fit_command_why": self.fit_command_why}
        failed = {"failed_ids": list(self.failed_ids), "complete": self.complete}
        return {**out, "counts": dict(self.counts), "grids": list(self.grids), **failed, **why}

    @property
    def complete(self) -> bool:
        """Every run of the grid has a result: none failed in training (diverged runs are results) and
        none was lost. The CLI exits 1 when this is false."""
        return not self.failed_ids and not self.n_lost


def fit_command_for(
    results_csv: str, curves_csv: str, best_lr_csv: str | None = None
) -> tuple[str | None, str | None]:
    """The ``tokenplan fit`` call that a sweep's results support, and why it is not the default call
    (None when it is). Plain ``tokenplan fit`` (Approach 3 on the runs on fresh data) needs 5 fresh
    runs at distinct (N, D); short of that it stops with exit 2, so: runs on repeated data (a
    repetition grid) take ``--law data-constrained --fit-base`` (with the base law frozen at the C4
    fit, the shipped repeat sweep's runs were predicted 720% off), and the rest ``--approach all`` with the
    curves (Approach 1 fits the envelope of the training curves; the others say why they were
    skipped). Reads ``best_lr_csv`` (when given) or ``results_csv``. No call (None, and why) when no run
    is usable: every run failed, or the file cannot be read (a call that stops with exit 2 is no next
    step)."""
    from tokenplan.fit.parametric import check_runs
    from tokenplan.runs import read_runs

    target = best_lr_csv or results_csv
    try:
        runs = read_runs(target)
    except InvalidInputError as exc:
        return None, f"nothing to fit: {exc}"
    fresh = runs.fresh_only()
    try:
        check_runs(fresh)
    except InvalidInputError as exc:
        if len(fresh) < len(runs):
            why = (
                f"{len(runs) - len(fresh)} of {len(runs)} runs repeat their data; {exc} --fit-base: "
                "the base law is refitted, as the C4 fit is not a tiny model's"
            )
            return f"tokenplan fit {target} --law data-constrained --fit-base", why
        return f"tokenplan fit {target} --approach all --curves {curves_csv}", str(exc)
    return f"tokenplan fit {target}", None


def _corpus(spec: SweepSpec, folder: SweepFolder):
    """The sweep's tokenized corpus: corpus.npz if it matches the spec's data, else made now (refused when
    the folder holds runs trained on other tokens: :func:`_check_same_corpus`)."""
    from tokenplan.sweep.data import load_corpus
    from tokenplan.sweep.executors import load_corpus_npz, save_corpus

    meta = {
        "data": spec.data,
        "tokenizer": spec.tokenizer,
        "val_fraction": spec.val_fraction,
        "text_field": spec.text_field,
    }
    path = folder.path / "corpus.npz"
    saved = None
    if path.exists():
        corpus, saved = load_corpus_npz(path)  # damaged: one clear error (the folder check passed)
        if all(saved.get(k) == v for k, v in meta.items()):
            _check_same_corpus(folder, corpus, meta, saved)
            return corpus, path
    corpus = load_corpus(
        spec.data,
        tokenizer=spec.tokenizer,
        val_fraction=spec.val_fraction,
        text_field=spec.text_field,
    )
    _check_same_corpus(folder, corpus, meta, saved)
    with folder.writing("corpus.npz"):
        save_corpus(corpus, path, meta)
    return corpus, path


def _check_same_corpus(folder: SweepFolder, corpus, meta: dict, saved: dict | None) -> None:
    """Refuse a corpus whose tokens differ from those the folder's runs trained on: a run's id hashes its
    config, not its corpus, so a finished run would be reused (and a checkpoint resumed) as this corpus's
    run (``--extend --data other.txt`` reported the old text's runs as the new one's). The check is on the
    tokens (the fingerprint), so the same text at another path is the same corpus."""
    trained = {r.get("corpus") for r in finished_records(folder.path).values()} - {None, ""}
    if saved is not None and folder.runs:  # runs in progress trained on corpus.npz's tokens
        trained.add(saved.get("fingerprint"))
    if not trained or trained == {corpus.fingerprint}:
        return
    old = saved or {}
    changed = [
        f"{key}: {shown(key, old.get(key))} -> {shown(key, value)}"
        for key, value in meta.items()
        if key in old and old[key] != value
    ]
    what = ", ".join(changed) or f"the text of {shown('data', meta['data'])} changed since"
    raise InvalidInputError(
        f"{folder.path} holds runs trained on another corpus ({what}); a sweep folder holds the runs "
        "of one corpus (a run's id does not name it, so they would be reused as this corpus's runs): "
        "use a new --out folder, or the data those runs were trained on.",
        param="data",
    )


def _check_spec(spec: Any) -> None:
    """One line for a mapping or a path given as the spec (it failed on a missing attribute deep inside)."""
    _checks.instance(
        "spec", spec, SweepSpec,
        "build it with tokenplan.sweep.spec_from_dict({...}) or load_spec('spec.yaml')",
    )  # fmt: skip


def plan_sweep(spec: SweepSpec, *, vocab_size: int | None = None) -> list[RunSpec]:
    """The runs of ``spec``, longest first (what ``--dry-run`` shows)."""
    _check_spec(spec)
    return sorted(expand(spec, vocab_size=vocab_size), key=lambda r: -r.cost)


# long: over 60 lines only through its signature and docstring: the body is the sequence of named steps.
def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    extend: bool = False,
    checkpoint_every: float = 60.0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Train every run of ``spec`` not yet finished in ``out_dir``; return a :class:`SweepResult`.

    Re-running the same spec into the same folder resumes: finished runs are skipped, runs in progress
    continue from their checkpoints. A different spec is refused (so results of two grids are not mixed
    by accident) unless ``extend=True``, which adds the new spec's runs to the folder. The folder is locked
    while the sweep runs, and a folder holding files the sweep did not write is refused
    (:mod:`tokenplan.sweep.folder`).
    """
    from tokenplan.sweep.executors import get_executor

    t0 = time.perf_counter()
    _check_spec(spec)
    emit = on_event or (lambda event: None)
    checkpoint_every = _checks.positive("checkpoint_every", checkpoint_every, allow_zero=True)
    threads = max(1, int(spec.num_cpus))
    ex = get_executor(executor, workers=workers, threads=threads, ray_address=ray_address)
    with SweepFolder(out_dir).open() as folder:
        corpus, corpus_path, runs, todo = _prepare(folder, spec, extend=extend, emit=emit)
        if todo and executor != "ray":  # CUDA asked for but absent: one clear error, not N failed
            _check_device(spec.device)  # runs (a Ray cluster's workers may have GPUs)
        _warn_repeats(todo, corpus, emit)
        emit(
            {
                "event": "start",
                "total": len(runs),
                "skipped": len(runs) - len(todo),
                "todo": len(todo),
                "executor": ex.name,
                "corpus": repr(corpus),
            }
        )
        common = {
            "out_dir": str(folder.path),
            "corpus_path": str(corpus_path),
            "fingerprint": corpus.fingerprint,
            "checkpoint_every": checkpoint_every,
            "num_cpus": spec.num_cpus,
            "num_gpus": spec.num_gpus,
        }
        folder.commit()
        trained, lost = _execute(ex, [{"run": r.to_dict(), **common} for r in todo], folder, emit)
        counts = _rebuild(folder)
        failed, diverged = _failures(folder, runs)
    return SweepResult(
        out_dir=str(folder.path),
        **_outputs(folder),
        n_runs=len(runs),
        n_skipped=len(runs) - len(todo),
        n_trained=len(trained),
        trained_ids=tuple(trained),
        n_lost=lost,
        failed_ids=failed,
        n_diverged=diverged,
        counts=counts,
        wall_seconds=time.perf_counter() - t0,
        executor=ex.name,
        grids=tuple(g.get("description", "") for g in folder.grids),
    )


def _failures(folder: SweepFolder, runs: list[RunSpec]) -> tuple[tuple[str, ...], int]:
    """The grid's runs recorded failed by an error in training, and how many diverged (failed too, but a
    result of their settings: an LR too high is what the sweep measured, not work left undone)."""
    records = finished_records(folder.path)
    failed, diverged = [], 0
    for run in runs:
        res = records.get(run.run_id, {}).get("result", {})
        if res.get("status") != "failed":
            continue
        if str(res.get("error", "")).startswith(DIVERGED):
            diverged += 1
        else:
            failed.append(run.run_id)
    return tuple(failed), diverged


def _check_device(device: str) -> None:
    """Refuse a CUDA device that is not there (before any run starts, nothing committed). Only when there
    is a run to train: it imports torch, which was 3 s of a 3.1 s no-op resume."""
    from tokenplan.sweep.train import resolve_device

    resolve_device(device)


def _outputs(folder: SweepFolder) -> dict[str, Any]:
    """The folder's results files and the ``tokenplan fit`` call they support (read once, here, so that
    :meth:`SweepResult.to_dict` reads no file)."""
    best = folder.path / "results_best_lr.csv"
    files = {
        "results_csv": str(folder.path / "results.csv"),
        "curves_csv": str(folder.path / "curves.csv"),
        "best_lr_csv": str(best) if best.exists() else None,
    }
    command, why = fit_command_for(**files)
    return {**files, "fit_command": command, "fit_command_why": why}


def _prepare(folder: SweepFolder, spec: SweepSpec, *, extend: bool, emit):
    """Check the spec fits the folder and the corpus, save the spec, repair the CSVs; return the corpus,
    its path, all runs and the runs still to train (recorded in the manifest)."""
    _check_results(folder)
    _check_same_spec(folder, spec, extend=extend)
    corpus, corpus_path = _corpus(spec, folder)
    runs = plan_sweep(spec, vocab_size=corpus.vocab_size)
    _check_corpus_size(runs, corpus, spec.data)
    _relabel_diverged(folder, emit)  # after the checks: a refused spec changes no record
    _record_grid(folder, spec)
    with folder.writing("sweep.yaml"):
        write_text_atomic(folder.path / "sweep.yaml", spec.to_yaml())
    _rebuild(folder)  # repair the CSVs after a crash between a result.json and its rebuild
    done = finished_records(folder.path)
    todo = [r for r in runs if r.run_id not in done]
    folder.add_runs(r.run_id for r in todo)
    _check_checkpoints(folder, todo)
    return corpus, corpus_path, runs, todo


def _check_results(folder: SweepFolder) -> None:
    """A damaged result.json (cut off or edited by hand) is refused, as a damaged checkpoint or corpus.npz
    is: read as 'not finished', its run was trained again and the file replaced without a word."""
    damaged = damaged_results(folder.path)
    if damaged:
        listed = ", ".join(damaged[:3]) + (
            f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
        )
        raise InvalidInputError(
            f"out={str(folder.path)!r} holds {listed}, not the record tokenplan sweep wrote for that "
            "run (cut off or edited); nothing was changed. Restore it, or delete it to train that run "
            "again.",
            param="out_dir",
        )


def _relabel_diverged(folder: SweepFolder, emit) -> None:
    """Runs recorded ``ok`` before the divergence rule (a folder made before 2026-12-05) whose final loss
    is no better than a uniform guess were fitted: re-label them as the rule does, and say so once (their
    result.json is rewritten, so the next read finds nothing to re-label)."""
    ids = relabel_diverged(folder.path)
    if ids:
        listed = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        emit(
            {
                "event": "warning",
                "message": f"{len(ids)} run(s) recorded ok before 2026-12-05 ended with a held-out "
                "loss not below ln(vocab size), a uniform guess's; re-labelled failed ('diverged: "
                f"...' in their result.json, loss nan), so no fit takes them: {listed}.",
            }
        )


def _rebuild(folder: SweepFolder) -> dict[str, int]:
    with folder.writing(*RESULT_FILES):
        return rebuild_results(folder.path)


def _saved_spec(folder: SweepFolder) -> SweepSpec | None:
    """The folder's sweep.yaml (the latest spec trained there), or None."""
    try:
        return load_spec(folder.path / "sweep.yaml")
    except InvalidInputError:
        return None


def _record_grid(folder: SweepFolder, spec: SweepSpec) -> None:
    """Add ``spec`` to the folder's grids, so that a report after --extend describes every grid in
    results.csv, not only the latest spec's (sweep.yaml holds that one alone). A folder made before grids
    were recorded starts from its sweep.yaml."""
    if not folder.grids and (folder.path / "sweep.yaml").exists():
        old = _saved_spec(folder)
        if old is not None:
            folder.add_grid(spec_digest(old), old.description or describe(old))
    folder.add_grid(spec_digest(spec), spec.description or describe(spec))


def _check_same_spec(folder: SweepFolder, spec: SweepSpec, *, extend: bool) -> None:
    spec_path = folder.path / "sweep.yaml"
    if not spec_path.exists() or extend:
        return
    old = _saved_spec(folder)
    if old is None or spec_digest(old) != spec_digest(spec):
        changed = "; ".join(spec_changes(old, spec)) if old is not None else "unreadable"
        raise InvalidInputError(
            f"{folder.path} holds a different sweep ({changed}; see {spec_path}); use a new --out "
            "folder, or pass --extend to add this spec's runs to it.",
            param="out_dir",
        )


def _check_corpus_size(runs: list[RunSpec], corpus, data: str | None) -> None:
    """A run that needs more unique tokens than the corpus holds is refused before any run starts, naming
    the corpus (the usual fix) and the other ways out; not --n-tokens, which a preset or spec file may
    have set without the user typing it."""
    for run in runs:
        cfg = run.config
        if cfg.unique_tokens is not None and cfg.unique_tokens > corpus.train_tokens:
            fewest = math.ceil(cfg.steps * cfg.batch_tokens / corpus.train_tokens)
            raise InvalidInputError(
                f"{data or 'the built-in corpus'} has {corpus.train_tokens:,} training tokens, fewer "
                f"than run {run.run_id} needs (n_tokens / epochs = {cfg.unique_tokens:,} unique "
                "tokens); give a larger corpus (`data`; `tokenplan data shakespeare` prepares one), "
                f"lower `n_tokens`, or keep only `epochs` >= {fewest:,}.",
                param="data",
            )
    _check_windows(runs, corpus)


def _check_windows(runs: list[RunSpec], corpus) -> None:
    """A corpus too short for one training or held-out window of seq_len + 1 tokens is refused before any
    run starts: every run would fail the same way (a 3-token file trained 4 'failed' runs, exit 0)."""
    window = max((r.config.seq_len for r in runs), default=0) + 1
    for split, tokens in (("training", corpus.train_tokens), ("held-out", corpus.val_tokens)):
        if runs and tokens < window:
            raise InvalidInputError(
                f"the corpus {corpus.source!r} has {tokens:,} {split} tokens, fewer than one window of "
                f"seq_len+1={window} tokens ({corpus.train_tokens:,} training, {corpus.val_tokens:,} "
                "held-out, the tail `val_fraction` of every document); give more text or lower "
                "`seq_len`.",
                param="data",
            )


def _check_checkpoints(folder: SweepFolder, todo: list[RunSpec]) -> None:
    """Refuse (before any run starts) a checkpoint that cannot be loaded without running code, or is
    damaged, whichever executor trains: Ray's workers refused it each on its own, so the run was 'lost'
    on every rerun. A checkpoint this folder does not hold (a Ray worker's own disk) is its worker's to
    refuse (:func:`tokenplan.sweep.executors.run_task`)."""
    paths = [folder.run_dir(r.run_id) / "ckpt.pt" for r in todo]
    paths = [p for p in paths if p.exists()]
    if not paths:
        return
    from tokenplan.sweep.train import load_checkpoint

    for path in paths:
        load_checkpoint(path)


def _warn_repeats(todo: list[RunSpec], corpus, emit) -> None:
    over = [
        r.run_id
        for r in todo
        if r.config.unique_tokens is None
        and r.cost > 0
        and r.config.steps * r.config.batch_tokens > corpus.train_tokens
    ]
    if over:
        emit(
            {
                "event": "warning",
                "message": f"{len(over)} run(s) need more tokens than the corpus' {corpus.train_tokens:,} "
                "training tokens and will repeat data (their epochs > 1 is recorded).",
            }
        )


def _execute(ex, tasks: list[dict], folder: SweepFolder, emit) -> tuple[list[str], int]:
    """Run the tasks; after each finished run, rebuild the results files. Returns (trained ids, lost)."""
    trained: list[str] = []
    lost = 0
    for finished in ex.run(tasks, on_event=emit):
        res = finished["result"]
        if finished.get("lost"):
            lost += 1
            emit(
                {
                    "event": "run_done",
                    "run_id": finished["run_id"],
                    "status": "lost",
                    "loss": None,
                    "wall_seconds": 0.0,
                    "error": res["error"] + " (not recorded; a re-run retries it)",
                }
            )
            continue
        path = folder.run_dir(finished["run_id"]) / "result.json"
        if not path.exists():  # a Ray worker on another machine wrote its copy there
            write_text_atomic(path, json.dumps(finished, indent=1, allow_nan=False))
        _rebuild(folder)
        trained.append(finished["run_id"])
        emit(
            {
                "event": "run_done",
                "run_id": finished["run_id"],
                "status": res["status"],
                "loss": res["loss"],
                "wall_seconds": res["wall_seconds"],
                "error": res.get("error", ""),
            }
        )
    return trained, lost
