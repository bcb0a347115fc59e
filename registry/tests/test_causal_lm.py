"""`core/causal_mhsa@v1`, `core/causal_block@v1`, `core/causal_lm@v1`: no position sees a later token, with
and without a padding mask; the tied head; the initial loss of a language model near ln(vocab_size); one
batch learned by heart; torch.compile with fullgraph."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import labblocks

V, T = 50, 12
LM = {"vocab_size": V, "dim": 32, "depth": 2, "num_heads": 4, "max_len": 16}


def _lm(**args: object) -> torch.nn.Module:
    torch.manual_seed(0)
    return labblocks.build("core/causal_lm@v1", **{**LM, **args})


@pytest.mark.parametrize("key", ["core/causal_mhsa@v1", "core/causal_block@v1"])
@pytest.mark.parametrize("masked", [False, True])
def test_no_position_sees_a_later_one(key: str, masked: bool) -> None:
    torch.manual_seed(0)
    block = labblocks.build(key, dim=32, num_heads=4).eval()
    x = torch.randn(2, T, 32)  # (B, N, D)
    changed = x.clone()
    changed[:, 7:] = torch.randn(2, T - 7, 32)  # everything from position 7 on
    mask = torch.ones(2, T, dtype=torch.bool) if masked else None
    with torch.no_grad():
        before, after = block(x, mask), block(changed, mask)
    torch.testing.assert_close(after[:, :7], before[:, :7])
    assert not torch.allclose(after[:, 7:], before[:, 7:])


def test_a_padding_mask_and_causality_together() -> None:
    """Right padding: the real tokens' outputs are those of the unpadded sequence, and equal to the
    is_causal path's when nothing is padded."""
    torch.manual_seed(0)
    attn = labblocks.build("core/causal_mhsa@v1", dim=32, num_heads=4).eval()
    x = torch.randn(1, 9, 32)
    padded = torch.cat([x, torch.randn(1, 3, 32)], dim=1)  # (1, 12, D): 3 padded positions on the right
    mask = torch.tensor([[True] * 9 + [False] * 3])
    with torch.no_grad():
        torch.testing.assert_close(attn(padded, mask)[:, :9], attn(x))
        torch.testing.assert_close(attn(x, torch.ones(1, 9, dtype=torch.bool)), attn(x))


def test_the_encoder_blocks_stay_bidirectional() -> None:
    torch.manual_seed(0)
    block = labblocks.build("core/transformer_block@v1", dim=32, num_heads=4).eval()
    x = torch.randn(1, T, 32)
    changed = x.clone()
    changed[:, -1] = torch.randn(32)
    with torch.no_grad():
        assert not torch.allclose(block(changed)[:, 0], block(x)[:, 0])  # the first token sees the last


def test_language_model_shapes_causality_and_tied_head() -> None:
    lm = _lm().eval()
    ids = torch.randint(0, V, (2, T))
    changed = ids.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % V
    with torch.no_grad():
        logits = lm(ids)  # (B, T) -> (B, T, V)
        assert logits.shape == (2, T, V)
        torch.testing.assert_close(lm(changed)[:, :5], logits[:, :5])
    assert lm.head.weight is lm.embed.embed.weight
    untied = _lm(tie_weights=False)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(lm) == V * LM["dim"]


def test_initial_loss_is_near_ln_vocab_and_one_batch_is_learned() -> None:
    lm = _lm()
    ids = torch.randint(0, V, (4, T))

    def loss() -> torch.Tensor:
        logits = lm(ids[:, :-1])  # (B, T-1, V): position i predicts token i + 1
        return F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))

    first = loss()
    assert abs(first.item() - math.log(V)) < 0.15 * math.log(V)
    opt = torch.optim.AdamW(lm.parameters(), lr=3e-3)
    for _ in range(150):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert value.item() < 0.1 * first.item()


def test_compiles_with_fullgraph() -> None:
    lm = _lm().eval()
    ids = torch.randint(0, V, (2, T))
    mask = torch.ones(2, T, dtype=torch.bool)
    compiled = torch.compile(lm, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(ids, mask), lm(ids, mask), atol=1e-5, rtol=1e-4)
