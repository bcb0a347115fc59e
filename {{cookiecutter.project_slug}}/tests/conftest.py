"""Shared fixtures. Tests never reach W&B: WANDB_MODE=disabled unless a test sets offline itself."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

from {{cookiecutter.module_name}}.config import load_config

os.environ.setdefault("WANDB_MODE", "disabled")  # before any test imports wandb
os.environ.setdefault("WANDB_SILENT", "true")

@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """`make_cfg(*overrides, name=..., experiments=[...])`: configs/experiment/fast.yaml (after any other
    experiments given), writing runs under tmp_path. In-process runs log to CSV: W&B keeps per-process
    state, so the W&B runs of the tests (test_train_e2e, test_sweep) are the only ones in their process."""

    def make(*overrides: str, name: str = "test", experiments: tuple[str, ...] = ()) -> DictConfig:
        flags = {"run.output_dir": str(tmp_path / "runs"), "run.name": name, "logger.kind": "csv"}
        return load_config(experiment=[*experiments, "fast"], flags=flags, overrides=list(overrides))

    return make
