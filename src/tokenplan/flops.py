"""Parameter and FLOP accounting from a model shape.

Two parameter conventions matter (Pearce & Song 2024; Porian et al. 2024):
- total: every parameter, embeddings included (Chinchilla);
- non-embedding: without the token/position embedding matrices and an untied LM head (Kaplan, N ≈ 12 L d^2).

FLOPs: the 6ND rule (Kaplan 2020 sec. 2.1) and the exact count of Chinchilla App. F (every matmul at 2 FLOPs per
multiply-accumulate, attention and softmax included, embeddings and logits optional, backward = 2x forward).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tokenplan import _checks
from tokenplan.errors import InvalidInputError

__all__ = [
    "FLOPS_PER_PARAM_TOKEN",
    "PEARCE_SONG_ASPECT_RATIO",
    "PEARCE_SONG_GAMMA",
    "SHAPES",
    "SHAPE_SOURCES",
    "FlopCount",
    "ModelShape",
    "ParamCount",
    "ShapeReport",
    "conversion_floor",
    "convert_params",
    "flops_6nd",
]

# C = 6 N D: the forward pass costs 2 FLOPs per parameter per token, the backward pass twice that (Kaplan et
# al. 2020 sec. 2.1; the constraint of Chinchilla eq. 4). The one home of the constant.
FLOPS_PER_PARAM_TOKEN = 6.0

# Pearce & Song 2024, "Reconciling Kaplan and Chinchilla Scaling Laws", sec. 3 and their released analysis
# code: total and non-embedding parameters are related by N_T = N_E + gamma N_E^(1/3), from N_E = 12 L d^2
# at a fixed aspect ratio A = d_model / n_layers (d = (A N_E / 12)^(1/3)) and vocab x d embedding
# parameters. Fitted to Chinchilla's model shapes (Table A9) with a 32K vocabulary: gamma = 47,491,
# which is A = 39.2 (vocab (A/12)^(1/3) = 47,479).
PEARCE_SONG_GAMMA = 47491.0
PEARCE_SONG_ASPECT_RATIO = 39.2
_PEARCE_SONG_VOCAB = 32_000

POSITIONS = ("learned", "relative", "rotary", "none")
NORMS = ("layernorm", "rmsnorm")


@dataclass(frozen=True)
class ParamCount:
    """Parameters by group. ``total = embedding + non_embedding + lm_head``."""

    embedding: int  # token embeddings (+ learned absolute positions)
    non_embedding: int  # transformer blocks and final norm (Kaplan's N)
    lm_head: int  # 0 when tied to the token embeddings

    @property
    def total(self) -> int:
        return self.embedding + self.non_embedding + self.lm_head

    def to_dict(self) -> dict[str, int]:
        return {**asdict(self), "total": self.total}


@dataclass(frozen=True)
class FlopCount:
    """FLOPs per token of one sequence (Chinchilla App. F), forward and training (= 3x forward)."""

    attention: float
    mlp: float
    embeddings: float
    logits: float

    @property
    def forward(self) -> float:
        return self.attention + self.mlp + self.embeddings + self.logits

    @property
    def forward_no_embeddings(self) -> float:
        """Without the embedding lookup-as-matmul and the logits (the App. F variant)."""
        return self.attention + self.mlp

    @property
    def train(self) -> float:
        """Forward plus backward (2x forward) per token."""
        return 3.0 * self.forward

    @property
    def train_no_embeddings(self) -> float:
        return 3.0 * self.forward_no_embeddings

    def to_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "forward": self.forward,
            "train": self.train,
            "train_no_embeddings": self.train_no_embeddings,
        }


@dataclass(frozen=True, kw_only=True)
class ModelShape:
    """A decoder-only transformer's shape; enough to count its parameters and FLOPs."""

    n_layers: int
    """Transformer blocks."""
    d_model: int
    """Residual stream width."""
    n_heads: int
    """Attention heads."""
    vocab_size: int
    """Token vocabulary (50257 for GPT-2, 32000 for Chinchilla's SentencePiece)."""
    seq_len: int = 2048
    """Context length used for attention FLOPs and learned position embeddings."""
    kv_size: int | None = None
    """Per-head query/key/value size; default d_model // n_heads."""
    n_kv_heads: int | None = None
    """Key/value heads; default n_heads (multi-head attention). Fewer is grouped-query attention (Ainslie
    et al. 2023; Llama-2-70B, Llama 3 and Mistral use 8), 1 multi-query (Shazeer 2019): the K and V
    projections have n_kv_heads x kv_size columns, the queries still n_heads x kv_size."""
    ffw_size: int | None = None
    """MLP hidden size; default 4 d_model."""
    tied_embeddings: bool = True
    """LM head shares the token embedding matrix (GPT-2, Chinchilla); False adds vocab x d_model params."""
    position: str = "learned"
    """'learned' (GPT-2 absolute, seq_len x d_model), 'relative' (Transformer-XL, a d x d projection per
    layer, as in Gopher/Chinchilla), 'rotary' or 'none' (no parameters)."""
    bias: bool = False
    """Linear layers and norms carry biases (GPT-2 True)."""
    norm: str = "layernorm"
    """'layernorm' (weight, plus bias when ``bias``) or 'rmsnorm' (weight only)."""
    gated_mlp: bool = False
    """SwiGLU-style MLP with three matrices instead of two."""
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        # field -> message: a lone field at fault is named; `quoted` fields are the CLI's flags there
        problems: dict[str, str] = {}
        sizes = ("n_layers", "d_model", "n_heads", "vocab_size", "seq_len")
        derived = ("kv_size", "n_kv_heads", "ffw_size")  # optional: derived when not given
        for key in (*sizes, *derived):
            value = getattr(self, key)
            if value is None and key in derived:
                continue
            try:  # kept as checked: '2' or 2.0 would reach the counts as text or a float
                object.__setattr__(self, key, _checks.positive_int(key, value))
            except InvalidInputError as exc:
                problems[key] = str(exc)
        for key in ("tied_embeddings", "bias", "gated_mlp"):  # 'false' is truthy
            try:
                _checks.strict_bool(key, getattr(self, key))
            except InvalidInputError as exc:
                problems[key] = str(exc)
        if not problems and self.kv_size is None and self.d_model % self.n_heads:
            problems["n_heads"] = (
                f"`n_heads` {self.n_heads} does not divide `d_model` {self.d_model}; "
                "choose `n_heads` that divides `d_model` or give `kv_size` explicitly."
            )
        if not problems and self.n_heads % self.kv_heads:
            problems["n_kv_heads"] = (
                f"`n_kv_heads` {self.n_kv_heads} does not divide `n_heads` {self.n_heads}; each "
                "key/value head serves a group of query heads: choose a divisor of `n_heads` "
                "(1: multi-query)."
            )
        if self.position not in POSITIONS:
            problems["position"] = (
                f"position={self.position!r} must be one of {', '.join(POSITIONS)}."
            )
        if self.norm not in NORMS:
            problems["norm"] = f"norm={self.norm!r} must be one of {', '.join(NORMS)}."
        if problems:
            param = next(iter(problems)) if len(problems) == 1 else None
            raise InvalidInputError(" ".join(problems.values()), param=param)

    # --- derived sizes ---------------------------------------------------------------------------
    @property
    def head_size(self) -> int:
        return self.kv_size if self.kv_size is not None else self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads if self.n_kv_heads is not None else self.n_heads

    @property
    def attn_size(self) -> int:
        """n_heads x kv_size: the width of Q and of the attention output."""
        return self.n_heads * self.head_size

    @property
    def kv_attn_size(self) -> int:
        """n_kv_heads x kv_size: the width of K and of V (= attn_size without grouped-query attention)."""
        return self.kv_heads * self.head_size

    @property
    def hidden_size(self) -> int:
        return self.ffw_size if self.ffw_size is not None else 4 * self.d_model

    # --- parameters ------------------------------------------------------------------------------
    def params(self) -> ParamCount:
        d, a, f, V = self.d_model, self.attn_size, self.hidden_size, self.vocab_size
        qkv = a + 2 * self.kv_attn_size  # Q is n_heads wide, K and V n_kv_heads
        b = 1 if self.bias else 0
        norm = d * (2 if (self.norm == "layernorm" and self.bias) else 1)
        attn = d * qkv + qkv * b + a * d + d * b
        if self.position == "relative":
            # Transformer-XL relative encodings: a projection W_R (d x a) and biases u, v (a each) per layer.
            attn += d * a + 2 * a
        n_mats = 3 if self.gated_mlp else 2
        mlp = n_mats * d * f + (f * (n_mats - 1) + d) * b
        per_layer = attn + mlp + 2 * norm
        non_embedding = self.n_layers * per_layer + norm  # + final norm
        embedding = V * d + (self.seq_len * d if self.position == "learned" else 0)
        lm_head = 0 if self.tied_embeddings else V * d
        return ParamCount(embedding=embedding, non_embedding=non_embedding, lm_head=lm_head)

    # --- FLOPs -----------------------------------------------------------------------------------
    def flops(self) -> FlopCount:
        """Chinchilla App. F forward FLOPs, divided by seq_len to give a per-token figure.

        With grouped-query attention only the K and V projections shrink (to n_kv_heads x kv_size columns):
        the logits and softmax @ V are computed per query head, as App. F counts them."""
        s, d, a, f, V, h = (
            self.seq_len,
            self.d_model,
            self.attn_size,
            self.hidden_size,
            self.vocab_size,
            self.n_heads,
        )
        # App. F's 2 * 3 * s * d * a, with K and V n_kv_heads x kv_size wide
        qkv = 2 * s * d * (a + 2 * self.kv_attn_size)
        logits_qk = 2 * s * s * a
        softmax = 3 * h * s * s
        softmax_v = 2 * s * s * a
        out = 2 * s * a * d
        dense = 2 * s * ((3 if self.gated_mlp else 2) * d * f)
        L = self.n_layers
        return FlopCount(
            attention=L * (qkv + logits_qk + softmax + softmax_v + out) / s,
            mlp=L * dense / s,
            embeddings=2 * s * V * d / s,
            logits=2 * s * d * V / s,
        )

    def train_flops_per_token(
        self, *, method: str = "appendix-f", embeddings: bool = True
    ) -> float:
        """Training FLOPs per token: 'appendix-f' (exact, Chinchilla App. F) or '6n' (6 x params)."""
        method = _checks.choice("FLOP method", method, ("appendix-f", "6n"))
        if method == "6n":
            p = self.params()
            return FLOPS_PER_PARAM_TOKEN * (p.total if embeddings else p.non_embedding)
        fc = self.flops()
        return fc.train if embeddings else fc.train_no_embeddings

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(kv_size=self.head_size, n_kv_heads=self.kv_heads, ffw_size=self.hidden_size)
        return out


