"""Image classification data: scikit-learn's digits (default, real and offline) or your own ImageFolder.

Batches are `(x, y)`: x (B, C, H, W) float32, resized and normalised as `data.preprocess` says (by
default what the network's timm pretrained config says: `run_data_config`); y (B,) int64 class indices.
Training images are augmented (random resized crop, optional flip and colour jitter); validation and test
images are only resized. Splits are stratified and fixed by `data.split_seed`, whatever the run's seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from labblocks.adapters.timm_model import node_data_config
from labblocks.run.errors import DataError
from labblocks.train.loaders import SplitDataModule, stratified_split
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch.utils.data import Dataset

from {{cookiecutter.module_name}} import image_files
from {{cookiecutter.module_name}}.data_config import DataConfig, DataSource

DEFAULTS = {"interpolation": "bilinear", "mean": 0.5, "std": 0.5, "crop_pct": 1.0}  # no timm network to follow


def run_data_config(cfg: DictConfig) -> DictConfig:
    """A run's data section with the `data.preprocess` values left null taken from the network's timm
    pretrained config (`model.net` is a `timm/...` node), without building the network."""
    data = cfg.data.copy()
    timm_cfg = node_data_config(OmegaConf.to_container(cfg.model.net, resolve=True), channels(data))
    if timm_cfg is not None:
        for key in DEFAULTS:
            if data.preprocess[key] is None:
                data.preprocess[key] = list(timm_cfg[key]) if key in ("mean", "std") else timm_cfg[key]
    return data


def channels(cfg: DataConfig) -> int:
    """Image channels: data.in_chans, else 1 for digits and 3 for image folders."""
    return cfg.in_chans or (1 if cfg.source == DataSource.digits else 3)


class ImageSplit(Dataset):
    """One split: images (PIL images, or paths loaded on access) with labels and a transform."""

    def __init__(self, images: list[Any], labels: list[int], mode: str, transform: Callable | None = None):
        self.images, self.labels, self.mode, self.transform = images, labels, mode, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = self.images[i]
        if not isinstance(img, Image.Image):
            img = image_files.load(img, self.mode)
        return self.transform(img), self.labels[i]  # PIL (H0, W0) -> (C, H, W)


def _digits() -> tuple[list[Image.Image], list[int], list[str]]:
    from sklearn.datasets import load_digits

    digits = load_digits()  # images (1797, 8, 8), values 0..16
    pixels = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return [Image.fromarray(p, mode="L") for p in pixels], digits.target.tolist(), [str(c) for c in range(10)]


class ImageDataModule(SplitDataModule):
    """Digits or an ImageFolder, split, transformed with timm's `create_transform` and batched."""

    def __init__(self, cfg: DataConfig, seed: int, run_dir: Path | None = None):
        """`run_dir` is unused: image preprocessing has nothing fitted to save (text saves its tokenizer)."""
        super().__init__()
        self.cfg, self.seed = cfg, seed
        self.in_chans = channels(cfg)
        self.mode = "L" if self.in_chans == 1 else "RGB"
        self.class_names = [str(c) for c in range(10)] if cfg.source == DataSource.digits else self._scan_classes()
        self.num_classes = len(self.class_names)
        given = {key: getattr(cfg.preprocess, key) for key in DEFAULTS}
        dc = {key: DEFAULTS[key] if value is None else value for key, value in given.items()}
        for key in ("mean", "std"):  # one value per channel
            values = [dc[key]] if isinstance(dc[key], (int, float)) else list(dc[key])
            dc[key] = tuple(values * self.in_chans if len(values) == 1 else values)
        size = cfg.image_size
        self.data_config: dict[str, Any] = {**dc, "input_size": (self.in_chans, size, size)}
        self.splits: dict[str, ImageSplit] = {}

    # -- what the model needs from the data ------------------------------------------------------------

    def net_args(self, block: str) -> dict[str, int]:
        """Arguments of `model.net` set by the data (see data_config.supplied_net_args)."""
        return {"in_chans": self.in_chans, "num_classes": self.num_classes}

    def transform(self, train: bool) -> Callable:
        """timm's training or evaluation transform for this data config."""
        from timm.data import create_transform

        dc, aug = self.data_config, self.cfg.augment
        common = dict(input_size=dc["input_size"], interpolation=dc["interpolation"], mean=dc["mean"], std=dc["std"])
        if train:
            return create_transform(
                **common,
                is_training=True,
                scale=tuple(aug.scale),
                ratio=tuple(aug.ratio),
                hflip=aug.hflip,
                color_jitter=aug.color_jitter or None,
            )
        return create_transform(**common, is_training=False, crop_pct=dc.get("crop_pct", 1.0))

    def preprocessing(self) -> dict[str, Any]:
        """How a raw image becomes the model's input at evaluation, as steps anyone can follow without this
        project's code (export writes it to preprocessing.json): timm's evaluation transform spelled out."""
        dc = self.data_config
        _, height, width = dc["input_size"]
        crop_pct = dc.get("crop_pct", 1.0)
        return {
            "input": "image",
            "color_mode": self.mode,  # PIL mode: "L" (grey) or "RGB"
            "resize_shorter_side": math.floor(min(height, width) / crop_pct),
            "interpolation": dc["interpolation"],
            "center_crop": [height, width],
            "to_float": "pixel / 255",
            "mean": list(dc["mean"]),
            "std": list(dc["std"]),  # x = (pixel / 255 - mean) / std, per channel
            "layout": "(B, C, H, W) float32",
            "class_names": list(self.class_names),
        }

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: the class names and the preprocessing, so exports need no data."""
        return {"class_names": list(self.class_names), "preprocessing": self.preprocessing()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("class_names")
        if saved is not None and list(saved) != self.class_names:
            raise DataError(
                f"the checkpoint was trained on classes {saved}, but the data now has {self.class_names}: "
                "resuming would mix up the labels (check data.root)"
            )

    def example_input(self) -> tuple[torch.Tensor]:
        return (torch.zeros(1, self.in_chans, self.cfg.image_size, self.cfg.image_size),)  # (1, C, H, W)

    # -- loading and splitting -------------------------------------------------------------------------

    def _scan_classes(self) -> list[str]:
        root = Path(self.cfg.root or "")
        return image_files.class_folders(root / "train" if (root / "train").is_dir() else root)

    def _imagefolder(self, folder: Path) -> tuple[list[Path], list[int]]:
        c = self.cfg
        return image_files.scan(folder, self.class_names, check=c.check_images, skip_bad=c.skip_bad_images)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        root = Path(self.cfg.root or "")
        if self.cfg.source == DataSource.imagefolder and (root / "train").is_dir():
            names = [name for name in ("train", "val", "test") if (root / name).is_dir()]
            parts = {name: self._imagefolder(root / name) for name in names}
            if "val" not in parts:
                raise DataError(f"data.root: {root} has train/ but no val/ folder (add val/<class>/...)")
            parts.setdefault("test", parts["val"])
        else:
            images, labels = _digits()[:2] if self.cfg.source == DataSource.digits else self._imagefolder(root)
            c = self.cfg
            split = stratified_split(labels, c.val_fraction, c.test_fraction, c.split_seed)
            idx = dict(zip(("train", "val", "test"), split, strict=True))
            parts = {name: ([images[i] for i in ids], [labels[i] for i in ids]) for name, ids in idx.items()}
        self.splits = {
            name: ImageSplit(imgs, labels, self.mode, self.transform(train=name == "train"))
            for name, (imgs, labels) in parts.items()
        }

    # -- for the sample table --------------------------------------------------------------------------

    def render_samples(self, batch: tuple[torch.Tensor, torch.Tensor]) -> list[dict[str, Any]]:
        """Rows of (image, label) with images un-normalised to (H, W, C) floats in [0, 1]."""
        x, y = batch  # (B, C, H, W), (B,)
        mean = torch.tensor(self.data_config["mean"]).view(1, -1, 1, 1)
        std = torch.tensor(self.data_config["std"]).view(1, -1, 1, 1)
        images = (x * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()  # (B, C, H, W) -> (B, H, W, C)
        return [{"image": img, "label": self.class_names[int(c)]} for img, c in zip(images, y, strict=True)]


DataModule = ImageDataModule
