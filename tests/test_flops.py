"""Parameter and FLOP accounting (REFERENCE.md sec. 1, App. F; sec. 7)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenplan import InvalidInputError, ModelShape, convert_params, datasets, flops_6nd
from tokenplan.flops import SHAPE_SOURCES, SHAPES, ShapeReport


def _chinchilla_shape(row) -> ModelShape:
    return ModelShape(
        n_layers=int(row["n_layers"]),
        d_model=int(row["d_model"]),
        n_heads=int(row["n_heads"]),
        kv_size=int(row["kv_size"]),
        ffw_size=int(row["ffw_size"]),
        vocab_size=32000,
        seq_len=2048,
        position="relative",
        norm="rmsnorm",
    )


def test_table_a9_parameter_counts():
    """Hoffmann et al. 2022 Table A9: all 50 model shapes' parameter counts (printed to the nearest million)
    are reproduced within 1% when counting embeddings (32k vocab, tied) and Transformer-XL relative-position
    projections."""
    rows = list(csv.DictReader(datasets.path("chinchilla_tableA9").open()))
    assert len(rows) == 50
    for row in rows:
        counted = _chinchilla_shape(row).params().total
        assert counted == pytest.approx(int(row["params"]), rel=0.01), row
        if int(row["params"]) >= 1e9:  # 4 significant digits printed: much tighter agreement
            assert counted == pytest.approx(int(row["params"]), rel=0.001), row


def test_gpt2_small_is_124m():
    """GPT-2 small: 124,439,808 parameters (HF transformers GPT2LMHeadModel, tied head, learned positions)."""
    p = SHAPES["gpt2-small"].params()
    assert p.total == 124_439_808
    assert p.embedding == 50257 * 768 + 1024 * 768
    assert p.lm_head == 0


def test_untied_head_adds_vocab_by_d():
    tied = ModelShape(n_layers=2, d_model=64, n_heads=4, vocab_size=256, seq_len=32)
    untied = ModelShape(
        n_layers=2, d_model=64, n_heads=4, vocab_size=256, seq_len=32, tied_embeddings=False
    )
    assert untied.params().total - tied.params().total == 256 * 64
    assert untied.params().non_embedding == tied.params().non_embedding


# The released checkpoints' parameter counts (the sum of every tensor's size in the published weights; the
# HF model cards' 6.74B, 13B, 69B, 8.03B, 70.6B and 7.24B). By hand: embedding V d + untied head V d + L x
# (q, o: d x h k each; k, v: d x g k each, g KV heads of size k; 3 SwiGLU matrices d x f; 2 RMSNorms d)
# + final norm d; no biases, no position parameters (rotary).
PUBLISHED_PARAMS = [
    # 2 x 32000 x 4096 = 262,144,000; per layer 4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096
    # = 67,108,864 + 135,266,304 + 8,192 = 202,383,360; x 32 = 6,476,267,520; + 4,096 + 262,144,000
    ("llama2-7b", 6_738_415_616),
    # 2 x 32000 x 5120 = 327,680,000; per layer 4 x 5120^2 + 3 x 5120 x 13824 + 2 x 5120
    # = 104,857,600 + 212,336,640 + 10,240 = 317,204,480; x 40 = 12,688,179,200; + 5,120 + 327,680,000
    ("llama2-13b", 13_015_864_320),
    # 2 x 32000 x 8192 = 524,288,000; per layer q, o 2 x 8192^2 = 134,217,728, k, v 2 x 8192 x (8 x 128)
    # = 16,777,216, MLP 3 x 8192 x 28672 = 704,643,072, norms 16,384: 855,654,400; x 80 = 68,452,352,000;
    # + 8,192 + 524,288,000
    ("llama2-70b", 68_976_648_192),
    # 2 x 128256 x 4096 = 1,050,673,152; per layer q, o 2 x 4096^2 = 33,554,432, k, v 2 x 4096 x (8 x 128)
    # = 8,388,608, MLP 3 x 4096 x 14336 = 176,160,768, norms 8,192: 218,112,000; x 32 = 6,979,584,000;
    # + 4,096 + 1,050,673,152
    ("llama3-8b", 8_030_261_248),
    # 2 x 128256 x 8192 = 2,101,346,304; the blocks as llama2-70b's: 68,452,352,000 + 8,192
    ("llama3-70b", 70_553_706_496),
    # 2 x 32000 x 4096 = 262,144,000; the blocks as llama3-8b's: 6,979,584,000 + 4,096
    ("mistral-7b", 7_241_732_096),
]


@pytest.mark.parametrize(("name", "published"), PUBLISHED_PARAMS)
def test_open_model_parameter_counts(name, published):
    """Llama 2 (7B, 13B, 70B), Llama 3 (8B, 70B) and Mistral 7B: the named shapes count exactly the
    released models' parameters (hand arithmetic beside PUBLISHED_PARAMS). Grouped-query attention (8 KV
    heads on all but the two Llama 2 MHA models) used to be inexpressible: K and V counted 64 heads wide,
    2 x 8192 x (8192 - 1024) x 80 = 9,395,240,960 too many on Llama-2-70B."""
    shape = SHAPES[name]
    p = shape.params()
    assert p.total == published
    assert p.embedding == p.lm_head == shape.vocab_size * shape.d_model
    assert name in SHAPE_SOURCES
    # 6N and App. F count the same (smaller) K and V: 6N is 6 x this total
    assert shape.train_flops_per_token(method="6n") == 6 * published


def test_every_named_shape_has_a_source():
    assert set(SHAPE_SOURCES) == set(SHAPES)


def test_grouped_query_attention_by_hand():
    """One layer, seq 4, d 8, 4 heads of 2, ffw 16, vocab 10; 2 KV heads (GQA) against 4 (MHA). Only
    App. F's QKV projection changes: 2 s d (h k + 2 g k) = 2 x 4 x 8 x (8 + 2 x 4) = 1,024 against
    2 x 3 x 4 x 8 x 8 = 1,536; the logits 2 s^2 h k = 256, softmax 3 h s^2 = 192, softmax @ V 256 and the
    output 2 s h k d = 512 are per query head and stay. Parameters lose 2 d (h - g) k = 64 (K and V)."""
    sizes = dict(n_layers=1, d_model=8, n_heads=4, ffw_size=16, vocab_size=10, seq_len=4)
    mha, gqa = ModelShape(**sizes), ModelShape(**sizes, n_kv_heads=2)
    as_many = ModelShape(**sizes, n_kv_heads=4)  # as many KV heads as heads: multi-head attention
    assert as_many.flops() == mha.flops() and as_many.params() == mha.params()
    assert mha.flops().attention * 4 == 1536 + 256 + 192 + 256 + 512
    assert gqa.flops().attention * 4 == 1024 + 256 + 192 + 256 + 512
    for term in ("mlp", "embeddings", "logits"):
        assert getattr(gqa.flops(), term) == getattr(mha.flops(), term)
    assert mha.params().total - gqa.params().total == 64
    # d x (q 8 + k 4 + v 4 + o 8), two MLP matrices, two norms, the final norm
    assert gqa.params().non_embedding == 8 * (8 + 4 + 4 + 8) + 2 * 8 * 16 + 2 * 8 + 8
    assert mha.train_flops_per_token(method="6n") - gqa.train_flops_per_token(method="6n") == 6 * 64
    biased = dict(sizes, bias=True)  # K and V lose their biases too: 2 (h - g) k = 8 more
    assert (
        ModelShape(**biased).params().total - ModelShape(**biased, n_kv_heads=2).params().total
        == 72
    )
    mqa = ModelShape(**sizes, n_kv_heads=1)  # multi-query: one K and one V head of 2
    assert mqa.flops().attention * 4 == 2 * 4 * 8 * (8 + 2 * 2) + 256 + 192 + 256 + 512


# Hoffmann et al. 2022 Table A4: layers, d_model, ffw, heads, kv, FLOP ratio (App. F / 6ND).
TABLE_A4 = [
    (10, 640, 2560, 10, 64, 1.03),
    (20, 1024, 4096, 16, 64, 1.10),
    (24, 1280, 5120, 10, 128, 1.08),
    (26, 1792, 7168, 14, 128, 1.04),
    (28, 2048, 8192, 16, 128, 1.03),
    (40, 3584, 14336, 28, 128, 0.99),
]


@pytest.mark.parametrize(("layers", "d", "ffw", "heads", "kv", "ratio"), TABLE_A4)
def test_table_a4_flop_ratios(layers, d, ffw, heads, kv, ratio):
    """Hoffmann et al. 2022 Table A4: App. F FLOPs / 6ND = 1.03, 1.10, 1.08, 1.04, 1.03, 0.99. Reproduced
    (to the printed 2 decimals, ±0.006) when the App. F count leaves out the embedding and logit matmuls and N
    counts all parameters (embeddings, relative-position projections) as in Table A9, with seq_len 2048."""
    shape = ModelShape(
        n_layers=layers,
        d_model=d,
        n_heads=heads,
        kv_size=kv,
        ffw_size=ffw,
        vocab_size=32000,
        seq_len=2048,
        position="relative",
        norm="rmsnorm",
    )
    got = shape.flops().train_no_embeddings / (6 * shape.params().total)
    assert got == pytest.approx(ratio, abs=0.006)
    # With embeddings and logits counted, App. F is always above 6N for these shapes.
    assert shape.flops().train > shape.flops().train_no_embeddings


def test_appendix_f_terms_by_hand():
    """One layer, seq 4, d 8, 2 heads of 4, ffw 16, vocab 10: every App. F term by hand."""
    s = ModelShape(n_layers=1, d_model=8, n_heads=2, ffw_size=16, vocab_size=10, seq_len=4)
    f = s.flops()
    qkv, qk, soft, sv, out = 2 * 3 * 4 * 8 * 8, 2 * 16 * 8, 3 * 2 * 16, 2 * 16 * 8, 2 * 4 * 8 * 8
    assert f.attention * 4 == qkv + qk + soft + sv + out
    assert f.mlp * 4 == 2 * 4 * (2 * 8 * 16)
    assert f.embeddings * 4 == 2 * 4 * 10 * 8 == f.logits * 4
    assert f.train == pytest.approx(3 * f.forward)
    assert s.train_flops_per_token(method="6n") == 6 * s.params().total


def test_flops_6nd():
    assert flops_6nd(70e9, 1.4e12) == pytest.approx(5.88e23)
    with pytest.raises(InvalidInputError, match="n_tokens"):
        flops_6nd(1e9, -1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(n_layers=2, d_model=100, n_heads=7, vocab_size=10),
            "`n_heads` 7 does not divide `d_model` 100",
        ),
        (dict(n_layers=0, d_model=64, n_heads=4, vocab_size=10), "n_layers=0 must be > 0"),
        (dict(n_layers=2, d_model=-64, n_heads=4, vocab_size=10), "d_model=-64"),
        (
            dict(n_layers=2, d_model=64, n_heads=4, vocab_size=10, position="alibi"),
            "position='alibi'",
        ),
        (dict(n_layers=2.5, d_model=64, n_heads=4, vocab_size=10), "whole number"),
        (
            dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=3, vocab_size=10),
            "`n_kv_heads` 3 does not divide `n_heads` 4",
        ),
        (
            dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=8, vocab_size=10),
            "`n_kv_heads` 8 does not divide `n_heads` 4",
        ),
        (dict(n_layers=2, d_model=64, n_heads=4, n_kv_heads=0, vocab_size=10), "n_kv_heads=0"),
    ],
)
def test_impossible_shapes(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        ModelShape(**kwargs)


def test_all_shape_problems_reported_at_once():
    with pytest.raises(InvalidInputError) as info:
        ModelShape(n_layers=0, d_model=0, n_heads=4, vocab_size=10)
    assert "n_layers" in str(info.value) and "d_model" in str(info.value)


def test_convert_params_matches_a_real_shape():
    """Converting a Chinchilla-like total count to non-embedding lands within 5% of the true split."""
    shape = ModelShape(n_layers=16, d_model=1024, n_heads=16, vocab_size=32000, position="rotary")
    p = shape.params()
    est = convert_params(p.total, to="non-embedding", vocab_size=32000, aspect_ratio=1024 / 16)
    assert est == pytest.approx(p.non_embedding, rel=0.05)


@settings(max_examples=50, deadline=None)
@given(
    n=st.floats(min_value=1e5, max_value=1e13), vocab=st.integers(min_value=256, max_value=256_000)
)
def test_convert_params_round_trip(n, vocab):
    total = convert_params(n, to="total", vocab_size=vocab)
    assert total > n
    assert convert_params(total, to="non-embedding", vocab_size=vocab) == pytest.approx(n, rel=1e-6)


def test_pearce_song_gamma():
    """Pearce & Song 2024 sec. 3: N_T = N_E + gamma N_E^(1/3) with gamma = 47,491 for Chinchilla's shapes and a
    32K vocabulary; the aspect ratio they quote, d/L = 39.2, gives vocab (A/12)^(1/3) = 47,479 (0.03% apart)."""
    n_e = 1e9
    assert convert_params(n_e, to="total") == pytest.approx(n_e + 47491 * n_e ** (1 / 3), rel=1e-12)
    assert convert_params(n_e, to="total", aspect_ratio=39.2) == pytest.approx(
        n_e + 47491 * n_e ** (1 / 3), rel=2e-5
    )


@pytest.mark.parametrize(
    ("total_m", "d_model"), [(44, 512), (251, 1024), (1018, 1792), (4516, 3072), (16183, 5120)]
)
def test_pearce_song_fits_chinchilla_table_a9(total_m, d_model):
    """Hoffmann et al. 2022 Table A9 shapes (total params, d_model; 32K vocabulary): their non-embedding count
    N_T - 32000 d is within 7% of what Pearce & Song's relation gives (their fit to these shapes)."""
    exact = total_m * 1e6 - 32000 * d_model
    assert convert_params(total_m * 1e6, to="non-embedding") == pytest.approx(exact, rel=0.07)


