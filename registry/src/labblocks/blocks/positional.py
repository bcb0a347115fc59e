"""`core/pos_embed_learned@v1` and `core/pos_embed_sincos@v1`: positional embeddings added to tokens."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/pos_embed_learned@v1",
    summary="Adds a learned position vector (max_len positions, trunc-normal init, std 0.02) to each token.",
    inputs={"x": "b n {dim}"},
    outputs="b n {dim}",
    tags=("embedding", "transformer", "positional"),
    example={"max_len": 16, "dim": 32},
)
class LearnedPositionalEmbedding(nn.Module):
    """x + pos[:N]. Sequences longer than `max_len` are an error."""

    def __init__(self, max_len: int, dim: int, dropout: float = 0.0):
        super().__init__()
        self.max_len = max_len
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.dropout = dropout

    def forward(self, x: Float[Tensor, "b n dim"]) -> Float[Tensor, "b n dim"]:
        n = x.shape[1]
        if n > self.max_len:
            raise ValueError(f"core/pos_embed_learned@v1: sequence length {n} exceeds max_len {self.max_len}")
        return F.dropout(x + self.pos[:, :n], self.dropout, self.training)  # (B, N, D) + (1, N, D)


def sincos_table(max_len: int, dim: int, base: float = 10000.0) -> Tensor:
    """The (max_len, dim) table of Vaswani et al.: sin on even channels, cos on odd ones."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (L, 1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(base) / dim))  # (ceil(D/2),)
    table = torch.zeros(max_len, dim)
    table[:, 0::2] = torch.sin(pos * freq)  # (L, ceil(D/2))
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])  # (L, floor(D/2))
    return table


@REGISTRY.register(
    "core/pos_embed_sincos@v1",
    summary="Adds fixed sinusoidal position encodings (no parameters, nothing in the state_dict).",
    inputs={"x": "b n {dim}"},
    outputs="b n {dim}",
    tags=("embedding", "transformer", "positional"),
    example={"dim": 32, "max_len": 64},
)
class SinusoidalPositionalEmbedding(nn.Module):
    """x + table[:N], the table kept as a non-persistent buffer so checkpoints do not carry it."""

    def __init__(self, dim: int, max_len: int = 4096, base: float = 10000.0, dropout: float = 0.0):
        super().__init__()
        self.max_len = max_len
        self.register_buffer("table", sincos_table(max_len, dim, base)[None], persistent=False)  # (1, L, D)
        self.dropout = dropout

    def forward(self, x: Float[Tensor, "b n dim"]) -> Float[Tensor, "b n dim"]:
        n = x.shape[1]
        if n > self.max_len:
            raise ValueError(f"core/pos_embed_sincos@v1: sequence length {n} exceeds max_len {self.max_len}")
        return F.dropout(x + self.table[:, :n], self.dropout, self.training)  # (B, N, D) + (1, N, D)
