"""`core/conv_norm_act@v1`: Conv2d, then a norm, then an activation ("same" padding for odd kernels)."""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn

from labblocks.blocks._layers import Act, Norm2d, make_act, make_norm2d
from labblocks.registry import REGISTRY

OUT_HW = "(h+2*({kernel_size}//2)-{kernel_size})//{stride}+1"


@REGISTRY.register(
    "core/conv_norm_act@v1",
    summary="Conv2d (padding kernel_size//2) then BatchNorm/GroupNorm/none then an activation.",
    inputs={"x": "b {in_chans} h w"},
    outputs=f"b {{out_chans}} {OUT_HW} {OUT_HW.replace('h', 'w')}",
    tags=("conv", "vision"),
    example={"in_chans": 3, "out_chans": 8, "stride": 2},
    example_dims={"h": 16, "w": 16},
)
class ConvNormAct(nn.Module):
    """Conv2d -> norm -> act. The conv has a bias only when `norm="none"`."""

    def __init__(
        self,
        in_chans: int,
        out_chans: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        norm: Norm2d = "batch",
        act: Act = "relu",
    ):
        super().__init__()
        self.conv = nn.Conv2d(
            in_chans,
            out_chans,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=norm == "none",
        )
        self.norm = make_norm2d(norm, out_chans)
        self.act = make_act(act)

    def forward(
        self, x: Float[Tensor, "b in_chans h w"]
    ) -> Float[
        Tensor,
        "b out_chans (h+2*(kernel_size//2)-kernel_size)//stride+1 "
        "(w+2*(kernel_size//2)-kernel_size)//stride+1",
    ]:
        return self.act(self.norm(self.conv(x)))  # (B, C_in, H, W) -> (B, C_out, H', W')
