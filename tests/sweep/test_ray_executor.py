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


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_one_ray_cpu_trains_one_run_at_a_time(tmp_path, monkeypatch):
    """A task's eval events went through ray.util.queue.Queue.put, which waits in ray.get; Ray lends a
    waiting task's CPU to another task, so with --workers 1 (one CPU) two runs trained at once (their eval
    lines interleaved). The events are now sent without waiting: one run at a time, in order."""
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    from tokenplan.sweep import run_sweep, spec_from_dict

    seen: list[str] = []

    def on_event(event):
        if event.get("event") in ("run_start", "eval"):
            seen.append(event["run_id"])

    spec = spec_from_dict({"preset": "micro", "budgets": [3e10], "n_evals": 6})
    run_sweep(spec, tmp_path / "ray", executor="ray", workers=1, on_event=on_event)
    order = [r for i, r in enumerate(seen) if i == 0 or r != seen[i - 1]]
    assert len(order) == len(set(order)) == 2, order  # each run's events in one stretch


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_a_damaged_checkpoint_is_refused_before_ray_starts(tmp_path):
    """Only the local executors checked checkpoints up front: under Ray each worker refused a damaged
    ckpt.pt on its own, the run was 'lost' and every rerun lost it again (exit 0). Ray's path now runs the
    same check, before Ray starts: one line naming the file, exit 2, nothing trained."""
    argv = ["sweep", "--preset", "micro", "--budgets", "3e9", "--sizes", "L1-d16-h1"]
    out = tmp_path / "s"
    first = run_cli(*argv, "--out", str(out), "--executor", "serial", "-q")
    assert first.returncode == 0, first.stderr
    (run_dir,) = (out / "runs").iterdir()
    (run_dir / "result.json").unlink()  # unfinished again, with a damaged checkpoint to resume
    (run_dir / "ckpt.pt").write_bytes(b"\x80\x02not a checkpoint" * 20)
    env = {"RAY_USAGE_STATS_ENABLED": "0"}
    r = run_cli(*argv, "--out", str(out), "--executor", "ray", "--workers", "1", env=env)
    assert r.returncode == 2, r.stdout + r.stderr[-2000:]
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("tokenplan: error: checkpoint ") and "ckpt.pt" in line
    assert "Delete it to restart that run" in line and "lost" not in r.stdout
    assert not (run_dir / "result.json").exists()
