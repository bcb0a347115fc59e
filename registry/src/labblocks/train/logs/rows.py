"""Rendered rows written for TensorBoard (a Markdown table plus images) and as CSV files (plus PNGs)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labblocks.train.logs.media import Row, columns_of, is_image, text_of, to_uint8


def markdown_table(rows: list[Row]) -> str:
    """The non-image columns of `rows` as a Markdown table (TensorBoard's text tab renders it)."""
    columns = [c for c in columns_of(rows) if not any(is_image(r.get(c)) for r in rows)]
    lines = ["| # | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for i, row in enumerate(rows):
        cells = [text_of(row.get(c, "")).replace("|", "\\|").replace("\n", " ") for c in columns]
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rows_to_tensorboard(writer: Any, key: str, rows: list[Row], step: int, images: bool = True) -> None:
    """`key`: the rows as a Markdown table; `key/<row>/<column>`: each image (uint8, so no rescaling guess)."""
    writer.add_text(key, markdown_table(rows), step)
    if not images:
        return
    for i, row in enumerate(rows):
        for column, value in row.items():
            if is_image(value):
                img = to_uint8(value, f"{key} row {i} column {column!r}")
                writer.add_image(f"{key}/{i}/{column}", img, step, dataformats="HW" if img.ndim == 2 else "HWC")


def rows_to_csv(path: Path, rows: list[Row], image_path: Callable[[int, str], Path]) -> Path:
    """Write `rows` to the CSV file `path`; each image goes to the PNG `image_path(row, column)` (written
    once: an existing file is kept) and its cell holds that file's path relative to the CSV's folder."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns_of(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, row in enumerate(rows):
            values = []
            for column in columns:
                value = row.get(column, "")
                if is_image(value):
                    png = image_path(i, column)
                    if not png.is_file():
                        png.parent.mkdir(parents=True, exist_ok=True)
                        Image.fromarray(to_uint8(value, f"{path.name} row {i} column {column!r}")).save(png)
                    value = Path(os.path.relpath(png, path.parent)).as_posix()
                values.append(value)
            writer.writerow(values)
    return path
