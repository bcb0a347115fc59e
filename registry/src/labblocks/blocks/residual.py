"""`core/residual_block@v1`: the basic ResNet block (two 3x3 convs and a shortcut)."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn

from labblocks.blocks._layers import Act, Norm2d, make_act, make_norm2d
from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/residual_block@v1",
    summary="Basic residual block: conv3x3-norm-act-conv3x3-norm plus a (projected) shortcut, then act.",
    inputs={"x": "b {in_chans} h w"},
    outputs="b {out_chans} (h-1)//{stride}+1 (w-1)//{stride}+1",
    tags=("conv", "vision", "residual"),
    example={"in_chans": 8, "out_chans": 16, "stride": 2},
    example_dims={"h": 16, "w": 16},
)
class ResidualBlock(nn.Module):
    """He et al. basic block. The shortcut is a 1x1 conv + norm when stride or channels change."""

    def __init__(
        self, in_chans: int, out_chans: int, stride: int = 1, norm: Norm2d = "batch", act: Act = "relu"
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, out_chans, 3, stride, padding=1, bias=norm == "none")
        self.norm1 = make_norm2d(norm, out_chans)
        self.act1 = make_act(act)
        self.conv2 = nn.Conv2d(out_chans, out_chans, 3, 1, padding=1, bias=norm == "none")
        self.norm2 = make_norm2d(norm, out_chans)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_chans != out_chans:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_chans, out_chans, 1, stride, bias=norm == "none"), make_norm2d(norm, out_chans)
            )
        self.act2 = make_act(act)

    def forward(
        self, x: Float[Tensor, "b in_chans h w"]
    ) -> Float[Tensor, "b out_chans (h-1)//stride+1 (w-1)//stride+1"]:
        y = self.act1(self.norm1(self.conv1(x)))  # (B, C_in, H, W) -> (B, C_out, H', W')
        y = self.norm2(self.conv2(y))
        return self.act2(y + self.shortcut(x))  # shortcut: (B, C_in, H, W) -> (B, C_out, H', W')
