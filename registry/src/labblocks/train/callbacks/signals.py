"""`SignalCheckpoint`: on a preemption or time-limit signal (or Ctrl-C), save at the next step and stop."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info

DEFAULT_SIGNALS = ("SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT")


class TrainingInterrupted(Exception):
    """Raised out of `trainer.fit` after the checkpoint was written; the run resumes from `path`."""

    def __init__(self, signum: int, path: Path, step: int, epoch: int) -> None:
        self.signum, self.path, self.step, self.epoch = signum, path, step, epoch
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal_name} at step {step} (epoch {epoch}); saved {path}")


class SignalCheckpoint(Callback):
    """Turns a signal into a checkpoint at a step boundary, then stops training.

    Clusters announce preemption and time limits with a signal (SLURM: `--signal=USR1@120`; submitit
    uses USR2), and Ctrl-C sends SIGINT. While fitting, these signals only set a flag; after the current
    optimizer step every rank agrees (one tiny all-reduce per step when there are several), the full
    training state is written to `path` (model, optimizer, schedulers, loops, data loader position, RNG)
    and `TrainingInterrupted` is raised out of `trainer.fit`. Resuming from `path` continues with the
    next batch. A second Ctrl-C stops at once, as usual. The previous handlers come back after fitting.
    """

    def __init__(self, path: str | Path, signals: tuple[str, ...] = DEFAULT_SIGNALS) -> None:
        self.path = Path(path)
        self.signals = [getattr(signal, name) for name in signals if hasattr(signal, name)]
        self._received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and self._received is not None:
            raise KeyboardInterrupt  # the second Ctrl-C
        self._received = signum
        if signum == signal.SIGINT:
            print("\nCtrl-C: saving a checkpoint after this step (press again to stop at once)", flush=True)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # After Lightning registered its own handlers (fit start), so these win while training runs.
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        self._received = None
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._handle)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        received = self._received is not None
        if trainer.world_size > 1:
            received = trainer.strategy.reduce_boolean_decision(received, all=False)
        if not received:
            return
        signum = self._received if self._received is not None else signal.SIGTERM
        trainer.save_checkpoint(self.path)  # every rank takes part; rank 0 writes
        rank_zero_info(f"{signal.Signals(signum).name}: saved {self.path} at step {trainer.global_step}")
        self._restore()
        raise TrainingInterrupted(signum, self.path, trainer.global_step, trainer.current_epoch)

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._restore()
