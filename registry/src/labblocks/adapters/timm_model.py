"""`timm/model@v1`: any timm architecture by name (`convnext_atto`, or with a pretrained tag
`convnext_atto.d2_in1k`), with pretrained weights from a local file or the Hugging Face cache.

The built model carries `data_config` (input size, interpolation, crop, mean, std) from the architecture's
pretrained config, so preprocessing matches what the network (and its weights) expect; `name_data_config`
gives the same without building. A kept pretrained head brings its `class_names`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import timm
from huggingface_hub.constants import HF_HUB_CACHE
from timm.data import ImageNetInfo, infer_imagenet_subset
from timm.models import get_pretrained_cfg
from torch import nn

from labblocks.adapters._hub import cached_file, did_you_mean, fetch_hint, offline_var
from labblocks.adapters._timm import data_config, file_num_classes, name_data_config, portable, weights_file
from labblocks.errors import BlockArgumentError, DownloadDisabledError
from labblocks.registry import REGISTRY
from labblocks.shapes import Contract

KEY = "timm/model@v1"
HUB_FILES = ("model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")
_OWN_ARGS = ("img_size", "drop_rate", "drop_path_rate", "global_pool")  # None: the architecture's default
_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")
_FIXED = re.compile(r"multiple values for keyword argument '(\w+)'")


def check_name(name: str) -> None:
    """Refuse a name timm does not know (with the closest ones), or a pretrained tag it has no weights for."""
    arch, _, tag = name.partition(".")
    known = timm.list_models()
    if arch not in known:
        hint = did_you_mean(arch, known)
        raise BlockArgumentError(KEY, [f"name: {arch!r} is not a timm architecture{hint} (`labblocks archs timm`)"])
    if tag and name not in timm.list_pretrained(f"{arch}.*"):
        tags = ", ".join(t.partition(".")[2] for t in timm.list_pretrained(f"{arch}.*")) or "none"
        raise BlockArgumentError(KEY, [f"name: {arch} has no pretrained tag {tag!r} (its tags: {tags})"])


def node_data_config(node: Mapping[str, Any], in_chans: int) -> dict[str, Any] | None:
    """What the network of a `timm/...` config node expects its input to be (input size, interpolation, crop,
    mean, std), from timm's pretrained config alone, building nothing; None for a node of another library."""
    if not str(node.get("block", "")).startswith("timm/"):
        return None
    name = node.get("name") or node.get("variant")  # timm/model@v1 or timm/resnet@v1
    if not name:
        return None
    check_name(str(name))
    return name_data_config(str(name), in_chans, node.get("img_size"))


def _contract(model: nn.Module, args: dict[str, Any]) -> Contract:
    size = model.data_config["input_size"]
    fixed = model.pretrained_cfg.get("fixed_input_size", False)
    inputs = {"x": f"b {{in_chans}} {size[1]} {size[2]}" if fixed else "b {in_chans} h w"}
    if args["features_only"]:
        return Contract(inputs, tuple(f"b {c} _ _" for c in model.feature_info.channels()))
    if model.num_classes == 0 and args["global_pool"] == "":
        return Contract(inputs, "b ...")  # unpooled: (B, C, H', W') for a convnet, (B, T, D) for a ViT
    return Contract(inputs, f"b {model.num_classes or model.num_features}")


def _hub_weights(name: str, allow_download: bool) -> dict[str, Any] | None:
    """How timm should load `name`'s pretrained weights: from the cached file (an overlay), from the hub
    (None: only with allow_download), or not at all (DownloadDisabledError, saying what would work)."""
    cfg = get_pretrained_cfg(name)
    repo = cfg.hf_hub_id if cfg is not None else None
    if repo:
        for filename in (cfg.hf_hub_filename, *HUB_FILES) if cfg.hf_hub_filename else HUB_FILES:
            if (path := cached_file(repo, filename)) is not None:
                return {"file": str(path)}
    offline = offline_var()
    if allow_download and not offline:
        return None
    where = f"{repo} is not in the Hugging Face cache ({HF_HUB_CACHE})" if repo else "it has no Hugging Face repo"
    why = f"{offline}=1 is set" if offline and allow_download else "downloads are off"
    fetch = f"{fetch_hint(repo)}; " if repo else ""
    raise DownloadDisabledError(
        f"{KEY}: pretrained weights of {name}: {where} and {why}. To fix: {fetch}pass weights=<file or "
        "directory>; or allow_download=True on a machine with internet."
    )


