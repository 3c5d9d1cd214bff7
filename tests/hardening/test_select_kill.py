"""SIGKILL ``tokenplan select`` at random moments: no litter, and the next run gives the same subset.

The spool lives in an anonymous temporary file (nothing to leave behind), the output and the embedding cache
are written through marked temp files that the next run removes, and the output is replaced atomically.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

N_KILLS = 20


def _pool(path: Path, n: int = 600) -> None:
    rng = random.Random(0)
    words = "alpha beta gamma delta river stone cloud maple quartz ember lumen fjord tundra".split()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(30))
            fh.write(
                json.dumps({"instruction": f"Question {i}: {text[:40]}?", "output": text}) + "\n"
            )


def _cmd(work: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tokenplan",
        "select",
        "-i",
        "pool.jsonl",
        "-o",
        "out.jsonl",
        "--plot",
        "map.png",
        "--n",
        "50",
        "--method",
        "kcenter",
        "--embedder",
        "tfidf",
        "--batch-size",
        "64",
        "--cache-dir",
        str(work.parent / "cache"),
        "--overwrite",
        "--json",
    ]


def _env(tmpdir: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
    }


def _litter(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for p in root.rglob("*"):
            if p.name.endswith(".tokenplan-tmp") or p.name.startswith(
                ("tokenplan-", ".tokenplan-")
            ):
                found.append(str(p))
    return found


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_no_litter_and_resume_is_identical(tmp_path):
    work, tmpdir = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmpdir.mkdir()
    _pool(work / "pool.jsonl")
    env = _env(tmpdir)

    # a reference run in its own folder (no cache), and how long a run takes
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "pool.jsonl").write_bytes((work / "pool.jsonl").read_bytes())
    t0 = time.perf_counter()
    r = subprocess.run(_cmd(ref), cwd=ref, env=env, capture_output=True, text=True, timeout=300)
    duration = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    expected = (ref / "out.jsonl").read_bytes()

    rng = random.Random(1234)
    pool_bytes = (work / "pool.jsonl").read_bytes()
    killed = attempts = 0
    while killed < N_KILLS and attempts < 3 * N_KILLS:  # a run that finished first is not a kill
        attempts += 1
        proc = subprocess.Popen(
            _cmd(work), cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        t0 = time.perf_counter()
        time.sleep(rng.uniform(0.05, 0.9 * duration))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        else:  # later runs reuse the embedding cache: aim at the faster run
            duration = min(duration, time.perf_counter() - t0)
        proc.wait(timeout=300)
        assert (work / "pool.jsonl").read_bytes() == pool_bytes
        if (work / "out.jsonl").exists():  # atomic: a complete earlier output, never half of one
            assert (work / "out.jsonl").read_bytes() == expected
    assert killed >= N_KILLS, f"only {killed} of {attempts} runs were still running when signalled"

    r = subprocess.run(_cmd(work), cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (work / "out.jsonl").read_bytes() == expected
    assert _litter(work, tmpdir, tmp_path / "cache") == []
    assert list(tmpdir.iterdir()) == []
