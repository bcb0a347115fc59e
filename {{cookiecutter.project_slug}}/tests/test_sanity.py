"""The habits that save weeks: initial loss near ln K, overfitting one batch, checkpoints that restore
everything, bitwise resume, and seeds that determine the run. All through the train command's own code
(labblocks.run.fit with this project's build functions)."""

from __future__ import annotations

import math
from pathlib import Path

import labblocks
import torch
from labblocks.run.fit import train
from labblocks.testing.sanity import (
    assert_checkpoint_roundtrip,
    assert_initial_loss,
    assert_overfits_one_batch,
    assert_resume_equivalent,
    assert_seed_deterministic,
)
from torch import nn

from {{cookiecutter.module_name}}.config import PROJECT
from {{cookiecutter.module_name}}.train import build_datamodule, build_model

INITIAL_LOSS_TOLERANCE = 0.15  # |loss - ln K| <= 15% of ln K


def _module_and_batch(cfg, augment: bool = True):
    dm = build_datamodule(cfg)
    module = build_model(cfg, dm)
    dm.setup("fit")
    loader = dm.train_dataloader() if augment else dm.val_dataloader()
    return module, dm, next(iter(loader))


def test_initial_loss_is_near_ln_k(make_cfg) -> None:
    module, dm, batch = _module_and_batch(make_cfg("data.batch_size=64"))
    loss = assert_initial_loss(module, batch, dm.num_classes, rel_tol=INITIAL_LOSS_TOLERANCE)
    print(f"initial loss {loss:.4f} vs ln({dm.num_classes}) = {math.log(dm.num_classes):.4f}")


def test_initial_loss_check_can_fail(make_cfg) -> None:
    """The check is not vacuous: an output layer scaled up 1000x makes the untrained model overconfident (50x
    was not always enough for a small Transformer, whose pooled features are small)."""
    module, dm, batch = _module_and_batch(make_cfg("data.batch_size=64"))
    last_linear = [m for m in module.net.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last_linear.weight.mul_(1000.0)
    try:
        assert_initial_loss(module, batch, dm.num_classes, rel_tol=INITIAL_LOSS_TOLERANCE)
    except AssertionError as e:
        assert "initial loss" in str(e)
    else:
        raise AssertionError("a 1000x output layer should have failed the initial-loss check")


def test_overfits_one_batch(make_cfg) -> None:
    # One batch without augmentation, the project's own model, optimizer and schedule; dropout off.
    module, _, batch = _module_and_batch(make_cfg(), augment=False)
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    losses = assert_overfits_one_batch(module, batch, steps=40, max_loss=0.05)
    assert losses[-1] < losses[0] / 10


def test_checkpoint_roundtrip_restores_everything(make_cfg, tmp_path: Path) -> None:
    def fit(extra, ckpt_path):
        name = "saved" if ckpt_path is None else "restored"
        return train(PROJECT, make_cfg(name=name), extra_callbacks=extra, ckpt_path=ckpt_path, test=False).trainer

    ckpt = assert_checkpoint_roundtrip(fit, tmp_path / "roundtrip.ckpt", steps=2)
    # The checkpoint describes itself: config, seed, commit, the data's fitted state (if any) and the
    # labblocks block behind `net`, which rebuilds from the metadata alone and takes the weights exactly.
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    build_model(cfg, dm)  # the data's preprocessing follows the model
    assert ckpt["seed"] == cfg.run.seed and "git_commit" in ckpt
    assert ckpt["project"] == "{{cookiecutter.module_name}}"
    assert ckpt["config"]["model"]["net"]["block"] == labblocks.pin({**cfg.model.net})["block"]
    if dm.state_dict():
        assert ckpt[type(dm).__qualname__] == dm.state_dict()
    meta = ckpt["labblocks"]["modules"]["net"]
    for key, value in dm.net_args(meta["key"]).items():
        assert (value.items() <= meta["args"][key].items()) if isinstance(value, dict) else meta["args"][key] == value
    net = labblocks.rebuild(meta)
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(weights)


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


def test_the_data_stands_alone_without_the_network(make_cfg, monkeypatch) -> None:
    """The DataModule is built, set up and iterated from the config alone (a notebook, a look at the batches):
    nothing builds the network on the way."""

    def no_network(*args, **kwargs):
        raise AssertionError("the data built the network")

    monkeypatch.setattr(labblocks, "build", no_network)
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    dm.setup("fit")
    *inputs, y = next(iter(dm.train_dataloader()))
    assert y.shape == (cfg.data.batch_size,) and all(len(x) == cfg.data.batch_size for x in inputs)
