"""The Ray executor on a local instance (2 CPUs): one task per run, results identical to the local pool's."""

from __future__ import annotations

import csv
import json

import pytest

from helpers import run_cli

pytest.importorskip("torch")
pytest.importorskip("ray")


@pytest.mark.ray
@pytest.mark.timeout(300)  # < 60 s on an idle box; the shared CI box can be far slower
def test_micro_sweep_on_a_local_ray_instance(tmp_path):
    out = tmp_path / "ray"
    r = run_cli(
        "sweep",
        "--preset",
        "micro",
        "--out",
        str(out),
        "--executor",
        "ray",
        "--workers",
        "2",
        "--json",
        env={"RAY_USAGE_STATS_ENABLED": "0"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)["sweep"]
    assert report["executor"] == "ray" and report["n_trained"] == 4
    assert "step" in r.stderr  # per-eval lines came back through the Ray queue
    with open(out / "results.csv", newline="") as f:
        rows = {row["run_id"]: row for row in csv.DictReader(f)}
    assert len(rows) == 4 and all(row["status"] == "ok" for row in rows.values())
    # the same runs in this process give the same losses (determinism across executors)
    serial = tmp_path / "serial"
    s = run_cli(
        "sweep", "--preset", "micro", "--out", str(serial), "--executor", "serial", "--quiet"
    )
    assert s.returncode == 0, s.stderr
    with open(serial / "results.csv", newline="") as f:
        for row in csv.DictReader(f):
            assert float(row["loss"]) == pytest.approx(float(rows[row["run_id"]]["loss"]), abs=1e-5)
