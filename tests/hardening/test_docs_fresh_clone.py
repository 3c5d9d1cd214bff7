"""Every console example in README.md and docs/*.md, run as a new user would: in a fresh copy of the
repository with NO ../shared beside it, and compared with what the document shows.

The per-page docs tests run from the repository root (where ../shared may exist, so they skip what needs
it); this one proves the examples work for a user who only has the clone. Commands run in document order in
one scratch clone per page, so an example may read a file an earlier one wrote; a test selected alone
(`-k`) first runs the page's earlier commands it skipped, so it sees the same files.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CONSOLE_BLOCK, DOC_ENV, REPO, console_commands, normalise_output

DOCS = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.md"))]

# Examples that cannot run on a fresh clone yet, with the work that will make them run (they are xfail,
# not skipped: each one starts passing as soon as its data ships with the package).
PENDING = {
    "../shared/data/chinchilla_fig4_points.csv": "fit: ship Chinchilla Fig. 4 as tokenplan.datasets / fit --example",
    "../shared/data/datablations_c4_runs.csv": "fit: ship the datablations C4 runs as fit --example",
}


def _doc_commands(doc: str) -> list[tuple[str, str]]:
    """(command, shown output) of every console example of a page, in document order."""
    text = (REPO / doc).read_text(encoding="utf-8")
    return [pair for block in CONSOLE_BLOCK.findall(text) for pair in console_commands(block)]


def _examples():
    for doc in DOCS:
        for i, (cmd, shown) in enumerate(_doc_commands(doc)):
            reasons = [why for needle, why in PENDING.items() if needle in cmd]
            marks = [pytest.mark.xfail(reason=reasons[0], strict=False)] if reasons else []
            yield pytest.param(doc, i, cmd, shown, id=f"{doc}: {cmd[:60]}", marks=marks)


EXAMPLES = list(_examples())


def _tracked_files() -> list[str]:
    r = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=False, timeout=60
    )
    if r.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in r.stdout.splitlines() if (REPO / f).is_file()]


@pytest.fixture(scope="module")
def clones(tmp_path_factory):
    """One fresh clone per document (created on first use): the tracked files, nothing from ../shared.

    ``get(doc, i)`` returns the clone ready for the page's i-th command: the earlier commands that no test
    ran yet (deselected by ``-k``) are run first, so a file an earlier example writes is there."""
    made: dict[str, Path] = {}
    ran: dict[str, set[int]] = {}
    files = _tracked_files()

    def get(doc: str, i: int) -> Path:
        if doc not in made:
            root = tmp_path_factory.mktemp("fresh") / "tokenplan"
            for f in files:
                (root / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / f, root / f)
            assert not (root.parent / "shared").exists()
            made[doc], ran[doc] = root, set()
        for j, (earlier, _) in enumerate(_doc_commands(doc)[:i]):
            if j not in ran[doc]:
                _run(earlier, made[doc])
                ran[doc].add(j)
        ran[doc].add(i)
        return made[doc]

    return get


def _env(clone: Path) -> dict[str, str]:
    """A new user's environment; each command gets an empty home and cache (the docs show cold runs)."""
    import tempfile

    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENPLAN_")}
    home = Path(tempfile.mkdtemp(prefix="home-", dir=clone.parent))
    env.update(DOC_ENV)
    env.update(
        {
            "PYTHONPATH": str(clone / "src"),
            "TOKENPLAN_SHARED_DATA": str(clone.parent / "no-shared-data"),
            "TOKENPLAN_CACHE": str(home / "cache"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    return env


def _run(cmd: str, clone: Path) -> str:
    env = _env(clone)
    if cmd.startswith("tokenplan ") and "|" not in cmd:
        argv = [sys.executable, "-m", "tokenplan", *shlex.split(cmd)[1:]]
        r = subprocess.run(argv, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    else:  # a shell pipeline: `tokenplan` and `python` resolve to this interpreter
        shim = clone.parent / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "tokenplan").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tokenplan "$@"\n')
        (shim / "tokenplan").chmod(0o755)
        (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (shim / "python").chmod(0o755)
        env["PATH"] = os.pathsep.join([str(shim), env["PATH"]])
        r = subprocess.run(
            ["sh", "-c", cmd], cwd=clone, env=env, capture_output=True, text=True, timeout=900
        )
    if r.returncode == 2:  # documented errors: the one stderr line
        return normalise_output(r.stderr)
    assert r.returncode == 0, f"`{cmd}` failed on a fresh clone:\n{r.stderr[-2000:]}"
    return normalise_output(r.stdout)


def test_examples_are_found():
    docs = {doc for doc, *_ in (p.values for p in EXAMPLES)}
    assert {"README.md", "docs/plan.md", "docs/fit.md"} <= docs
    assert len(EXAMPLES) > 20


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "i", "cmd", "shown"), EXAMPLES)
def test_example_runs_on_a_fresh_clone(doc, i, cmd, shown, clones):
    got, want = _run(cmd, clones(doc, i)), normalise_output(shown)
    if want.splitlines()[-1:] == ["..."]:  # the document elides the rest: compare what it shows
        want = "\n".join(want.splitlines()[:-1])
        got = "\n".join(got.splitlines()[: len(want.splitlines())])
    assert got == want, f"{doc}: output of `{cmd}` differs on a fresh clone"
