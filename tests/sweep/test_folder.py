"""The sweep folder: foreign files are refused and left byte-identical, one writer at a time (a second sweep
is refused with the first's pid, a killed sweep's lock is taken over), checkpoints are loaded without running
code from them, temp files of a killed run are removed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import run_cli
from tokenplan._io import TEMP_MARK
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.folder import LOCK_NAME, MANIFEST_NAME, OWNER_NAME, SweepFolder
from tokenplan.sweep.spec import spec_from_dict

torch = pytest.importorskip("torch")

TINY = {
    "kind": "isoflop",
    "budgets": [4e8],
    "sizes": ["L1-d16-h1", "L1-d24-h1"],
    "seq_len": 16,
    "batch_size": 4,
    "n_evals": 1,
    "eval_tokens": 256,
    "min_steps": 1,
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _tiny_sweep(out: Path, **kw):
    from tokenplan.sweep.runner import run_sweep

    return run_sweep(spec_from_dict(TINY), out, executor="serial", **kw)


def _one_line_exit_2(r) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny sweep (2 runs); tests copy it before changing anything."""
    out = tmp_path_factory.mktemp("finished") / "sweep"
    result = _tiny_sweep(out)
    assert result.n_trained == 2 and result.counts["ok"] == 2
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(
        src, dst, copy_function=shutil.copy2
    )  # copy2 keeps the mtimes the manifest holds
    return dst


