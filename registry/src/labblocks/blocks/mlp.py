"""`core/mlp@v1`: a multi-layer perceptron over the last dimension."""

from __future__ import annotations

import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from labblocks.blocks._layers import Act, make_act
from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/mlp@v1",
    summary="Multi-layer perceptron on the last dim: Linear, activation, dropout, repeated; "
    "no act on the output.",
    inputs={"x": "*b {in_dim}"},
    outputs="*b {out_dim}",
    tags=("mlp", "dense"),
    example={"in_dim": 16, "hidden_dim": 32, "out_dim": 8},
)
class MLP(nn.Module):
    """`num_layers` Linear layers: in_dim -> hidden_dim -> ... -> out_dim, with `act` and dropout between."""

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        num_layers: int = 2,
        act: Act = "gelu",
        dropout: float = 0.0,
        bias: bool = True,
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"core/mlp@v1: num_layers must be >= 1, got {num_layers}")
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        pairs = zip(dims[:-1], dims[1:], strict=True)
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=bias) for a, b in pairs)
        self.act = make_act(act)
        self.dropout = dropout

    def forward(self, x: Float[Tensor, "*b in_dim"]) -> Float[Tensor, "*b out_dim"]:
        for layer in self.layers[:-1]:  # (*B, in_dim | hidden_dim) -> (*B, hidden_dim)
            x = F.dropout(self.act(layer(x)), self.dropout, self.training)
        return self.layers[-1](x)  # (*B, hidden_dim) -> (*B, out_dim)

