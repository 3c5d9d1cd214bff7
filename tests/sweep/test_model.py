"""The tiny GPT: its parameter groups equal the core's ModelShape count, attention is causal, dropout moves."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tokenplan.errors import InvalidInputError  # noqa: E402
from tokenplan.sweep.config import GPTConfig  # noqa: E402
from tokenplan.sweep.model import GPT  # noqa: E402


@pytest.mark.parametrize(
    ("n_layers", "d_model", "n_heads", "vocab_size", "seq_len", "tied"),
    [(1, 16, 1, 256, 32, True), (2, 64, 2, 256, 128, True), (3, 48, 4, 1000, 64, False)],
)
def test_param_groups_match_modelshape(n_layers, d_model, n_heads, vocab_size, seq_len, tied):
    config = GPTConfig(
        n_layers=n_layers,
        d_model=d_model,
        n_heads=n_heads,
        vocab_size=vocab_size,
        seq_len=seq_len,
        tied_embeddings=tied,
    )
    model = GPT(config)
    assert model.num_params() == config.shape.params().to_dict()
    # and by hand: 12 L d^2 + (2L+1) d norms; embeddings (V + T) d; untied head V d
    p = model.num_params()
    assert p["non_embedding"] == 12 * n_layers * d_model**2 + (2 * n_layers + 1) * d_model
    assert p["embedding"] == (vocab_size + seq_len) * d_model
    assert p["lm_head"] == (0 if tied else vocab_size * d_model)


def test_forward_shapes_and_loss_near_uniform_at_init():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layers=1, d_model=32, n_heads=2, vocab_size=256, seq_len=16))
    idx = torch.randint(0, 256, (3, 16))
    targets = torch.randint(0, 256, (3, 16))
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 16, 256)
    # small init -> near-uniform predictions: loss ~ ln(256) = 5.545
    assert abs(loss.item() - 5.545) < 0.2


def test_attention_is_causal():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layers=2, d_model=32, n_heads=2, vocab_size=50, seq_len=12)).eval()
    a = torch.randint(0, 50, (1, 12))
    b = a.clone()
    b[0, 8:] = (b[0, 8:] + 7) % 50  # change only the future
    la, _ = model(a)
    lb, _ = model(b)
    assert torch.allclose(la[0, :8], lb[0, :8], atol=1e-6)
    assert not torch.allclose(la[0, 8:], lb[0, 8:])


def test_set_dropout_reaches_every_site_and_train_mode_uses_it():
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layers=2, d_model=32, n_heads=2, vocab_size=50, seq_len=8))
    idx = torch.randint(0, 50, (2, 8))
    model.train()
    l1, _ = model(idx)
    l2, _ = model(idx)
    assert torch.allclose(l1, l2)  # p = 0: deterministic
    model.set_dropout(0.5)
    assert all(m.p == 0.5 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    assert all(b.attn.attn_dropout == 0.5 for b in model.blocks)
    l3, _ = model(idx)
    assert not torch.allclose(l1, l3)
    model.eval()
    l4, _ = model(idx)
    assert torch.allclose(l1, l4, atol=1e-6)  # eval ignores dropout
    with pytest.raises(InvalidInputError, match="dropout"):
        model.set_dropout(1.0)


def test_bad_shapes_are_rejected():
    with pytest.raises(InvalidInputError, match="n_heads=3 does not divide d_model=32"):
        GPTConfig(n_layers=1, d_model=32, n_heads=3)
    with pytest.raises(InvalidInputError, match="n_layers"):
        GPTConfig(n_layers=0, d_model=32, n_heads=2)
    model = GPT(GPTConfig(n_layers=1, d_model=16, n_heads=1, seq_len=4))
    with pytest.raises(InvalidInputError, match="longer than seq_len=4"):
        model(torch.zeros(1, 5, dtype=torch.long))
