"""Kill-and-resume through the CLI and the local executor: a sweep killed with SIGKILL (the whole process
group, driver and workers, as a crash would) resumes with no finished run lost or duplicated and a
results.csv that is whole at every moment. (test_kill.py kills a serial sweep 20 times.)"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokenplan._io import TEMP_MARK

pytest.importorskip("torch")

SPEC = """\
kind: isoflop
budgets: [1.2e10, 1.6e10, 2.0e10]
sizes: [L1-d16-h1, L1-d32-h2]
seq_len: 32
batch_size: 8
n_evals: 4
eval_tokens: 1024
min_steps: 10
"""


def _start(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenplan",
            "sweep",
            str(spec),
            "--out",
            str(out),
            "--workers",
            "1",
            "--checkpoint-every",
            "0.2",
            "--quiet",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: we kill the driver and its workers together
    )


def _finished(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("runs/*/result.json"))}


def _check_csv(out: Path) -> list[dict[str, str]]:
    path = out / "results.csv"
    if not path.exists():
        return []
    text = path.read_text()
    assert text.endswith("\n")
    rows = list(csv.DictReader(text.splitlines()))
    ids = [r["run_id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate rows"
    assert all(r["status"] in ("ok", "failed", "too_few_steps") and r["kind"] for r in rows)
    return rows


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "the sweep made no progress"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "sweep"

    # 1) kill while the first run is in progress (a checkpoint exists, no result yet)
    proc = _start(spec, out)
    _kill_when(proc, lambda: any(out.glob("runs/*/ckpt.pt")))
    assert proc.returncode == -signal.SIGKILL
    first = _finished(out)
    _check_csv(out)

    # 2) resume; kill again once two more runs have finished
    proc = _start(spec, out)
    _kill_when(proc, lambda: len(_finished(out)) >= len(first) + 2)
    before = _finished(out)
    rows = _check_csv(out)
    assert {r["run_id"] for r in rows} <= set(before)
    for run_id, data in first.items():
        assert before[run_id] == data  # never rewritten

    # 3) resume to the end
    proc = _start(spec, out)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    report = json.loads(stdout)["sweep"]
    assert report["n_runs"] == 6
    assert report["n_skipped"] == len(before)
    assert report["n_trained"] == 6 - len(before)
    after = _finished(out)
    assert set(after) >= set(before) and len(after) == 6
    for run_id, data in before.items():
        assert after[run_id] == data  # finished runs are skipped, not retrained
    rows = _check_csv(out)
    assert sorted(r["run_id"] for r in rows) == sorted(after)
    assert all(r["status"] == "ok" for r in rows)
    assert not list(out.glob("runs/*/ckpt.pt"))  # checkpoints are removed when runs finish
    assert not [p for p in out.rglob("*") if TEMP_MARK in p.name]


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_a_resume_with_nothing_to_train_imports_neither_torch_nor_ray(tmp_path, executor):
    """A no-op resume (every run done) checked --device first, which imports torch: 3 s of a 3.1 s
    run. The device is now checked only when a run is left to train, and Ray is neither imported nor
    started for no task."""
    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    if executor == "ray":
        pytest.importorskip("ray")
    spec = {"preset": "micro", "budgets": [3e9], "sizes": ["L1-d16-h1"]}
    run_sweep(spec_from_dict(spec), tmp_path, executor="serial")
    argv = ["sweep", "--preset", "micro", "--budgets", "3e9", "--sizes", "L1-d16-h1"]
    argv += ["--out", str(tmp_path), "--executor", executor, "-q"]
    code = (
        "import sys\nfrom tokenplan.cli import main\n"
        f"sys.argv = ['tokenplan', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write(repr(sorted(m for m in ('torch', 'ray') if m in sys.modules)))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "0 run(s) trained, 1 already done" in r.stdout
    assert r.stderr.strip().splitlines()[-1] == "[]"
