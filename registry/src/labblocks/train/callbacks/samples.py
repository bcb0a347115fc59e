"""`SampleTable`: log a table of sample inputs with their labels before training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only

from labblocks.train.examples import first_batch
from labblocks.train.logs.loggers import find_logger
from labblocks.train.logs.media import Row
from labblocks.train.logs.rows import rows_to_csv, rows_to_tensorboard
from labblocks.train.logs.tables import log_wandb_table
from labblocks.train.rng import preserved_rng


class SampleTable(Callback):
    """Before training, renders the first `rows` training samples (augmented, as the model sees them)
    with `render(batch) -> rows` and logs them: a W&B Table (images inside the run folder), TensorBoard
    images and a Markdown table, or a CSV plus PNGs in the CSV logger's directory. Images are (H, W) or
    (H, W, C) floats in [0, 1] or uint8. Global RNG states are left untouched."""

    def __init__(self, render: Callable[[Any], list[Row]], rows: int = 16, key: str = "samples/train") -> None:
        self.render, self.rows, self.key = render, rows, key

    @rank_zero_only
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        loader = trainer.train_dataloader
        if loader is None or self.rows <= 0:
            return
        with preserved_rng():
            batch = first_batch(loader, self.rows)
            rows = self.render(batch)
        if not rows:
            return
        if (logger := find_logger(trainer, "wandb")) is not None:
            log_wandb_table(logger.experiment, self.key, rows, {"trainer/global_step": trainer.global_step})
        if (logger := find_logger(trainer, "tensorboard")) is not None:
            rows_to_tensorboard(logger.experiment, self.key, rows, trainer.global_step)
        if (logger := find_logger(trainer, "csv")) is not None:
            name = self.key.replace("/", "_")
            out = Path(logger.log_dir)
            rows_to_csv(out / f"{name}.csv", rows, lambda i, column: out / f"{name}_{i}_{column}.png")
        rank_zero_info(f"SampleTable: logged {len(rows)} training samples as '{self.key}'")
