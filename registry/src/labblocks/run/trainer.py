"""The logger, the callbacks every project has and the Lightning Trainer, built from the shared config
sections (labblocks.run.schema). A project adds its task's own callbacks (samples, predictions)."""

from __future__ import annotations

import dataclasses
import netrc
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint, ModelSummary
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger
from omegaconf import DictConfig

from labblocks.run.config import list_values, value_of
from labblocks.run.project import Project
from labblocks.run.resume import checkpoint_dir
from labblocks.run.rundir import git_commit, wandb_run_id
from labblocks.run.schema import TrainerConfig
from labblocks.train.callbacks import (
    LinkingCheckpoint,
    LoaderPosition,
    ProgressBar,
    RNGState,
    RunMetadata,
    SignalCheckpoint,
    WatchModel,
)
from labblocks.train.checkpoints.lightning_io import AtomicCheckpointIO
from labblocks.train.profiler import NullProfiler
from labblocks.train.runlock import is_rank_zero

DETERMINISTIC = {"on": True, "warn": "warn", "off": False}


def wandb_mode(cfg: DictConfig) -> str:
    """$WANDB_MODE if set; else logger.mode, where `auto` means online only if an API key is configured."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    mode = value_of(cfg.logger.mode)
    if mode != "auto":
        return mode
    try:
        has_netrc = netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        has_netrc = False
    return "online" if os.environ.get("WANDB_API_KEY") or has_netrc else "offline"


def build_logger(cfg: DictConfig, run_dir: Path, config: dict[str, Any]) -> Logger:
    """The logger of `logger.kind`, writing into the run directory, with the recorded config as hyperparameters."""
    kind = value_of(cfg.logger.kind)
    if kind == "wandb":
        logger: Logger = WandbLogger(
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            group=cfg.logger.group,
            name=cfg.run.name,
            # kept in the run directory: a rerun continues the same W&B run (rank 0 owns the W&B run)
            id=wandb_run_id(run_dir) if is_rank_zero() else None,
            resume="allow",
            save_dir=str(run_dir),
            mode=wandb_mode(cfg),
            notes=cfg.logger.notes or None,
            tags=list(cfg.logger.tags),
            job_type="train",
        )
    elif kind == "tensorboard":
        logger = TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version="", default_hp_metric=False)
    else:
        logger = CSVLogger(save_dir=str(run_dir), name="csv")  # version_N per attempt; steps continue
    logger.log_hyperparams(config)
    return logger


def checkpoint_filename(monitor: str) -> str:
    """The top-k checkpoints' file name pattern, after the monitored metric: `epoch003-val_acc0.9812`."""
    return f"epoch{{epoch:03d}}-{monitor.replace('/', '_')}{{{monitor}:.4f}}"


def build_callbacks(
    cfg: DictConfig, run_dir: Path, config: dict[str, Any], project: Project, logging: bool
) -> list[Callback]:
    """Checkpoints (top-k, last, mid-epoch, on a signal), the state a bitwise resume needs, the model summary,
    progress, early stopping and, with a logger, the learning rate and W&B's watch."""
    ck = cfg.checkpoint
    checkpoint = LinkingCheckpoint if ck.link_last else ModelCheckpoint
    folder = checkpoint_dir(run_dir)
    callbacks: list[Callback] = [
        checkpoint(  # the best top-k by the monitored metric (first: it is trainer.checkpoint_callback)
            dirpath=folder,
            filename=checkpoint_filename(ck.monitor),
            auto_insert_metric_name=False,
            monitor=ck.monitor,
            mode=value_of(ck.mode),
            save_top_k=ck.save_top_k,
            every_n_epochs=ck.every_n_epochs,
        ),
        # last.ckpt is always the newest state, whatever the metric did: callbacks of its own with no monitor
        # (Lightning's save_last only refreshes it on a step where a top-k checkpoint is also saved).
        _last(folder, checkpoint, every_n_epochs=1),
        RNGState(),
        LoaderPosition(),
        RunMetadata(config, cfg.run.seed, git_commit(project.root), project=project.module),
        ModelSummary(max_depth=1),  # parameters, FLOPs, input and output sizes (from example_input_array)
    ]
    if cfg.trainer.enable_progress_bar:
        callbacks.append(ProgressBar(interval=0.5))  # redrawn twice a second
    if ck.every_n_train_steps:  # and mid-epoch (Lightning takes steps or epochs per callback, not both)
        callbacks.append(_last(folder, checkpoint, every_n_train_steps=ck.every_n_train_steps))
    if ck.save_on_signal:
        callbacks.append(SignalCheckpoint(folder / "last.ckpt"))
    es = cfg.early_stopping
    if es.enabled:  # checked after validation only: a run cut short by max_steps mid-epoch has no val metric
        callbacks.append(
            EarlyStopping(
                monitor=es.monitor,
                mode=value_of(es.mode),
                patience=es.patience,
                min_delta=es.min_delta,
                check_on_train_epoch_end=False,
            )
        )
    if logging:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
        if value_of(cfg.logger.kind) in ("wandb", "tensorboard") and cfg.logger.watch:
            callbacks.append(WatchModel(log=cfg.logger.watch, log_freq=cfg.logger.watch_log_freq))
    return callbacks


def _last(folder: Path, checkpoint: type[ModelCheckpoint], **every: int) -> ModelCheckpoint:
    """A callback that writes the newest training state to last.ckpt (every epoch or N steps)."""
    return checkpoint(dirpath=folder, filename="last", save_top_k=1, enable_version_counter=False, **every)


def trainer_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """Every `trainer:` key as the Lightning Trainer argument of the same name."""
    t = cfg.trainer
    kwargs = {f.name: value_of(t[f.name]) for f in dataclasses.fields(TrainerConfig)}
    kwargs["deterministic"] = DETERMINISTIC[kwargs["deterministic"]]
    # "none": a profiler that records nothing, cheaper per hook call than Lightning's default one
    kwargs["profiler"] = NullProfiler() if kwargs["profiler"] == "none" else kwargs["profiler"]
    kwargs["devices"] = list_values(t.devices)
    return kwargs


def build_trainer(cfg: DictConfig, run_dir: Path, logger: Logger | None, callbacks: Sequence[Callback]) -> L.Trainer:
    return L.Trainer(
        default_root_dir=run_dir,
        logger=logger if logger is not None else False,
        callbacks=list(callbacks),
        plugins=[AtomicCheckpointIO()],  # a kill while saving never leaves a half-written checkpoint
        use_distributed_sampler=False,  # the DataModule shards with its own seeded, resumable sampler
        **trainer_kwargs(cfg),
    )