def flops_6nd(n_params: float, n_tokens: float) -> float:
    """C = 6 N D (Kaplan 2020 sec. 2.1; Chinchilla eq. 4 constraint)."""
    n = _checks.positive("n_params", n_params)
    return FLOPS_PER_PARAM_TOKEN * n * _checks.positive("n_tokens", n_tokens)


@dataclass(frozen=True)
class ShapeReport:
    """What ``tokenplan flops`` shows for one shape: its parameters, the training FLOPs per token by the 6N
    rule and by Chinchilla App. F, and with ``n_tokens`` the whole run's training FLOPs by both."""

    shape: ModelShape
    n_tokens: float | None = None

    @property
    def params(self) -> ParamCount:
        return self.shape.params()

    @property
    def flops(self) -> FlopCount:
        return self.shape.flops()

    @property
    def notes(self) -> tuple[str, ...]:
        """What to know when reading App. F / 6N: App. F (Chinchilla) counts no position weights, so a
        shape with Transformer-XL relative encodings has parameters in 6N that App. F does not count."""
        if self.shape.position != "relative":
            return ()
        a = self.shape.attn_size
        n_rel = self.shape.n_layers * (
            self.shape.d_model * a + 2 * a
        )  # W_R (d x a), u, v per layer
        ratio = self.flops.train / (FLOPS_PER_PARAM_TOKEN * (self.params.total - n_rel))
        return (
            f"App. F counts no position weights: the relative-position projections (Transformer-XL W_R, "
            f"u, v: {n_rel:,} parameters) are in 6N and not in App. F; without them App. F / 6N is "
            f"{ratio:.3f} (Chinchilla Table A4: 0.99 to 1.10).",
        )

    def to_dict(self) -> dict[str, Any]:
        p, fc = self.params, self.flops
        six_n = FLOPS_PER_PARAM_TOKEN * p.total
        out: dict[str, Any] = {
            "shape": {**self.shape.to_dict(), "source": SHAPE_SOURCES.get(self.shape.name)},
            "params": p.to_dict(),
            "flops_per_token": {
                "6N_total": six_n,
                "6N_non_embedding": FLOPS_PER_PARAM_TOKEN * p.non_embedding,
                "appendix_f": fc.train,
                "appendix_f_no_embeddings": fc.train_no_embeddings,
                "appendix_f_over_6N": fc.train / six_n,
                "breakdown_forward": {
                    "attention": fc.attention,
                    "mlp": fc.mlp,
                    "embeddings": fc.embeddings,
                    "logits": fc.logits,
                },
            },
        }
        out["notes"] = list(self.notes)
        if self.n_tokens is not None:
            out["n_tokens"] = self.n_tokens
            out["training_flops"] = {
                "6ND": six_n * self.n_tokens,
                "appendix_f": fc.train * self.n_tokens,
            }
        return out


