"""A BERT encoder with mean pooling, written as an ONNX graph from its weights with numpy (no torch).

The graph is transformers' ``BertModel`` (Devlin et al. 2019; ``modeling_bert.py``, eager attention) followed
by the mean pooling of sentence-transformers; the L2 normalisation stays in the caller:

- embeddings: ``LayerNorm(word[input_ids] + position[0..T) + token_type[token_type_ids])``;
- each layer: ``x = LayerNorm(x + Attention(x))``, then ``x = LayerNorm(x + GELU(x Wi + bi) Wo + bo)``,
  GELU the exact one, ``0.5 x (1 + erf(x / sqrt 2))`` (``hidden_act="gelu"``);
- attention: per head ``softmax(Q K^T / sqrt(d_head) + bias) V``, with ``bias = (1 - mask) * float32 min``
  added to the scores of padding keys, as transformers does (``torch.finfo(dtype).min``);
- pooling: ``sum_t mask_t x_t / max(sum_t mask_t, 1e-9)``.

Inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64, batch x tokens, both dynamic); output
``sentence_embedding`` (float32, batch x hidden). Opset 17, standard operators only.

int8 (the default): the weights are quantised here, with numpy, exactly as onnxruntime's
``quantize_dynamic(weight_type=QInt8, per_channel=True)`` quantises the float graph (tests check the
initializers and the outputs are identical): each MatMul weight symmetric int8 per output channel, run as
DynamicQuantizeLinear -> MatMulInteger -> rescale; the word and token-type tables uint8 with one scale,
read through DequantizeLinear. Doing it here skips ``quantize_dynamic``'s copies of the model (it peaks at
about 490 MB for MiniLM).

Weights are read one tensor at a time from ``model.safetensors`` through safetensors' numpy API (names with
or without the ``bert.`` prefix; ``LayerNorm.gamma``/``beta`` as old checkpoints name them), so writing the
int8 MiniLM peaks at 175 MB for the whole process (55 MB of it python and the imports), against 776 MB for
``torch.onnx.export`` alone.
:func:`bert_config` decides whether a folder can be built this way; the caller falls back to torch's
exporter for everything else.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

__all__ = ["bert_config", "quantize_columns", "quantize_tensor_uint8", "write_bert_onnx"]

#: config.json keys the graph needs, all positive integers (plus ``layer_norm_eps``, a float)
_INT_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
    "type_vocab_size",
)
#: safetensors dtypes that numpy reads and that become float32 without loss of what the model knows
_FLOAT_DTYPES = ("F32", "F16", "F64")


def _tensor_names(cfg: dict) -> list[str]:
    """Names of the weights the graph reads, without any prefix."""
    names = [f"embeddings.{k}_embeddings.weight" for k in ("word", "position", "token_type")]
    names += ["embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    per_layer = [
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        "intermediate.dense",
        "output.dense",
        "output.LayerNorm",
    ]
    for i in range(cfg["num_hidden_layers"]):
        names += [f"encoder.layer.{i}.{m}.{p}" for m in per_layer for p in ("weight", "bias")]
    return names


def _stored_name(keys, name: str) -> str | None:
    """The file's key for ``name``: with or without ``bert.``, ``gamma``/``beta`` for LayerNorm; else None."""
    alias = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace(
        "LayerNorm.bias", "LayerNorm.beta"
    )
    for prefix in ("", "bert."):
        for candidate in (name, alias):
            if prefix + candidate in keys:
                return prefix + candidate
    return None


