"""`core/cls_head@v1`: pool tokens, then a linear classifier."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from jaxtyping import Bool, Float
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/cls_head@v1",
    summary="Pools tokens (masked mean, masked max or the first token), LayerNorm, dropout, "
    "Linear to logits.",
    inputs={"x": "b n {in_dim}", "mask": "b n"},
    outputs="b {num_classes}",
    dtypes={"mask": "bool"},
    tags=("head", "classification"),
    example={"in_dim": 32, "num_classes": 10},
)
class ClassificationHead(nn.Module):
    """(B, N, D) tokens -> (B, K) logits. Padding (mask False) is ignored by mean and max pooling."""

    def __init__(
        self,
        in_dim: int,
        num_classes: int,
        pool: Literal["mean", "max", "first"] = "mean",
        dropout: float = 0.0,
        norm: bool = True,
    ):
        super().__init__()
        self.pool = pool
        self.norm = nn.LayerNorm(in_dim) if norm else nn.Identity()
        self.dropout = dropout
        self.fc = nn.Linear(in_dim, num_classes)

    def forward(
        self, x: Float[Tensor, "b n in_dim"], mask: Bool[Tensor, "b n"] | None = None
    ) -> Float[Tensor, "b num_classes"]:
        if self.pool == "first":
            pooled = x[:, 0]  # (B, N, D) -> (B, D)
        elif self.pool == "max":
            if mask is not None:
                x = x.masked_fill(~mask.unsqueeze(-1), torch.finfo(x.dtype).min)
            pooled = x.amax(dim=1)  # (B, N, D) -> (B, D)
        elif mask is None:
            pooled = x.mean(dim=1)  # (B, N, D) -> (B, D)
        else:
            m = mask.unsqueeze(-1).to(x.dtype)  # (B, N) -> (B, N, 1)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, N, D) -> (B, D)
        return self.fc(F.dropout(self.norm(pooled), self.dropout, self.training))  # (B, D) -> (B, K)
