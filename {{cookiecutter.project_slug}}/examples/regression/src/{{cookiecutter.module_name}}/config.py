"""The config schema: the only place for defaults, with each field's documentation beside it.

This project's own sections are here (data in data_config.py); the sections every project has (run, trainer,
checkpoint, early_stopping, logger, lr_find, cluster) come from labblocks.run.schema. `configs/default.yaml`
holds only what differs from these defaults (a test keeps it so). Layers and their order: labblocks.run.config.
Nothing here imports torch, so `--help` and a config error cost well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import labblocks
from labblocks.run import schema
from labblocks.run.config import Choice, Request
from labblocks.run.project import Project
from omegaconf import DictConfig

from {{cookiecutter.module_name}}.data_config import DataConfig, supplied_net_args, validate_data

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
METRICS = ("train/loss", "train/mae", "val/loss", "val/mae")  # what the model logs


class Optimizer(Choice):
    adamw = "adamw"
    adam = "adam"
    sgd = "sgd"


class Schedule(Choice):
    cosine = "cosine"  # linear warmup, then cosine decay to min_lr_ratio * lr
    onecycle = "onecycle"  # warmup over the first 30 % of the run, then cosine decay (Smith's one-cycle shape)
    constant = "constant"


@dataclass
class ModelConfig:
    # A labblocks node: `block` is a registry key (`labblocks list`), the rest its arguments. The arguments
    # that the data determines (data_config.supplied_net_args) are filled in at build time.
    net: dict[str, Any] = field(default_factory=dict)
    compile: bool = False  # torch.compile the network in place (state_dict keys unchanged)


@dataclass
class OptimConfig:
    name: Optimizer = Optimizer.adamw
    lr: float = 2e-3  # peak learning rate (`lr-find` suggests one)
    weight_decay: float = 0.05  # not applied to biases and norm parameters
    momentum: float = 0.9  # sgd only (Nesterov)
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # adam and adamw


@dataclass
class SchedulerConfig:
    name: Schedule = Schedule.cosine
    warmup_steps: int = 40  # optimizer steps of linear warmup (cosine)
    min_lr_ratio: float = 0.01  # the cosine schedule ends at min_lr_ratio * lr


@dataclass
class Config:
    run: schema.RunConfig = field(default_factory=schema.RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    trainer: schema.TrainerConfig = field(default_factory=schema.TrainerConfig)
    checkpoint: schema.CheckpointConfig = field(default_factory=schema.CheckpointConfig)
    early_stopping: schema.EarlyStoppingConfig = field(default_factory=schema.EarlyStoppingConfig)
    logger: schema.LoggerConfig = field(default_factory=schema.LoggerConfig)
    lr_find: schema.LRFindConfig = field(default_factory=schema.LRFindConfig)
    cluster: schema.ClusterConfig = field(default_factory=schema.ClusterConfig)


def checks(cfg: DictConfig) -> list[tuple[str, str]]:
    """This project's checks beyond types: the network node against labblocks' manifest, optimizer and
    schedule ranges, the data section. (key, what is wrong and what would be right) pairs."""
    problems: list[tuple[str, str]] = []
    net = cfg.model.net
    if not net or "block" not in net:
        problems.append(("model.net", "missing; it needs `block: <labblocks key>` and the block's arguments"))
    else:  # this project's own keys come from its blocks.py, a labblocks plugin
        try:
            labblocks.validate(net, path="model.net", supplied=supplied_net_args(str(net.block)))
        except labblocks.LabblocksError as e:
            problems.append(("model.net", str(e)))
    if cfg.optim.lr <= 0:
        problems.append(("optim.lr", f"{cfg.optim.lr!r} must be > 0"))
    if cfg.scheduler.warmup_steps < 0:
        problems.append(("scheduler.warmup_steps", f"{cfg.scheduler.warmup_steps!r} must be >= 0"))
    return problems + validate_data(cfg.data)


PROJECT = Project(
    module="{{cookiecutter.module_name}}",
    prog="{{cookiecutter.project_slug}}",
    schema=Config,
    config_dir=CONFIG_DIR,
    metrics=METRICS,
    wiring="{{cookiecutter.module_name}}.train",
    checks=checks,
)


def load_config(
    config: str | Path | None = None,
    experiment: str | list[str] | None = None,
    flags: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    extra: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> DictConfig:
    """The validated config of these layers (for notebooks and tests; the commands build the same Request)."""
    experiments = [experiment] if isinstance(experiment, str) else list(experiment or [])
    request = Request(str(config) if config else None, experiments, dict(flags or {}), list(overrides))
    return PROJECT.load(request, extra)
