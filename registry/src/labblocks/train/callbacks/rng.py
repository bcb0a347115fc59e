"""`RNGState`: every rank's RNG states in each checkpoint, each restored on its own rank when training resumes."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_warn

from labblocks.train.rng import RNG_FORMAT, gather_rng, restore_rng, rng_for_rank


class RNGState(Callback):
    """Saves the Python, NumPy and torch RNG states of every rank with each checkpoint and restores each
    rank's own right before the resumed fit loop starts, so 1+1 epochs draw the same random numbers as 2
    epochs, on every rank (dropout masks, augmentation).

    Lightning calls `state_dict` on every rank while it writes a checkpoint; the ranks gather their states
    there (`labblocks.train.rng.gather_rng`). A checkpoint written with another number of ranks restores rank
    0's states on every rank, with a warning. Checkpoints of labblocks 0.1 (one process's states) still load.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return {"format": RNG_FORMAT, "ranks": gather_rng()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict  # applied at on_train_start, after setup hooks that may draw numbers

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._pending is None:
            return
        states, warning = rng_for_rank(self._pending, trainer.global_rank, trainer.world_size)
        self._pending = None
        if warning:
            rank_zero_warn(f"RNGState: {warning}")
        restore_rng(states)
