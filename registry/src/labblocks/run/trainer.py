"""The logger, the callbacks every project has and the Lightning Trainer, built from the shared config
sections (labblocks.run.schema). A project adds its task's own callbacks (samples, predictions)."""

from __future__ import annotations

import dataclasses
import logging
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
    CallbackGroup,
    LeanCheckpoint,
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


def wandb_logger(save_dir: str, **init: Any) -> WandbLogger:
    """Lightning's WandbLogger on a W&B run started here, on rank 0, by `wandb.init(dir=save_dir, **init)`
    with exactly these arguments (Lightning's own start adds `anonymous`, which W&B warns about on every
    run), and the step axis Lightning would set (`trainer/global_step`)."""
    run = None
    if is_rank_zero():  # the other ranks log nothing: Lightning hands them a dummy experiment
        import wandb  # here, not at the top: only runs with logger.kind wandb pay for W&B's slow import

        run = wandb.init(dir=save_dir, **init)
        run.define_metric("trainer/global_step")
        run.define_metric("*", step_metric="trainer/global_step", step_sync=True)
    return WandbLogger(experiment=run, save_dir=save_dir, **init)


def build_logger(cfg: DictConfig, run_dir: Path, config: dict[str, Any]) -> Logger:
    """The logger of `logger.kind`, writing into the run directory, with the recorded config as hyperparameters."""
    kind = value_of(cfg.logger.kind)
    if kind == "wandb":
        logger: Logger = wandb_logger(
            str(run_dir),
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            group=cfg.logger.group,
            name=cfg.run.name,
            # kept in the run directory: a rerun continues the same W&B run (rank 0 owns the W&B run)
            id=wandb_run_id(run_dir) if is_rank_zero() else None,
            resume="allow",
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
    """Checkpoints (top-k, last, mid-epoch, on a signal), the state a bitwise resume needs,
    progress, early stopping and, with a logger, the learning rate and W&B's watch.

    Lightning calls every callback for every hook of every step, so the callbacks that act seldom (on a
    checkpoint, at the start, every N steps) are one `CallbackGroup`; their checkpoint state is still the
    RNG states under `RNGState`'s key. Checkpoints, the summary, the progress bar and early stopping stay
    apart: Lightning finds them by type."""
    ck = cfg.checkpoint
    checkpoint = LinkingCheckpoint if ck.link_last else LeanCheckpoint
    folder = checkpoint_dir(run_dir)
    seldom: list[Callback] = [  # the state a bitwise resume needs, and what makes a checkpoint self-describing
        RNGState(),
        LoaderPosition(),
        RunMetadata(config, cfg.run.seed, git_commit(project.root), project=project.module),
        ModelSummary(max_depth=1),  # parameters, FLOPs, input and output sizes; the Trainer adds no other
    ]
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
    ]
    if cfg.trainer.enable_progress_bar:
        callbacks.append(ProgressBar(interval=0.5))  # redrawn twice a second
    if ck.every_n_train_steps:  # and mid-epoch (Lightning takes steps or epochs per callback, not both)
        callbacks.append(_last(folder, checkpoint, every_n_train_steps=ck.every_n_train_steps))
    if ck.save_on_signal:
        seldom.append(SignalCheckpoint(folder / "last.ckpt"))
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
        seldom.append(LearningRateMonitor(logging_interval="step"))
        if value_of(cfg.logger.kind) in ("wandb", "tensorboard") and cfg.logger.watch:
            seldom.append(WatchModel(log=cfg.logger.watch, log_freq=cfg.logger.watch_log_freq))
    callbacks.insert(2, CallbackGroup(seldom))  # after the checkpoints, where RNGState and the others were
    return callbacks


def _last(folder: Path, checkpoint: type[ModelCheckpoint], **every: int) -> ModelCheckpoint:
    """A callback that writes the newest training state to last.ckpt (every epoch or N steps)."""
    return checkpoint(dirpath=folder, filename="last", save_top_k=1, enable_version_counter=False, **every)


def trainer_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """The `trainer:` keys as the Lightning Trainer arguments of the same names, leaving out those that say
    what Lightning does anyway (an argument passed explicitly prints a line, even at its default)."""
    t = cfg.trainer
    kwargs = {f.name: value_of(t[f.name]) for f in dataclasses.fields(TrainerConfig)}
    kwargs["deterministic"] = DETERMINISTIC[kwargs["deterministic"]]
    # "none": a profiler that records nothing, cheaper per hook call than Lightning's default one
    kwargs["profiler"] = NullProfiler() if kwargs["profiler"] == "none" else kwargs["profiler"]
    kwargs["devices"] = list_values(t.devices)
    return {k: v for k, v in kwargs.items() if not _lightning_does(k, v)}


def _lightning_does(name: str, value: Any) -> bool:
    """Whether `value` is what Lightning does without the argument (types compared too: 1 batch is not 1.0)."""
    default = LIGHTNING_DOES.get(name, ...)
    return type(value) is type(default) and value == default


# Trainer arguments whose value here is what Lightning does when the argument is not passed
LIGHTNING_DOES = {
    **{f"limit_{split}_batches": 1.0 for split in ("train", "val", "test", "predict")},
    "overfit_batches": 0.0,
    "val_check_interval": 1.0,
    "check_val_every_n_epoch": 1,
    "fast_dev_run": False,
    "devices": "auto",
    "accelerator": "auto",
    "strategy": "auto",
    "num_nodes": 1,
    "precision": "32-true",
    "max_steps": -1,
    "min_epochs": None,
    "min_steps": None,
    "max_time": None,
    "num_sanity_val_steps": 2,
    "enable_progress_bar": True,
    "accumulate_grad_batches": 1,
    "gradient_clip_val": None,
    "gradient_clip_algorithm": "norm",
    "benchmark": False,
    "inference_mode": True,
    "detect_anomaly": False,
    "sync_batchnorm": False,
    "reload_dataloaders_every_n_epochs": 0,
}


def build_trainer(
    cfg: DictConfig,
    run_dir: Path,
    logger: Logger | None,
    callbacks: Sequence[Callback],
    epoch_batches: int | None = None,
) -> L.Trainer:
    """The Trainer; with `epoch_batches` (training batches per epoch), a logging interval no longer than an epoch
    (Lightning warns otherwise, and logs at most once per epoch)."""
    kwargs = trainer_kwargs(cfg)
    if epoch_batches:
        kwargs["log_every_n_steps"] = max(1, min(kwargs["log_every_n_steps"], epoch_batches))
    return L.Trainer(
        default_root_dir=run_dir,
        logger=logger if logger is not None else False,
        callbacks=list(callbacks),
        plugins=[AtomicCheckpointIO()],  # a kill while saving never leaves a half-written checkpoint
        use_distributed_sampler=False,  # the DataModule shards with its own seeded, resumable sampler
        enable_model_summary=False,  # the summary is build_callbacks' own (Lightning would pick another with rich)
        **kwargs,
    )


def check_trainer(cfg: DictConfig) -> None:
    """Let Lightning judge the accelerator, devices, strategy and precision before anything slow is built: a
    Trainer of these settings and nothing else (it raises what the real one would; its banner is not shown)."""
    banner = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    level = banner.level
    banner.setLevel(logging.WARNING)
    try:
        quiet = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False}
        L.Trainer(**{**trainer_kwargs(cfg), **quiet, "enable_model_summary": False})
    finally:
        banner.setLevel(level)
