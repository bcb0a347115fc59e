"""WatchModel: gradient and parameter histograms at the logging interval, with no hook on any parameter."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
from _tiny import TinyData, TinyModel
from lightning.pytorch.loggers import TensorBoardLogger

from labblocks.train.callbacks import WatchModel

pytestmark = pytest.mark.multisecond


def test_histograms_every_n_steps_and_no_per_step_hooks(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = TinyModel()
    logger = TensorBoardLogger(str(tmp_path), name="tb", version="")
    quiet = {"enable_progress_bar": False, "enable_model_summary": False, "enable_checkpointing": False}
    trainer = L.Trainer(max_steps=6, logger=logger, callbacks=[WatchModel("all", log_freq=2)],
                        num_sanity_val_steps=0, limit_val_batches=0, **quiet)
    trainer.fit(model, datamodule=TinyData())
    assert all(not p._backward_hooks and not getattr(p, "_post_accumulate_grad_hooks", None)
               for p in model.parameters())  # wandb.watch's way: a hook on every parameter, every step
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"histograms": 0})
    events.Reload()
    tags = events.Tags()["histograms"]
    assert {"gradients/net.2.weight", "parameters/net.2.weight"} <= set(tags)
    assert [e.step for e in events.Histograms("gradients/net.2.weight")] == [0, 2, 4]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="expected 'gradients', 'parameters', 'all' or None"):
        WatchModel("weights")
    with pytest.raises(ValueError, match="log_freq"):
        WatchModel(log_freq=0)
