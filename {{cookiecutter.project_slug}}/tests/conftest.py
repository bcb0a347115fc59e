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
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two pytest-xdist workers: one torch thread each (this process and the train commands
    # the tests start), so that the workers do not fight over two cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` first, so that parallel workers do not wait on one long test at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """`make_cfg(*overrides, name=..., experiments=[...])`: configs/experiment/fast.yaml (after any other
    experiments given), writing runs under tmp_path. In-process runs log to CSV: W&B keeps per-process
    state, so the W&B runs of the tests (test_train_e2e, test_sweep) are the only ones in their process."""

    def make(*overrides: str, name: str = "test", experiments: tuple[str, ...] = ()) -> DictConfig:
        flags = {"run.output_dir": str(tmp_path / "runs"), "run.name": name, "logger.kind": "csv"}
        return load_config(experiment=[*experiments, "fast"], flags=flags, overrides=list(overrides))

    return make


@pytest.fixture
def tiny_cfg(make_cfg: Callable[..., DictConfig]) -> Callable[..., DictConfig]:
    """`make_cfg` with this project's small network (`-e tiny`), for tests of the training machinery
    (loops, checkpoints, resume, signals, evaluation): what they check does not depend on the network's size,
    a bug in that machinery fails them with any network, and checkpoints shrink from ~130 MB to ~1 MB."""

    def make(*overrides: str, name: str = "test", experiments: tuple[str, ...] = ()) -> DictConfig:
        return make_cfg(*overrides, name=name, experiments=("tiny", *experiments))

    return make
