"""Inference from raw images by someone who has only the export folder: labblocks rebuilds the network,
and preprocessing.json says how a raw image becomes its input (PIL and NumPy, no project code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from labblocks.run.export import load_module
from PIL import Image

INTERPOLATION = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}


def raw_test_examples(datamodule: Any) -> list[tuple[Image.Image, str]]:
    """The test split as users hold it: raw images (PIL) and class names."""
    split = datamodule.splits["test"]
    images = [img if isinstance(img, Image.Image) else Image.open(img) for img in split.images]
    return [(img, datamodule.class_names[y]) for img, y in zip(images, split.labels, strict=True)]


def preprocess(img: Image.Image, p: dict[str, Any]) -> np.ndarray:
    """One raw image -> (C, H, W) float32, following preprocessing.json step by step."""
    img = img.convert(p["color_mode"])
    w, h = img.size
    short = p["resize_shorter_side"]
    size = (short, round(h * short / w)) if w <= h else (round(w * short / h), short)
    img = img.resize(size, INTERPOLATION[p["interpolation"]])
    ch, cw = p["center_crop"]
    left, top = int(round((img.size[0] - cw) / 2.0)), int(round((img.size[1] - ch) / 2.0))
    img = img.crop((left, top, left + cw, top + ch))
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = x[:, :, None] if x.ndim == 2 else x  # (H, W) -> (H, W, 1)
    x = (x - np.asarray(p["mean"], dtype=np.float32)) / np.asarray(p["std"], dtype=np.float32)
    return x.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)


def predict(export_dir: Path, raws: list[Image.Image]) -> list[str]:
    """Class names predicted for raw images, from the export folder alone."""
    p = json.loads((export_dir / "preprocessing.json").read_text())
    net = load_module(export_dir)
    x = torch.from_numpy(np.stack([preprocess(img, p) for img in raws]))  # (B, C, H, W)
    with torch.no_grad():
        return [p["class_names"][i] for i in net(x).argmax(-1).tolist()]
