"""Shared fixtures. Tests never reach W&B: WANDB_MODE=disabled unless a test sets offline itself."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

from omegaconf import DictConfig  # noqa: E402

from {{cookiecutter.module_name}}.config import load_config  # noqa: E402

# Small, fast settings shared by the tests that train (on top of configs/experiment/fast.yaml).
TEST_OVERRIDES = ("data.image_size=16", "data.batch_size=16", "trainer.limit_train_batches=0.05")


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """`make_cfg(*overrides, name=...)`: the fast experiment, writing runs under tmp_path."""

    def make(*overrides: str, name: str = "test", experiment: str = "fast") -> DictConfig:
        flags = {"run.output_dir": str(tmp_path / "runs"), "run.name": name}
        return load_config(experiment=experiment, flags=flags, overrides=[*TEST_OVERRIDES, *overrides])

    return make
