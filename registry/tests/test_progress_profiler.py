"""The cheap defaults of a baked project's Trainer: `ProgressBar` (redrawn by time, and after each loop's
last batch) and `NullProfiler` (records nothing, hands back one shared context). Real fits of the tiny model."""

from __future__ import annotations

from typing import Any

import pytest
from _tiny import TinyData, TinyModel, quiet_trainer
from lightning.pytorch.callbacks import TQDMProgressBar

from labblocks.callbacks import ProgressBar
from labblocks.profiler import NullProfiler

pytestmark = pytest.mark.multisecond  # Trainer fits


def _fit(monkeypatch: pytest.MonkeyPatch, bar: ProgressBar, epochs: int = 2) -> list[tuple[str, int, int]]:
    """Fit with `bar`; returns where Lightning's own bar code redrew: ("train" | "val", epoch, batch_idx)."""
    seen: list[tuple[str, int, int]] = []
    train_end, val_end = TQDMProgressBar.on_train_batch_end, TQDMProgressBar.on_validation_batch_end

    def on_train(self: Any, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        seen.append(("train", trainer.current_epoch, batch_idx))
        train_end(self, trainer, module, outputs, batch, batch_idx)

    def on_val(self: Any, trainer: Any, module: Any, outputs: Any, batch: Any, batch_idx: int, *a: Any) -> None:
        seen.append(("val", trainer.current_epoch, batch_idx))
        val_end(self, trainer, module, outputs, batch, batch_idx, *a)

    monkeypatch.setattr(TQDMProgressBar, "on_train_batch_end", on_train)
    monkeypatch.setattr(TQDMProgressBar, "on_validation_batch_end", on_val)
    trainer = quiet_trainer(max_epochs=epochs, enable_progress_bar=True, callbacks=[bar])
    trainer.fit(TinyModel(), TinyData(n_train=24, n_val=12, batch_size=6))  # 4 train, 2 val batches
    assert bar.train_progress_bar.n == bar.train_progress_bar.total == 4  # the bar ends full
    return seen


def test_progress_bar_redraws_after_the_first_and_each_last_batch_within_its_interval(monkeypatch) -> None:
    seen = _fit(monkeypatch, ProgressBar(interval=3600))
    assert seen == [
        ("train", 0, 0), ("train", 0, 3), ("val", 0, 1),  # the first redraw, then only each loop's last batch
        ("train", 1, 3), ("val", 1, 1),
    ]


def test_progress_bar_redraws_every_batch_with_interval_zero(monkeypatch) -> None:
    seen = _fit(monkeypatch, ProgressBar(interval=0))
    assert [s for s in seen if s[0] == "train"] == [("train", e, b) for e in range(2) for b in range(4)]
    assert [s for s in seen if s[0] == "val"] == [("val", e, b) for e in range(2) for b in range(2)]


@pytest.mark.parametrize("interval", [-1.0, float("nan")])
def test_progress_bar_refuses_a_bad_interval(interval: float) -> None:
    with pytest.raises(ValueError, match=r"ProgressBar\(interval=.*seconds between redraws, >= 0"):
        ProgressBar(interval=interval)


def test_null_profiler_hands_back_one_shared_context_and_a_fit_runs_every_hook() -> None:
    profiler = NullProfiler()
    assert profiler.profile("[Callback]a.on_train_batch_end") is profiler.profile("run_training_batch")
    with profiler.profile("nested"), profiler.profile("twice"):
        pass
    steps: list[int] = []

    class Counting(TinyModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            steps.append(batch_idx)
            return super().training_step(batch, batch_idx)

    trainer = quiet_trainer(max_epochs=1, profiler=profiler)
    trainer.fit(Counting(), TinyData(n_train=24, batch_size=6))
    assert trainer.profiler is profiler and steps == [0, 1, 2, 3]
    assert profiler.summary() == ""  # nothing recorded, as with Lightning's PassThroughProfiler
