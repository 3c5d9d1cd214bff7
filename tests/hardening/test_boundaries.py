"""The shared safety layer, tested directly: temp files of dead writers, the JSON encoder, and the public
Python boundary (the same checks the CLI relies on)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tokenplan._io import TEMP_MARK, atomic_write, check_output, remove_stale_temps
from tokenplan._json import dumps, to_jsonable
from tokenplan.errors import InvalidInputError


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temps_of_dead_writers_go_live_ones_stay(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    stale = tmp_path / f".out.jsonl.{dead}.abcd1234{TEMP_MARK}"
    mine = tmp_path / f".out.jsonl.{live}.efgh5678{TEMP_MARK}"
    legacy = tmp_path / f".out.jsonl.zz9y8x7w{TEMP_MARK}"  # a name from before pids were recorded
    other = tmp_path / f".map.png.{dead}.abcd1234{TEMP_MARK}"
    user = tmp_path / ".out.jsonl.notes"  # not ours: no mark
    for p in (stale, mine, legacy, other, user):
        p.write_text("x")
    assert remove_stale_temps(tmp_path, name="out.jsonl") == 2
    assert not stale.exists() and not legacy.exists()
    assert mine.exists() and other.exists() and user.exists()
    assert remove_stale_temps(tmp_path) == 1 and not other.exists() and mine.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process state from /proc")
def test_a_zombie_or_a_reused_pid_is_not_a_live_writer(tmp_path):
    """A worker killed with its driver stays a zombie where nobody reaps orphans (a container's pid 1), and
    kill(pid, 0) still succeeds for it: its temps must go. So must a temp whose pid now names a process
    that started after the temp was written. A live writer's temp stays (found flaky in a fresh-clone CI:
    test_sigkill_then_resume left a worker's .config.json temp behind)."""
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    for _ in range(200):  # exited, not yet waited for: a zombie
        if Path(f"/proc/{zombie.pid}/stat").read_text().split(")")[1].split()[0] == "Z":
            break
        time.sleep(0.05)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        of_zombie = tmp_path / f".a.json.{zombie.pid}.abcd1234{TEMP_MARK}"
        reused = tmp_path / f".b.json.{sleeper.pid}.abcd1234{TEMP_MARK}"
        live = tmp_path / f".c.json.{sleeper.pid}.efgh5678{TEMP_MARK}"
        for p in (of_zombie, reused, live):
            p.write_text("x")
        os.utime(
            reused, (time.time() - 3600, time.time() - 3600)
        )  # written an hour before it started
        assert remove_stale_temps(tmp_path) == 2
        assert not of_zombie.exists() and not reused.exists() and live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        zombie.wait()


def test_atomic_write_names_its_temp_with_the_writer_pid(tmp_path):
    seen = []
    with atomic_write(tmp_path / "a.txt") as fh:
        seen = [p.name for p in tmp_path.iterdir()]
        fh.write("done")
    assert len(seen) == 1 and f".a.txt.{os.getpid()}." in seen[0] and seen[0].endswith(TEMP_MARK)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_check_output_clears_a_killed_writers_temp_of_the_same_file(tmp_path):
    stale = tmp_path / f".law.json.{_dead_pid()}.abcd1234{TEMP_MARK}"
    stale.write_text("half")
    check_output(tmp_path / "law.json", param="save")
    assert not stale.exists()


def test_check_output_refuses_a_path_under_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="is a file, not a folder") as exc:
        check_output(tmp_path / "notes.txt" / "out.json", param="plot_path")
    assert exc.value.param == "plot_path" and str(exc.value).startswith("`plot_path` ")


def test_one_json_encoder():
    value = {
        1: np.float32(0.5),
        "t": (1, np.int64(2)),
        "a": np.array([1.0, np.nan]),
        "x": math.inf,
        "n": None,
    }
    assert to_jsonable(value) == {"1": 0.5, "t": [1, 2], "a": [1.0, None], "x": None, "n": None}
    assert json.loads(dumps(value)) == to_jsonable(value)
    with pytest.raises(TypeError):
        dumps({"obj": object()})  # our own results never hide an unknown type behind str()


@pytest.mark.parametrize(
    "call",
    [
        lambda: __import__("tokenplan.plan").plan.plan(flops=True),
        lambda: __import__("tokenplan.plan").plan.compare(flops=-1),
        lambda: __import__("tokenplan.plan").plan.compare(flops=math.nan),
        lambda: __import__("tokenplan.plan").plan.compare(n_params=0),
        lambda: __import__("tokenplan.plan").plan.plan(n_params=1e300),
        lambda: __import__("tokenplan.plan").plan.plan(flops=1e300),
        lambda: __import__("tokenplan.plan").plan.repeat(1e300),
    ],
    ids=[
        "plan-flops-True",
        "compare-flops-negative",
        "compare-flops-nan",
        "compare-params-zero",
        "plan-params-1e300-overflow",
        "plan-flops-1e300",
        "repeat-1e300",
    ],
)
def test_python_boundary_refuses(call):
    with pytest.raises(InvalidInputError):
        call()


@pytest.mark.parametrize(
    ("change", "key"),
    [({"A": 0}, "A"), ({"alpha": "0.34"}, "alpha"), ({"E": -1}, "E"), ({"beta": True}, "beta")],
)
def test_saved_law_fields_are_checked(tmp_path, change, key):
    from tokenplan.laws import load_law

    law = {"kind": "ChinchillaLaw", "name": "x", "E": 1.69, "A": 406.4, "B": 410.7}
    law.update({"alpha": 0.34, "beta": 0.28, **change})
    path = tmp_path / "law.json"
    path.write_text(json.dumps(law))
    with pytest.raises(InvalidInputError, match=f"{key}=") as exc:
        load_law(path)
    assert "law.json" in str(exc.value)
