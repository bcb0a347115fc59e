"""`WatchModel`: W&B gradient/parameter histograms via `wandb.watch`."""

from __future__ import annotations

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

from labblocks.callbacks._loggers import find_logger


class WatchModel(Callback):
    """Calls `WandbLogger.watch(model, log, log_freq)` when fitting starts; does nothing without W&B.

    (Lightning sets `callback.log` to the module's `log` method, so the choice is kept as `watch_log`.)
    """

    def __init__(self, log: str | None = "gradients", log_freq: int = 100) -> None:
        if log not in ("gradients", "parameters", "all", None):
            raise ValueError(f"WatchModel(log={log!r}): expected 'gradients', 'parameters', 'all' or None")
        self.watch_log, self.log_freq = log, log_freq

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        logger = find_logger(trainer, "wandb")
        if logger is None or self.watch_log is None:
            return
        logger.watch(pl_module, log=self.watch_log, log_freq=self.log_freq)
        rank_zero_info(f"WatchModel: wandb.watch(log={self.watch_log!r}, log_freq={self.log_freq})")

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        logger = find_logger(trainer, "wandb")
        if logger is not None and self.watch_log is not None:
            logger.experiment.unwatch(pl_module)