def test_shape_report_by_hand():
    """GPT-2 small: 124,439,808 parameters (Radford et al. 2019's 124M), so 6N = 746,638,848 FLOPs a token;
    300B tokens cost 6N x 3e11."""
    report = ShapeReport(SHAPES["gpt2-small"], n_tokens=300e9).to_dict()
    assert report["params"]["total"] == 124_439_808
    assert report["flops_per_token"]["6N_total"] == 746_638_848
    assert report["training_flops"]["6ND"] == pytest.approx(746_638_848 * 3e11, rel=1e-15)
    fc = SHAPES["gpt2-small"].flops()
    assert report["flops_per_token"]["appendix_f_over_6N"] == pytest.approx(fc.train / 746_638_848)
    assert "training_flops" not in ShapeReport(SHAPES["gpt2-small"]).to_dict()


def test_the_6nd_constant_has_one_home():
    """C = 6ND's 6 is written once (tokenplan.flops.FLOPS_PER_PARAM_TOKEN): a number 6 multiplying or
    dividing anywhere else in src/ (code, not comments or docstrings) is a copy that could drift."""
    import tokenize
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "tokenplan"
    found = []
    for path in sorted(src.rglob("*.py")):
        with path.open("rb") as fh:
            tokens = [
                t
                for t in tokenize.tokenize(fh.readline)
                if t.type in (tokenize.OP, tokenize.NUMBER, tokenize.NAME)
            ]
        for before, tok, after in zip([None, *tokens], tokens, [*tokens[1:], None]):
            six = tok.type == tokenize.NUMBER and tok.string in ("6", "6.0", "6.")
            near = {t.string for t in (before, after) if t is not None}
            defines = (
                tok.string == "FLOPS_PER_PARAM_TOKEN" and after is not None and after.string == "="
            )
            if (six and near & {"*", "/"}) or defines:
                found.append(f"{path.relative_to(src)}: {tok.line.strip()}")
    # the file and the line's text, not its number: an import added above it must not break the test
    assert found == ["flops.py: FLOPS_PER_PARAM_TOKEN = 6.0"]


