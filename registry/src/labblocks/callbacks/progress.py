"""`ProgressBar`: Lightning's tqdm progress bar, redrawn every few tenths of a second instead of every N batches."""

from __future__ import annotations

import time
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar


class ProgressBar(TQDMProgressBar):
    """`TQDMProgressBar` that redraws when `interval` seconds have passed since its last redraw, and on
    each loop's last batch; the batches in between cost a clock read.

    A redraw (the bar and the metrics beside it) costs about 1 ms. Lightning's `refresh_rate` counts
    batches, so one rate redraws too often for a small model (every 10 batches of 15 ms adds almost 1 % to
    the run) and too rarely for a large one (every 10 batches of 2 s is one redraw in 20 s). Redrawing by
    the clock, as tqdm itself does, keeps the cost and the view the same whatever the step time.
    """

    def __init__(self, interval: float = 0.5, process_position: int = 0, leave: bool = False) -> None:
        if not interval >= 0:
            raise ValueError(f"ProgressBar(interval={interval!r}): expected seconds between redraws, >= 0")
        super().__init__(refresh_rate=1, process_position=process_position, leave=leave)
        self.interval = interval
        self._next_redraw = 0.0

    def _due(self, batch_idx: int, total: int | float | None) -> bool:
        """Whether to redraw after batch `batch_idx` of `total` (always after the last one)."""
        now = time.monotonic()
        if now < self._next_redraw and batch_idx + 1 != total:
            return False
        self._next_redraw = now + self.interval
        return True

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.is_enabled and self._due(batch_idx, self.train_progress_bar.total):
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.is_enabled and self._due(batch_idx, self.val_progress_bar.total):
            super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.is_enabled and self._due(batch_idx, self.test_progress_bar.total):
            super().on_test_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)

    def on_predict_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.is_enabled and self._due(batch_idx, self.predict_progress_bar.total):
            super().on_predict_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
