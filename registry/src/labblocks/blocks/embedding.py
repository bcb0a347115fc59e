"""`core/token_embed@v1`: token ids to vectors."""

from __future__ import annotations

import math

from jaxtyping import Float, Int
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/token_embed@v1",
    summary="Token embedding table (B, N) ids -> (B, N, D); optional sqrt(D) scaling; "
    "padding_idx row stays zero.",
    inputs={"ids": "b n"},
    outputs="b n {dim}",
    dtypes={"ids": "long"},
    tags=("embedding", "text", "transformer"),
    example={"vocab_size": 100, "dim": 32},
)
class TokenEmbedding(nn.Module):
    """nn.Embedding with the initialisation and scaling choices made explicit."""

    def __init__(self, vocab_size: int, dim: int, padding_idx: int | None = 0, scale: bool = False):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=padding_idx)
        nn.init.normal_(self.embed.weight, std=0.02)
        if padding_idx is not None:
            nn.init.zeros_(self.embed.weight[padding_idx])
        self.scale = math.sqrt(dim) if scale else 1.0

    def forward(self, ids: Int[Tensor, "b n"]) -> Float[Tensor, "b n dim"]:
        x = self.embed(ids)  # (B, N) -> (B, N, D)
        return x * self.scale if self.scale != 1.0 else x  # no multiply (a full copy) when not scaling