def test_conversion_floor_is_one_layer():
    """Pearce & Song's relation assumes N_nonemb = 12 L d^2 with d = 39.2 L: one layer is 12 x 39.2^2 =
    18,439.68 non-embedding parameters, 18,439.68 + 47,491 x 18,439.68^(1/3) = 1.2731M in total. Below it the
    conversion used to answer anyway (10 total parameters -> 9e-12 non-embedding)."""
    from tokenplan.flops import conversion_floor

    n_e, n_t = conversion_floor()
    assert n_e == pytest.approx(18_439.68, rel=1e-12)
    assert n_t == pytest.approx(18_439.68 + 47_491 * 18_439.68 ** (1 / 3), rel=1e-12)
    assert n_t == pytest.approx(1.2731e6, rel=1e-4)
    assert convert_params(n_t, to="non-embedding") == pytest.approx(n_e, rel=1e-9)
    # a byte-level vocabulary moves the total floor, not the one-layer non-embedding count
    n_e256, n_t256 = conversion_floor(vocab_size=256)
    assert n_e256 == n_e and n_t256 == pytest.approx(
        n_e + 256 * (39.2 / 12) ** (1 / 3) * n_e ** (1 / 3)
    )


def test_relative_positions_are_named_where_app_f_over_6n_leaves_table_a4s_range():
    """chinchilla-70b printed App. F / 6N = 0.966, below the 0.99 .. 1.10 of Chinchilla's Table A4
    (REFERENCE §1), with no word why: its 6N counts the Transformer-XL position projections (d x d per layer,
    5.37B) that App. F does not count. The note gives the ratio without them, inside Table A4's range."""
    import re

    from tokenplan.flops import SHAPES, ShapeReport

    report = ShapeReport(SHAPES["chinchilla-70b"])
    assert report.to_dict()["flops_per_token"]["appendix_f_over_6N"] < 0.99
    (note,) = report.notes
    assert "5,370,019,840 parameters" in note  # 80 layers x (8192 x 8192 + 2 x 8192)
    ratio = float(re.search(r"App\. F / 6N is ([\d.]+)", note).group(1))
    assert 0.99 <= ratio <= 1.10
    assert ShapeReport(SHAPES["gpt2-small"]).notes == ()
    assert report.to_dict()["notes"] == [note]


