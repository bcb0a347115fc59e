"""`LinkingCheckpoint` and `atomic_link`: the best checkpoint and last.ckpt of an epoch that improved are one
file under two names, every other save is written, and linked names stay independent. Real fits of the tiny
model with the atomic checkpoint plugin, as a baked project runs them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from _tiny import TinyData, TinyModel, quiet_trainer
from lightning.pytorch import Callback
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint

from labblocks.train.callbacks import LinkingCheckpoint
from labblocks.train.checkpoints import atomic_link, atomic_torch_save
from labblocks.train.checkpoints.lightning_io import AtomicCheckpointIO

pytestmark = pytest.mark.multisecond  # Trainer fits
STEPS_PER_EPOCH = 4  # TinyData: 24 items, batches of 6


class Metric(Callback):
    """Sets val/loss for each epoch (before the checkpoint callbacks, which Lightning runs last)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if not trainer.sanity_checking:
            trainer.callback_metrics["val/loss"] = torch.tensor(self.values[trainer.current_epoch])


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{checkpoint name: (inode, global step it holds)}."""
    return {
        p.name: (p.stat().st_ino, torch.load(p, map_location="cpu", weights_only=True)["global_step"])
        for p in sorted(folder.glob("*.ckpt"))
    }


class Files(Callback):
    """The checkpoint folder after each epoch's checkpoints (seen at the next epoch's start, or the end)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.after = folder, []

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if trainer.current_epoch:
            self.after.append(snapshot(self.folder))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.after.append(snapshot(self.folder))


class Tamper(Checkpoint):
    """Rewrites the best checkpoint between the best callback's save and last.ckpt's (it is ordered between them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        for path in self.folder.glob("best-*.ckpt"):
            atomic_torch_save({"global_step": -1}, path)


def fit(folder: Path, values: list[float], *between: Callback) -> list[dict[str, tuple[int, int]]]:
    """Fit for len(values) epochs with a best (lowest val/loss) and a last checkpoint; the folder per epoch."""
    best = LinkingCheckpoint(
        dirpath=folder, filename="best-e{epoch}", monitor="val/loss", mode="min", auto_insert_metric_name=False
    )
    last = LinkingCheckpoint(dirpath=folder, filename="last", enable_version_counter=False, every_n_epochs=1)
    files = Files(folder)
    trainer = quiet_trainer(
        max_epochs=len(values),
        enable_checkpointing=True,
        plugins=[AtomicCheckpointIO()],
        callbacks=[Metric(values), files, best, *between, last],
    )
    trainer.fit(TinyModel(), datamodule=TinyData())
    return files.after


def test_best_and_last_of_an_improving_epoch_are_one_file_and_other_saves_are_written(tmp_path: Path) -> None:
    e0, e1, e2 = fit(tmp_path, [0.5, 0.7, 0.3])  # better, worse, better
    s = STEPS_PER_EPOCH
    assert e0["last.ckpt"] == e0["best-e0.ckpt"] and e0["last.ckpt"][1] == s  # one write, two names
    assert e1["last.ckpt"][1] == 2 * s and e1["last.ckpt"][0] != e1["best-e0.ckpt"][0]  # written on its own
    assert e1["best-e0.ckpt"] == e0["best-e0.ckpt"]  # the best file is untouched by the new last.ckpt
    assert list(e2) == ["best-e2.ckpt", "last.ckpt"] and e2["last.ckpt"] == e2["best-e2.ckpt"]
    assert e2["last.ckpt"][1] == 3 * s
    assert not list(tmp_path.glob(".*"))  # no temporary files left
    keys = torch.load(tmp_path / "last.ckpt", weights_only=True)["callbacks"]
    assert sum(key.startswith("ModelCheckpoint{") for key in keys) == 2  # Lightning's own keys


def test_a_file_that_changed_since_its_save_is_not_linked_to(tmp_path: Path) -> None:
    (after,) = fit(tmp_path, [0.5], Tamper(tmp_path))
    assert after["best-e0.ckpt"][1] == -1  # rewritten between the two saves
    assert after["last.ckpt"][1] == STEPS_PER_EPOCH and after["last.ckpt"][0] != after["best-e0.ckpt"][0]


def test_where_the_filesystem_refuses_hard_links_each_checkpoint_is_written(tmp_path: Path, monkeypatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    (after,) = fit(tmp_path, [0.5])
    assert after["last.ckpt"][0] != after["best-e0.ckpt"][0]
    assert after["last.ckpt"][1] == after["best-e0.ckpt"][1] == STEPS_PER_EPOCH


def test_state_key_is_model_checkpoints_so_checkpoints_load_into_either() -> None:
    for kwargs in ({"monitor": "val/loss", "mode": "min"}, {"every_n_train_steps": 50}, {}):
        assert LinkingCheckpoint(**kwargs).state_key == ModelCheckpoint(**kwargs).state_key


def test_atomic_link_replaces_the_target_and_the_names_stay_independent(tmp_path: Path) -> None:
    a, b = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    atomic_torch_save({"x": 1}, a)
    atomic_torch_save({"x": 2}, b)
    assert atomic_link(a, b) and b.stat().st_ino == a.stat().st_ino
    assert torch.load(b, weights_only=True) == {"x": 1}
    atomic_torch_save({"x": 3}, b)  # replacing one name
    assert torch.load(a, weights_only=True) == {"x": 1} and torch.load(b, weights_only=True) == {"x": 3}
    assert atomic_link(a, b)
    a.unlink()  # deleting the other
    assert torch.load(b, weights_only=True) == {"x": 1}
    assert not atomic_link(tmp_path / "missing.ckpt", b) and torch.load(b, weights_only=True) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.ckpt"]
