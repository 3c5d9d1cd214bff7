"""Every value-taking flag of every command, given each kind of bad value, ends in exit 0 or in exit 2 with
one line on stderr, never a traceback.

The flags are read from the commands themselves (click's parameters), so a flag added later is covered
without editing this file (`laws` has no flag that takes a value). Each command line is a working one
(checked first) with one flag replaced or added. The runs are in-process (``tokenplan.cli.main``) in a
temporary folder: 1,440 invocations in a few minutes. A fuzz of this kind, run by hand on 2026-12-04,
found 13 tracebacks and wrong-flag messages (`plan --unique-tokens 1e-300`: "math domain error"; `table
--params 1e-300`: ZeroDivisionError; `plan --tokens 1e-300` named `--params`), all fixed and asserted in
tests/plan.
"""

from __future__ import annotations

import contextlib
import io
import traceback

import click
import pytest

from helpers import REPO
from tokenplan.cli import cli, main

# NaN, negative, zero, not a number, past float range, subnormal-small, under one, empty.
BAD_VALUES = ("nan", "-1", "0", "abc", "1e400", "1e-300", "0.5", "")
RUNS = str(REPO / "tests" / "data" / "fit" / "results.csv")
# A working command line per command; each flag is swapped in (or its value replaced) one at a time.
BASES = {
    "plan": [
        ("plan", "--flops", "1e21"),
        ("plan", "--gpu-hours", "1000", "--gpu", "H100"),
        ("plan", "--params", "7B", "--tokens", "1T"),
        ("plan", "--flops", "1e22", "--unique-tokens", "1e10", "--law", "muennighoff2023"),
    ],
    "table": [("table",)],
    "repeat": [("repeat", "--unique-tokens", "1e9", "--params", "1e8")],
    "predict": [("predict", "--params", "1e9", "--tokens", "2e10")],
    "flops": [("flops", "--shape", "gpt2-small")],
    "fit": [("fit", RUNS, "--bootstrap", "0")],
    "sweep": [("sweep", "--preset", "micro", "--dry-run")],
    "select": [
        ("select", "--example", "chatterbot", "--n", "20", "--embedder", "tfidf"),
    ],
}
# Flags whose value is a switch or an output the base line does not need to vary.
SKIP = {"help", "version"}


def _run(argv: list[str]) -> tuple[int | str, str]:
    """(exit code, stderr) of one in-process run; ("exception", traceback) when it raised."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            return (exc.code if isinstance(exc.code, int) else 1), err.getvalue()
        except BaseException:  # the thing this test exists to catch
            return "exception", traceback.format_exc()
    return 0, err.getvalue()


def _value_flags(name: str) -> list[str]:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, name
    return [
        max(p.opts, key=len)
        for p in command.params
        if isinstance(p, click.Option) and not p.is_flag and p.name not in SKIP
    ]


def _with(base: tuple[str, ...], flag: str, value: str) -> list[str]:
    argv = list(base)
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    return argv


@pytest.mark.parametrize("name", sorted(BASES))
def test_every_flag_given_a_bad_value_is_one_line_or_works(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    flags = _value_flags(name)
    assert flags, f"{name} has no value-taking flags: the introspection broke"
    failures, tried = [], 0
    for base in BASES[name]:
        code, err = _run(list(base))
        assert code == 0, f"the base line {' '.join(base)} must work: {err}"
        for flag in flags:
            for value in BAD_VALUES:
                argv = _with(base, flag, value)
                code, err = _run(argv)
                tried += 1
                lines = err.strip().splitlines()
                one_line = code == 2 and len(lines) == 1 and lines[0].startswith("tokenplan: ")
                if code == "exception" or "Traceback" in err or (code != 0 and not one_line):
                    failures.append(f"{' '.join(argv)!r} -> {code}: {err.strip()[-300:]}")
    assert not failures, f"{len(failures)} of {tried}:\n" + "\n".join(failures)


def test_safety_doc_counts_the_runs():
    """docs/safety.md states how many runs the test above makes: counted from the commands' own flags."""
    runs = sum(len(BASES[name]) * len(_value_flags(name)) * len(BAD_VALUES) for name in BASES)
    doc = (REPO / "docs" / "safety.md").read_text(encoding="utf-8")
    assert f"({runs:,} in-process runs" in doc