def convert_params(
    n_params: float,
    *,
    to: str,
    vocab_size: int = 32_000,
    seq_len: int = 0,
    aspect_ratio: float | None = None,
) -> float:
    """Convert a parameter count between the 'total' and 'non-embedding' conventions.

    Pearce & Song 2024 (sec. 3): N_total = N_nonemb + gamma N_nonemb^(1/3). With the defaults (32K vocabulary,
    no learned positions, no ``aspect_ratio``) gamma is their fitted 47,491; otherwise gamma =
    (vocab_size + seq_len) (aspect_ratio / 12)^(1/3), with their aspect ratio d_model / n_layers = 39.2 unless
    ``aspect_ratio`` is given (``seq_len`` > 0 counts learned absolute position embeddings; the LM head is
    tied). A real shape is better counted with :class:`ModelShape`.

    Below :func:`conversion_floor` (one layer: 1.27M total parameters with the defaults) the relation
    describes no transformer and the result means nothing (10 total parameters give 9e-12 non-embedding);
    :func:`tokenplan.plan.plan` flags such a plan and refuses such a ``--params`` for a non-embedding law.
    """
    n = _checks.positive("n_params", n_params)
    to = _checks.choice("conversion target `to`", to, ("total", "non-embedding"), param="to")
    gamma = _gamma(vocab_size, seq_len, aspect_ratio)
    if to == "total":  # n is non-embedding
        return n + gamma * n ** (1.0 / 3.0)
    # n is total: solve y^3 + gamma y = n for y = N_nonemb^(1/3) > 0 (monotone; Newton from above).
    y = n ** (1.0 / 3.0)
    for _ in range(100):
        step = (y**3 + gamma * y - n) / (3.0 * y**2 + gamma)
        y -= step
        if abs(step) < 1e-13 * max(y, 1.0):
            break
    return max(y, 0.0) ** 3


