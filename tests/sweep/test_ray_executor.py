"""The Ray executor on a local instance: one task per run, results identical to the serial executor's; an
instance the sweep starts is shut down after it, one the caller started is left running."""

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


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_ray_instance_the_caller_started_is_used_and_left_running(tmp_path, monkeypatch):
    import ray

    from tokenplan.sweep.runner import run_sweep
    from tokenplan.sweep.spec import spec_from_dict

    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    assert not ray.is_initialized()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        spec = spec_from_dict({"preset": "micro", "budgets": [3e9], "sizes": ["L1-d16-h1"]})
        result = run_sweep(spec, tmp_path / "s", executor="ray")
        assert result.executor == "ray" and result.counts["ok"] == 1
        assert ray.is_initialized()  # not ours to shut down
        assert ray.cluster_resources().get("CPU") == 1.0  # the caller's resources, not ours
    finally:
        ray.shutdown()
