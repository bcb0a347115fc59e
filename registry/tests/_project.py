"""A tiny project's schema for the tests of labblocks.run: the shared sections and one of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from labblocks.run import schema


@dataclass
class Optim:
    lr: float = 1e-3
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])


@dataclass
class Schema:
    run: schema.RunConfig = field(default_factory=schema.RunConfig)
    optim: Optim = field(default_factory=Optim)
    trainer: schema.TrainerConfig = field(default_factory=schema.TrainerConfig)
    checkpoint: schema.CheckpointConfig = field(default_factory=schema.CheckpointConfig)
    early_stopping: schema.EarlyStoppingConfig = field(default_factory=schema.EarlyStoppingConfig)
    logger: schema.LoggerConfig = field(default_factory=schema.LoggerConfig)
    lr_find: schema.LRFindConfig = field(default_factory=schema.LRFindConfig)
    cluster: schema.ClusterConfig = field(default_factory=schema.ClusterConfig)
