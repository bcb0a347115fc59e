"""The config sections every project has, with their only defaults: run, trainer, checkpoint,
early_stopping, logger, lr_find and cluster, and the checks their types cannot express. A project's schema
adds its own sections (data, model, optim, ...) beside these. Imports no torch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from labblocks.run.config import Choice


class LoggerKind(Choice):
    wandb = "wandb"
    tensorboard = "tensorboard"
    csv = "csv"


class WandbMode(Choice):
    auto = "auto"  # online if an API key is configured, else offline
    offline = "offline"
    online = "online"
    disabled = "disabled"


class Precision(Choice):
    """Lightning's precision settings. `*-mixed` autocasts in the forward pass and keeps fp32 weights;
    `*-true` stores the weights in that type. 16-mixed falls back to bf16-mixed on CPU (Lightning)."""

    fp32 = "32-true"
    bf16_mixed = "bf16-mixed"
    fp16_mixed = "16-mixed"
    bf16_true = "bf16-true"
    fp16_true = "16-true"
    fp64 = "64-true"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed", "64": "64-true"}


class Strategy(Choice):
    auto = "auto"  # one device: single-device; several: ddp
    ddp = "ddp"  # one process per device, started by re-running the command (or by SLURM's tasks)
    ddp_spawn = "ddp_spawn"  # one process per device, started with multiprocessing spawn
    fsdp = "fsdp"  # fully sharded data parallel (large models)


class ClipAlgorithm(Choice):
    norm = "norm"
    value = "value"


class Determinism(Choice):
    on = "on"  # deterministic algorithms only; errors on ops that have none
    warn = "warn"  # deterministic where possible, a warning otherwise (CPU is fully deterministic)
    off = "off"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"true": "on", "false": "off", "yes": "on", "no": "off"}


class Profiler(Choice):
    none = "none"
    simple = "simple"
    advanced = "advanced"
    pytorch = "pytorch"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"null": "none", "off": "none", "false": "none"}


class Mode(Choice):
    min = "min"
    max = "max"


# -- the sections every project has ----------------------------------------------------------------


@dataclass
class RunConfig:
    name: str = "default"  # run directory: <output_dir>/<name>
    output_dir: str = "runs"  # where run directories go
    seed: int = 42  # seeds Python, NumPy, torch and the loaders (the data split has its own: data.split_seed)
    resume: bool = True  # rerunning in a run directory with checkpoints/last.ckpt resumes from it
    ckpt_path: str | None = None  # resume from this checkpoint instead


@dataclass
class TrainerConfig:
    """`lightning.Trainer` arguments with Lightning's own meaning (see TRAINER_ARGS_LEFT_OUT for the rest).
    `limit_*_batches`, `overfit_batches` and `val_check_interval` take a fraction (float, 1.0 = all) or a
    number of batches (int): `limit_train_batches: 1` is one batch, `1.0` is every batch."""

    accelerator: str = "auto"  # auto, cpu, gpu (cuda), mps
    strategy: Strategy = Strategy.auto
    devices: Any = "auto"  # "auto", a count, or a list of device ids
    num_nodes: int = 1
    precision: Precision = Precision.fp32
    fast_dev_run: bool | int = False  # true: 1 batch of train/val/test, no checkpoints or logs; N: N batches
    max_epochs: int | None = 10
    min_epochs: int | None = None
    max_steps: int = -1
    min_steps: int | None = None
    max_time: str | None = None  # stop after this wall time, "DD:HH:MM:SS"
    limit_train_batches: int | float = 1.0
    limit_val_batches: int | float = 1.0
    limit_test_batches: int | float = 1.0
    limit_predict_batches: int | float = 1.0
    overfit_batches: int | float = 0.0  # train (and validate) on this many training batches, unshuffled
    val_check_interval: int | float = 1.0  # validate every fraction of an epoch, or every N batches
    check_val_every_n_epoch: int | None = 1
    num_sanity_val_steps: int = 2
    log_every_n_steps: int = 50
    enable_progress_bar: bool = True
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = 1.0
    gradient_clip_algorithm: ClipAlgorithm = ClipAlgorithm.norm
    deterministic: Determinism = Determinism.warn
    benchmark: bool = False  # cudnn.benchmark: fastest conv algorithms for fixed input sizes
    inference_mode: bool = True
    profiler: Profiler = Profiler.none
    detect_anomaly: bool = False  # autograd anomaly detection: finds the op that made a NaN (slow)
    sync_batchnorm: bool = False
    reload_dataloaders_every_n_epochs: int = 0


# Trainer arguments that are not config keys, and why (a test checks this list against Lightning).
TRAINER_ARGS_LEFT_OUT = {
    "logger": "built from the logger: section",
    "callbacks": "built from the checkpoint:, early_stopping: and logger: sections",
    "plugins": "objects; the runner adds safe checkpoint writing and the cluster environment itself",
    "default_root_dir": "the run directory, run.output_dir/run.name",
    "enable_checkpointing": "always on: resuming needs checkpoints (see the checkpoint: section)",
    "enable_model_summary": "always on: the runner prints parameters, FLOPs and shapes",
    "use_distributed_sampler": "the DataModule shards the data itself, with a seeded, resumable sampler",
    "barebones": "turns off the logging, checkpoints and summaries this project is built on",
    "enable_autolog_hparams": "the runner logs the resolved config itself",
    "model_registry": "Lightning's cloud model registry (needs an account and a network)",
}


@dataclass
class CheckpointConfig:
    monitor: str = "val/acc"  # the metric that ranks checkpoints (and names their files)
    mode: Mode = Mode.max  # max or min: which way is better
    save_top_k: int = 2  # best checkpoints kept besides last.ckpt (-1: all)
    every_n_epochs: int = 1  # a top-k checkpoint is considered every N epochs
    # also write last.ckpt every N optimizer steps, mid-epoch (0: at the end of each epoch only)
    every_n_train_steps: int = 0
    # on SIGUSR1/SIGTERM (a cluster's preemption or time-limit warning) and Ctrl-C: write last.ckpt at
    # the next step and stop cleanly, so the same command resumes from that step
    save_on_signal: bool = True
    # after an epoch that sets a new best: last.ckpt as a hard link to that checkpoint, not a second write of
    # the same state (for large checkpoints; the two names then share one copy of the data on disk)
    link_last: bool = False


@dataclass
class EarlyStoppingConfig:
    enabled: bool = True  # stop when the monitored metric stops improving (checked after each validation)
    monitor: str = "val/loss"
    mode: Mode = Mode.min
    patience: int = 5  # validations without improvement before stopping
    min_delta: float = 0.0  # the least change that counts as an improvement


@dataclass
class LoggerConfig:
    kind: LoggerKind = LoggerKind.wandb  # wandb, tensorboard or csv (all write into the run directory)
    project: str = "labblocks"  # the W&B project; a project sets its own name
    entity: str | None = None  # W&B team or user (null: your default)
    group: str | None = None  # W&B run group (a search puts its trials in one group)
    mode: WandbMode = WandbMode.auto  # $WANDB_MODE wins when set (tests set "disabled")
    notes: str = ""  # W&B run notes
    tags: list[str] = field(default_factory=list)  # W&B run tags
    watch: str | None = "gradients"  # histograms every watch_log_freq steps: gradients, parameters, all, or null
    watch_log_freq: int = 100  # optimizer steps between watch histograms
    sample_rows: int = 16  # rows of the sample table logged before training (0 = none)
    prediction_rows: int = 8  # fixed validation examples whose predictions are logged every epoch (0 = none)
    histograms: bool = True  # per-class probability histograms after each validation epoch


@dataclass
class LRFindConfig:
    min_lr: float = 1e-6  # the range test starts here
    max_lr: float = 1.0  # and grows exponentially to here
    num_training: int = 100  # steps of the range test


@dataclass
class ClusterConfig:
    """SLURM job settings for the `submit` command (submitit)."""

    partition: str | None = None  # SLURM partition (null: the cluster's default)
    account: str | None = None  # SLURM account to charge
    qos: str | None = None  # SLURM quality of service
    constraint: str | None = None  # SLURM node features, e.g. a100
    nodes: int = 1  # nodes of the job; trainer.num_nodes follows
    gpus_per_node: int = 1  # one task (process) per GPU
    cpus_per_task: int = 8  # CPUs per process (data loading)
    mem_gb: int = 32  # per node
    time: str = "24:00:00"  # wall-time limit: "HH:MM:SS", "D-HH:MM:SS" or minutes
    signal_delay_s: int = 120  # SLURM sends SIGUSR1 this long before the limit: checkpoint and requeue
    max_requeues: int = 3  # requeues after preemption or time limit before giving up
    setup: list[str] = field(default_factory=list)  # shell lines run before the job, e.g. "module load cuda"
    additional: dict[str, Any] = field(default_factory=dict)  # other #SBATCH options, e.g. {mail-type: END}


# -- checks beyond types -------------------------------------------------------------------------------


def check_sections(cfg: DictConfig, metrics: tuple[str, ...]) -> list[tuple[str, str]]:
    """Ranges and combinations of these sections; `metrics` are what the project logs (the monitor choices).
    Returns (key, what is wrong and what would be right) pairs, every one of them."""
    problems: list[tuple[str, str]] = []
    for key in ("checkpoint.monitor", "early_stopping.monitor"):
        value = OmegaConf.select(cfg, key)
        if value not in metrics:
            problems.append((key, f"{value!r} is not a logged metric; choose one of {', '.join(metrics)}"))
    t, c = cfg.trainer, cfg.cluster
    checks = [
        (
            "trainer.max_epochs",
            t.max_epochs is None or t.max_epochs == -1 or t.max_epochs >= 1 or t.max_steps > 0,
            "must be >= 1 (or -1 for no limit, with trainer.max_steps)",
        ),
        ("trainer.max_steps", t.max_steps == -1 or t.max_steps >= 1, "must be >= 1, or -1 for no limit"),
        ("trainer.num_nodes", t.num_nodes >= 1, "must be >= 1"),
        ("trainer.accumulate_grad_batches", t.accumulate_grad_batches >= 1, "must be >= 1"),
        ("trainer.log_every_n_steps", t.log_every_n_steps >= 1, "must be >= 1"),
        ("trainer.num_sanity_val_steps", t.num_sanity_val_steps >= -1, "must be >= 0, or -1 for all batches"),
        ("trainer.gradient_clip_val", t.gradient_clip_val is None or t.gradient_clip_val >= 0, "must be >= 0 or null"),
        (
            "trainer.check_val_every_n_epoch",
            t.check_val_every_n_epoch is None or t.check_val_every_n_epoch >= 1,
            "must be >= 1 or null",
        ),
        ("trainer.reload_dataloaders_every_n_epochs", t.reload_dataloaders_every_n_epochs >= 0, "must be >= 0"),
        ("trainer.fast_dev_run", isinstance(t.fast_dev_run, bool) or t.fast_dev_run >= 0, "must be true, false, >= 0"),
        ("checkpoint.save_top_k", cfg.checkpoint.save_top_k >= -1, "must be >= 0, or -1 to keep every checkpoint"),
        ("checkpoint.every_n_train_steps", cfg.checkpoint.every_n_train_steps >= 0, "must be >= 0 (0: epoch end)"),
        ("logger.sample_rows", cfg.logger.sample_rows >= 0, "must be >= 0"),
        ("logger.prediction_rows", cfg.logger.prediction_rows >= 0, "must be >= 0"),
        ("cluster.nodes", c.nodes >= 1, "must be >= 1"),
        ("cluster.gpus_per_node", c.gpus_per_node >= 0, "must be >= 0"),
        ("cluster.cpus_per_task", c.cpus_per_task >= 1, "must be >= 1"),
        ("cluster.mem_gb", c.mem_gb >= 1, "must be >= 1"),
        ("cluster.signal_delay_s", c.signal_delay_s >= 0, "must be >= 0"),
        ("cluster.max_requeues", c.max_requeues >= 0, "must be >= 0"),
    ]
    problems += [(key, f"{OmegaConf.select(cfg, key)!r} {why}") for key, ok, why in checks if not ok]
    for key in BATCH_KEYS:
        why = batches_problem(t[key], allow_zero=key != "val_check_interval")
        if why:
            problems.append((f"trainer.{key}", why))
    if t.max_time is not None and not _is_duration(t.max_time):
        problems.append(("trainer.max_time", f"{t.max_time!r} is not a duration like 00:12:00:00 (DD:HH:MM:SS)"))
    if not isinstance(t.devices, (int, str, ListConfig)) or (
        isinstance(t.devices, str) and t.devices != "auto" and not t.devices.replace(",", "").isdigit()
    ):
        problems.append(("trainer.devices", f"{t.devices!r} must be auto, a count, or a list of device ids"))
    if not re.fullmatch(r"(\d+-)?\d+(:\d+){0,2}", str(c.time).strip()):
        problems.append(("cluster.time", f"{c.time!r} is not a SLURM time such as 90, 04:00:00 or 2-00:00:00"))
    return problems


BATCH_KEYS = (
    "limit_train_batches",
    "limit_val_batches",
    "limit_test_batches",
    "limit_predict_batches",
    "overfit_batches",
    "val_check_interval",
)


def batches_problem(value: Any, allow_zero: bool = True) -> str | None:
    """Lightning's rule for limit_*/overfit_batches/val_check_interval: a fraction in [0, 1] (float) or a number
    of batches (int >= 0)."""
    if isinstance(value, bool):
        return f"{value!r} must be a fraction (float, e.g. 0.25) or a number of batches (int, e.g. 5)"
    if isinstance(value, int):
        least = 0 if allow_zero else 1
        return None if value >= least else f"{value} batches must be >= {least}"
    if not 0.0 <= value <= 1.0 or (not allow_zero and value == 0.0):
        low = "[0" if allow_zero else "(0"
        return f"{value} must be a fraction in {low}, 1] (a float), or a number of batches (an int, e.g. 5)"
    return None


def _is_duration(text: str) -> bool:
    parts = str(text).split(":")
    return len(parts) == 4 and all(p.isdigit() for p in parts)
