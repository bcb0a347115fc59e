"""Small factories shared by the core blocks: activations and 2-D norms by name."""

from __future__ import annotations

from typing import Literal

from torch import nn

Act = Literal["relu", "gelu", "silu", "tanh", "identity"]
Norm2d = Literal["batch", "group", "none"]

_ACTS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


def make_act(name: str) -> nn.Module:
    """An activation module by name (one of `Act`)."""
    return _ACTS[name]()


def make_norm2d(name: str, channels: int) -> nn.Module:
    """A 2-D normalisation over `channels` by name (one of `Norm2d`); group norm uses 8 groups or fewer."""
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "group":
        groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    return nn.Identity()