def bert_config(model_dir: str | Path) -> dict | None:
    """The ``config.json`` of a BERT encoder this module can write from ``model.safetensors``, else None.

    None when: no ``config.json`` or ``model.safetensors``, no ``safetensors`` package, a ``model_type``
    other than ``bert``, an activation other than exact GELU, relative positions, a decoder, or a weight
    missing or stored in a dtype numpy cannot read (bfloat16).
    """
    folder = Path(model_dir)
    if importlib.util.find_spec("safetensors") is None:
        return None
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cfg, dict) or cfg.get("model_type") != "bert":
        return None
    plain = (
        cfg.get("hidden_act", "gelu") == "gelu"
        and cfg.get("position_embedding_type", "absolute") == "absolute"
        and not cfg.get("is_decoder")
        and not cfg.get("add_cross_attention")
    )
    sizes_ok = all(isinstance(cfg.get(k), int) and cfg[k] > 0 for k in _INT_KEYS)
    if not (plain and sizes_ok and cfg["hidden_size"] % cfg["num_attention_heads"] == 0):
        return None
    if not (folder / "model.safetensors").is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(folder / "model.safetensors"), framework="np") as f:
            keys = set(f.keys())
            stored = [_stored_name(keys, n) for n in _tensor_names(cfg)]
            if None in stored or any(
                f.get_slice(k).get_dtype() not in _FLOAT_DTYPES for k in stored
            ):
                return None
    except Exception:  # a damaged file: safetensors raises its own error types
        return None
    return cfg


