"""`labblocks archs timm [PATTERN]` and `labblocks show timm/model@v1 --name NAME`: what `timm/model@v1`
accepts, found without reading timm's source. Imports timm and torch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import timm
import torch
from timm.models import get_pretrained_cfg

from labblocks.adapters._timm import name_data_config
from labblocks.adapters.timm_model import check_name
from labblocks.tools._sizes import millions


def _on_meta(name: str, **kwargs: Any) -> torch.nn.Module:
    """The architecture built on the meta device: its structure and parameter count, no memory or compute."""
    with torch.device("meta"):
        return timm.create_model(name, pretrained=False, **kwargs)


def rows(pattern: str, pretrained: bool = False) -> Iterator[str]:
    """One line per timm name matching `pattern`: name, parameters, default input size, pretrained tags."""
    names = timm.list_pretrained(pattern) if pretrained else timm.list_models(pattern)
    width = max((len(n) for n in names), default=0)
    for name in names:
        cfg = get_pretrained_cfg(name)
        size = "x".join(str(s) for s in cfg.input_size[1:]) if cfg else "?"
        fixed = " fixed" if cfg and cfg.fixed_input_size else ""
        tags = "" if pretrained else ", ".join(t.partition(".")[2] for t in timm.list_pretrained(f"{name}.*"))
        yield f"{name:<{width}}  {millions(_on_meta(name)):>8}  {size:>7}{fixed:<6}  {tags}".rstrip()


def describe(name: str) -> str:
    """Arguments, shapes and preprocessing of one timm architecture (or `arch.tag`)."""
    check_name(name)
    net = _on_meta(name, num_classes=1000)
    cfg = get_pretrained_cfg(name)
    data = name_data_config(name, 3) or {}
    feats = _on_meta(name, features_only=True).feature_info if cfg is not None else None
    lines = [
        f"{name}: {type(net).__name__} (timm module {type(net).__module__.rsplit('.', 1)[-1]}), {millions(net)} "
        "parameters with a 1000-class head",
        f"  input    x: (B, in_chans, H, W); default {tuple(data.get('input_size', ()))}"
        + (", fixed: set img_size to change it" if cfg and cfg.fixed_input_size else ", any size (no img_size)"),
        f"  output   (B, num_classes); (B, {net.num_features}) with num_classes=0",
    ]
    if feats is not None:
        lines.append(f"  features features_only=True: channels {feats.channels()}, reductions {feats.reduction()}")
    lines.append("  preprocess " + ", ".join(f"{k}={data[k]}" for k in ("interpolation", "crop_pct", "mean", "std")))
    arch = name.partition(".")[0]
    tags = ", ".join(t.partition(".")[2] for t in timm.list_pretrained(f"{arch}.*")) or "none"
    lines.append(f"  pretrained tags: {tags}")
    lines.append(f"  use: model.net.block=timm/model@v1 model.net.name={name}")
    return "\n".join(lines)
