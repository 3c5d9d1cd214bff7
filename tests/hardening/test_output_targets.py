"""An output path that names no file tokenplan may write is refused in one line, before any work.

Every output is renamed into place, which replaces whatever the path names. Before this check,
`fit --save /dev/null --overwrite` run as root turned /dev/null into a plain file, `--save /dev/stdout`
replaced the link /dev/stdout, `-o -` wrote a file named '-' and `--save out/` a file named 'out'.
Pipes and links made in tmp_path stand in for /dev here (a test never touches /dev).
"""

from __future__ import annotations

import os

import pytest

from helpers import TEST_DATA, run_cli

POOL = TEST_DATA / "select" / "tiny.jsonl"
RUNS = TEST_DATA / "fit" / "results.csv"
SELECT = ("select", "-i", str(POOL), "--n", "2", "--embedder", "tfidf", "--no-cache")
OUTPUTS = [  # (command up to the output flag, the flag, a file name of the right kind)
    (SELECT, "--output", "s.jsonl"),
    (("fit", str(RUNS)), "--save", "f.json"),
    (("repeat", "--unique-tokens", "1B"), "--plot", "r.png"),
    (("plan", "--flops", "1e21"), "--report", "p.html"),
    (("data", "sample"), "--out", "d.txt"),
]


def _refused(r, flag: str, words: str) -> None:
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"tokenplan: error: {flag} '") and words in line, line


@pytest.mark.parametrize(("args", "flag", "name"), OUTPUTS)
def test_a_dash_is_not_standard_output_and_writes_no_file_named_dash(tmp_path, args, flag, name):
    r = run_cli(*args, flag, "-", cwd=tmp_path)
    _refused(r, flag, "would be a file named '-'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "flag", "name"), OUTPUTS)
def test_a_trailing_slash_names_a_folder_not_a_file(tmp_path, args, flag, name):
    r = run_cli(*args, flag, f"{tmp_path / 'out'}{os.sep}", "--overwrite")
    _refused(r, flag, "ends in a slash, which names a folder")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("args", "flag", "name"), OUTPUTS)
def test_a_pipe_or_a_link_is_never_replaced_by_a_file(tmp_path, args, flag, name):
    pipe = tmp_path / name
    os.mkfifo(pipe)  # as /dev/null, a device, would be: not a regular file
    r = run_cli(*args, flag, str(pipe), "--overwrite")
    _refused(r, flag, "is not a regular file (a device, pipe or socket)")
    assert not pipe.is_file()
    target = tmp_path / "mine.txt"
    target.write_text("mine")
    link = tmp_path / f"link-{name}"
    link.symlink_to(target)  # as /dev/stdout -> /proc/self/fd/1
    r = run_cli(*args, flag, str(link), "--overwrite")
    _refused(r, flag, "is a symbolic link")
    assert link.is_symlink() and target.read_text() == "mine"


def test_overwrite_help_names_every_file_it_lets_replace():
    """`fit --help` said --overwrite lets '--save/--plot' replace a file and `select --help` '--output or
    --report', while it also lets fit's --report and select's --plot replace one."""
    import click

    from tokenplan.cli import COMMANDS, cli

    files = {
        "--save",
        "--plot",
        "--report",
        "--output",
    }  # a sweep's --out is its folder, never replaced
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        opts = {o for p in command.params for o in getattr(p, "opts", ())}
        if "--overwrite" not in opts:
            continue
        (overwrite,) = [p for p in command.params if "--overwrite" in p.opts]
        outputs = (opts & files) | ({"--out"} if name == "data" else set())
        missing = {flag for flag in outputs if flag not in overwrite.help}
        assert not missing, (name, overwrite.help, missing)


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--flops", "1e21"),
        ("fit", str(RUNS)),
        ("sweep", "--preset", "micro", "--out", "sw"),
        SELECT,
    ],
    ids=["plan", "fit", "sweep", "select"],
)
def test_an_empty_report_path_is_refused_not_ignored(tmp_path, args):
    """`--report ""` (a shell variable left unset: --report "$PAGE") ran the command, wrote no page and said
    nothing, exit 0: the flag was read as absent. It is refused in one line before any work."""
    r = run_cli(*args, "--report", "", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "'--report'" in line and "is an empty path; give a file name ending in .html" in line, (
        line
    )
    assert r.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "flag", "name"),
    [
        *OUTPUTS,
        (("fit", str(RUNS)), "--plot", "f.png"),
        (SELECT, "--plot", "m.png"),
        (("sweep", "--preset", "micro", "--dry-run"), "--out", "sw"),
    ],
)
def test_an_empty_output_path_is_refused_not_ignored(tmp_path, args, flag, name):
    """An empty output path (a shell variable left unset) was read as no flag: `fit --save ''` fitted and
    saved nothing without a word, `sweep --out ''` planned into sweeps/micro, and `data sample --out ''`
    raised KeyError with a traceback. Each is refused in one line naming the flag and what to give."""
    r = run_cli(*args, flag, "", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert f"{flag}'" in line and "is an empty path; give a " in line, line
    assert list(tmp_path.iterdir()) == []