def test_a_shape_keeps_its_sizes_as_checked_and_its_switches_as_booleans():
    """n_layers='2' passed the check but stayed text (params() raised 'can only concatenate str'), 2.0 made
    every count a float, and tied_embeddings='false' (a truthy string) tied the LM head without a word."""
    sizes = dict(d_model=64, n_heads=2, vocab_size=100, seq_len=32)
    for n_layers in ("2", 2.0, np.int64(2)):
        shape = ModelShape(n_layers=n_layers, **sizes)
        assert type(shape.n_layers) is int and type(shape.params().total) is int
        assert shape == ModelShape(n_layers=2, **sizes)
    for key in ("tied_embeddings", "bias", "gated_mlp"):
        with pytest.raises(
            InvalidInputError, match=rf"{key}='false' must be true or false"
        ) as info:
            ModelShape(n_layers=2, **sizes, **{key: "false"})
        assert info.value.param == key


def test_an_unknown_conversion_target_names_to():
    """convert_params(to='x') said "unknown to 'x'" with InvalidInputError.param None."""
    from tokenplan import UnknownNameError

    with pytest.raises(
        UnknownNameError, match=r"conversion target `to` 'x'; valid names: non-embedding, total"
    ) as info:
        convert_params(1e9, to="x", vocab_size=32000)
    assert info.value.param == "to"
