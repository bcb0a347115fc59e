"""`timm/resnet@v1`: timm's ResNet family, built from its name with no download unless asked.

The built model carries `data_config` (input size, interpolation, mean, std, crop) resolved by timm, so
preprocessing can match what the model (and any pretrained weights) expect.
"""

from __future__ import annotations

from typing import Any

import timm
from torch import nn

from labblocks.adapters._hub import did_you_mean
from labblocks.adapters._timm import data_config, file_num_classes, name_data_config, portable, weights_file
from labblocks.errors import BlockArgumentError, DownloadDisabledError
from labblocks.registry import REGISTRY
from labblocks.shapes import Contract

KEY = "timm/resnet@v1"


def _contract(model: nn.Module, args: dict[str, Any]) -> Contract:
    inputs = {"x": "b {in_chans} h w"}
    if args["features_only"]:
        return Contract(inputs, tuple(f"b {c} _ _" for c in model.feature_info.channels()))
    return Contract(inputs, f"b {model.num_classes or model.num_features}")


def variant_data_config(variant: str, in_chans: int) -> dict[str, Any]:
    """The same data config, from the variant's name alone (its default pretrained tag), building nothing: what
    a data pipeline needs to match the network before the network exists."""
    cfg = name_data_config(variant, in_chans)
    if cfg is None:
        raise BlockArgumentError(KEY, [f"variant: {variant!r} has no timm pretrained config (timm.list_models())"])
    return cfg


@REGISTRY.register(
    KEY,
    summary="timm ResNet/ResNeXt/SE-ResNet by variant name; logits, pooled features (num_classes=0) "
    "or feature maps.",
    inputs={"x": "b {in_chans} h w"},
    outputs="b {num_classes}",
    tags=("timm", "vision", "backbone", "resnet"),
    example={"variant": "resnet10t", "num_classes": 10, "in_chans": 3},
    example_dims={"h": 32, "w": 32},
    contract=_contract,
    portable=portable,
)
def resnet(
    variant: str = "resnet18",
    num_classes: int = 1000,
    in_chans: int = 3,
    pretrained: bool = False,
    weights: str | None = None,
    features_only: bool = False,
    out_indices: tuple[int, ...] | None = None,
    drop_rate: float = 0.0,
    allow_download: bool = False,
) -> nn.Module:
    """`timm.create_model(variant, ...)` for a model of timm's `resnet` module.

    Output: logits (B, num_classes); pooled features (B, num_features) when num_classes=0; a list of
    feature maps (B, C_i, H_i, W_i) when features_only. Pretrained weights: `weights` is a local file, or a
    directory holding model.safetensors or pytorch_model.bin; `pretrained=True` without `weights` downloads
    from the hub, which needs `allow_download=True` (and a network).
    """
    known = timm.list_models(module="resnet")
    if variant not in known:
        hint = did_you_mean(variant, known)
        problem = f"variant: {variant!r} is not a timm ResNet{hint} (timm.list_models(module='resnet'); any timm "
        problem += "architecture: timm/model@v1)"
        raise BlockArgumentError(KEY, [problem])
    kwargs: dict[str, Any] = {"num_classes": num_classes, "in_chans": in_chans, "drop_rate": drop_rate}
    if features_only:
        kwargs = {"in_chans": in_chans, "features_only": True}
        if out_indices is not None:
            kwargs["out_indices"] = tuple(out_indices)
    if weights is not None:
        path = weights_file(KEY, weights)
        overlay = {"file": str(path), "num_classes": file_num_classes(path, "fc")}
        model = timm.create_model(variant, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs)
    elif pretrained:
        if not allow_download:
            raise DownloadDisabledError(
                f"{KEY}: pretrained=True with no local weights would download {variant} from the hub. "
                "Pass weights=<file or directory>, or allow_download=True when online."
            )
        try:
            model = timm.create_model(variant, pretrained=True, **kwargs)
        except Exception as e:  # offline: huggingface_hub / urllib errors of many kinds
            raise DownloadDisabledError(
                f"{KEY}: downloading pretrained weights for {variant} failed ({type(e).__name__}: {e}). "
                "Offline? Download them elsewhere and pass weights=<file or directory>."
            ) from e
    else:
        model = timm.create_model(variant, pretrained=False, **kwargs)
    model.data_config = data_config(model, in_chans)
    return model
