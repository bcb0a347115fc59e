"""`core/transformer_block@v1`: a pre-norm Transformer encoder block; `core/causal_block@v1`: the same block
with causal self-attention (a decoder block without cross-attention)."""

from __future__ import annotations

import torch.nn.functional as F
from jaxtyping import Bool, Float
from torch import Tensor, nn

from labblocks.blocks._layers import Act
from labblocks.blocks.attention import CausalSelfAttention, MultiHeadSelfAttention
from labblocks.blocks.mlp import MLP
from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/transformer_block@v1",
    summary="Pre-norm encoder block: x + Attn(LN(x)), then x + MLP(LN(x)); mask (B, N) True for real tokens.",
    inputs={"x": "b n {dim}", "mask": "b n"},
    outputs="b n {dim}",
    dtypes={"mask": "bool"},
    tags=("attention", "transformer"),
    example={"dim": 32, "num_heads": 4},
)
class TransformerEncoderBlock(nn.Module):
    """LayerNorm before attention and before the MLP (hidden = dim * mlp_ratio), residuals around both."""

    attention: type[MultiHeadSelfAttention] = MultiHeadSelfAttention  # CausalSelfAttention in a decoder block

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        dropout: float = 0.0,
        attn_drop: float = 0.0,
        act: Act = "gelu",
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = self.attention(dim, num_heads, qkv_bias, attn_drop, proj_drop=dropout)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = MLP(dim, int(dim * mlp_ratio), dim, act=act, dropout=dropout)
        self.dropout = dropout

    def forward(
        self, x: Float[Tensor, "b n dim"], mask: Bool[Tensor, "b n"] | None = None
    ) -> Float[Tensor, "b n dim"]:
        x = x + self.attn(self.norm1(x), mask)  # (B, N, D)
        return x + F.dropout(self.mlp(self.norm2(x)), self.dropout, self.training)  # (B, N, D)


@REGISTRY.register(
    "core/causal_block@v1",
    summary="Pre-norm decoder block: x + CausalAttn(LN(x)), then x + MLP(LN(x)); token i sees tokens <= i.",
    inputs={"x": "b n {dim}", "mask": "b n"},
    outputs="b n {dim}",
    dtypes={"mask": "bool"},
    tags=("attention", "transformer", "causal"),
    example={"dim": 32, "num_heads": 4},
)
class CausalTransformerBlock(TransformerEncoderBlock):
    """The pre-norm block with causal self-attention: position i's output depends on positions 0..i only."""

    attention = CausalSelfAttention
