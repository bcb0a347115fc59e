"""`AtomicCheckpointIO`: Lightning checkpoint saving that a kill cannot leave half-written."""

from __future__ import annotations

from typing import Any

from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from labblocks.train.checkpoints.atomic import atomic_torch_save


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, saving with `atomic_torch_save`: a process killed while saving
    leaves the previous checkpoint under its name (or none), plus a hidden temporary file that the next
    save in that folder removes. Use: `Trainer(plugins=[AtomicCheckpointIO()])`. Remote paths
    (`s3://...`) go through Lightning's own saving."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        atomic_torch_save(checkpoint, path)