def _class_names(model: nn.Module) -> list[str] | None:
    """The names of a kept pretrained ImageNet head's classes; None for a new head."""
    subset = infer_imagenet_subset(model)
    return ImageNetInfo(subset).label_descriptions() if subset else None


def _create(name: str, pretrained: bool, overlay: dict[str, Any] | None, kwargs: dict[str, Any]) -> nn.Module:
    """timm.create_model, with an argument the architecture does not take reported as a bad block argument."""
    extra = {"pretrained_cfg_overlay": overlay} if overlay else {}
    try:
        return timm.create_model(name, pretrained=pretrained, **extra, **kwargs)
    except TypeError as e:
        unexpected, fixed = _UNEXPECTED.search(str(e)), _FIXED.search(str(e))
        if unexpected is None and fixed is None:
            raise
        arg = (unexpected or fixed).group(1)
        where = arg if arg in _OWN_ARGS else f"model_args.{arg}"
        if fixed:
            problem = f"{where}: {name} sets {arg!r} itself (the name fixes it); remove it or choose another name"
        else:
            fix = " (its input size is not fixed: resize the images instead)" if arg == "img_size" else ""
            problem = f"{where}: {name} does not take {arg!r}{fix}; remove it"
        raise BlockArgumentError(KEY, [problem]) from None
    except (OSError, RuntimeError) as e:  # allow_download and offline, or a hub error
        raise DownloadDisabledError(f"{KEY}: loading pretrained weights of {name} failed ({e})") from e


@REGISTRY.register(
    KEY,
    summary="Any timm architecture by name (optionally name.tag); logits, pooled features (num_classes=0) or "
    "feature maps; pretrained weights from a local file or the Hugging Face cache.",
    inputs={"x": "b {in_chans} h w"},
    outputs="b {num_classes}",
    tags=("timm", "vision", "backbone"),
    example={"name": "convnext_atto", "num_classes": 10, "in_chans": 3},
    example_dims={"h": 32, "w": 32},
    contract=_contract,
    portable=portable,
)
def model(
    name: str = "resnet18",
    num_classes: int = 1000,
    in_chans: int = 3,
    img_size: int | None = None,
    drop_rate: float | None = None,
    drop_path_rate: float | None = None,
    global_pool: str | None = None,
    features_only: bool = False,
    out_indices: tuple[int, ...] | None = None,
    model_args: dict[str, Any] | None = None,
    pretrained: bool = False,
    weights: str | None = None,
    allow_download: bool = False,
) -> nn.Module:
    """`timm.create_model(name, ...)`: (B, in_chans, H, W) -> logits (B, num_classes); pooled features
    (B, num_features) when num_classes=0 (unpooled with global_pool=""); a list of feature maps (B, C_i, H_i,
    W_i) when features_only (timm's `feature_info`).

    `img_size` is for architectures with a fixed input size (ViT, Swin); None keeps each argument at the
    architecture's default. `model_args` passes further constructor arguments (`patch_size`, `depth`,
    `embed_dim` of a ViT). Pretrained weights: `weights` is a local file or a directory holding one;
    `pretrained=True` reads the Hugging Face cache (what `HF_HUB_OFFLINE=1` allows) and downloads only with
    `allow_download=True`.
    """
    check_name(name)
    own = {"img_size": img_size, "drop_rate": drop_rate, "drop_path_rate": drop_path_rate, "global_pool": global_pool}
    kwargs: dict[str, Any] = {"in_chans": in_chans, **{k: v for k, v in own.items() if v is not None}}
    kwargs.update(model_args or {})
    if features_only:
        kwargs.update(features_only=True, **({"out_indices": tuple(out_indices)} if out_indices is not None else {}))
    else:
        kwargs["num_classes"] = num_classes
    overlay = None
    if weights is not None:
        path: Path = weights_file(KEY, weights)
        cfg = get_pretrained_cfg(name)
        classifier = (cfg.classifier if cfg else None) or "head"
        overlay = {"file": str(path), "num_classes": file_num_classes(path, classifier)}
    elif pretrained:
        overlay = _hub_weights(name, allow_download)
    net = _create(name, weights is not None or pretrained, overlay, kwargs)
    net.data_config = data_config(net, in_chans)
    if img_size is not None:
        net.data_config["input_size"] = (in_chans, img_size, img_size)
    loaded = weights is not None or pretrained
    net.class_names = _class_names(net) if loaded and not features_only else None
    return net
