"""Resuming or extending a sweep folder with another corpus is refused in one line naming what changed:
a run's id hashes its config, not its corpus, so runs trained on the old text would be reported as the new
text's (``--extend --data other.txt`` printed '4 already done', trained nothing, and replaced corpus.npz)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.sweep.runner import run_sweep
from tokenplan.sweep.spec import spec_from_dict

pytest.importorskip("torch")

SAMPLE = Path(__file__).resolve().parents[2] / "src/tokenplan/sweep/examples/shakespeare_sample.txt"
TINY = {
    "kind": "isoflop",
    "budgets": [4e8],
    "sizes": ["L1-d16-h1"],
    "seq_len": 16,
    "batch_size": 4,
    "n_evals": 1,
    "eval_tokens": 256,
    "min_steps": 1,
}


def _text(path: Path, start: int) -> Path:
    path.write_text(SAMPLE.read_text("utf-8")[start : start + 40_000], "utf-8")
    return path


def _sweep(out: Path, data: Path, **kw):
    return run_sweep(spec_from_dict({**TINY, "data": str(data)}), out, executor="serial", **kw)


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_extend_with_another_corpus_is_refused_and_changes_nothing(tmp_path):
    first, other = _text(tmp_path / "a.txt", 0), _text(tmp_path / "b.txt", 60_000)
    out = tmp_path / "sweep"
    assert _sweep(out, first).n_trained == 1
    before = _files(out)
    with pytest.raises(InvalidInputError) as info:
        _sweep(out, other, extend=True)
    message = str(info.value)
    assert info.value.param == "data"
    assert "another corpus" in message and f"(data: {first} -> {other})" in message  # spec's style
    assert len(message.splitlines()) == 1
    assert _files(out) == before  # corpus.npz and results untouched


def test_a_data_file_edited_after_its_corpus_npz_was_deleted_is_refused(tmp_path):
    data = _text(tmp_path / "a.txt", 0)
    out = tmp_path / "sweep"
    assert _sweep(out, data).n_trained == 1
    (out / "corpus.npz").unlink()
    _text(data, 60_000)  # the same path, other text
    with pytest.raises(InvalidInputError) as info:
        _sweep(out, data)
    assert info.value.param == "data" and f"(the text of {data} changed since)" in str(info.value)
    assert not (out / "corpus.npz").exists()


def test_the_same_text_at_another_path_is_the_same_corpus(tmp_path):
    """The check is on the tokens, not the path: a moved data file extends the folder."""
    data = _text(tmp_path / "a.txt", 0)
    out = tmp_path / "sweep"
    assert _sweep(out, data).n_trained == 1
    moved = data.rename(tmp_path / "moved.txt")
    result = _sweep(out, moved, extend=True)
    assert result.n_trained == 0 and result.n_skipped == 1


def test_resuming_with_another_spec_names_what_changed(tmp_path):
    """'holds a different sweep (see sweep.yaml)' left the user to diff two YAML files of 40 keys."""
    out = tmp_path / "sweep"
    data = _text(tmp_path / "a.txt", 0)
    assert _sweep(out, data).n_trained == 1
    changed = {**TINY, "data": str(data), "lrs": [1e-2], "seq_len": 32}
    with pytest.raises(InvalidInputError) as info:
        run_sweep(spec_from_dict(changed), out, executor="serial")
    message = str(info.value)
    assert "(seq_len: 16 -> 32; lrs: 0.003 -> 0.01; see " in message, message
    assert len(message.splitlines()) == 1 and info.value.param == "out_dir"


def test_overwrite_without_report_is_refused_not_ignored(tmp_path):
    """`sweep --overwrite` reads as 'start this folder over'; it only ever let --report replace a page, and
    without --report it was dropped in silence (the sweep resumed, '4 already done')."""
    from helpers import run_cli

    r = run_cli("sweep", "--preset", "micro", "--out", str(tmp_path / "s"), "--overwrite")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("tokenplan: error: --overwrite: it only lets --report replace")
    assert "a sweep folder is never overwritten" in r.stderr and len(r.stderr.splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_a_change_below_six_significant_figures_is_shown_as_a_change():
    from tokenplan.sweep.spec import spec_changes

    old = spec_from_dict({**TINY, "lrs": [0.003]})
    new = spec_from_dict({**TINY, "lrs": [0.0030000001]})
    # ':g' keeps 6 significant figures: this printed 'lrs: 0.003 -> 0.003'
    assert spec_changes(old, new) == ["lrs: 0.003 -> 0.0030000001"]
