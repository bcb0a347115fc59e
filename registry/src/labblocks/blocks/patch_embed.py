"""`core/patch_embed@v1`: split an image into non-overlapping patches and embed each one."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/patch_embed@v1",
    summary="Image to patch tokens: Conv2d(kernel=stride=patch_size), flattened to (B, N, D) "
    "with N = (H/p)(W/p).",
    inputs={"x": "b {in_chans} h w"},
    outputs="b (h//{patch_size})*(w//{patch_size}) {embed_dim}",
    tags=("vision", "transformer", "embedding"),
    example={"in_chans": 3, "embed_dim": 32, "patch_size": 4},
    example_dims={"h": 16, "w": 16},
)
class PatchEmbed(nn.Module):
    """ViT patch embedding. Trailing pixels that do not fill a whole patch are dropped (floor)."""

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int = 16, bias: bool = True):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, bias=bias)

    def forward(
        self, x: Float[Tensor, "b in_chans h w"]
    ) -> Float[Tensor, "b (h//patch_size)*(w//patch_size) embed_dim"]:
        x = self.proj(x)  # (B, C, H, W) -> (B, D, H/p, W/p)
        return x.flatten(2).transpose(1, 2)  # (B, D, H/p, W/p) -> (B, N, D)
