"""The per-text store's layout on disk: a 384-float32 vector (1,536 bytes) on its table page, not on an
overflow page of its own; a store in the first layout (``WITHOUT ROWID``, 4.7 KB a vector) converted on
open with its vectors kept, and still read when the conversion fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tokenplan.select import cache as cache_module
from tokenplan.select.cache import SCHEMA, EmbeddingCache, text_key

DIM = 384
# 1,536 bytes of vector + 16 of key + about 10 of row header, and about 26 for the key's index entry: 1.6 KB
# at best. The first layout needs at least 4,096 a vector (an overflow page each), so 2.2 KB leaves room for
# part-filled pages and still fails it by 2x.
MAX_BYTES_PER_VECTOR = 2200


def _vectors(n: int, seed: int = 0) -> tuple[list[bytes], np.ndarray]:
    keys = [text_key("layout-test", f"text {seed} {i}") for i in range(n)]
    return keys, np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def _file_bytes(path: Path) -> int:
    """The store's size once checkpointed (what stays on disk when no run holds it)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (page,) = db.execute("PRAGMA page_size").fetchone()
    finally:
        db.close()
    return pages * page


def _table_sql(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    finally:
        db.close()


def _first_layout_store(root: Path, keys: list[bytes], vecs: np.ndarray) -> Path:
    """A store exactly as the code before the rowid layout wrote it (SQLite's default 4 KB pages)."""
    root.mkdir(parents=True)
    path = root / EmbeddingCache.FILENAME
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN IMMEDIATE")
    db.execute("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS vectors(key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"
    )
    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA,))
    db.executemany(
        "INSERT OR IGNORE INTO vectors VALUES (?, ?)",
        [(k, v.tobytes()) for k, v in zip(keys, vecs)],
    )
    db.execute("COMMIT")
    db.close()
    return path


def _assert_all_read(cache: EmbeddingCache, keys: list[bytes], vecs: np.ndarray) -> None:
    got = cache.get_many(keys, dim=DIM)
    assert len(got) == len(keys)
    assert all(got[k].tobytes() == v.tobytes() for k, v in zip(keys, vecs))  # float32, bit for bit


def test_a_new_store_keeps_each_vector_on_its_page(tmp_path):
    """1,000 vectors written as a run writes them (batches of 64): under 2.2 KB of file each (the first
    layout: 4.7 KB), and read back bit for bit."""
    keys, vecs = _vectors(1000)
    cache = EmbeddingCache(tmp_path / "c")
    for i in range(0, len(keys), 64):
        cache.put_many(keys[i : i + 64], vecs[i : i + 64])
    _assert_all_read(cache, keys, vecs)
    cache.close()
    per_vector = _file_bytes(cache.path) / len(keys)
    assert per_vector < MAX_BYTES_PER_VECTOR, f"{per_vector:.0f} bytes per vector"
    assert "WITHOUT ROWID" not in _table_sql(cache.path)["vectors"].upper()
    assert cache.warnings == []


def test_a_store_in_the_first_layout_is_converted_with_every_vector(tmp_path):
    keys, vecs = _vectors(600)
    path = _first_layout_store(tmp_path / "c", keys, vecs)
    before = _file_bytes(path) / len(keys)
    assert before > 4096  # the measured problem: one overflow page a vector
    cache = EmbeddingCache(tmp_path / "c")
    _assert_all_read(cache, keys, vecs)
    more_keys, more = _vectors(50, seed=1)
    cache.put_many(more_keys, more)
    cache.close()
    tables = _table_sql(path)
    assert set(tables) == {"meta", "vectors"} and "WITHOUT ROWID" not in tables["vectors"].upper()
    assert (
        _file_bytes(path) / (len(keys) + 50) < MAX_BYTES_PER_VECTOR
    )  # compacted (4 KB pages kept)
    again = EmbeddingCache(tmp_path / "c")
    _assert_all_read(again, keys + more_keys, np.concatenate([vecs, more]))
    assert cache.warnings == [] and again.warnings == []


def test_a_conversion_that_fails_is_rolled_back_and_the_store_still_read(tmp_path, monkeypatch):
    """A disk that fills up during the conversion (a real SQLITE_FULL, through max_page_count): one warning,
    the first layout as it was with every vector, and new vectors still written; no traceback."""
    keys, vecs = _vectors(300)
    path = _first_layout_store(tmp_path / "c", keys, vecs)
    move = cache_module._move_first_layout

    def on_a_full_disk(db: sqlite3.Connection) -> None:
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        db.execute(f"PRAGMA max_page_count = {pages + 20}")
        try:
            move(db)
        finally:
            db.execute("PRAGMA max_page_count = 1073741823")

    monkeypatch.setattr(cache_module, "_MOVE", 40)  # several steps before the disk is full
    monkeypatch.setattr(cache_module, "_move_first_layout", on_a_full_disk)
    cache = EmbeddingCache(tmp_path / "c")
    _assert_all_read(cache, keys, vecs)
    assert len(cache.warnings) == 1 and "compact layout" in cache.warnings[0]
    assert "full" in cache.warnings[0] and "works as it is" in cache.warnings[0]
    more_keys, more = _vectors(10, seed=1)
    cache.put_many(more_keys, more)
    cache.close()
    tables = _table_sql(path)
    assert set(tables) == {"meta", "vectors"} and "WITHOUT ROWID" in tables["vectors"].upper()
    monkeypatch.undo()  # the next run, with room on the disk, converts it
    again = EmbeddingCache(tmp_path / "c")
    _assert_all_read(again, keys + more_keys, np.concatenate([vecs, more]))
    assert again.warnings == [] and "WITHOUT ROWID" not in _table_sql(path)["vectors"].upper()


def test_runs_that_open_a_first_layout_store_together_convert_it_once(tmp_path):
    """Four processes open the same first-layout store at the same instant: one converts, the others wait
    and read every vector; no warning."""
    keys, vecs = _vectors(400)
    _first_layout_store(tmp_path / "c", keys, vecs)
    code = (
        "import sys, time\n"
        "from tokenplan.select.cache import EmbeddingCache, text_key\n"
        "root, t0 = sys.argv[1], float(sys.argv[2])\n"
        "keys = [text_key('layout-test', f'text 0 {i}') for i in range(400)]\n"
        "while time.time() < t0: pass\n"
        "c = EmbeddingCache(root)\n"
        "assert len(c.get_many(keys, dim=384)) == 400\n"
        "assert not c.warnings, c.warnings\n"
    )
    t0 = time.time() + 3.0  # after every interpreter has started
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "c"), str(t0)])
        for _ in range(4)
    ]
    assert [p.wait(timeout=180) for p in procs] == [0] * 4
    cache = EmbeddingCache(tmp_path / "c")
    _assert_all_read(cache, keys, vecs)
    assert "WITHOUT ROWID" not in _table_sql(cache.path)["vectors"].upper()
