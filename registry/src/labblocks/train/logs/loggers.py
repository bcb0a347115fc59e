"""Find a Lightning logger of a given kind on a trainer, without importing optional backends."""

from __future__ import annotations

from typing import Any


def find_logger(trainer: Any, kind: str) -> Any | None:
    """The first logger whose class is `WandbLogger`, `TensorBoardLogger` or `CSVLogger` (by `kind`)."""
    names = {"wandb": "WandbLogger", "tensorboard": "TensorBoardLogger", "csv": "CSVLogger"}
    for logger in trainer.loggers:
        if type(logger).__name__ == names[kind]:
            return logger
    return None
