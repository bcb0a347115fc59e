"""What the timm adapters share: local weight files, the data config a network expects, and the portable
record of a network built from weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from timm.data import resolve_data_config, resolve_model_data_config
from timm.models import get_pretrained_cfg, load_state_dict

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.pth", "model.pt")
WEIGHT_ARGS = {"weights": None, "pretrained": False, "allow_download": False}  # they only load weights


def portable(model: Any, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The architecture alone: `weights`/`pretrained` only load weights, which a checkpoint holds anyway."""
    init = {k: args[k] for k, off in WEIGHT_ARGS.items() if args.get(k, off) != off}
    return {**args, **WEIGHT_ARGS}, init


def fit_channels(cfg: dict[str, Any], in_chans: int) -> dict[str, Any]:
    """A timm data config with mean/std for `in_chans` channels: averaged for 1, repeated for more."""
    mean, std = tuple(cfg["mean"]), tuple(cfg["std"])
    if in_chans != len(mean):
        if in_chans == 1:
            mean, std = (sum(mean) / len(mean),), (sum(std) / len(std),)
        else:
            mean = tuple(mean[i % len(mean)] for i in range(in_chans))
            std = tuple(std[i % len(std)] for i in range(in_chans))
    cfg.update(mean=mean, std=std, input_size=(in_chans, *cfg["input_size"][1:]))
    return cfg


def data_config(model: Any, in_chans: int) -> dict[str, Any]:
    """timm's data config for a built `model`, with mean/std fitted to `in_chans` (averaged for 1 channel)."""
    return fit_channels(dict(resolve_model_data_config(model)), in_chans)


def name_data_config(name: str, in_chans: int, img_size: int | None = None) -> dict[str, Any] | None:
    """timm's data config (input size, interpolation, crop, mean, std) of an architecture or `arch.tag`, from
    its pretrained config alone, building nothing; None when timm has no pretrained config for it."""
    pretrained = get_pretrained_cfg(name)
    if pretrained is None:
        return None
    cfg = fit_channels(dict(resolve_data_config(pretrained_cfg=pretrained.to_dict())), in_chans)
    if img_size is not None:
        cfg["input_size"] = (in_chans, img_size, img_size)
    return cfg


def weights_file(key: str, weights: str) -> Path:
    """The weights file that `weights` names: the file itself, or the first of WEIGHT_FILES in a directory."""
    path = Path(weights).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        for name in WEIGHT_FILES:
            if (path / name).is_file():
                return path / name
        found = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
        raise FileNotFoundError(f"{key}: weights directory {path} holds none of {', '.join(WEIGHT_FILES)} ({found})")
    raise FileNotFoundError(f"{key}: weights={weights!r} is not a file or directory")


def file_num_classes(path: Path, classifier: str) -> int:
    """Rows of the classifier (`<classifier>.weight`) saved in a weights file; 0 when the file has none.

    timm keeps the file's classifier only when this matches the requested num_classes (it drops it, for
    fine-tuning, otherwise); without it timm compares with the hub config's classes instead.
    """
    head = load_state_dict(str(path)).get(f"{classifier}.weight")
    return 0 if head is None else int(head.shape[0])
