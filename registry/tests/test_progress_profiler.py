"""The cheap defaults of a baked project's Trainer: `ProgressBar` (redrawn by time, and after each loop's
last batch) and `NullProfiler` (records nothing, hands back one shared context). Real fits of the tiny model."""

from __future__ import annotations

from typing import Any

import pytest
from _tiny import TinyData, TinyModel, quiet_trainer
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm

from labblocks.train.callbacks import ProgressBar
from labblocks.train.profiler import NullProfiler

pytestmark = pytest.mark.multisecond  # Trainer fits


def _fit(monkeypatch: pytest.MonkeyPatch, bar: ProgressBar, epochs: int = 2) -> list[tuple[str, int]]:
    """Fit with `bar`; returns each redraw that moved a bar: (its description, batches done)."""
    drawn: list[tuple[str, int]] = []
    shown: dict[int, tuple[str, int]] = {}
    refresh = Tqdm.refresh

    def recording(self: Tqdm, *args: Any, **kwargs: Any) -> Any:
        where = (self.desc.rstrip(": "), self.n)  # "Epoch 0: " -> "Epoch 0"
        if self.n and shown.get(id(self)) != where:  # not a redraw of the same position
            shown[id(self)] = where
            drawn.append(where)
        return refresh(self, *args, **kwargs)

    monkeypatch.setattr(Tqdm, "refresh", recording)
    trainer = quiet_trainer(max_epochs=epochs, enable_progress_bar=True, callbacks=[bar])
    trainer.fit(TinyModel(), TinyData(n_train=24, n_val=12, batch_size=6))  # 4 train, 2 val batches
    assert bar.train_progress_bar.n == bar.train_progress_bar.total == 4  # the bar ends full
    return drawn


VAL = "Validation DataLoader 0"


def test_progress_bar_redraws_after_the_first_and_each_last_batch_within_its_interval(monkeypatch) -> None:
    drawn = _fit(monkeypatch, ProgressBar(interval=3600))
    # the first batch, then only each loop's last batch
    assert drawn == [("Epoch 0", 1), ("Epoch 0", 4), (VAL, 2), ("Epoch 1", 4), (VAL, 2)]


def test_progress_bar_redraws_every_batch_with_interval_zero(monkeypatch) -> None:
    drawn = _fit(monkeypatch, ProgressBar(interval=0))
    assert [d for d in drawn if d[0] != VAL] == [(f"Epoch {e}", b) for e in range(2) for b in range(1, 5)]
    assert [d for d in drawn if d[0] == VAL] == [(VAL, b) for e in range(2) for b in range(1, 3)]


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
