"""A tiny GPT in one file: pre-LN blocks, causal attention through ``scaled_dot_product_attention``.

The shape follows GPT-2 (learned absolute positions, LayerNorm, 4x MLP with GELU) without biases, and its
parameter count equals :meth:`tokenplan.flops.ModelShape.params` for the same shape exactly (a test checks
it), so the sweep's N and FLOPs per token come from the core's accounting rather than from a second count.

Dropout is a plain attribute that the trainer may change during training (Xue et al. 2023 switch it on late
in training): :meth:`GPT.set_dropout` updates every dropout site at once.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from tokenplan import _checks
from tokenplan.errors import InvalidInputError
from tokenplan.sweep.config import GPTConfig

__all__ = ["GPT"]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.resid_dropout = nn.Dropout(0.0)
        self.attn_dropout = 0.0  # passed to SDPA; changed by GPT.set_dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, head_size)
        q, k, v = (t.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_dropout if self.training else 0.0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.d_model, 4 * config.d_model, bias=False)
        self.proj = nn.Linear(4 * config.d_model, config.d_model, bias=False)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-LN: x + attn(ln(x)), then x + mlp(ln(x)) (GPT-2; Xiong et al. 2020)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, bias=False)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, bias=False)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only transformer; ``forward(idx, targets)`` returns ``(logits, loss)`` (loss in nats/token)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.seq_len, config.d_model)
        self.drop = nn.Dropout(0.0)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_f = nn.LayerNorm(config.d_model, bias=False)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tied_embeddings:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 n_layers) so the stream's variance stays put.
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))
        self.dropout = 0.0

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def set_dropout(self, p: float) -> None:
        """Set the dropout probability of every dropout site (embeddings, attention, residuals, MLP)."""
        p = _checks.in_range("dropout", p, 0.0, 1.0, inclusive=True)
        if p >= 1.0:
            raise InvalidInputError(f"dropout={p!r} must be < 1.")
        self.dropout = p
        for module in self.modules():
            if isinstance(module, nn.Dropout):
                module.p = p
            if isinstance(module, CausalSelfAttention):
                module.attn_dropout = p

    def num_params(self) -> dict[str, int]:
        """Parameters by group, counting the tied LM head once (as :class:`ParamCount`)."""
        embedding = self.wte.weight.numel() + self.wpe.weight.numel()
        lm_head = 0 if self.config.tied_embeddings else self.lm_head.weight.numel()
        total = sum(p.numel() for p in self.parameters())  # .parameters() deduplicates tied weights
        return {
            "embedding": embedding,
            "non_embedding": total - embedding - lm_head,
            "lm_head": lm_head,
            "total": total,
        }

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        T = idx.shape[1]
        if T > self.config.seq_len:
            raise InvalidInputError(
                f"sequence of {T} tokens is longer than seq_len={self.config.seq_len}."
            )
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss
