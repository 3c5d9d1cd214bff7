"""The fast path for sentence-transformers models: onnxruntime with int8 weights, built here from local files.

The ``fast`` extra (onnxruntime, onnx, safetensors) turns it on; :func:`tokenplan.select.embed.get_embedder` then uses it for
``minilm`` by default and falls back to plain sentence-transformers on torch when the extra is missing.

How the model is built (once per model revision; nothing is downloaded):

1. for a BERT folder with ``model.safetensors`` (the packaged MiniLM), :mod:`tokenplan.select.onnx_bert` reads
   the weights with safetensors' numpy API and writes the encoder with mean pooling over the attention mask
   as an opset-17 ONNX graph, its weights already int8: per output channel for each MatMul (symmetric,
   activations quantised to uint8 at run time by DynamicQuantizeLinear), per tensor for the embedding tables.
   That is exactly what ``onnxruntime.quantization.quantize_dynamic(QInt8, per_channel=True)`` makes of the
   float graph (a test checks the weights and the outputs agree bit for bit), without its memory: the whole
   first run of ``tokenplan select`` peaks at about 210 MB instead of 873 MB (docs/benchmarks.md).
   Per-channel scales matter: one scale per tensor loses too much (mean cosine 0.954 to the torch vectors on
   alpaca texts, against 0.994 per channel);
2. any other model (not BERT, or no ``model.safetensors``) falls back to ``torch.onnx.export`` (the
   TorchScript exporter, opset 17, mean pooling inside the graph) and ``quantize_dynamic``: the same recipe
   at the cost of loading torch (about 780 MB for MiniLM);
3. the file is cached under ``<user cache>/tokenplan/models/`` through marked temporary files and a rename,
   so concurrent runs and killed runs never leave a half-written model in use (a later build removes
   temporaries older than an hour). A folder that cannot be written gets the model built in a temporary
   folder for this run only.

Inference: the model's own ``tokenizer.json`` (truncation at the model's ``max_seq_length``, 256 word pieces for
all-MiniLM-L6-v2, or ``max_length``; padding to the longest text of the batch), one onnxruntime CPU session,
then L2 normalisation. docs/benchmarks.md has the speed and the cosine to the torch vectors.

Activations are quantised per call at run time, so texts go one per call by default (``batch_size=1``): a
text's vector then never depends on the texts around it (local and Ray runs agree, and so do re-runs).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tokenplan._checks import positive_int
from tokenplan._io import TEMP_MARK, atomic_path
from tokenplan.errors import InvalidInputError, MissingDependencyError
from tokenplan.select.models import (
    LocalModelEmbedder,
    l2_normalise,
    model_revision,
    quiet_loading,
    st_max_length,
)

__all__ = ["RECIPE", "OnnxEmbedder", "fast_path_available"]

#: the build recipe: part of the model's file name and of the cache key of its vectors
RECIPE = "onnx17-meanpool-int8pc-v2"


def fast_path_available() -> bool:
    """True when onnxruntime and onnx (the ``fast`` extra) are installed."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))
    except (ImportError, ValueError):
        return False


