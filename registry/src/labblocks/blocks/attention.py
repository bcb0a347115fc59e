"""`core/mhsa@v1`: multi-head self-attention on `scaled_dot_product_attention`, with a padding mask."""

from __future__ import annotations

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
        drop = self.attn_drop if self.training else 0.0
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop)  # (B, H, N, Dh)
        x = x.transpose(1, 2).reshape(B, N, D)  # (B, H, N, Dh) -> (B, N, D)
        return F.dropout(self.proj(x), self.proj_drop, self.training)
