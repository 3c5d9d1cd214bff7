"""tokenplan._io: every output file is replaced whole or not at all."""

from __future__ import annotations

import pytest

from tokenplan._io import atomic_path, atomic_write, write_text_atomic


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(out) as fh:
        fh.write("half of the new file")
        raise RuntimeError("killed mid-write")
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_successful_writes_replace_and_create_parents(tmp_path):
    out = tmp_path / "deep" / "dir" / "x.txt"
    write_text_atomic(out, "a\r\nb\n")
    assert out.read_bytes() == b"a\r\nb\n"  # newlines kept as given
    with atomic_write(out, "wb") as fh:
        fh.write(b"\x00\x01")
    assert out.read_bytes() == b"\x00\x01"
    with atomic_path(out) as tmp:
        assert tmp.parent == out.parent and tmp != out
        tmp.write_text("via path")
    assert out.read_text() == "via path"
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in out.parent.iterdir()) == ["x.txt"]


def test_read_modes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "a"):
        pass


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("budgets: [1e9]\nseq_len: 16\nbudgets: [2e9]\n", "'budgets' twice (lines 1 and 3)"),
        ("filters:\n  min_chars: 5\n  min_chars: 7\n", "'min_chars' twice (lines 2 and 3)"),
        ("budgets: {a: 1, a: 2}\n", "'a' twice (line 1)"),
    ],
)
def test_read_yaml_refuses_a_key_given_twice(tmp_path, text, where):
    """YAML keeps the last of two equal keys in silence (a sweep trained the second budgets alone)."""
    from tokenplan._io import read_yaml
    from tokenplan.errors import InvalidInputError

    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match="twice") as exc:
        read_yaml(path, what="sweep spec", param="spec_file")
    assert str(exc.value).startswith(f"sweep spec {str(path)!r} gives the key ")
    assert where in str(exc.value) and exc.value.param == "spec_file"


def test_read_yaml_keeps_merge_keys_and_anchors(tmp_path):
    from tokenplan._io import read_yaml

    path = tmp_path / "spec.yaml"
    path.write_text("base: &b {seq_len: 32, lrs: [1e-3]}\nrun:\n  <<: *b\n  seq_len: 16\n")
    assert read_yaml(path, what="sweep spec")["run"] == {"seq_len": 16, "lrs": ["1e-3"]}


def _read_recipe(path):
    from tokenplan._io import read_text

    return read_text(path, what="recipe", param="recipe")


def _read_run_table(path):
    from tokenplan.runs import read_runs

    return read_runs(path)


def _read_corpus(path):
    from tokenplan.sweep.data import read_documents

    return read_documents(path)


def _read_pool(path):
    from tokenplan.select.io import iter_records

    return list(iter_records(path))


# (reader, file name, its first two lines, the message before and after "PROBLEM; FIX"); the recipe starts
# with a UTF-8 byte-order mark, which the byte count includes
_READERS = {
    "recipe": (_read_recipe, "r.yaml", b"\xef\xbb\xbfn: 5\nmethod: kcenter\n", "recipe {q}: ", "."),
    "run table": (
        _read_run_table,
        "runs.csv",
        b"params,tokens,loss,note\n1e8,2e9,3.5,ok\n",
        "{p}: ",
        " (a run table is a CSV, TSV, JSONL or Parquet file).",
    ),
    "corpus": (
        _read_corpus,
        "plays.txt",
        b"To be, or not to be\nthat is the question\n",
        "data file {q}: ",
        ".",
    ),
    "pool": (
        _read_pool,
        "pool.jsonl",
        b'{"prompt": "a", "response": "b"}\n{"prompt": "c", "response": "d"}\n',
        "{p}: ",
        ".",
    ),
}


@pytest.mark.parametrize("reader", sorted(_READERS))
def test_every_reader_places_a_non_utf8_byte_by_byte_and_line(tmp_path, reader):
    """The run-table reader (fit, predict --points), the sweep corpus reader and read_text (sweep specs,
    select recipes) said 'not UTF-8 text (byte N)' without the line that select gives for a pool, and
    only select called a file cut inside a character cut short: now all say it in one helper's words."""
    from tokenplan.errors import InvalidInputError

    read, name, head, before, after = _READERS[reader]
    path = tmp_path / name
    path.write_bytes(head + b"caf\xe9\n")  # a Latin-1 e-acute on line 3
    with pytest.raises(InvalidInputError) as exc:
        read(path)
    lead = before.format(p=path, q=repr(str(path)))
    where = f"byte {len(head) + 3}, line 3"
    assert str(exc.value) == f"{lead}not UTF-8 text ({where}); save the file as UTF-8{after}"
    path.write_bytes(head + b"caf\xc3")  # cut inside a two-byte character
    with pytest.raises(InvalidInputError) as exc:
        read(path)
    assert str(exc.value) == (
        f"{lead}ends inside a UTF-8 character ({where}); the file looks cut short; copy it again{after}"
    )


def test_read_text_counts_a_byte_from_the_file_start(tmp_path):
    """By hand: 3 (byte-order mark) + 5 + 16 + 9 bytes come before the e-acute of 'caf\xe9'."""
    from tokenplan.errors import InvalidInputError

    path = tmp_path / "recipe.yaml"
    path.write_bytes(b"\xef\xbb\xbfn: 5\nmethod: kcenter\nnote: caf\xe9\n")
    with pytest.raises(InvalidInputError, match=r"\(byte 33, line 3\)") as exc:
        _read_recipe(path)
    assert exc.value.param == "recipe"


def test_utf8_problem_finds_the_byte_past_the_scan_chunk_and_a_cut_file(tmp_path):
    """The one helper every reader calls: a bad byte beyond the 1 MiB scan chunk, after a character
    split across the chunk boundary; a file ending inside a character; a UTF-16 file."""
    from tokenplan._io import utf8_problem

    head = b"a" * ((1 << 20) - 1) + "\xe9".encode() + b"\nb\n"  # 'é' straddles the 1 MiB boundary
    path = tmp_path / "big.txt"
    path.write_bytes(head + b"caf\xe9\n")
    exc = UnicodeDecodeError("utf-8", b"", 0, 1, "invalid")
    at = len(head) + 3
    assert utf8_problem(path, exc) == (
        f"not UTF-8 text (byte {at:,}, line 3)",
        "save the file as UTF-8",
    )
    path.write_bytes(b"x\ncaf" + "\xe9".encode()[:1])
    assert utf8_problem(path, exc) == (
        "ends inside a UTF-8 character (byte 5, line 2)",
        "the file looks cut short; copy it again",
    )
    path.write_bytes("x\n".encode("utf-16"))
    assert utf8_problem(path, exc)[0].startswith("UTF-16 text (")