def test_a_finished_folder_records_what_it_wrote(finished):
    manifest = json.loads((finished / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {"sweep.yaml", "corpus.npz", "results.csv", "curves.csv"}
    assert sorted(manifest["runs"]) == sorted(p.name for p in (finished / "runs").iterdir())
    for name, entry in manifest["files"].items():
        assert entry == {
            "size": (finished / name).stat().st_size,
            "mtime_ns": (finished / name).stat().st_mtime_ns,
            "sha256": hashlib.sha256((finished / name).read_bytes()).hexdigest(),
        }
    assert not [p for p in finished.rglob("*") if TEMP_MARK in p.name]


def test_a_foreign_folder_is_refused_and_untouched(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.csv").write_text("run_id,loss\nmy-precious-run,2.0\n")
    before = _snapshot(out)
    r = run_cli("sweep", "--preset", "micro", "--out", str(out), "--executor", "serial")
    _one_line_exit_2(r)
    assert "--out" in r.stderr and "not made by tokenplan sweep" in r.stderr
    assert _snapshot(out) == before and sorted(p.name for p in out.iterdir()) == ["results.csv"]


def test_a_results_file_the_sweep_did_not_write_is_refused(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    (out / "results.csv").write_text("run_id,loss\nedited-by-me,1.0\n")
    (out / "results_best_lr.csv").write_text(
        "mine\n"
    )  # a name the sweep writes, never written here
    before = _snapshot(out)
    with pytest.raises(InvalidInputError) as info:
        _tiny_sweep(out)
    assert "results.csv (changed since" in str(info.value)
    assert "results_best_lr.csv (not written by tokenplan sweep)" in str(info.value)
    assert info.value.param == "out_dir"
    assert _snapshot(out) == before


def test_an_unknown_run_folder_is_refused(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    (out / "runs" / "somebody-else").mkdir()
    with pytest.raises(InvalidInputError, match=r"runs/somebody-else \(not made by"):
        _tiny_sweep(out)


def test_resume_of_an_intact_folder_keeps_every_byte(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    (out / "notes.txt").write_text("files at other names are left alone\n")
    results = (out / "results.csv").read_bytes()
    result = _tiny_sweep(out)
    assert result.n_skipped == 2 and result.n_trained == 0
    assert (out / "results.csv").read_bytes() == results
    assert (out / "notes.txt").exists()


def test_a_copied_folder_resumes_and_a_changed_file_is_still_refused(finished, tmp_path):
    """A copy that gives the files new mtimes (cp -r, scp -r, a checkout on the GPU box the docs say a
    sweep resumes on) was refused: "results.csv (changed since tokenplan sweep wrote it)", for identical
    bytes. The manifest keeps each file's SHA-256: the copy resumes, keeping every byte; a same-size edit
    is still refused."""
    import shutil

    out = shutil.copytree(finished, tmp_path / "s", copy_function=shutil.copy)  # new mtimes
    assert (out / "results.csv").stat().st_mtime_ns != (finished / "results.csv").stat().st_mtime_ns
    results = (out / "results.csv").read_bytes()
    result = _tiny_sweep(out)
    assert result.n_skipped == 2 and result.n_trained == 0
    assert (out / "results.csv").read_bytes() == results
    edited = shutil.copytree(finished, tmp_path / "e", copy_function=shutil.copy)
    text = (edited / "curves.csv").read_text()
    (edited / "curves.csv").write_text(text.replace("1", "2", 1))  # same size, other bytes
    before = _snapshot(edited)
    with pytest.raises(InvalidInputError, match=r"curves.csv \(changed since"):
        _tiny_sweep(edited)
    assert _snapshot(edited) == before


def test_a_truncated_corpus_is_one_line_exit_2(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    data = (out / "corpus.npz").read_bytes()
    (out / "corpus.npz").write_bytes(data[: len(data) // 3])
    r = run_cli("sweep", _tiny_spec_file(tmp_path), "--out", str(out), "--executor", "serial")
    _one_line_exit_2(r)
    assert "corpus.npz" in r.stderr
    # the tool's own corpus damaged behind the manifest's back (same size and mtime): still one line
    from tokenplan.sweep.executors import load_corpus_npz

    bad = tmp_path / "bad.npz"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(InvalidInputError, match="damaged"):
        load_corpus_npz(bad)


def _tiny_spec_file(tmp_path: Path) -> str:
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return str(path)


def test_temps_of_a_killed_run_are_removed(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    run_dir = next((out / "runs").iterdir())
    litter = [out / f".results.csv.x1{TEMP_MARK}", run_dir / f".ckpt.pt.x2{TEMP_MARK}"]
    for path in litter:
        path.write_bytes(b"half a file")
    _tiny_sweep(out)
    assert not any(p.exists() for p in litter)


# --- one writer -----------------------------------------------------------------------------------------
def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path):
    out = tmp_path / "s"
    with SweepFolder(out).open():
        r = run_cli("sweep", "--preset", "micro", "--out", str(out), "--executor", "serial")
        _one_line_exit_2(r)
        assert f"in use by pid {os.getpid()}" in r.stderr
    assert not (out / "runs").exists()  # the refused sweep wrote nothing
    with SweepFolder(out).open():  # released: the next writer gets it
        pass


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tokenplan", "sweep", "--out", str(out), "--quiet", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
def test_two_processes_one_folder_and_a_killed_holder(tmp_path):
    """A running sweep holds the folder; a second one is refused with its pid; after a SIGKILL the lock
    is stale and the next writer takes it over (test_kill.py resumes killed sweeps to the end)."""
    out = tmp_path / "s"
    flags = ["--preset", "micro", "--budgets", "3e10", "--executor", "serial"]
    first = _start(out, *flags, "--checkpoint-every", "0")
    try:
        t0 = time.monotonic()
        while not list(out.glob("runs/*/ckpt.pt")):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() - t0 < 120, "the first sweep made no progress"
            time.sleep(0.05)
        second = run_cli("sweep", "--out", str(out), *flags)
        _one_line_exit_2(second)
        assert f"in use by pid {first.pid}" in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert (out / LOCK_NAME).exists() and (out / OWNER_NAME).read_text().strip() == str(first.pid)
    with SweepFolder(out).open() as folder:  # the dead holder's lock is taken over at once
        assert (out / OWNER_NAME).read_text().strip() == str(os.getpid())
        assert folder.runs  # and its manifest is adopted


# --- checkpoints are never unpickled --------------------------------------------------------------------
class _Planted:
    """Unpickling this calls open(path, 'w'): a stand-in for any code an attacker could run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _evil_checkpoint(path: Path, marker: Path) -> None:
    torch.save({"digest": "x", "model": {}, "rng": _Planted(str(marker))}, path)


def test_the_planted_checkpoint_really_runs_code_when_unpickled(tmp_path):
    """The control: the same file does create the marker when loaded unsafely (so the tests below can
    fail)."""
    evil, marker = tmp_path / "ckpt.pt", tmp_path / "pwned"
    _evil_checkpoint(evil, marker)
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_a_checkpoint_that_would_run_code_is_refused_by_the_trainer(tmp_path):
    from tokenplan.sweep.data import load_corpus
    from tokenplan.sweep.train import TrainConfig, train

    evil, marker = tmp_path / "ckpt.pt", tmp_path / "pwned"
    _evil_checkpoint(evil, marker)
    cfg = TrainConfig(n_layers=1, d_model=16, n_heads=1, seq_len=16, batch_size=4, n_tokens=640)
    with pytest.raises(InvalidInputError, match="refused and not loaded") as info:
        train(cfg, load_corpus(), checkpoint=evil)
    assert info.value.param == "checkpoint"
    assert not marker.exists() and evil.exists()


def test_a_sweep_resuming_a_planted_checkpoint_refuses_it(finished, tmp_path):
    out = _copy(finished, tmp_path / "s")
    run_dir = sorted((out / "runs").iterdir())[0]
    (
        run_dir / "result.json"
    ).unlink()  # the run is unfinished again, so a resume would load ckpt.pt
    marker = tmp_path / "pwned"
    _evil_checkpoint(run_dir / "ckpt.pt", marker)
    r = run_cli("sweep", _tiny_spec_file(tmp_path), "--out", str(out), "--executor", "serial")
    _one_line_exit_2(r)
    assert "ckpt.pt" in r.stderr and "refused" in r.stderr
    assert not marker.exists()
    # the worker side refuses too, and does not record the run as failed
    from tokenplan.sweep.executors import run_task

    task = {
        "run": json.loads((run_dir / "config.json").read_text()),
        "out_dir": str(out),
        "corpus_path": str(out / "corpus.npz"),
    }
    record = run_task(task)
    assert record["lost"] and "refused" in record["result"]["error"]
    assert not marker.exists() and not (run_dir / "result.json").exists()


def test_a_refused_sweep_leaves_no_new_files(tmp_path):
    """Input found bad after the folder was taken (missing data, a corpus too small for the grid) is
    refused, and what the call wrote is removed: a new folder disappears, an empty one stays empty."""
    from tokenplan.sweep.runner import run_sweep

    bad = spec_from_dict({**TINY, "data": str(tmp_path / "missing.txt")})
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "deeper", empty):
        with pytest.raises(InvalidInputError, match="does not exist"):
            run_sweep(bad, out, executor="serial")
    assert not (tmp_path / "new").exists() and list(empty.iterdir()) == []


def test_a_results_file_edited_by_hand_says_it_is_rebuilt_not_to_start_over(finished, tmp_path):
    """A hand-truncated results.csv was refused with 'Choose a new --out folder', which would train every
    finished run again; the file is derived from runs/*/result.json, so the fix is to move it away."""
    out = _copy(finished, tmp_path / "s")
    original = (out / "results.csv").read_bytes()
    (out / "results.csv").write_bytes(original[:-30])  # a torn last line
    before = _snapshot(out)
    with pytest.raises(InvalidInputError) as info:
        _tiny_sweep(out)
    message = str(info.value)
    assert "results.csv (changed since" in message and "Choose a new --out" not in message
    assert "writes results.csv again from runs/*/result.json: move your edited copy away" in message
    assert _snapshot(out) == before
    (out / "results.csv").unlink()  # the advice, followed
    result = _tiny_sweep(out)
    assert result.n_trained == 0 and result.n_skipped == 2
    assert (out / "results.csv").read_bytes() == original


def test_a_damaged_result_json_is_refused_not_silently_retrained(finished, tmp_path):
    """A result.json cut off by hand read as 'not finished': the sweep trained the run again and replaced
    the file without a word (hours, on a real grid). It is refused like a damaged checkpoint, and the run
    trains again once the file is deleted."""
    out = _copy(finished, tmp_path / "s")
    (path,) = sorted(out.glob("runs/*/result.json"))[:1]
    path.write_bytes(path.read_bytes()[:300])
    before = _snapshot(out)
    with pytest.raises(InvalidInputError) as info:
        _tiny_sweep(out)
    message = str(info.value)
    assert f"runs/{path.parent.name}/result.json, not the record tokenplan sweep wrote" in message
    assert "delete it to train that run again" in message and info.value.param == "out_dir"
    assert _snapshot(out) == before
    path.unlink()
    assert _tiny_sweep(out).n_trained == 1
