"""The data section of the config for image classification (no torch here: validated at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labblocks.run.config import Choice

USER_DATA_KEY = "data.root"  # the key that points at your own data


def supplied_net_args(block: str) -> tuple[str, ...]:
    """Arguments of `model.net` that the data sets at build time (see DataModule.net_args)."""
    return ("in_chans", "num_classes")


class DataSource(Choice):
    digits = "digits"  # scikit-learn's 8x8 handwritten digits: 1,797 images, 10 classes, ships offline
    imagefolder = "imagefolder"  # your images: <root>/<class>/*.png, or <root>/{train,val,test}/<class>/*


@dataclass
class AugmentConfig:
    """Training-only augmentation, passed to timm's `create_transform`; evaluation only resizes."""

    scale: list[float] = field(default_factory=lambda: [0.7, 1.0])  # random-resized-crop area range
    ratio: list[float] = field(default_factory=lambda: [0.8, 1.25])  # and aspect-ratio range
    hflip: float = 0.0  # flip probability (0 for digits: a mirrored 2 is not a 2)
    color_jitter: float = 0.0


@dataclass
class PreprocessConfig:
    """How an image is normalised and cropped; null: what the network's timm pretrained config says (for a
    `timm/...` network), else interpolation bilinear, mean and std 0.5, no crop. The run records the values used."""

    interpolation: str | None = None  # resize interpolation: bilinear, bicubic, nearest, ...
    mean: list[float] | None = None  # per channel, of pixel / 255
    std: list[float] | None = None
    crop_pct: float | None = None  # evaluation: resize the shorter side to image_size / crop_pct, centre-crop


@dataclass
class DataConfig:
    source: DataSource = DataSource.digits
    root: str | None = None  # imagefolder only
    in_chans: int | None = None  # default: 1 for digits, 3 for imagefolder
    image_size: int = 32  # input size fed to the model (overrides the model's pretrained size)
    val_fraction: float = 0.15  # used when the data has no val/ or test/ folder
    test_fraction: float = 0.15
    split_seed: int = 0  # fixed: the same split for every run and seed
    batch_size: int = 64
    num_workers: int | str = "auto"  # loader processes; auto: 0 on CPU, up to 8 per GPU process
    pin_memory: bool | str = "auto"  # auto: on when training on a GPU
    check_images: bool = True  # open every image file at setup, so a bad file fails now, not mid-epoch
    skip_bad_images: bool = False  # leave unreadable images out (with a count printed) instead of stopping
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)


def validate_data(cfg: DataConfig) -> list[tuple[str, str]]:
    """Checks the schema's types cannot express: (key, what is wrong and what would be right) pairs."""
    problems: list[tuple[str, str]] = []
    if cfg.source == DataSource.imagefolder:
        if not cfg.root:
            problems.append((USER_DATA_KEY, "required when data.source is imagefolder (a folder of class folders)"))
        elif not Path(cfg.root).is_dir():
            problems.append((USER_DATA_KEY, f"{cfg.root!r} is not a directory"))
    if not (0 < cfg.val_fraction < 1 and 0 < cfg.test_fraction < 1 and cfg.val_fraction + cfg.test_fraction < 1):
        problems.append(
            (
                "data.val_fraction",
                f"{cfg.val_fraction} and data.test_fraction ({cfg.test_fraction}) must "
                "be in (0, 1) and sum to less than 1",
            )
        )
    for key in ("batch_size", "image_size"):
        if getattr(cfg, key) < 1:
            problems.append((f"data.{key}", f"{getattr(cfg, key)} must be >= 1"))
    if len(cfg.augment.scale) != 2 or not 0 < cfg.augment.scale[0] <= cfg.augment.scale[1] <= 1:
        problems.append(
            ("data.augment.scale", f"{list(cfg.augment.scale)} must be [low, high] with 0 < low <= high <= 1")
        )
    p = cfg.preprocess
    for key in ("mean", "std"):
        value = getattr(p, key)
        if value is not None and len(value) not in (1, cfg.in_chans or len(value)):
            problems.append((f"data.preprocess.{key}", f"{list(value)} needs one value per channel ({cfg.in_chans})"))
    if p.std is not None and any(v <= 0 for v in p.std):
        problems.append(("data.preprocess.std", f"{list(p.std)} must be > 0"))
    if p.crop_pct is not None and not 0 < p.crop_pct <= 1:
        problems.append(("data.preprocess.crop_pct", f"{p.crop_pct} must be in (0, 1]"))
    return problems
