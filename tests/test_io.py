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
