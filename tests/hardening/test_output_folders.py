"""Every command creates the missing folders of its outputs, never of its inputs (docs/safety.md). fit and
plan created them while select -o/--plot/--report and repeat --plot refused a missing folder; all go
through tokenplan._io.check_output now, which still refuses a path under a file or in a folder nobody can
write, in one line, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import TEST_DATA, run_cli

POOL = TEST_DATA / "select" / "tiny.jsonl"
RUNS = TEST_DATA / "fit" / "results.csv"
SELECT = ("select", "-i", str(POOL), "--n", "2", "--embedder", "tfidf", "--no-cache")


def _outputs(tmp: Path) -> list[tuple[tuple[str, ...], list[Path]]]:
    """(command, the outputs it writes), each output in a folder of its own that does not exist yet."""
    new = [tmp / name / "deeper" for name in "abcdefghij"]
    return [
        ((*SELECT, "-o", str(new[0] / "s.jsonl"), "--plot", str(new[1] / "m.png"),
          "--report", str(new[2] / "r.html")),
         [new[0] / "s.jsonl", new[1] / "m.png", new[2] / "r.html"]),
        (("repeat", "--unique-tokens", "1B", "--plot", str(new[3] / "r.png")), [new[3] / "r.png"]),
        (("fit", str(RUNS), "--save", str(new[4] / "f.json"), "--plot", str(new[5] / "f.png"),
          "--report", str(new[6] / "f.html")),
         [new[4] / "f.json", new[5] / "f.png", new[6] / "f.html"]),
        (("plan", "--flops", "1e21", "--report", str(new[7] / "p.html")), [new[7] / "p.html"]),
        (("data", "sample", "--out", str(new[8] / "sample.txt")), [new[8] / "sample.txt"]),
    ]  # fmt: skip


def test_every_command_creates_the_folders_of_its_outputs(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("altair")
    for args, outputs in _outputs(tmp_path):
        r = run_cli(*args)
        assert r.returncode == 0, (args, r.stderr)
        for out in outputs:
            assert out.is_file() and out.stat().st_size > 0, (args, out)
            assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


@pytest.mark.parametrize(
    "args",
    [
        (*SELECT, "-o", "{file}/s.jsonl"),
        (*SELECT, "--plot", "{file}/m.png"),
        (*SELECT, "--report", "{file}/r.html"),
        ("repeat", "--unique-tokens", "1B", "--plot", "{file}/r.png"),
        ("fit", str(RUNS), "--save", "{file}/f.json"),
        ("plan", "--flops", "1e21", "--report", "{file}/p.html"),
    ],
)
def test_a_path_under_a_file_is_one_line_before_any_work(tmp_path, args):
    file = tmp_path / "a-file"
    file.write_text("mine")
    r = run_cli(*(a.format(file=file) for a in args))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert f"{str(file)!r} is a file, not a folder; choose another path." in line
    assert file.read_text() == "mine"


def test_folders_of_inputs_are_never_created_and_a_refused_run_creates_none(tmp_path):
    r = run_cli("select", "-i", str(tmp_path / "in" / "pool.jsonl"), "--n", "2")
    assert r.returncode == 2 and "does not exist" in r.stderr
    # an output refused (it exists) after another output's missing folder was checked
    taken = tmp_path / "taken.jsonl"
    taken.write_text("mine\n")
    r = run_cli(*SELECT, "--plot", str(tmp_path / "out" / "m.png"), "-o", str(taken))
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.jsonl"]


def test_a_writability_probe_left_by_a_killed_run_is_removed_by_the_next_check(tmp_path):
    """The writability probe was named '.probe.RANDOM.tokenplan-tmp', without the pid, and no sweep looked
    for it: a run killed between creating and removing it left it for good (seen once in the SIGKILL test).
    It now carries the pid, and the next output check removes probes whose writer is gone, never a live
    one's."""
    import os

    from tokenplan._io import TEMP_MARK, check_output

    stale = tmp_path / f".probe.999999999.abc{TEMP_MARK}"  # no such pid
    old = tmp_path / f".probe.abc{TEMP_MARK}"  # the name before: no pid, so nobody writes it
    live = tmp_path / f".probe.{os.getppid()}.abc{TEMP_MARK}"  # a running process
    for f in (stale, old, live):
        f.write_text("")
    check_output(tmp_path / "out.jsonl", param="output")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
