"""`CallbackGroup` (callbacks Lightning dispatches as one, their checkpoint state under the one stateful member's
key) and `LeanCheckpoint` (ModelCheckpoint with no work on the steps where it saves nothing); and the run's
callbacks as `build_callbacks` groups them. Real Trainer fits of the tiny model."""

from __future__ import annotations

import signal
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from _tiny import TinyModel
from lightning.pytorch import Callback
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint, ModelSummary
from test_resume_callbacks import SendAt, loader, trainer

from labblocks.run.config import Request
from labblocks.run.trainer import build_callbacks
from labblocks.train.callbacks import (
    CallbackGroup,
    LeanCheckpoint,
    LoaderPosition,
    ProgressBar,
    RNGState,
    RunMetadata,
    SignalCheckpoint,
    TrainingInterrupted,
)


class Calls(Callback):
    """Records (name, hook) for the hooks it implements."""

    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.log = name, log

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.log.append((self.name, "on_train_batch_end"))

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.log.append((self.name, "on_train_start"))


class OnlyAtStart(Callback):
    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.log.append(("start", "on_train_start"))


class Stateful(Callback):
    def state_dict(self) -> dict[str, Any]:
        return {"x": 1}


def test_each_hook_calls_the_members_that_implement_it_in_order(tmp_path: Path) -> None:
    log: list[tuple[str, str]] = []
    group = CallbackGroup([Calls("a", log), OnlyAtStart(log), Calls("b", log)])
    assert [len(group._calls[h]) for h in ("on_train_start", "on_train_batch_end", "on_before_backward")] == [3, 2, 0]
    trainer(tmp_path, group, max_steps=2).fit(TinyModel(), train_dataloaders=loader())
    assert log == [
        ("a", "on_train_start"),
        ("start", "on_train_start"),
        ("b", "on_train_start"),
        ("a", "on_train_batch_end"),
        ("b", "on_train_batch_end"),
        ("a", "on_train_batch_end"),
        ("b", "on_train_batch_end"),
    ]


def test_the_state_is_the_stateful_members_under_its_key() -> None:
    rng = RNGState()
    group = CallbackGroup([LoaderPosition(), rng, RunMetadata({}, seed=0, git_commit=None)])
    assert group.state_key == rng.state_key == "RNGState"
    assert group.state_dict().keys() == rng.state_dict().keys() == {"format", "ranks"}
    plain = CallbackGroup([LoaderPosition(), OnlyAtStart([])])
    assert plain.state_dict() == {} and plain.state_key == "CallbackGroup[LoaderPosition,OnlyAtStart]"
    with pytest.raises(ValueError, match=r"one member may keep checkpoint state, not 2 \(RNGState, Stateful\)"):
        CallbackGroup([RNGState(), Stateful()])


def grouped(*more: Callback) -> CallbackGroup:
    return CallbackGroup([RNGState(), LoaderPosition(), RunMetadata({"a": 1}, seed=0, git_commit=None), *more])


def separate(*more: Callback) -> list[Callback]:
    return [RNGState(), LoaderPosition(), RunMetadata({"a": 1}, seed=0, git_commit=None), *more]