@contextmanager
def _quiet_build() -> Iterator[None]:
    """Keep the exporter's and the quantiser's warnings and log lines off the user's screen, for one build."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export_torch(model_dir: Path, dst: Path) -> None:
    """The fallback exporter: the transformer of ``model_dir`` with mean pooling, by ``torch.onnx.export``.

    For models :func:`tokenplan.select.onnx_bert.bert_config` does not accept (not BERT, or no
    ``model.safetensors``). It loads torch and transformers and peaks at about 780 MB for MiniLM.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    with quiet_loading():
        tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, encoder) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    enc = tok(["an example sentence", "a second, longer example sentence"], padding=True)
    args = tuple(
        torch.tensor(enc[k], dtype=torch.int64)
        for k in ("input_ids", "attention_mask", "token_type_ids")
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            MeanPooled(bert),
            args,
            str(dst),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={
                **{n: {0: "batch", 1: "tokens"} for n in names},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def _remove_old_temps(folder: Path, *, older_than_s: float = 3600.0) -> None:
    """Remove marked temporaries a killed build left in ``folder`` (old ones only: a build may be running)."""
    now = time.time()
    for f in folder.glob(f".*{TEMP_MARK}"):
        try:
            if now - f.stat().st_mtime > older_than_s:
                f.unlink()
        except OSError:
            pass


def _build_torch(model_dir: Path, dst: Path) -> None:
    """The fallback build: ``torch.onnx.export`` to an fp32 file, then ``quantize_dynamic`` (QInt8, per channel).

    The fp32 file is a marked temporary beside ``dst``, so a killed build leaves nothing that a later build
    does not remove.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.fp32.", suffix=TEMP_MARK)
    os.close(fd)
    fp32 = Path(name)
    try:
        _export_torch(model_dir, fp32)
        with atomic_path(dst) as out:
            quantize_dynamic(fp32, out, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        fp32.unlink(missing_ok=True)


def _build_bert(model_dir: Path, dst: Path) -> None:
    """The default build for BERT folders: the int8 graph written from ``model.safetensors`` with numpy,
    quantised as ``quantize_dynamic`` would (:mod:`tokenplan.select.onnx_bert`); no torch, no fp32 file."""
    from tokenplan.select.onnx_bert import bert_config, write_bert_onnx

    with atomic_path(dst) as out:
        write_bert_onnx(model_dir, out, bert_config(model_dir))


def _builder(model_dir: Path) -> Callable[[Path, Path], None]:
    """How ``model_dir``'s model is built: :func:`_build_bert` when
    :func:`~tokenplan.select.onnx_bert.bert_config` accepts the folder, else :func:`_build_torch`."""
    from tokenplan.select.onnx_bert import bert_config

    return _build_bert if bert_config(model_dir) is not None else _build_torch


def _build(model_dir: Path, dst: Path) -> None:
    """Build ``model_dir``'s int8 model into ``dst``, through a marked temporary and a rename."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    _remove_old_temps(dst.parent)
    with _quiet_build():
        _builder(model_dir)(model_dir, dst)


def models_dir() -> Path:
    """Where built models are kept: ``$TOKENPLAN_CACHE/models`` or ``~/.cache/tokenplan/models``."""
    from tokenplan.select.cache import user_cache_dir

    return user_cache_dir() / "models"


class OnnxEmbedder(LocalModelEmbedder):
    """A local sentence-transformers model (default: the packaged all-MiniLM-L6-v2) on onnxruntime, int8.

    Mean pooling and L2 normalisation, like the model's own pipeline; ``threads``: onnxruntime's intra-op
    threads (None: its default, one per core); ``batch_size`` defaults to 1 (unpadded texts, the fastest on
    CPU: docs/benchmarks.md); ``cache_dir``: where the int8 model file is kept (default :func:`models_dir`).
    The other options are :class:`LocalModelEmbedder`'s. The model is built on first use (see the module's
    docs).
    """

    kind = "st-onnx-int8"
    backend = "onnx-int8"
    recipe = RECIPE
    default_batch_size = 1

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        *,
        cache_dir: str | os.PathLike | None = None,
        **options: Any,
    ) -> None:
        if not fast_path_available():
            raise MissingDependencyError("onnxruntime and onnx", "fast")
        super().__init__(model_dir, **options)
        if not (self.model_dir / "tokenizer.json").exists():
            raise InvalidInputError(
                f"{str(self.model_dir)!r} has no tokenizer.json; the fast path needs a fast tokenizer "
                "(use the torch backend for this model)."
            )
        self.max_length = self.max_length or positive_int(
            "max_length", st_max_length(self.model_dir) or 512
        )
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def model_path(self) -> Path:
        """Where this model's int8 ONNX file is (or will be) kept."""
        folder = self.cache_dir or models_dir()
        stem = f"{self.model_dir.resolve().parent.name}-{self.model_dir.name}"
        stem = f"{stem}-{model_revision(self.model_dir.resolve())}-{RECIPE}"
        return folder / f"{stem}.onnx"

    def _open(self):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.enable_truncation(max_length=self.max_length)
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # errors only: the library never prints
        if self.threads is not None:
            opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        return self._open_session(ort, opts), tok

    def _open_session(self, ort, opts):
        path = self.model_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            writable = os.access(path.parent, os.W_OK)
        except OSError:
            writable = False
        if not writable:  # build for this run only
            with tempfile.TemporaryDirectory(prefix="tokenplan-onnx-") as tmp:
                path = Path(tmp) / path.name
                _build(self.model_dir, path)
                return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        if path.exists():
            try:
                return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            except Exception:  # a damaged file (onnxruntime raises its own types): build it again
                path.unlink(missing_ok=True)
        _build(self.model_dir, path)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        session, tok = self._load()
        out = []
        for i in range(0, len(texts), self.batch_size):
            encs = tok.encode_batch(list(texts[i : i + self.batch_size]))
            ids = np.array([e.ids for e in encs], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out.append(session.run(None, feeds)[0])
        return l2_normalise(np.concatenate(out) if out else np.zeros((0, 1), np.float32))
