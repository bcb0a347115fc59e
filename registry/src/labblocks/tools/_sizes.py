"""What the architecture listings share: a module's parameter count as people write it."""

from __future__ import annotations

import torch


def millions(module: torch.nn.Module) -> str:
    """Parameters in millions, e.g. `3.38M` (meta tensors count too)."""
    return f"{sum(p.numel() for p in module.parameters()) / 1e6:.2f}M"