@pytest.mark.multisecond
@pytest.mark.parametrize("write, read", [(grouped, separate), (separate, grouped)], ids=["group-3", "3-group"])
def test_a_mid_epoch_checkpoint_resumes_bitwise_across_the_two_forms(tmp_path: Path, write: Any, read: Any) -> None:
    """Written with the group and resumed with the three callbacks on their own, or the other way round: the
    same checkpoint keys, and the resumed fit ends bitwise equal to an uninterrupted one."""

    def as_list(callbacks: Any) -> list[Callback]:
        return list(callbacks) if isinstance(callbacks, list) else [callbacks]

    L.seed_everything(0)
    straight = TinyModel()
    trainer(tmp_path / "a", *as_list(read())).fit(straight, train_dataloaders=loader())
    L.seed_everything(0)
    path = tmp_path / "b" / "last.ckpt"
    with pytest.raises(TrainingInterrupted):  # step 9 of 12: in the middle of the second epoch
        trainer(tmp_path / "b", *as_list(write(SignalCheckpoint(path))), SendAt(8, signal.SIGUSR1)).fit(
            TinyModel(), train_dataloaders=loader()
        )
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert {k for k in ckpt["callbacks"] if not k.startswith("ModelCheckpoint")} == {"RNGState"}  # Lightning's own
    assert ckpt["config"] == {"a": 1} and "combined_loader" in ckpt["loops"]["fit_loop"]["state_dict"]
    L.seed_everything(123)
    resumed = TinyModel()
    with warnings.catch_warnings():  # Lightning warns of checkpoint state no callback of the trainer takes
        warnings.filterwarnings("error", message=".*callbacks used to create the checkpoint.*")
        trainer(tmp_path / "c", *as_list(read())).fit(resumed, train_dataloaders=loader(), ckpt_path=str(path))
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {"monitor": "val/loss", "mode": "min"}),
        ((), {"every_n_train_steps": 50}),
        ((), {}),
        (("ckpts", "{epoch}"), {"train_time_interval": None, "every_n_epochs": 2}),
    ],
)
def test_lean_checkpoint_keeps_model_checkpoints_state_key(args: tuple, kwargs: dict[str, Any]) -> None:
    assert LeanCheckpoint(*args, **kwargs).state_key == ModelCheckpoint(*args, **kwargs).state_key


def test_an_epoch_only_lean_checkpoint_does_nothing_at_a_batch_end() -> None:
    # the trainer is not even read (ModelCheckpoint reads its state to decide to skip)
    LeanCheckpoint(every_n_epochs=1).on_train_batch_end(None, None, None, None, 0)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        LeanCheckpoint(every_n_train_steps=2).on_train_batch_end(None, None, None, None, 0)  # type: ignore[arg-type]


@pytest.mark.multisecond
def test_a_lean_checkpoint_every_n_steps_still_saves_mid_epoch(tmp_path: Path) -> None:
    steps = LeanCheckpoint(dirpath=tmp_path / "steps", filename="{step}", every_n_train_steps=4, save_top_k=-1)
    epochs = LeanCheckpoint(dirpath=tmp_path / "epochs", filename="{step}", save_top_k=-1)
    L.Trainer(
        default_root_dir=tmp_path,
        max_epochs=2,
        callbacks=[steps, epochs],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    ).fit(TinyModel(), train_dataloaders=loader())  # 6 steps per epoch
    assert sorted(p.name for p in (tmp_path / "steps").iterdir()) == ["step=12.ckpt", "step=4.ckpt", "step=8.ckpt"]
    assert sorted(p.name for p in (tmp_path / "epochs").iterdir()) == ["step=12.ckpt", "step=6.ckpt"]


def test_build_callbacks_groups_the_seldom_ones(tmp_path: Path) -> None:
    from test_run_commands import Schema

    from labblocks.run.project import Project

    configs = tmp_path / "configs"
    (configs / "experiment").mkdir(parents=True)
    (configs / "default.yaml").write_text("logger:\n  kind: csv\n")
    project = Project("tiny_lab", "tiny-lab", Schema, configs, ("val/acc", "val/loss"), "tiny_lab.wiring")
    cfg = project.load(Request(overrides=[f"run.output_dir={tmp_path}", "checkpoint.every_n_train_steps=10"]))
    callbacks = build_callbacks(cfg, tmp_path / "run", {}, project, logging=True)
    types = [type(c) for c in callbacks]
    assert types[:3] == [LeanCheckpoint, LeanCheckpoint, CallbackGroup]
    assert set(types[3:]) == {ProgressBar, LeanCheckpoint, EarlyStopping}  # Lightning finds these by type
    (group,) = [c for c in callbacks if isinstance(c, CallbackGroup)]
    members = [type(c) for c in group.callbacks]
    assert members == [RNGState, LoaderPosition, RunMetadata, ModelSummary, SignalCheckpoint, LearningRateMonitor]
    assert not {ProgressBar, LeanCheckpoint, EarlyStopping} & set(members)
    assert group.state_key == "RNGState"
