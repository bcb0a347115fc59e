"""`LoaderPosition`: mid-epoch checkpoints keep the training loader's position; end-of-epoch ones do not."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class LoaderPosition(Callback):
    """For stateful training loaders (torchdata's `StatefulDataLoader`), Lightning stores the loader's
    position in every checkpoint and restores it on resume, so a run stopped mid-epoch continues with
    the next batch. At the end of an epoch that position is stale: a loader cut short by
    `limit_train_batches` still counts the batches it gave, and the resumed run would skip them at the
    start of the next epoch. This drops the position from checkpoints written once the epoch's last
    training batch has run, so those resume exactly like an uninterrupted run."""

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        if not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            return
        fit_state = checkpoint.get("loops", {}).get("fit_loop", {}).get("state_dict", {})
        fit_state.pop("combined_loader", None)
