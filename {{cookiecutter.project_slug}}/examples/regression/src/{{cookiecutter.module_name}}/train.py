"""How a run is built from its config: the data, the network and its LightningModule, the task's own
callbacks. labblocks' `train` command (labblocks.run.fit) calls these four functions; the loop, checkpoints,
resuming, logging and the other commands are labblocks'. `python -m {{cookiecutter.module_name}}.train` is an
alias of `{{cookiecutter.project_slug}} train`.
"""

from __future__ import annotations

import sys
from typing import Any

import labblocks
from labblocks.run.cli import main
from labblocks.run.config import to_plain, value_of
from labblocks.run.errors import ConfigError
from labblocks.train.callbacks import SampleTable
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

import {{cookiecutter.module_name}}.blocks  # noqa: F401  (registers this project's own blocks)
from {{cookiecutter.module_name}}.config import PROJECT
from {{cookiecutter.module_name}}.data import DataModule
from {{cookiecutter.module_name}}.model import Regressor


def build_datamodule(cfg: DictConfig) -> DataModule:
    """The data alone: loaded, split and standardised without the network."""
    return DataModule(cfg.data, seed=cfg.run.seed)


def net_node(cfg: DictConfig, dm: DataModule) -> dict[str, Any]:
    """The complete `model.net` node: the config's arguments plus the data's, pinned, defaults filled."""
    node = OmegaConf.to_container(cfg.model.net, resolve=True)
    return labblocks.pin(with_data_args(node, dm.net_args(str(node["block"]))))


def with_data_args(node: dict[str, Any], supplied: dict[str, Any], path: str = "model.net") -> dict[str, Any]:
    """`node` with the data's arguments added (dicts merged key by key). A value the config sets differently
    from the data is an error: the data decides it."""
    out = dict(node)
    for key, value in supplied.items():
        where = f"{path}.{key}"
        if isinstance(value, dict):
            out[key] = with_data_args(dict(out.get(key) or {}), value, where)
        elif key in out and out[key] != value:
            raise ConfigError(f"{where}: {out[key]!r} in the config, but the data gives {value!r}; remove it")
        else:
            out[key] = value
    return out


def build_model(cfg: DictConfig, dm: DataModule) -> Regressor:
    """The network from `model.net` (through labblocks) in the LightningModule, with plain values."""
    net = labblocks.build(net_node(cfg, dm), path="model.net")
    if cfg.model.compile:
        net.compile()
    o, s = cfg.optim, cfg.scheduler
    return Regressor(
        net,
        optimizer=value_of(o.name),
        lr=o.lr,
        weight_decay=o.weight_decay,
        betas=tuple(o.betas),
        momentum=o.momentum,
        schedule=value_of(s.name),
        warmup_steps=s.warmup_steps,
        min_lr_ratio=s.min_lr_ratio,
        target_std=dm.stats["y_std"],  # mae in the target's own units
        example_input=dm.example_input(),
    )


def recorded_config(cfg: DictConfig, dm: DataModule) -> dict[str, Any]:
    """The config as recorded with the run: plain data, with `model.net` pinned and complete."""
    plain = to_plain(cfg)
    plain["model"]["net"] = net_node(cfg, dm)
    return plain


def task_callbacks(cfg: DictConfig, dm: DataModule, logger: Logger | None) -> list[Callback]:
    """With a logger: a table of training rows (features and target, in the data's units) before training."""
    if logger is None or cfg.logger.sample_rows == 0:
        return []
    return [SampleTable(dm.render_samples, rows=cfg.logger.sample_rows)]


if __name__ == "__main__":
    sys.exit(main(PROJECT, ["train", *sys.argv[1:]]))
