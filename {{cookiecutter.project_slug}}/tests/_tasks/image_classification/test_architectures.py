"""The architecture experiments (`-e convnext`, `-e vit`) train a few steps through the train command and
export: the export, rebuilt by labblocks alone, holds the best checkpoint's network and runs on a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from labblocks.run.export import load_module

from {{cookiecutter.module_name}}.__main__ import main

KEY = "timm/model@v1"


@pytest.mark.parametrize("experiment", ["convnext", "vit"])
def test_architecture_experiment_trains_and_exports(experiment: str, tmp_path: Path) -> None:
    layers = ["-e", "fast", "-e", experiment, "--name", experiment, f"run.output_dir={tmp_path}"]
    assert main(["train", *layers, "logger.kind=csv", "trainer.limit_train_batches=2"]) == 0
    out = tmp_path / "export"
    assert main(["export", *layers, "--out", str(out)]) == 0
    meta = json.loads((out / "labblocks.json").read_text())
    assert meta["key"] == KEY

    best = next((tmp_path / experiment / "checkpoints").glob("epoch*.ckpt"))
    saved = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    net = load_module(out)
    exported = net.state_dict()
    assert exported.keys() == {k.removeprefix("net.") for k in saved if k.startswith("net.")}
    assert all(torch.equal(v, saved[f"net.{k}"]) for k, v in exported.items())
    classes = json.loads((out / "preprocessing.json").read_text())["class_names"]
    side = yaml.safe_load((out / "config.yaml").read_text())["data"]["image_size"]
    x = torch.randn(2, meta["args"]["in_chans"], side, side)  # (B, C, H, W) -> (B, K)
    with torch.no_grad():
        assert net(x).shape == (2, len(classes))
