"""This project's own labblocks blocks, under the namespace `{{cookiecutter.module_name}}/`.

Register a block here and use its key in `model.net` (`-e tiny` uses the one below). The project declares
this module as a labblocks plugin (`[project.entry-points."labblocks.blocks"]` in pyproject.toml), so
`labblocks list` shows its keys and `labblocks.build`/`rebuild` find them, in export too. Once a key is
used by a run, treat it as frozen: change behaviour under a new `@v2`. Blocks that other projects need
belong in labblocks itself.
"""

from __future__ import annotations

import labblocks
import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn


@labblocks.register(
    "{{cookiecutter.module_name}}/conv_text@v1",
    summary="Token embeddings, two 1-D convolutions over the sequence, masked max pooling, a linear head.",
    inputs={"input_ids": "b t", "attention_mask": "b t"},
    outputs="b {num_classes}",
    dtypes={"input_ids": "long", "attention_mask": "bool"},
    tags=("text", "classification", "small"),
    example={"vocab_size": 100, "num_classes": 2},
)
class ConvText(nn.Module):
    """A small text classifier that sees word order within its receptive field (5 tokens): seconds per
    epoch on a CPU, for quick experiments and tests. Padded positions never reach the pooled features."""

    def __init__(self, vocab_size: int, num_classes: int, dim: int = 64, padding_idx: int = 0, dropout: float = 0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=padding_idx)
        self.convs = nn.Sequential(
            nn.Conv1d(dim, dim, 3, padding=1), nn.ReLU(), nn.Conv1d(dim, dim, 3, padding=1), nn.ReLU()
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, num_classes))

    def forward(
        self, input_ids: Int[Tensor, "b t"], attention_mask: Bool[Tensor, "b t"] | None = None
    ) -> Float[Tensor, "b k"]:
        x = self.embed(input_ids).transpose(1, 2)  # (B, T) -> (B, T, D) -> (B, D, T)
        x = self.convs(x)  # (B, D, T)
        if attention_mask is not None:
            x = x.masked_fill(~attention_mask.bool().unsqueeze(1), torch.finfo(x.dtype).min)  # padding never wins
        return self.head(x.amax(dim=2))  # (B, D, T) -> (B, D) -> (B, K)
