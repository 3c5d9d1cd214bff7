"""TF-IDF + SVD on a pool larger than ``fit_rows``: fit on a seeded sample, project every text."""

from __future__ import annotations

import numpy as np
import pytest

from tokenplan.errors import InvalidInputError
from tokenplan.select.embed import TfidfSvdEmbedder, get_embedder

pytest.importorskip("sklearn")

TOPICS = {
    "kitchen": "bake flour oven dough sugar butter knead yeast bread crust",
    "space": "orbit rocket planet star galaxy telescope moon launch comet nebula",
    "code": "python function compile loop variable debug array class import test",
    "sport": "goal team match referee league score coach pitch striker season",
}


def _pool(n: int, seed: int = 0) -> list[str]:
    """``n`` texts of 12 words drawn from one of four topics each; every tenth is a near-duplicate."""
    rng = np.random.default_rng(seed)
    words = [t.split() for t in TOPICS.values()]
    texts: list[str] = []
    for i in range(n):
        if i % 10 == 9:
            texts.append(texts[-1] + " ok")
        else:
            texts.append(" ".join(rng.choice(words[i % 4], 12)))
    return texts


def _old_encode(texts, *, n_components=256, seed=0, n_features=2**18, analyzer="word"):
    """TfidfSvdEmbedder.encode before the fit sample (commit 1666d8a), pinned to compare with."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    from tokenplan.select.models import l2_normalise

    grams = {"analyzer": "char_wb", "ngram_range": (1, 4)} if analyzer == "char" else {}
    hv = HashingVectorizer(
        n_features=n_features, **({"ngram_range": (1, 2)} | grams), alternate_sign=False, norm=None
    )
    counts = hv.transform(list(texts))
    tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
    tfidf = tfidf[:, np.unique(tfidf.indices)]
    k = min(n_components, max(1, min(tfidf.shape) - 1))
    if len(texts) <= 4000:
        w, u = np.linalg.eigh((tfidf @ tfidf.T).toarray())
        top = np.argsort(w)[::-1][:k]
        z = u[:, top] * np.sqrt(np.maximum(w[top], 0.0))
    else:
        z = TruncatedSVD(n_components=k, n_iter=3, random_state=seed).fit_transform(tfidf)
    signs = np.sign(z[np.abs(z).argmax(axis=0), np.arange(z.shape[1])])
    return l2_normalise(z * np.where(signs == 0, 1.0, signs))


@pytest.mark.parametrize("analyzer", ["word", "char"])
@pytest.mark.parametrize("fit_rows", [60, 20_000])
def test_a_pool_within_fit_rows_gets_the_whole_pool_fit_as_before(analyzer, fit_rows):
    texts = _pool(60)
    new = TfidfSvdEmbedder(analyzer=analyzer, n_components=16, fit_rows=fit_rows).encode(texts)
    # the same vectors to rounding: since recipe r2 the top pairs come from LAPACK's MRRR driver, not from
    # every pair (tests/select/test_tfidf_exact_svd.py checks them against a dense SVD)
    old = _old_encode(texts, analyzer=analyzer, n_components=16)
    np.testing.assert_allclose(new, old, rtol=0, atol=1e-6)


def test_sample_rows_are_a_seeded_uniform_sample():
    emb = TfidfSvdEmbedder(fit_rows=50)
    rows = emb.sample_rows(200)
    assert len(rows) == 50 and len(set(rows.tolist())) == 50
    assert (np.diff(rows) > 0).all() and rows[0] >= 0 and rows[-1] < 200
    np.testing.assert_array_equal(rows, TfidfSvdEmbedder(fit_rows=50).sample_rows(200))
    assert not np.array_equal(rows, TfidfSvdEmbedder(fit_rows=50, seed=1).sample_rows(200))
    np.testing.assert_array_equal(emb.sample_rows(50), np.arange(50))
    # uniform: over many seeds every row is drawn about fit_rows / n = 1/4 of the time
    hits = np.zeros(200)
    for seed in range(400):
        hits[TfidfSvdEmbedder(fit_rows=50, seed=seed).sample_rows(200)] += 1
    assert 0.15 < hits.min() / 400 and hits.max() / 400 < 0.35


@pytest.mark.parametrize("analyzer", ["word", "char"])
def test_a_larger_pool_is_projected_onto_the_sample_fit(analyzer):
    texts = _pool(200)
    emb = TfidfSvdEmbedder(analyzer=analyzer, fit_rows=50)
    x = emb.encode(texts)
    assert x.shape == (200, 49) and x.dtype == np.float32  # k = 49 from the 50-text sample, not 199
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(x, TfidfSvdEmbedder(analyzer=analyzer, fit_rows=50).encode(texts))
    np.testing.assert_array_equal(x, emb.encode(iter(texts)))  # any iterable
    # the sample's own rows get what a fit on just the sample gives them, signs included
    rows = emb.sample_rows(200)
    alone = _old_encode([texts[i] for i in rows], analyzer=analyzer)
    np.testing.assert_allclose(x[rows], alone, atol=1e-5)
    # near-duplicates (text + " ok") stay together, in or out of the sample; topics stay apart
    pairs = [(i - 1, i) for i in range(9, 200, 10)]
    assert any(i not in rows and j not in rows for i, j in pairs)
    cos = np.array([x[i] @ x[j] for i, j in pairs])
    assert cos.min() > 0.9
    topic = np.arange(200) % 4
    sims = x @ x.T
    same = sims[topic[:, None] == topic[None, :]].mean()
    assert same > sims[topic[:, None] != topic[None, :]].mean() + 0.3


def _with_text_outside_the_sample(emb: TfidfSvdEmbedder, texts: list[str], extra: str):
    """``texts`` with ``extra`` inserted at a row the fit sample does not draw; (texts, that row)."""
    rows = set(emb.sample_rows(len(texts) + 1).tolist())
    at = next(i for i in range(len(texts) + 1) if i not in rows)
    return [*texts[:at], extra, *texts[at:]], at


def test_a_text_with_unseen_characters_still_gets_a_unit_vector():
    emb = TfidfSvdEmbedder(analyzer="char", fit_rows=50)
    texts, at = _with_text_outside_the_sample(emb, _pool(200), "ᚠᚢᚦᚨᚱᚲ ᚷᚹᚺᚾ")
    x = emb.encode(texts)
    # runes never occur in the sample, but char_wb pads every word with spaces, and " " was seen
    assert np.isfinite(x).all()
    assert abs(np.linalg.norm(x[at]) - 1.0) < 1e-5


@pytest.mark.parametrize(
    ("analyzer", "extra"), [("word", "zyzzyva quokka xylem"), ("char", ""), ("word", "")]
)
def test_a_text_with_only_unseen_features_gets_the_zero_vector(analyzer, extra):
    emb = TfidfSvdEmbedder(analyzer=analyzer, fit_rows=50)
    texts, at = _with_text_outside_the_sample(emb, _pool(200), extra)
    x = emb.encode(texts)
    assert np.isfinite(x).all()
    np.testing.assert_array_equal(x[at], 0.0)  # nothing the fit knows: no direction, no NaN
    others = np.delete(x, at, axis=0)
    np.testing.assert_allclose(np.linalg.norm(others, axis=1), 1.0, atol=1e-5)


def test_duplicate_sample_rows_give_no_noise_directions():
    """A sample of two distinct texts repeated has rank 2: the other components carry no direction, so
    dividing by their (rounding-level) singular values must not blow noise up in projected texts."""
    emb = TfidfSvdEmbedder(fit_rows=30, n_components=8)
    pair = ["bake flour oven dough", "orbit rocket planet star"]
    texts, at = _with_text_outside_the_sample(emb, pair * 40, "bake flour orbit rocket")
    x = emb.encode(texts)
    assert np.isfinite(x).all()
    assert np.count_nonzero(np.abs(x).max(axis=0)) == 2  # rank 2: six of eight components are zero
    mixed, x = x[at], np.delete(x, at, axis=0)
    np.testing.assert_allclose(x[::2] @ x[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(x[1::2] @ x[1], 1.0, atol=1e-5)
    assert abs(mixed @ x[0] - mixed @ x[1]) < 0.05 and mixed @ x[0] > 0.6  # halfway between the two


def test_fit_rows_is_part_of_the_cache_identity():
    names = {TfidfSvdEmbedder(fit_rows=n).name for n in (50, 20_000)}
    assert len(names) == 2
    assert get_embedder("tfidf-char", fit_rows=50).name.endswith(":char14")


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_fit_rows_is_refused_naming_it(bad):
    with pytest.raises(InvalidInputError, match="fit_rows"):
        TfidfSvdEmbedder(fit_rows=bad)
    with pytest.raises(InvalidInputError, match="fit_rows"):
        get_embedder("tfidf-char", fit_rows=bad)
