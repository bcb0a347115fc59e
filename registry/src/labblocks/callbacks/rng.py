"""`RNGState`: RNG states in every checkpoint, restored when training resumes."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks.resume import capture_rng, restore_rng


class RNGState(Callback):
    """Saves the Python, NumPy and torch RNG states with each checkpoint and restores them right before
    the resumed fit loop starts, so 1+1 epochs draw the same random numbers as 2 epochs."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return capture_rng()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict  # applied at on_train_start, after setup hooks that may draw numbers

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._pending is not None:
            restore_rng(self._pending)
            self._pending = None
