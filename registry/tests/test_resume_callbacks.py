"""SignalCheckpoint (a signal becomes a checkpoint at a step boundary) and LoaderPosition (mid-epoch
checkpoints keep a stateful loader's position, end-of-epoch ones drop it), on real Trainer runs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import lightning as L
import pytest
import torch
from _tiny import TinyImages, TinyModel
from torchdata.stateful_dataloader import StatefulDataLoader
from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler

from labblocks.train.callbacks import LoaderPosition, RNGState, SignalCheckpoint, TrainingInterrupted

pytestmark = pytest.mark.multisecond


def loader() -> StatefulDataLoader:
    data = TinyImages(36)
    sampler = StatefulDistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=0)
    return StatefulDataLoader(data, batch_size=6, sampler=sampler)


def trainer(tmp_path: Path, *callbacks: L.Callback, **kwargs) -> L.Trainer:
    settings = {"max_epochs": 2, "logger": False, "enable_progress_bar": False, "enable_model_summary": False,
                "num_sanity_val_steps": 0, "limit_val_batches": 0, **kwargs}
    return L.Trainer(default_root_dir=tmp_path, callbacks=list(callbacks), **settings)


class SendAt(L.Callback):
    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGUSR1, signal.SIGTERM, signal.SIGINT])
def test_a_signal_saves_at_the_next_step_and_stops(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "last.ckpt"
    before = signal.getsignal(signum)
    with pytest.raises(TrainingInterrupted) as stopped:
        trainer(tmp_path, SignalCheckpoint(path), SendAt(3, signum)).fit(TinyModel(), train_dataloaders=loader())
    assert stopped.value.step == 4 and stopped.value.signal_name == signal.Signals(signum).name
    assert torch.load(path, map_location="cpu", weights_only=True)["global_step"] == 4
    assert signal.getsignal(signum) == before  # the previous handler is back


def test_resuming_from_a_signal_checkpoint_equals_an_uninterrupted_fit(tmp_path: Path) -> None:
    """Mid-epoch: the stateful loader's position and the RNG states are in the checkpoint, so the resumed
    fit sees the same next batch and the same dropout masks, and ends bitwise equal."""
    L.seed_everything(0)
    straight = TinyModel()
    trainer(tmp_path / "a", RNGState(), LoaderPosition()).fit(straight, train_dataloaders=loader())
    L.seed_everything(0)
    path = tmp_path / "b" / "last.ckpt"
    with pytest.raises(TrainingInterrupted):  # step 9 of 12: in the middle of the second epoch
        trainer(tmp_path / "b", RNGState(), LoaderPosition(), SignalCheckpoint(path), SendAt(8, signal.SIGUSR1)).fit(
            TinyModel(), train_dataloaders=loader())
    L.seed_everything(123)  # whatever this process did before: only the checkpoint may matter
    resumed = TinyModel()
    trainer(tmp_path / "c", RNGState(), LoaderPosition()).fit(resumed, train_dataloaders=loader(), ckpt_path=str(path))
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_end_of_epoch_checkpoints_drop_the_loader_position(tmp_path: Path) -> None:
    path = tmp_path / "epoch.ckpt"

    class SaveAtEpochEnd(L.Callback):
        def on_train_epoch_end(self, trainer, pl_module) -> None:
            trainer.save_checkpoint(path)

    trainer(tmp_path, SaveAtEpochEnd(), LoaderPosition(), max_epochs=1, limit_train_batches=3).fit(
        TinyModel(), train_dataloaders=loader())
    fit_state = torch.load(path, map_location="cpu", weights_only=True)["loops"]["fit_loop"]["state_dict"]
    assert "combined_loader" not in fit_state
