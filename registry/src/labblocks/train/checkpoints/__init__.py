"""Checkpoints on disk: `atomic` writes (a kill while saving never leaves half a file) and `files` checks
before a resume (set aside, never deleted, when unreadable); neither imports Lightning. The Lightning plugin
that saves through `atomic` is in `lightning_io`:

        Trainer(plugins=[AtomicCheckpointIO()])
    ckpt_path = scan_checkpoints(run_dir / "checkpoints").newest
"""

from labblocks.train.checkpoints.atomic import atomic_link, atomic_torch_save, remove_stale_partials
from labblocks.train.checkpoints.files import (
    REQUIRED_KEYS,
    CheckpointScan,
    checkpoint_problem,
    newest_resumable,
    resumable_checkpoints,
    scan_checkpoints,
    set_aside,
)

__all__ = [
    "REQUIRED_KEYS",
    "CheckpointScan",
    "atomic_link",
    "atomic_torch_save",
    "checkpoint_problem",
    "newest_resumable",
    "remove_stale_partials",
    "resumable_checkpoints",
    "scan_checkpoints",
    "set_aside",
]
