"""`SampleTable`: log a table of sample inputs with their labels before training."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from labblocks.callbacks._loggers import find_logger
from labblocks.resume import preserved_rng

Row = dict[str, Any]  # column -> str | number | numpy image (H, W) or (H, W, C), values in [0, 1] or uint8


class SampleTable(Callback):
    """Before training, renders the first `rows` training samples (augmented, as the model sees them)
    with `render(batch) -> rows` and logs them: a W&B Table, TensorBoard images/text, or a CSV (plus
    PNGs) in the CSV logger's directory. Global RNG states are left untouched."""

    def __init__(self, render: Callable[[Any], list[Row]], rows: int = 16, key: str = "samples/train") -> None:
        self.render, self.rows, self.key = render, rows, key

    @rank_zero_only
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        loader = trainer.train_dataloader
        if loader is None or self.rows <= 0:
            return
        with preserved_rng():
            n = min(self.rows, len(loader.dataset))
            batch = loader.collate_fn([loader.dataset[i] for i in range(n)])
            rows = self.render(batch)
        if not rows:
            return
        if (logger := find_logger(trainer, "wandb")) is not None:
            self._to_wandb(logger, rows)
        if (logger := find_logger(trainer, "tensorboard")) is not None:
            self._to_tensorboard(logger, rows)
        if (logger := find_logger(trainer, "csv")) is not None:
            self._to_csv(Path(logger.log_dir), rows)
        rank_zero_info(f"SampleTable: logged {len(rows)} training samples as '{self.key}'")

    def _to_wandb(self, logger: Any, rows: list[Row]) -> None:
        import wandb

        columns = list(rows[0])
        data = [[wandb.Image(v) if _is_image(v) else v for v in row.values()] for row in rows]
        logger.experiment.log({self.key: wandb.Table(columns=columns, data=data)})

    def _to_tensorboard(self, logger: Any, rows: list[Row]) -> None:
        for i, row in enumerate(rows):
            text = ", ".join(f"{k}: {v}" for k, v in row.items() if not _is_image(v))
            logger.experiment.add_text(f"{self.key}/{i}", text, 0)
            for k, v in row.items():
                if _is_image(v):
                    logger.experiment.add_image(f"{self.key}/{i}/{k}", v, 0, dataformats="HW" if v.ndim == 2 else "HWC")

    def _to_csv(self, out: Path, rows: list[Row]) -> None:
        from PIL import Image

        out.mkdir(parents=True, exist_ok=True)
        columns = list(rows[0])
        with (out / f"{self.key.replace('/', '_')}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for i, row in enumerate(rows):
                values = []
                for k, v in row.items():
                    if _is_image(v):
                        name = f"{self.key.replace('/', '_')}_{i}_{k}.png"
                        Image.fromarray(_to_uint8(v)).save(out / name)
                        v = name
                    values.append(v)
                writer.writerow(values)


def _is_image(value: Any) -> bool:
    return hasattr(value, "ndim") and value.ndim in (2, 3)


def _to_uint8(img: Any) -> Any:
    import numpy as np

    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0.0, 1.0) * 255).round().astype(np.uint8)
    return img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img