def _gamma(vocab_size: int, seq_len: float, aspect_ratio: float | None) -> float:
    """Pearce & Song's gamma: their fitted 47,491 with the defaults, else (vocab + seq) (rho / 12)^(1/3)."""
    vocab = _checks.positive_int("vocab_size", vocab_size)
    seq = _checks.positive("seq_len", seq_len, allow_zero=True)
    if aspect_ratio is None and vocab == _PEARCE_SONG_VOCAB and seq == 0:
        return PEARCE_SONG_GAMMA
    rho = _checks.positive("aspect_ratio", _aspect(aspect_ratio))
    return (vocab + seq) * (rho / 12.0) ** (1.0 / 3.0)


def _aspect(aspect_ratio: float | None) -> float:
    return PEARCE_SONG_ASPECT_RATIO if aspect_ratio is None else aspect_ratio


def conversion_floor(
    *, vocab_size: int = 32_000, seq_len: int = 0, aspect_ratio: float | None = None
) -> tuple[float, float]:
    """(non-embedding, total) parameters of the smallest model :func:`convert_params` describes: one layer.

    Pearce & Song's relation assumes N_nonemb = 12 n_layers d_model^2 with d_model = rho n_layers (sec. 3),
    so n_layers = (N_nonemb / (12 rho^2))^(1/3): one layer is N_nonemb = 12 rho^2, 18.4K at rho = 39.2,
    which is 1.27M parameters in total with a 32K vocabulary. Their fit used Chinchilla's shapes from 44M
    parameters up (Table A9), so the conversion is an extrapolation well before this floor.
    """
    rho = _checks.positive("aspect_ratio", _aspect(aspect_ratio))
    n_nonemb = 12.0 * rho**2
    return n_nonemb, n_nonemb + _gamma(vocab_size, seq_len, aspect_ratio) * n_nonemb ** (1.0 / 3.0)


