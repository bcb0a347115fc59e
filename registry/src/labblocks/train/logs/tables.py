"""W&B tables whose images live in the run's own folder, so an offline run copied elsewhere keeps them.

`wandb.Table` (0.31) is logged as an artifact whose files are staged under the home directory
(`~/.local/share/wandb/artifacts/staging`), and the table file in the run folder holds the word "Image"
where each image was. `wandb sync` of that run folder on another machine then finds no images. Here each
image is bound to the run first (a PNG under `files/media/images/`), the table cells reference those
files by their path inside the run, and the table itself is bound to the run (`files/media/table/`), so
wandb logs no artifact for it: everything the table refers to is inside the run folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labblocks.train.logs.media import Row, columns_of, is_image, to_uint8


def is_bound_image(value: Any) -> bool:
    """A cell made by `bind_images`: an image-file reference inside the run."""
    return isinstance(value, dict) and value.get("_type") == "image-file"


def bind_images(
    run: Any, key: str, images: Sequence[Any], captions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Write `images` as PNGs into the run's `files/media/images/` and return their table cells.

    The cells can be reused in later tables of the same run (e.g. fixed examples every epoch).
    """
    import wandb

    step = run.step  # W&B's history step: unique per log call, so file names never collide
    cells = []
    for i, img in enumerate(images):
        caption = captions[i] if captions else None
        image = wandb.Image(to_uint8(img, f"{key}[{i}]"), caption=caption)
        image.bind_to_run(run, key, step, id_=str(i))  # copies the PNG into the run's files folder
        cells.append(image.to_json(run))  # {"_type": "image-file", "path": "media/images/...png", ...}
    return cells


def log_wandb_table(run: Any, key: str, rows: list[Row], extra: dict[str, Any] | None = None) -> None:
    """Log `rows` as a table under `key` (plus `extra` values in the same history row).

    Image values (arrays, see `labblocks.train.logs.media`) are written into the run folder; cells
    from `bind_images` are referenced as they are. Does nothing for a disabled run.
    """
    import wandb

    if getattr(run, "disabled", False) or not rows:
        return
    columns = columns_of(rows)
    data = [[row.get(c) for c in columns] for row in rows]
    for j, column in enumerate(columns):
        at = [i for i, row in enumerate(data) if is_image(row[j])]
        if at:
            cells = bind_images(run, f"{key}/{column}", [data[i][j] for i in at])
            for i, cell in zip(at, cells, strict=True):
                data[i][j] = cell
    table = wandb.Table(columns=columns, data=data, allow_mixed_types=True)
    table.bind_to_run(run, key, run.step)  # bound: wandb logs the run's file, not a staged artifact
    run.log({key: table, **(extra or {})})
