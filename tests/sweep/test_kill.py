"""SIGKILL at random points, 20+ times: the resumed sweep's results equal an uninterrupted sweep's, every
finished run is kept byte for byte, results.csv is whole after every kill, and no temp file or checkpoint
is left at the end.

The sweeps run in children of a fork server that has imported torch once, so a kill-and-restart cycle costs
milliseconds instead of a Python start-up (the whole test takes seconds)."""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import random
import time
from pathlib import Path

import pytest

from tokenplan._io import TEMP_MARK
from tokenplan.sweep.folder import OWNER_NAME
from tokenplan.sweep.runner import run_sweep
from tokenplan.sweep.spec import spec_from_dict

pytest.importorskip("torch")

SPEC = {
    "kind": "isoflop",
    "budgets": [6e8, 9e8],
    "sizes": ["L1-d16-h1", "L1-d24-h1"],
    "seq_len": 16,
    "batch_size": 4,
    "n_evals": 3,
    "eval_tokens": 256,
    "min_steps": 1,
}
KILLS = 20


@pytest.fixture(scope="module")
def ctx():
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["torch", "tokenplan.sweep.runner", "tokenplan.sweep.train"])
    return context


def _sweep(ctx, out: Path):
    proc = ctx.Process(
        target=run_sweep,
        args=(spec_from_dict(SPEC), out),
        kwargs={"executor": "serial", "checkpoint_every": 0.0},
    )
    proc.start()
    return proc


def _finished(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("runs/*/result.json"))}


def _rows(out: Path) -> dict[str, dict[str, str]]:
    path = out / "results.csv"
    if not path.exists():
        return {}
    text = path.read_text()
    assert text.endswith("\n")
    rows = list(csv.DictReader(text.splitlines()))
    assert len({r["run_id"] for r in rows}) == len(rows), "duplicate rows"
    return {r["run_id"]: r for r in rows}


def _outcome(out: Path) -> dict[str, tuple]:
    """What must not depend on kills: each run's status, steps, losses along the curve (not wall time)."""
    outcome = {}
    for run_id, data in _finished(out).items():
        res = json.loads(data)["result"]
        curve = tuple((p["step"], p["loss"], p["train_loss"]) for p in res["curve"])
        outcome[run_id] = (res["status"], res["steps"], res["n_tokens"], res["loss"], curve)
    return outcome


def _holds_lock(out: Path, pid: int) -> bool:
    try:
        return (out / OWNER_NAME).read_text().strip() == str(pid)
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_twenty_random_sigkills_then_resume_gives_identical_results(ctx, tmp_path):
    reference = tmp_path / "reference"
    proc = _sweep(ctx, reference)
    proc.join(300)
    assert proc.exitcode == 0
    expected = _outcome(reference)
    assert len(expected) == 4 and all(v[0] == "ok" for v in expected.values())

    out, rng, kills, kept = tmp_path / "killed", random.Random(13), 0, {}
    while kills < KILLS:
        proc = _sweep(ctx, out)
        t0 = time.monotonic()
        while not _holds_lock(out, proc.pid) and proc.is_alive():
            assert time.monotonic() - t0 < 60, "the sweep never took its folder"
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.25))  # anywhere: mid-step, mid-checkpoint, mid-rebuild ...
        if not proc.is_alive():
            break  # finished before this kill: the sweep was too short for this machine
        proc.kill()
        proc.join(30)
        kills += 1
        finished = _finished(out)
        for run_id, data in kept.items():
            assert finished[run_id] == data, f"finished run {run_id} was rewritten"
        kept = finished
        assert set(_rows(out)) <= set(finished)
    assert kills >= KILLS, f"only {kills} kills landed before the sweep finished"

    proc = _sweep(ctx, out)
    proc.join(300)
    assert proc.exitcode == 0
    assert _outcome(out) == expected
    assert {k: v for k, v in _finished(out).items() if k in kept} == kept
    rows = _rows(out)
    assert sorted(rows) == sorted(expected) and all(r["status"] == "ok" for r in rows.values())
    assert not [p for p in out.rglob("*") if TEMP_MARK in p.name or p.name == "ckpt.pt"]
