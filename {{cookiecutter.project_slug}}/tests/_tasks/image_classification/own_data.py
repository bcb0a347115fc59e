"""A small dataset in the form users bring their own (an ImageFolder), made by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("cat", "dog")


def make_own_data(root: Path, per_class: int = 30) -> list[str]:
    """Write <root>/<class>/<i>.png images; returns the overrides that point the config at them."""
    rng = np.random.default_rng(0)
    for cls in CLASSES:
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    return [f"data.root={root}"]


def add_rare_class(root: Path) -> None:
    """A third class with a single image: too rare for a stratified split."""
    (root / "bird").mkdir()
    Image.fromarray(np.zeros((20, 24, 3), dtype=np.uint8)).save(root / "bird" / "0.png")
