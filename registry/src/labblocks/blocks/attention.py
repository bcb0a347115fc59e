"""`core/mhsa@v1`: multi-head self-attention on `scaled_dot_product_attention`, with a padding mask;
`core/causal_mhsa@v1`: the same, each token attending only to itself and the tokens before it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/mhsa@v1",
    summary="Multi-head self-attention (fused qkv, SDPA); mask (B, N) is True for real tokens, "
    "False for padding.",
    inputs={"x": "b n {dim}", "mask": "b n"},
    outputs="b n {dim}",
    dtypes={"mask": "bool"},
    tags=("attention", "transformer"),
    example={"dim": 32, "num_heads": 4},
)
class MultiHeadSelfAttention(nn.Module):
    """Self-attention over tokens. Padded keys (mask False) get no attention from any query."""

    causal = False  # True in CausalSelfAttention: no query sees a later key

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"core/mhsa@v1: dim ({dim}) must be divisible by num_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = proj_drop

    def forward(
        self, x: Float[Tensor, "b n dim"], mask: Bool[Tensor, "b n"] | None = None
    ) -> Float[Tensor, "b n dim"]:
        B, N, D = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim)  # (B, N, D) -> (B, N, 3, H, Dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # -> 3 x (B, H, N, Dh)
        attn_mask = None if mask is None else mask[:, None, None, :]  # (B, N) -> (B, 1, 1, N)
        if self.causal and attn_mask is not None:  # SDPA takes a mask or is_causal, not both
            attn_mask = attn_mask & torch.ones(N, N, dtype=torch.bool, device=x.device).tril()  # (B, 1, N, N)
        drop = self.attn_drop if self.training else 0.0
        causal = self.causal and attn_mask is None
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop, is_causal=causal)
        x = x.transpose(1, 2).reshape(B, N, D)  # (B, H, N, Dh) -> (B, N, D)
        return F.dropout(self.proj(x), self.proj_drop, self.training)


@REGISTRY.register(
    "core/causal_mhsa@v1",
    summary="Causal multi-head self-attention (fused qkv, SDPA is_causal): token i attends to tokens <= i; "
    "mask (B, N) True for real tokens (right padding).",
    inputs={"x": "b n {dim}", "mask": "b n"},
    outputs="b n {dim}",
    dtypes={"mask": "bool"},
    tags=("attention", "transformer", "causal"),
    example={"dim": 32, "num_heads": 4},
)
class CausalSelfAttention(MultiHeadSelfAttention):
    """Self-attention for a decoder: no token sees a later one, so position i's output depends on tokens
    0..i only. With a padding mask, padded keys are skipped too (pad on the right)."""

    causal = True