def quantize_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and one float32 scale per column (output channel) of ``w`` [in, out], symmetric.

    onnxruntime's ``quantize_dynamic(weight_type=QInt8, per_channel=True)`` for a MatMul weight:
    ``scale = 2 max|w| / 254`` (range -127..127, zero point 0), ``q = round(w / scale)`` (half to even);
    a column of zeros gets scale 1.
    """
    absmax = np.maximum(np.abs(np.minimum(w.min(axis=0), 0)), np.maximum(w.max(axis=0), 0))
    scale = (2.0 * absmax.astype(np.float64) / 254.0).astype(np.float32)
    scale[scale < np.finfo(np.float32).tiny] = 1.0
    q = np.clip(np.round(w / scale), -127, 127)
    return q.astype(np.int8), scale


def quantize_tensor_uint8(w: np.ndarray, *, rows: int = 4096) -> tuple[np.ndarray, float, int]:
    """uint8 values, scale and zero point for all of ``w``: the asymmetric per-tensor quantisation that
    ``quantize_dynamic`` gives an embedding table (a Gather's data); ``rows`` at a time, to bound memory."""
    rmin, rmax = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = (rmax - rmin) / 255.0  # in float64, as onnxruntime computes it
    if np.float32(scale) < np.finfo(np.float32).tiny:
        return np.zeros(w.shape, np.uint8), np.float32(1.0), 0
    zero_point = int(np.round(-rmin / scale))
    scale = np.float32(scale)
    q = np.empty(w.shape, np.uint8)
    for a in range(0, len(w), rows):
        q[a : a + rows] = np.clip(np.round(w[a : a + rows] / scale) + zero_point, 0, 255)
    return q, scale, zero_point


class _Graph:
    """One ONNX graph, written in place (each weight's bytes are copied once, not per protobuf layer).

    :meth:`op` adds a node and returns its output's name; :meth:`const` adds an initializer once per name.
    With ``int8``, MatMul weights and embedding tables are stored quantised, as ``quantize_dynamic`` does.
    """

    def __init__(self, graph, weights, keys, *, int8: bool) -> None:
        self.graph, self._weights, self._keys, self.int8 = graph, weights, keys, int8
        self._n, self._names, self._quantized = 0, set(), {}

    def op(self, op_type: str, *inputs: str, n_out: int = 1, **attrs):
        """Add a node; its output name (a tuple of ``n_out`` names when there are several)."""
        from onnx import helper

        self._n += 1
        name = f"{op_type}_{self._n}"
        outs = [name] if n_out == 1 else [f"{name}_{i}" for i in range(n_out)]
        self.graph.node.append(helper.make_node(op_type, list(inputs), outs, name=name, **attrs))
        return outs[0] if n_out == 1 else tuple(outs)

    def const(self, name: str, value) -> str:
        from onnx import helper

        if name not in self._names:
            arr = np.ascontiguousarray(value)
            t = self.graph.initializer.add()
            t.name, t.data_type = name, helper.np_dtype_to_tensor_dtype(arr.dtype)
            t.dims.extend(arr.shape)
            t.raw_data = arr.tobytes()
            self._names.add(name)
        return name

    def array(self, name: str) -> np.ndarray:
        """The stored weight ``name`` as float32."""
        key = _stored_name(self._keys, name)
        return self._weights.get_tensor(key).astype(np.float32, copy=False)

    def weight(self, name: str) -> str:
        return self.const(name, self.array(name))

    def embedding(self, name: str, ids: str) -> str:
        """Rows ``ids`` of the table ``name``: Gather (int8: of the uint8 table, then DequantizeLinear)."""
        if not self.int8:
            return self.op("Gather", self.weight(name), ids, axis=0)
        q, scale, zero_point = quantize_tensor_uint8(self.array(name))
        rows = self.op("Gather", self.const(f"{name}_quantized", q), ids, axis=0)
        scale = self.const(f"{name}_scale", np.array(scale, np.float32))
        return self.op(
            "DequantizeLinear", rows, scale, self.const(f"{name}_zero_point", np.uint8(zero_point))
        )

    def linear(self, x: str, prefix: str) -> str:
        """``x W^T + b`` of the Linear ``prefix``: MatMul with a constant weight, then Add.

        int8: ``x`` quantised at run time (DynamicQuantizeLinear, uint8, once per tensor however many
        Linears read it), MatMulInteger with the int8 weight, then the product rescaled by both scales.
        """
        w = np.ascontiguousarray(self.array(f"{prefix}.weight").T)  # [in, out]
        if not self.int8:
            y = self.op("MatMul", x, self.const(f"{prefix}.weight", w))
        else:
            q, scale = quantize_columns(w)
            del w
            if x not in self._quantized:
                self._quantized[x] = self.op("DynamicQuantizeLinear", x, n_out=3)
            xq, x_scale, x_zero = self._quantized[x]
            w_zero = self.const(f"{prefix}.weight_zero_point", np.zeros(q.shape[1], np.int8))
            prod = self.op(
                "MatMulInteger", xq, self.const(f"{prefix}.weight_quantized", q), x_zero, w_zero
            )
            scales = self.op("Mul", x_scale, self.const(f"{prefix}.weight_scale", scale))
            y = self.op("Mul", self.op("Cast", prod, to=1), scales)  # 1: float32
        return self.op("Add", y, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        w, b = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, w, b, axis=-1, epsilon=eps)


def _embeddings(g: _Graph, eps: float) -> str:
    """LayerNorm of word + position + token-type embeddings; positions are 0..T-1 (Shape, then Slice)."""
    word = g.embedding("embeddings.word_embeddings.weight", "input_ids")
    n_tokens = g.op("Shape", "input_ids", start=1, end=2)
    zero = g.const("zero_1d", np.array([0], np.int64))
    pos = g.op("Slice", g.weight("embeddings.position_embeddings.weight"), zero, n_tokens, zero)
    kind = g.embedding("embeddings.token_type_embeddings.weight", "token_type_ids")
    return g.layer_norm(g.op("Add", g.op("Add", word, pos), kind), "embeddings.LayerNorm", eps)


def _attention(g: _Graph, x: str, prefix: str, bias: str, cfg: dict) -> str:
    """Multi-head self-attention of one layer, before its residual and LayerNorm."""
    n_heads = cfg["num_attention_heads"]
    d_head = cfg["hidden_size"] // n_heads
    split = g.const("split_heads", np.array([0, 0, n_heads, d_head], np.int64))
    merge = g.const("merge_heads", np.array([0, 0, cfg["hidden_size"]], np.int64))
    scale = g.const("attention_scale", np.array(1.0 / np.sqrt(d_head), np.float32))

    def heads(name: str, perm: list[int]) -> str:
        y = g.op("Reshape", g.linear(x, f"{prefix}.self.{name}"), split)
        return g.op("Transpose", y, perm=perm)

    q, k = heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1])  # k: batch, head, d_head, token
    v = heads("value", [0, 2, 1, 3])
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
    ctx = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
    ctx = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), merge)
    return g.linear(ctx, f"{prefix}.output.dense")


