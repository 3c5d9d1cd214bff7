"""Every command against bad input: exit code 2, one line on stderr, no traceback, nothing written.

The cases live in ``badinput_cases.py`` (a table: command line + the bad files it reads). Each one runs
in-process through ``tokenplan.cli.main`` from a scratch folder holding good inputs, so several hundred
cases take seconds; a handful also go through a real subprocess.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from pathlib import Path

import pytest
from badinput_cases import ALL_CASES, GOOD_FILES, Case

from helpers import run_cli
from tokenplan.cli import main


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` with its bytes (None for folders)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = None if p.is_dir() else p.read_bytes()
    return out


def _prepare(root: Path, case: Case) -> None:
    for name, content in {**GOOD_FILES, **case.files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for folder in case.readonly:
        (root / folder).chmod(stat.S_IRUSR | stat.S_IXUSR)


def _restore(root: Path, case: Case) -> None:
    for folder in case.readonly:
        (root / folder).chmod(stat.S_IRWXU)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.chdir(work)
    monkeypatch.setenv("TOKENPLAN_CACHE", str(cache))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return work


def _assert_one_clean_line(code, out: str, err: str, case: Case) -> None:
    assert "Traceback" not in err, err
    assert code == 2, f"{case.id}: exit {code}\nstdout: {out[-400:]}\nstderr: {err[-400:]}"
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, f"{case.id}: {len(lines)} lines on stderr:\n{err}"
    assert lines[0].startswith("tokenplan: error: "), lines[0]
    assert len(lines[0]) > len("tokenplan: error: ") + 10, lines[0]


# Cases whose fix belongs to another piece of work in flight; they must start passing when it lands.
KNOWN_GAPS: dict[str, str] = {}


def _params():
    for c in ALL_CASES:
        marks = (
            [pytest.mark.xfail(reason=KNOWN_GAPS[c.id], strict=False)] if c.id in KNOWN_GAPS else []
        )
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_in_process(case: Case, scratch: Path, capsys):
    if case.readonly and os.geteuid() == 0:
        pytest.skip("root can write into read-only folders")
    _prepare(scratch, case)
    before = _snapshot(scratch)
    try:
        with warnings.catch_warnings(record=True) as caught, pytest.raises(SystemExit) as exc:
            warnings.simplefilter("always")
            main(list(case.args))
    finally:
        _restore(scratch, case)
    out, err = capsys.readouterr()
    _assert_one_clean_line(exc.value.code, out, err, case)
    # a warning would print on the user's stderr beside the error line
    assert not caught, f"{case.id}: warnings {[str(w.message) for w in caught]}"
    after = _snapshot(scratch)
    assert after.keys() == before.keys(), (
        f"{case.id}: files created {sorted(after.keys() - before.keys())}, "
        f"removed {sorted(before.keys() - after.keys())}"
    )
    changed = [k for k in before if before[k] != after[k]]
    assert not changed, f"{case.id}: inputs changed: {changed}"
    assert not (scratch / "pwned").exists()


def test_suite_is_large_enough():
    assert len(ALL_CASES) >= 500
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES), "case ids must be unique"


def test_safety_doc_counts_the_cases():
    """docs/safety.md states how many cases run; the number is counted here, not kept by hand."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "safety.md").read_text(encoding="utf-8")
    assert f"the {len(ALL_CASES):,} cases of `badinput_cases.py`" in doc


# A handful through the real entry point (python -m tokenplan), to check the in-process runs tell the truth.
_SUBPROCESS_IDS = (
    "fit-runs-non-utf8",
    "select-plot-input-overwrite",
    "fit-save-input-overwrite",
    "plan-law-A=0",
    "select-recipe-overwrite-string-false",
    "plan---flops='1e300'",
    "sweep-spec-truncated",
)


@pytest.mark.parametrize("case_id", _SUBPROCESS_IDS)
def test_bad_input_subprocess(case_id: str, tmp_path: Path):
    case = next(c for c in ALL_CASES if c.id == case_id)
    _prepare(tmp_path, case)
    before = _snapshot(tmp_path)
    r = run_cli(
        *case.args,
        cwd=tmp_path,
        env={
            "TOKENPLAN_CACHE": str(tmp_path.parent / "cache"),
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
    )
    _assert_one_clean_line(r.returncode, r.stdout, r.stderr, case)
    assert _snapshot(tmp_path) == before


# Files that cannot be read as a whole (missing, empty, not UTF-8, not YAML): the one line must name the file,
# or the user cannot tell which of their inputs is broken.
_UNREADABLE_FILE_CASES = {
    f"sweep-spec-{label}": "spec.yaml"
    for label in (
        *("empty", "blank", "non-utf8", "latin1", "nul-bytes", "truncated", "binary", "png"),
        *("bad-yaml", "yaml-python-tag"),
    )
} | {"sweep-spec-missing": "nothere.yaml"}


@pytest.mark.parametrize("case_id", sorted(_UNREADABLE_FILE_CASES))
def test_an_unreadable_file_is_named(case_id: str, scratch: Path, capsys):
    case = next(c for c in ALL_CASES if c.id == case_id)
    _prepare(scratch, case)
    with pytest.raises(SystemExit) as exc:
        main(list(case.args))
    _, err = capsys.readouterr()
    _assert_one_clean_line(exc.value.code, "", err, case)
    assert f"'{_UNREADABLE_FILE_CASES[case_id]}'" in err, err