def _gpt2(name: str, n_layers: int, d_model: int, n_heads: int) -> ModelShape:
    """A GPT-2 size (Radford et al. 2019, Table 2): 50,257-token BPE, 1,024 context, learned positions,
    biases in every linear layer and norm."""
    return ModelShape(
        name=name,
        n_layers=n_layers,
        d_model=d_model,
        n_heads=n_heads,
        vocab_size=50257,
        seq_len=1024,
        bias=True,
    )


def _llama(
    name: str, sizes: tuple[int, int, int, int, int], vocab: int, seq_len: int
) -> ModelShape:
    """A Llama-style shape from (layers, d_model, heads, KV heads, ffw): untied LM head, RMSNorm, rotary
    positions, no biases, SwiGLU MLP (Touvron et al. 2023a sec. 2.2; kept by Llama 2, Llama 3, Mistral)."""
    n_layers, d_model, n_heads, n_kv_heads, ffw_size = sizes
    return ModelShape(
        name=name,
        n_layers=n_layers,
        d_model=d_model,
        n_heads=n_heads,
        # as many KV heads as heads is plain multi-head attention: left to follow a --heads override
        n_kv_heads=None if n_kv_heads == n_heads else n_kv_heads,
        ffw_size=ffw_size,
        vocab_size=vocab,
        seq_len=seq_len,
        tied_embeddings=False,
        position="rotary",
        norm="rmsnorm",
        gated_mlp=True,
    )


# Where each named shape's sizes come from (`tokenplan flops --help` lists them).
_LLAMA2 = (
    "Touvron et al. 2023, Llama 2, Table 1 (4,096 context; grouped-query attention on 70B) with "
    "the released params.json (d_model, heads, ffw; 8 KV heads on 70B)"
)
_LLAMA3 = (
    "Llama Team 2024, The Llama 3 Herd of Models, Table 3; vocab 128,256 as released (the table's "
    "128,000 plus 256 reserved tokens), 8,192 context as released"
)
SHAPE_SOURCES: dict[str, str] = {
    **{
        name: "Radford et al. 2019, GPT-2, Table 2; 50,257 vocab, 1,024 context"
        for name in ("gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl")
    },
    "chinchilla-70b": "Hoffmann et al. 2022, Chinchilla, Table 4",
    "llama2-7b": _LLAMA2,
    "llama2-13b": _LLAMA2,
    "llama2-70b": _LLAMA2,
    "llama3-8b": _LLAMA3,
    "llama3-70b": _LLAMA3,
    "mistral-7b": (
        "Jiang et al. 2023, Mistral 7B, Table 1 (8 KV heads, vocab 32,000, context 8,192; its "
        "4,096-token sliding window is not modelled: App. F counts attention over the full context)"
    ),
}

# Named shapes for `tokenplan flops --shape NAME`.
SHAPES: dict[str, ModelShape] = {
    shape.name: shape
    for shape in (
        _gpt2("gpt2-small", 12, 768, 12),
        _gpt2("gpt2-medium", 24, 1024, 16),
        _gpt2("gpt2-large", 36, 1280, 20),
        _gpt2("gpt2-xl", 48, 1600, 25),
        # Chinchilla 70B (Hoffmann et al. 2022, Table 4): 80 layers, d_model 8192, 64 heads, kv 128, ffw
        # 32768.
        ModelShape(
            name="chinchilla-70b",
            n_layers=80,
            d_model=8192,
            n_heads=64,
            kv_size=128,
            ffw_size=32768,
            vocab_size=32000,
            seq_len=2048,
            position="relative",
            norm="rmsnorm",
        ),
        # (layers, d_model, heads, KV heads, ffw): Llama 2's ffw is 2/3 x 4 d_model rounded up to a
        # multiple of 256 (70B: x 1.3, to a multiple of 4,096), as in the released model code.
        _llama("llama2-7b", (32, 4096, 32, 32, 11008), 32000, 4096),
        _llama("llama2-13b", (40, 5120, 40, 40, 13824), 32000, 4096),
        _llama("llama2-70b", (80, 8192, 64, 8, 28672), 32000, 4096),
        _llama("llama3-8b", (32, 4096, 32, 8, 14336), 128256, 8192),
        _llama("llama3-70b", (80, 8192, 64, 8, 28672), 128256, 8192),
        _llama("mistral-7b", (32, 4096, 32, 8, 14336), 32000, 8192),
    )
}