def _layer(g: _Graph, x: str, i: int, bias: str, cfg: dict) -> str:
    p, eps = f"encoder.layer.{i}", float(cfg.get("layer_norm_eps", 1e-12))
    x = g.layer_norm(
        g.op("Add", x, _attention(g, x, f"{p}.attention", bias, cfg)),
        f"{p}.attention.output.LayerNorm",
        eps,
    )
    h = g.linear(x, f"{p}.intermediate.dense")
    erf = g.op("Erf", g.op("Div", h, g.const("sqrt_2", np.array(np.sqrt(2.0), np.float32))))
    half = g.const("half", np.array(0.5, np.float32))
    gelu = g.op(
        "Mul", g.op("Mul", h, half), g.op("Add", erf, g.const("one", np.array(1.0, np.float32)))
    )
    return g.layer_norm(
        g.op("Add", x, g.linear(gelu, f"{p}.output.dense")), f"{p}.output.LayerNorm", eps
    )


def _mask_terms(g: _Graph) -> tuple[str, str]:
    """The attention bias (batch, 1, 1, keys) and the pooling mask (batch, tokens, 1), from attention_mask."""
    mask = g.op("Cast", "attention_mask", to=1)  # 1: float32
    one = g.const("one", np.array(1.0, np.float32))
    lowest = g.const("float32_min", np.array(np.finfo(np.float32).min, np.float32))
    bias = g.op("Mul", g.op("Sub", one, mask), lowest)
    bias = g.op("Unsqueeze", bias, g.const("axes_1_2", np.array([1, 2], np.int64)))
    return bias, g.op("Unsqueeze", mask, g.const("axes_2", np.array([2], np.int64)))


def write_bert_onnx(
    model_dir: str | Path, dst: str | Path, cfg: dict, *, int8: bool = True
) -> None:
    """Write the graph of the BERT in ``model_dir`` (``cfg`` from :func:`bert_config`) to ``dst``.

    ``int8``: weights quantised as ``quantize_dynamic(QInt8, per_channel=True)`` would (see
    :func:`quantize_columns`, :func:`quantize_tensor_uint8`); else all float32.
    """
    import onnx
    from onnx import TensorProto, helper
    from safetensors import safe_open

    model = onnx.ModelProto(ir_version=8, producer_name="tokenplan")  # IR 8: opset 17's own version
    model.opset_import.add(domain="", version=17)
    model.graph.name = "bert_mean_pooled"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    for n in names:
        model.graph.input.append(
            helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"])
        )
    with safe_open(str(Path(model_dir) / "model.safetensors"), framework="np") as f:
        g = _Graph(model.graph, f, set(f.keys()), int8=int8)
        bias, pool_mask = _mask_terms(g)
        x = _embeddings(g, float(cfg.get("layer_norm_eps", 1e-12)))
        for i in range(cfg["num_hidden_layers"]):
            x = _layer(g, x, i, bias, cfg)
    axis1 = g.const("axis_1", np.array([1], np.int64))
    total = g.op("ReduceSum", g.op("Mul", x, pool_mask), axis1, keepdims=0)
    count = g.op("ReduceSum", pool_mask, axis1, keepdims=0)
    count = g.op("Max", count, g.const("min_count", np.array(1e-9, np.float32)))
    model.graph.node.append(
        helper.make_node("Div", [total, count], ["sentence_embedding"], name="mean_pool")
    )
    model.graph.output.append(
        helper.make_tensor_value_info(
            "sentence_embedding", TensorProto.FLOAT, ["batch", cfg["hidden_size"]]
        )
    )
    # the shapes of the intermediate tensors let onnxruntime fuse more when it loads the file (Add followed
    # by LayerNormalization becomes SkipLayerNormalization), as it does for quantize_dynamic's output
    model = onnx.shape_inference.infer_shapes(model)
    onnx.save_model(model, str(dst))
