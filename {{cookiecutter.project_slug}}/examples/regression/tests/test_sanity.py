"""The habits that save weeks, for the regression: an untrained model's loss near that of predicting the
mean, overfitting one batch, checkpoints that restore everything, bitwise resume, and seeds that determine
the run. All through the project's own build functions and labblocks' train command."""

from __future__ import annotations

from pathlib import Path

import labblocks
import torch
from labblocks.run.fit import train
from labblocks.testing.sanity import (
    assert_checkpoint_roundtrip,
    assert_overfits_one_batch,
    assert_resume_equivalent,
    assert_seed_deterministic,
    initial_loss,
)
from torch import nn

from {{cookiecutter.module_name}}.config import PROJECT
from {{cookiecutter.module_name}}.train import build_datamodule, build_model

INITIAL_LOSS_TOLERANCE = 0.5  # |loss - mean(y^2)| <= 50% of mean(y^2)


def _module_and_batch(cfg, split: str = "train"):
    dm = build_datamodule(cfg)
    module = build_model(cfg, dm)
    loader = dm.train_dataloader() if split == "train" else dm.val_dataloader()
    return module, dm, next(iter(loader))


def assert_initial_mse(module, batch, rel_tol: float = INITIAL_LOSS_TOLERANCE) -> float:
    """An untrained regressor predicts about the training mean (0, the targets are standardised), so its MSE
    is about mean(y^2): far above means an output layer that starts too large; far below, a target that leaks
    into the inputs or a wrong loss."""
    expected = float(batch[1].pow(2).mean())
    loss = initial_loss(module, batch)
    if abs(loss - expected) > rel_tol * expected:
        raise AssertionError(f"initial loss {loss:.4f} is not within {rel_tol:.0%} of mean(y^2) = {expected:.4f}")
    return loss


def test_initial_loss_is_near_predicting_the_mean(make_cfg) -> None:
    module, _, batch = _module_and_batch(make_cfg("data.batch_size=64"))
    loss = assert_initial_mse(module, batch)
    print(f"initial loss {loss:.4f} vs mean(y^2) = {float(batch[1].pow(2).mean()):.4f}")


def test_initial_loss_check_can_fail(make_cfg) -> None:
    """The check is not vacuous: an output layer scaled up 1000x makes the untrained predictions huge."""
    module, _, batch = _module_and_batch(make_cfg("data.batch_size=64"))
    last_linear = [m for m in module.net.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last_linear.weight.mul_(1000.0)
    try:
        assert_initial_mse(module, batch)
    except AssertionError as e:
        assert "initial loss" in str(e)
    else:
        raise AssertionError("a 1000x output layer should have failed the initial-loss check")


def test_overfits_one_batch(make_cfg) -> None:
    # One validation batch of 16 rows (the same every step), the project's own model, optimizer and schedule
    # at a higher learning rate without warmup; dropout off.
    cfg = make_cfg("data.batch_size=16", "optim.lr=1e-2", "scheduler.warmup_steps=0")
    module, _, batch = _module_and_batch(cfg, split="val")
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    losses = assert_overfits_one_batch(module, batch, steps=200, max_loss=0.05)
    assert losses[-1] < losses[0] / 10


def test_checkpoint_roundtrip_restores_everything(make_cfg, tmp_path: Path) -> None:
    def fit(extra, ckpt_path):
        name = "saved" if ckpt_path is None else "restored"
        return train(PROJECT, make_cfg(name=name), extra_callbacks=extra, ckpt_path=ckpt_path, test=False).trainer

    ckpt = assert_checkpoint_roundtrip(fit, tmp_path / "roundtrip.ckpt", steps=2)
    # The checkpoint describes itself: config, seed, the data's standardisation, and the labblocks block
    # behind `net`, which rebuilds from the metadata alone and takes the weights exactly.
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    assert ckpt["seed"] == cfg.run.seed and ckpt["project"] == "{{cookiecutter.module_name}}"
    assert ckpt["config"]["checkpoint"]["monitor"] == "val/loss"
    assert ckpt[type(dm).__qualname__] == dm.state_dict()
    meta = ckpt["labblocks"]["modules"]["net"]
    assert meta["key"] == "core/mlp@v1" and dm.net_args(meta["key"]).items() <= meta["args"].items()
    net = labblocks.rebuild(meta)
    net.load_state_dict({k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")})


def test_resume_equivalence_bitwise(make_cfg, tmp_path: Path) -> None:
    """2 epochs straight == 1 epoch, a crash, then the same command again (which resumes)."""

    def fit(run_dir: Path, extra):
        return train(
            PROJECT, make_cfg("trainer.max_epochs=2", name=run_dir.name), extra_callbacks=extra, test=False
        ).trainer

    assert_resume_equivalent(fit, tmp_path, interrupt_after=1)


def test_seed_determinism(make_cfg, tmp_path: Path) -> None:
    def fit(seed: int, run_dir: Path):
        return train(PROJECT, make_cfg(f"run.seed={seed}", name=run_dir.name), test=False).trainer

    assert_seed_deterministic(fit, tmp_path, seeds=(0, 1))
