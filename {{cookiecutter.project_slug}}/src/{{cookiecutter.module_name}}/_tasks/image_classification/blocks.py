"""This project's own labblocks blocks, under the namespace `{{cookiecutter.module_name}}/`.

Register a block here and use its key in `model.net` (`-e tiny` uses the one below). The project declares
this module as a labblocks plugin (`[project.entry-points."labblocks.blocks"]` in pyproject.toml), so
`labblocks list` shows its keys and `labblocks.build`/`rebuild` find them, in export too. Once a key is
used by a run, treat it as frozen: change behaviour under a new `@v2`. Blocks that other projects need
belong in labblocks itself.
"""

from __future__ import annotations

import labblocks
from jaxtyping import Float
from torch import Tensor, nn


@labblocks.register(
    "{{cookiecutter.module_name}}/tiny_cnn@v1",
    summary="Two 3x3 conv-BN-ReLU layers (the second with stride 2), global average pooling, a linear head.",
    inputs={"x": "b {in_chans} h w"},
    outputs="b {num_classes}",
    tags=("vision", "classification", "small"),
    example={"in_chans": 1, "num_classes": 10},
)
class TinyCNN(nn.Module):
    """A small image classifier: seconds per epoch on a CPU, for quick experiments and tests."""

    def __init__(self, in_chans: int, num_classes: int, width: int = 32, dropout: float = 0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * width, num_classes))

    def forward(self, x: Float[Tensor, "b c h w"]) -> Float[Tensor, "b k"]:
        x = self.features(x)  # (B, C, H, W) -> (B, 2W, H/2, W/2)
        return self.head(x.mean(dim=(2, 3)))  # (B, 2W, H/2, W/2) -> (B, 2W) -> (B, K)
