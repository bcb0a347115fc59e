"""Rendered rows and their images in the form every logger accepts: 8-bit pixels.

A row is `{column: value}` where a value is a string, a number, or an image: a numpy array (H, W) or
(H, W, C) with C in 1, 3, 4, holding floats in [0, 1] or uint8 in [0, 255]. W&B's `wandb.Image` reads
float pixels as 0-255 (so [0, 1] floats come out black) and TensorBoard scales floats by 255; giving
both uint8 removes the guess.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Row = dict[str, Any]


def is_image(value: Any) -> bool:
    """An array with 2 or 3 dimensions (H, W) or (H, W, C)."""
    return hasattr(value, "ndim") and value.ndim in (2, 3) and hasattr(value, "dtype")


def to_uint8(img: Any, where: str = "image") -> np.ndarray:
    """`img` as uint8 pixels, (H, W) for one channel, else (H, W, 3|4).

    Floats must lie in [0, 1] (they are scaled by 255 and rounded); uint8 is kept. Anything else is an
    error naming `where` (e.g. the column and row it came from).
    """
    arr = np.asarray(img.detach().cpu() if hasattr(img, "detach") else img)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"{where}: expected an image (H, W) or (H, W, C) with C in 1, 3, 4; got shape {arr.shape}")
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype.kind == "f":
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(
                f"{where}: float pixels range over [{lo:.3g}, {hi:.3g}]; expected [0, 1] (or uint8 0-255). "
                "Un-normalise the image in the render function (x * std + mean)."
            )
        out = (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    else:
        raise ValueError(f"{where}: pixels of dtype {arr.dtype}; expected floats in [0, 1] or uint8")
    return out[..., 0] if out.ndim == 3 and out.shape[-1] == 1 else out  # (H, W, 1) -> (H, W)


def columns_of(rows: list[Row]) -> list[str]:
    """Every column that appears in `rows`, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def text_of(value: Any) -> str:
    """A cell as short text: floats with 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
