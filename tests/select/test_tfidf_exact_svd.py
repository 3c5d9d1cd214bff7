"""The exact TF-IDF SVD (pools up to GRAM_ROWS texts) against a dense SVD, and its memory: hashing in chunks,
the Gram matrix by row blocks and only the top eigenpairs (recipe r2, 2026-12-05; docs/benchmarks.md)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tokenplan.select import embed
from tokenplan.select.embed import TfidfSvdEmbedder

pytest.importorskip("sklearn")

WORDS = (
    "bake flour orbit rocket python loop goal team match star code dough moon comet league".split()
)


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, int(rng.integers(3, 15)))) for _ in range(n)]


def _tfidf(texts, analyzer="char"):
    from sklearn.feature_extraction.text import TfidfTransformer

    hv = TfidfSvdEmbedder(analyzer=analyzer)._vectorizer()
    x = TfidfTransformer(sublinear_tf=True).fit_transform(embed._hash(hv, texts)).tocsr()
    return x[:, np.unique(x.indices)]


def _peak(fn):
    """fn's result and the peak of numpy's traced allocations while it ran (bytes)."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_hashing_in_chunks_is_the_one_call_matrix_bit_for_bit():
    texts = _texts(3 * embed.HASH_CHUNK + 17)
    hv = TfidfSvdEmbedder(analyzer="char")._vectorizer()
    one, chunked = hv.transform(texts), embed._hash(hv, texts)
    assert chunked.shape == one.shape
    for a, b in zip(
        (one.indptr, one.indices, one.data), (chunked.indptr, chunked.indices, chunked.data)
    ):
        np.testing.assert_array_equal(a, b)


def test_the_gram_matrix_by_row_blocks_is_the_sparse_product_bit_for_bit(monkeypatch):
    monkeypatch.setattr(embed, "GRAM_BLOCK", 100)
    x = _tfidf(_texts(1000))
    n = x.shape[0]
    g, peak = _peak(lambda: embed._gram(x))
    np.testing.assert_array_equal(g, (x @ x.T).toarray())
    # the dense result, one block and X^T; not a sparse n x n product beside it (2.5 n^2 doubles before r2)
    assert peak < 1.6 * n * n * 8, peak / (n * n * 8)


@pytest.mark.parametrize("analyzer", ["char", "word"])
def test_the_fit_is_a_dense_svds_top_components(analyzer):
    texts = _texts(400, seed=1)
    k = 24
    z = TfidfSvdEmbedder(analyzer=analyzer, n_components=k).encode(texts)
    u, s, _ = np.linalg.svd(_tfidf(texts, analyzer).toarray(), full_matrices=False)
    ref = u[:, :k] * s[:k]
    assert (np.diff(s[: k + 1]) < 0).all()  # distinct values: the components are defined up to sign
    ref *= np.sign(ref[np.abs(ref).argmax(axis=0), np.arange(k)])  # the embedder's sign rule
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(z, ref, rtol=0, atol=2e-5)


def test_only_the_top_pairs_are_computed_largest_first():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((600, 80))
    g = a @ a.T
    ref = np.linalg.eigvalsh(g)[::-1][:10]
    (w, u), peak = _peak(lambda: embed._top_eigh(g.copy(order="C"), 10))
    np.testing.assert_allclose(w, ref, rtol=1e-10)
    assert u.shape == (600, 10)
    np.testing.assert_allclose(g @ u, u * w, atol=1e-8 * w[0])
    # the copy of g (n^2 doubles) and O(n) more; numpy.linalg.eigh's n x n eigenvectors alone are another n^2
    assert peak < 1.25 * 600 * 600 * 8, peak / (600 * 600 * 8)
