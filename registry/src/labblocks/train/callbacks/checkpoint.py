"""`LeanCheckpoint`: Lightning's `ModelCheckpoint` with less work on each training step; `LinkingCheckpoint`: one
that also does not write one training state twice."""

from __future__ import annotations

import inspect
import os
from typing import Any
from weakref import proxy

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from labblocks.train.checkpoints.atomic import atomic_link

FileId = tuple[int, int, int, int]  # device, inode, size, modification time (ns)
_ARGUMENTS = inspect.signature(ModelCheckpoint.__init__)


class LeanCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint`, with less work on the training steps where it saves nothing.

    Lightning reads a callback's `state_key` on every hook call it makes (six per training step);
    `ModelCheckpoint` formats it from five of its arguments each time, this one once (they do not change).
    And one that saves at epoch ends only (neither `every_n_train_steps` nor `train_time_interval`) does
    nothing at the end of a training batch, where `ModelCheckpoint` checks the trainer's state to find
    that out. The files it writes and its state are `ModelCheckpoint`'s, under `ModelCheckpoint`'s key, so
    checkpoints load into either class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given = _ARGUMENTS.bind(self, *args, **kwargs).arguments
        self._saves_mid_epoch = bool(given.get("every_n_train_steps")) or given.get("train_time_interval") is not None
        self._key = super().state_key.replace(type(self).__qualname__, ModelCheckpoint.__qualname__, 1)

    @property
    def state_key(self) -> str:
        return self._key

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._saves_mid_epoch:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)


class LinkingCheckpoint(LeanCheckpoint):
    """`LeanCheckpoint` (so `ModelCheckpoint`), except that where another `LinkingCheckpoint` of the trainer has
    just saved this very training state, the save is a hard link to that file instead of a second copy.

    The usual case is the best checkpoint and `last.ckpt` at the end of an epoch that improved the metric:
    one write (and fsync) instead of two. "This very state" means
    the same global step, the same `save_weights_only`, and the same progress in every loop of `fit` (epoch,
    batch, optimizer and validation counters): the weights, optimizer and loader position only change
    with that progress, and checkpoint callbacks run one after another with nothing between them. A file
    that has changed or gone since it was saved is not linked to; where the filesystem refuses hard links
    (another device, some network mounts, remote paths) the checkpoint is written as usual. Linked names
    are independent files: deleting the best one or replacing `last.ckpt` leaves the other whole.

    Its state is stored under `ModelCheckpoint`'s key, so checkpoints load into either class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: tuple[str, str, FileId | None] | None = None  # (moment, path, file id) of the last save

    def _save_checkpoint(self, trainer: Trainer, filepath: str) -> None:
        moment = _moment(trainer, self.save_weights_only)
        source = self._same_state_file(trainer, moment, filepath) if trainer.is_global_zero else None
        linked = source is not None and atomic_link(source, filepath)
        # Every rank takes the same branch: a real save is collective (sharded strategies gather state).
        if trainer.strategy.broadcast(linked, src=0):
            trainer.strategy.barrier("LinkingCheckpoint")
            self._last_global_step_saved = trainer.global_step
            self._last_checkpoint_saved = filepath
            if trainer.is_global_zero:
                for logger in trainer.loggers:
                    logger.after_save_checkpoint(proxy(self))
        else:
            super()._save_checkpoint(trainer, filepath)
        self._saved = (moment, filepath, _file_id(filepath) if trainer.is_global_zero else None)

    def _same_state_file(self, trainer: Trainer, moment: str, filepath: str) -> str | None:
        """A file another `LinkingCheckpoint` saved at `moment`, unchanged since, other than `filepath`."""
        for callback in trainer.checkpoint_callbacks:
            if callback is self or not isinstance(callback, LinkingCheckpoint) or callback._saved is None:
                continue
            when, path, file_id = callback._saved
            if when == moment and path != filepath and file_id is not None and _file_id(path) == file_id:
                return path
        return None


def _moment(trainer: Trainer, weights_only: bool) -> str:
    """What identifies a training state within one `fit`: step, weights-only, every loop's progress."""
    return repr((trainer.global_step, weights_only, trainer.fit_loop.state_dict()))


def _file_id(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:  # gone, or not a local path
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns
