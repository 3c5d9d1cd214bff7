"""The whole-pool cache of the TF-IDF views (``tfidf``, ``tfidf-char``, the default's character view): one
``.npy`` file per pool and settings, read without pickle, never for other texts or settings, a damaged file a
warning and a refit."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from helpers import SAMPLE_TEXTS, SELECT_DATA, run_cli
from tokenplan.select.cache import EmbeddingCache, text_key
from tokenplan.select.embed import TfidfSvdEmbedder, embed_view
from tokenplan.select.pipeline import Recipe, run

pytest.importorskip("sklearn")

DATA = SELECT_DATA
TEXTS = [*SAMPLE_TEXTS[:4], SAMPLE_TEXTS[5]]


class _Fits(TfidfSvdEmbedder):
    """``tfidf-char`` that counts its fits."""

    def __init__(self, **kw) -> None:
        super().__init__(analyzer="char", n_components=3, **kw)
        self.fits = 0

    def encode(self, texts):
        self.fits += 1
        return super().encode(texts)


def _embed(texts, emb, cache):
    x, hit = embed_view(texts, emb, cache=cache)
    assert hit.all() or not hit.any()  # a whole-pool view: every row from the cache, or none
    return x, bool(hit.all())


def _pool_files(root: Path) -> list[Path]:
    return sorted((root / "pools").glob("*.npy"))


def test_a_rerun_on_the_same_texts_reads_the_matrix_bit_for_bit(tmp_path):
    cache, emb = EmbeddingCache(tmp_path / "c"), _Fits()
    cold, hit_cold = _embed(TEXTS, emb, cache)
    warm, hit_warm = _embed(TEXTS, emb, cache)
    assert (hit_cold, hit_warm, emb.fits) == (False, True, 1)
    assert warm.tobytes() == cold.tobytes() and warm.flags.c_contiguous
    (path,) = _pool_files(tmp_path / "c")
    stored = np.load(path, allow_pickle=False)  # a plain .npy file, no pickle
    assert stored.dtype == np.float32 and stored.shape == (len(TEXTS), 3)
    assert cache.warnings == []


@pytest.mark.parametrize(
    "change",
    ["one changed text", "a reordered pair", "a text split in two", "another seed", "fewer dims"],
)
def test_other_texts_or_settings_never_get_the_stored_matrix(tmp_path, change):
    """Each change fits again, and the matrix is the fit of the new texts and settings, not the old one."""
    cache = EmbeddingCache(tmp_path / "c")
    _embed(TEXTS, _Fits(), cache)
    texts, emb = list(TEXTS), _Fits()
    if change == "one changed text":
        texts[2] = texts[2].replace("general", "special")
    elif change == "a reordered pair":
        texts[0], texts[1] = texts[1], texts[0]
    elif change == "a text split in two":  # the same characters, cut at another place
        texts[:2] = [texts[0] + texts[1][:4], texts[1][4:]]
    elif change == "another seed":
        emb = _Fits(seed=1)
    else:
        emb = TfidfSvdEmbedder(analyzer="char", n_components=2)
    x, hit = _embed(texts, emb, cache)
    assert not hit and getattr(emb, "fits", 1) == 1
    assert x.tobytes() == embed_view(texts, emb, cache=None)[0].tobytes()
    assert len(_pool_files(tmp_path / "c")) == 2


def test_another_library_version_fits_again(tmp_path, monkeypatch):
    """scikit-learn hashes and weights the texts, numpy's LAPACK solves the SVD: their versions are part of
    the key, so an upgrade fits again instead of reading vectors the new code would not make."""
    import importlib.metadata

    cache, emb = EmbeddingCache(tmp_path / "c"), _Fits()
    _embed(TEXTS, emb, cache)
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "0.0" if name == "scikit-learn" else real(name)
    )
    assert "sklearn0.0" in emb.cache_id
    assert _embed(TEXTS, emb, cache)[1] is False and emb.fits == 2


def test_another_blas_thread_count_fits_again(tmp_path):
    """Where eigenvalues tie, the exact SVD's basis depends on the BLAS kernel and its threads: a run with
    other threads fits again, so a cached matrix is always what a fit here would give."""
    from threadpoolctl import threadpool_limits

    cache, emb = EmbeddingCache(tmp_path / "c"), _Fits()
    _embed(TEXTS, emb, cache)
    with threadpool_limits(limits=1, user_api="blas"):
        assert emb.cache_id.endswith(":1")
        assert _embed(TEXTS, emb, cache)[1] is False and emb.fits == 2
    assert _embed(TEXTS, emb, cache)[1] is True and emb.fits == 2


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a numpy file at all")


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-7])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _wrong_shape(path: Path) -> None:
    np.save(path, np.ones((2, 3), np.float32))


def _float64(path: Path) -> None:
    np.save(path, np.ones((len(TEXTS), 3)))


def _nan(path: Path) -> None:
    np.save(path, np.full((len(TEXTS), 3), np.nan, np.float32))


def _pickled(path: Path) -> None:
    """An object array (a pickle inside the .npy): never unpickled."""
    np.save(path, np.array([{"x": 1}] * len(TEXTS), dtype=object), allow_pickle=True)


@pytest.mark.parametrize(
    "damage", [_garbage, _truncated, _empty, _wrong_shape, _float64, _nan, _pickled]
)
def test_a_damaged_pool_file_is_a_warning_and_a_refit(tmp_path, damage):
    root = tmp_path / "c"
    good, _ = _embed(TEXTS, _Fits(), EmbeddingCache(root))
    (path,) = _pool_files(root)
    damage(path)
    cache, emb = EmbeddingCache(root), _Fits()
    x, hit = _embed(TEXTS, emb, cache)
    assert not hit and emb.fits == 1 and x.tobytes() == good.tobytes()
    assert len(cache.warnings) == 1 and "fitting the view again" in cache.warnings[0]
    assert str(path) in cache.warnings[0]
    # the refit replaced the file: the next run reads it without a warning
    again = EmbeddingCache(root)
    assert _embed(TEXTS, _Fits(), again)[1] and again.warnings == []


def test_a_pool_above_sqlites_value_limit_keeps_the_per_text_vectors(tmp_path):
    """A matrix in the SQLite store above its value limit (1 GB by default: about 976,000 rows of 256
    float32) was 'string or blob too big', taken for damage: the store, every MiniLM vector in it, was
    deleted. The matrix is a file now; the limit is lowered here to stand for a pool that large."""
    cache = EmbeddingCache(tmp_path / "c")
    keys = [text_key("minilm", t) for t in TEXTS]
    cache.put_many(keys, np.ones((len(TEXTS), 4), np.float32))
    cache._connect().setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 32)
    _embed(TEXTS, _Fits(), cache)
    assert cache.warnings == []
    assert len(cache.get_many(keys)) == len(TEXTS)


def test_a_folder_that_cannot_hold_pool_files_warns_and_carries_on(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "pools").write_text("a file in the way")
    cache, emb = EmbeddingCache(root), _Fits()
    x, hit = _embed(TEXTS, emb, cache)
    assert not hit and x.shape == (len(TEXTS), 3)
    assert len(cache.warnings) == 1 and "without the cache" in cache.warnings[0]


def _recipe(tmp_path, **kw) -> Recipe:
    base = dict(input=str(DATA / "tiny_alpaca.json"), n_select=3, n_clusters=2)
    return Recipe(**(base | {"embedder": "tfidf-char", "cache_dir": str(tmp_path / "c")} | kw))


def test_a_rerun_with_other_choices_reads_the_view_and_shows_no_fit(tmp_path):
    """Another --n, --method or --seed embeds the same texts: the character view comes from the cache, every
    row counted, and no fitting stage is shown; other texts (a filter) fit again."""
    stages = []
    cold = run(_recipe(tmp_path), progress=lambda *t: stages.append(t[0]))
    assert "tfidf-char" in stages and cold.n_embedded_from_cache_by_view == {"tfidf-char": 0}
    for kw in ({"n_select": 4}, {"method": "kcenter"}, {"seed": 7}):
        stages.clear()
        warm = run(_recipe(tmp_path, **kw), progress=lambda *t: stages.append(t[0]))
        n = warm.n_candidates
        assert warm.n_embedded_from_cache_by_view == {"tfidf-char": n}, kw
        assert warm.n_embedded_from_cache == n and "tfidf-char" not in stages, kw
    # the cached view selects what a fresh fit selects
    uncached = run(_recipe(tmp_path, seed=7, cache_dir="none"))
    assert run(_recipe(tmp_path, seed=7)).selected.tolist() == uncached.selected.tolist()


def test_no_cache_writes_no_pool_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKENPLAN_CACHE", str(tmp_path / "home"))
    report = run(_recipe(tmp_path, cache_dir="none"))
    assert report.n_embedded_from_cache == 0
    assert not (tmp_path / "home").exists() and not (tmp_path / "c").exists()


def test_a_damaged_pool_file_is_one_warning_line_through_the_cli(tmp_path):
    args = ["select", "-i", str(DATA / "tiny_alpaca.json"), "--n", "3", "--embedder", "tfidf-char"]
    args += ["-o", str(tmp_path / "s.json"), "--overwrite", "--cache-dir", str(tmp_path / "c")]
    assert run_cli(*args).returncode == 0
    (path,) = _pool_files(tmp_path / "c")
    _truncated(path)
    out = run_cli(*args, "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr
    (line,) = [x for x in out.stderr.splitlines() if "not a usable matrix" in x]
    assert "fitting the view again" in line
    report = json.loads(out.stdout)["report"]
    assert report["n_embedded_from_cache_by_view"] == {"tfidf-char": 0}
    assert report["warnings"] == [line.removeprefix("warning: ")]


def test_a_store_from_before_pool_files_drops_its_pools_table_and_reuses_the_space(tmp_path):
    """Stores written before the matrices moved to pools/ kept a 'pools' table nothing reads, its matrices'
    pages held for good. Opened, the store drops it once (its vectors kept) and new vectors fill its pages."""
    root = tmp_path / "c"
    root.mkdir()
    db = sqlite3.connect(root / EmbeddingCache.FILENAME)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE vectors(key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID")
    db.execute(  # the layout before commit f004346
        "CREATE TABLE pools(key BLOB PRIMARY KEY, rows INTEGER NOT NULL, data BLOB NOT NULL) "
        "WITHOUT ROWID"
    )
    db.execute("INSERT INTO meta VALUES ('schema', 'tokenplan-embeddings-1')")
    old = np.ones(4, dtype=np.float32)
    db.execute("INSERT INTO vectors VALUES (?, ?)", (text_key("e", "old"), old.tobytes()))
    matrix = np.zeros((8000, 256), dtype=np.float32)  # 8 MB, one pool of 8,000 texts
    db.execute("INSERT INTO pools VALUES (?, ?, ?)", (b"k" * 32, 8000, matrix.tobytes()))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = (root / EmbeddingCache.FILENAME).stat().st_size
    cache = EmbeddingCache(root)
    assert cache.get_many([text_key("e", "old")])[text_key("e", "old")].tolist() == old.tolist()
    keys = [text_key("e", f"t{i}") for i in range(900)]
    cache.put_many(keys, np.ones((900, 256), dtype=np.float32))  # 4 KB pages: about 4 MB in all
    cache.close()
    assert (root / EmbeddingCache.FILENAME).stat().st_size <= size  # in the pools table's pages
    db = sqlite3.connect(root / EmbeddingCache.FILENAME)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert tables == {"meta", "vectors"} and cache.warnings == []
    assert len(EmbeddingCache(root).get_many(keys)) == 900  # and opened again: nothing to drop
