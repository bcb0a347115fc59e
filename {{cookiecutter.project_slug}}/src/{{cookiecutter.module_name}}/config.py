"""The config schema (dataclasses) and how a run's config is assembled and validated.

Layers, each overriding the one before: the schema defaults below, `configs/default.yaml`, experiment
files `configs/experiment/<name>.yaml` (in the order given), command-line flags (--name, --max-epochs,
...), then dotlist overrides such as `optim.lr=3e-4`. Every problem is reported at once, each with the
key, the layer it came from and what would be right. Nothing here imports torch or lightning, so a typo
costs well under a second.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from {{cookiecutter.module_name}}.choice import Choice
from {{cookiecutter.module_name}}.data_config import DataConfig, supplied_net_args

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


class ConfigError(ValueError):
    """Bad config values: each problem names the source (file or command line), the key and what is allowed."""

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            super().__init__(f"{len(self.problems)} problems:\n  " + "\n  ".join(self.problems))


# -- choices -------------------------------------------------------------------------------------------


class LoggerKind(Choice):
    wandb = "wandb"
    tensorboard = "tensorboard"
    csv = "csv"


class WandbMode(Choice):
    auto = "auto"  # online if an API key is configured, else offline
    offline = "offline"
    online = "online"
    disabled = "disabled"


class Optimizer(Choice):
    adamw = "adamw"
    adam = "adam"
    sgd = "sgd"


class Scheduler(Choice):
    cosine = "cosine"  # linear warmup, then cosine decay to min_lr_ratio * lr
    onecycle = "onecycle"
    constant = "constant"


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


# -- the schema ----------------------------------------------------------------------------------------


@dataclass
class RunConfig:
    name: str = "default"  # run directory: <output_dir>/<name>
    output_dir: str = "runs"
    seed: int = 42
    resume: bool = True  # rerunning in a run directory with checkpoints/last.ckpt resumes from it
    ckpt_path: str | None = None  # resume from this checkpoint instead


@dataclass
class ModelConfig:
    # A labblocks node: `block` is a registry key, the rest its arguments. Arguments that the data
    # determines (data_config.supplied_net_args) are filled in at build time.
    net: dict[str, Any] = field(default_factory=dict)
    label_smoothing: float = 0.0
    compile: bool = False  # torch.compile the network in place (state_dict keys unchanged)
    channels_last: bool = False  # image inputs and conv weights in NHWC layout (faster convs on GPUs)


@dataclass
class OptimConfig:
    name: Optimizer = Optimizer.adamw
    lr: float = 1e-3
    weight_decay: float = 0.05  # not applied to biases and norm parameters
    momentum: float = 0.9  # sgd only
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])


@dataclass
class SchedulerConfig:
    name: Scheduler = Scheduler.cosine
    warmup_steps: int = 0
    min_lr_ratio: float = 0.01


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
    monitor: str = "val/acc"
    mode: Mode = Mode.max
    save_top_k: int = 2
    every_n_epochs: int = 1
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
    enabled: bool = True
    monitor: str = "val/loss"
    mode: Mode = Mode.min
    patience: int = 5
    min_delta: float = 0.0


@dataclass
class LoggerConfig:
    kind: LoggerKind = LoggerKind.{{cookiecutter.logger}}
    project: str = "{{cookiecutter.project_slug}}"
    entity: str | None = None
    group: str | None = None  # W&B run group (a search puts its trials in one group)
    mode: WandbMode = WandbMode.auto  # $WANDB_MODE wins when set (tests set "disabled")
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    watch: str | None = "gradients"  # histograms every watch_log_freq steps: gradients, parameters, all, or null
    watch_log_freq: int = 100
    sample_rows: int = 16  # rows of the sample table logged before training (0 = none)
    prediction_rows: int = 8  # fixed validation examples whose predictions are logged every epoch (0 = none)
    histograms: bool = True  # per-class probability histograms after each validation epoch


@dataclass
class LRFindConfig:
    min_lr: float = 1e-6
    max_lr: float = 1.0
    num_training: int = 100


@dataclass
class ClusterConfig:
    """SLURM job settings for `python -m {{cookiecutter.module_name}}.submit` (submitit)."""

    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    nodes: int = 1
    gpus_per_node: int = 1  # one task (process) per GPU
    cpus_per_task: int = 8
    mem_gb: int = 32  # per node
    time: str = "24:00:00"  # wall-time limit: "HH:MM:SS", "D-HH:MM:SS" or minutes
    signal_delay_s: int = 120  # SLURM sends SIGUSR1 this long before the limit: checkpoint and requeue
    max_requeues: int = 3  # requeues after preemption or time limit before giving up
    setup: list[str] = field(default_factory=list)  # shell lines run before the job, e.g. "module load cuda"
    additional: dict[str, Any] = field(default_factory=dict)  # other #SBATCH options, e.g. {mail-type: END}


@dataclass
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    lr_find: LRFindConfig = field(default_factory=LRFindConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


LOGGED_METRICS = ("train/loss", "train/acc", "val/loss", "val/acc")


def choice_fields(schema: type = Config, prefix: str = "") -> dict[str, type[Choice]]:
    """Dotted key -> Choice enum, for every choice in the schema."""
    out: dict[str, type[Choice]] = {}
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out.update(choice_fields(type(default), f"{prefix}{f.name}."))
        elif isinstance(default, Choice):
            out[f"{prefix}{f.name}"] = type(default)
    return out


CHOICES = choice_fields()


# -- merging layers, every problem at once -------------------------------------------------------------


def _replace_changed_blocks(base: DictConfig, layer: dict[str, Any]) -> None:
    """A node whose `block` differs from the base's replaces it instead of merging into it, so that
    switching `model.net` to another block does not keep the old block's arguments."""
    for key, sub in layer.items():
        old = base.get(key) if isinstance(base, DictConfig) else None
        if isinstance(sub, dict) and isinstance(old, DictConfig):
            if "block" in sub and "block" in old and sub["block"] != old["block"]:
                base[key] = {}
            else:
                _replace_changed_blocks(old, sub)


def _leaves(cfg: Any, layer: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) for every value the layer sets, descending into the schema's sections only
    (a free-form node such as model.net is one value)."""
    for key, value in layer.items():
        node = cfg.get(key) if isinstance(cfg, DictConfig) and key in cfg else None
        structured = isinstance(node, DictConfig) and dataclasses.is_dataclass(OmegaConf.get_type(node))
        if isinstance(value, dict) and structured:
            yield from _leaves(node, value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _nest(key: str, value: Any) -> dict[str, Any]:
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def _problem(cfg: DictConfig, key: str, value: Any, error: OmegaConfBaseException) -> str:
    """One line for a value OmegaConf refused: an unknown key with a close match, or a bad value with
    what is allowed."""
    if isinstance(error, ConfigKeyError):
        parent, _, name = key.rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else cfg
        valid = [str(k) for k in node] if isinstance(node, DictConfig) else []
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"; did you mean '{(parent + '.' if parent else '') + close[0]}'?" if close else ""
        return f"{key}: unknown key{hint} (valid keys here: {', '.join(valid)})"
    if key in CHOICES:
        return f"{key}: {value!r} is not one of {CHOICES[key].spelled()}"
    return f"{key}: {str(getattr(error, 'msg', error)).splitlines()[0]}"


def _normalize_choices(layer: dict[str, Any]) -> None:
    """YAML reads `on`/`off`/`yes` as booleans and `32` as a number; a choice wants the text."""
    for key in CHOICES:
        *parents, name = key.split(".")
        node: Any = layer
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(name), (bool, int, float)):
            value = node[name]
            node[name] = ("on" if value else "off") if isinstance(value, bool) else str(value)


def merge_layer(cfg: DictConfig, layer: Any, source: str, problems: list[str]) -> DictConfig:
    """`cfg` with `layer` merged in. Each refused value adds a `source: key: why` line to `problems`;
    the others are still merged, so one run reports every problem."""
    plain = OmegaConf.to_container(layer, resolve=False) if isinstance(layer, (DictConfig, ListConfig)) else layer
    if not isinstance(plain, dict):
        problems.append(f"{source}: expected a mapping of config sections, got {type(plain).__name__}")
        return cfg
    _normalize_choices(plain)
    _replace_changed_blocks(cfg, plain)
    try:
        return OmegaConf.merge(cfg, plain)
    except OmegaConfBaseException:
        pass  # find every refused value, one at a time
    for key, value in _leaves(cfg, plain):
        try:
            cfg = OmegaConf.merge(cfg, _nest(key, value))
        except OmegaConfBaseException as e:
            problems.append(f"{source}: {_problem(cfg, key, value, e)}")
    return cfg


def _load_yaml(path: Path, what: str, problems: list[str]) -> Any:
    if not path.is_file():
        problems.append(f"{what} {path} does not exist")
        return None
    try:
        return OmegaConf.load(path)
    except Exception as e:  # yaml's errors carry the line and column
        problems.append(f"{path}: not valid YAML: {e}")
        return None


def experiment_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path
    return CONFIG_DIR / "experiment" / f"{name}.yaml"


def experiment_names() -> list[str]:
    """Every experiment under configs/experiment, as -e takes it (e.g. `fast`, `debug/overfit`)."""
    root = CONFIG_DIR / "experiment"
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))


def _flag_layer(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys and values (from flags or a sweep) as a nested layer; values are kept as given."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def load_config(
    config: str | Path | None = None,
    experiment: str | list[str] | None = None,
    flags: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    extra: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> DictConfig:
    """Assemble and validate a run's config (see the module docstring for the layers).

    `flags` are dotted keys from command-line flags; `extra` adds named layers last (e.g. the values of
    a W&B sweep or a search trial). Raises ConfigError listing every problem, each with its source.
    """
    problems: list[str] = []
    cfg = OmegaConf.structured(Config)
    default = Path(config) if config else CONFIG_DIR / "default.yaml"
    layers: list[tuple[str, Any]] = [(str(default), _load_yaml(default, "config file", problems))]
    for name in [experiment] if isinstance(experiment, str) else experiment or []:
        path = experiment_path(name)
        if path.is_file() or name.endswith((".yaml", ".yml")):
            layers.append((str(path), _load_yaml(path, "experiment file", problems)))
        else:
            close = difflib.get_close_matches(name, experiment_names(), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(experiment_names())
            problems.append(f"--experiment {name!r}: no file {path}; {hint}experiments: {known}")
    if flags:
        layers.append(("command-line flags", _flag_layer(flags)))
    bad = [item for item in overrides if "=" not in item]
    problems += [f"command-line override {item!r}: expected key=value, e.g. optim.lr=3e-4" for item in bad]
    good = [item for item in overrides if "=" in item]
    if good:
        try:
            layers.append(("command-line overrides", OmegaConf.from_dotlist(good)))
        except Exception as e:
            problems.append(f"command-line overrides: {e}")
    for name, values in extra:  # values as given: a sweep's null stays None, a string stays a string
        layers.append((name, _flag_layer(values)))
    sources: dict[str, str] = {}
    for source, layer in layers:
        if layer is None:
            continue
        cfg = merge_layer(cfg, layer, source, problems)
        plain = OmegaConf.to_container(layer, resolve=False) if isinstance(layer, DictConfig) else layer
        if isinstance(plain, dict):
            sources.update({key: source for key, _ in _leaves(cfg, plain)})
    problems += [f"{_source_of(key, sources)}: {key}: {why}" for key, why in validate(cfg)]
    if problems:
        raise ConfigError(problems)
    return cfg


def _source_of(key: str, sources: dict[str, str]) -> str:
    """The layer that set `key` (or the section holding it), for error messages."""
    while key:
        if key in sources:
            return sources[key]
        key = key.rpartition(".")[0]
    return "defaults"


def validate(cfg: DictConfig) -> list[tuple[str, str]]:
    """Checks beyond types, every one of them: the network node against labblocks' manifest, monitored
    metrics, ranges and combinations. Returns (key, what is wrong and what would be right) pairs."""
    import labblocks

    problems: list[tuple[str, str]] = []
    if not cfg.model.net or "block" not in cfg.model.net:
        problems.append(("model.net", "missing; it needs `block: <labblocks key>` and the block's arguments"))
    else:
        # this project's own keys ({{cookiecutter.module_name}}/...) come from its blocks.py, a labblocks plugin
        try:
            labblocks.validate(cfg.model.net, path="model.net", supplied=supplied_net_args(str(cfg.model.net.block)))
        except labblocks.LabblocksError as e:
            problems.append(("model.net", str(e)))
    for key in ("checkpoint.monitor", "early_stopping.monitor"):
        value = OmegaConf.select(cfg, key)
        if value not in LOGGED_METRICS:
            problems.append((key, f"{value!r} is not a logged metric; choose one of {', '.join(LOGGED_METRICS)}"))
    t = cfg.trainer
    checks = [
        ("optim.lr", cfg.optim.lr > 0, "must be > 0"),
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
        ("scheduler.warmup_steps", cfg.scheduler.warmup_steps >= 0, "must be >= 0"),
        ("checkpoint.save_top_k", cfg.checkpoint.save_top_k >= -1, "must be >= 0, or -1 to keep every checkpoint"),
        ("checkpoint.every_n_train_steps", cfg.checkpoint.every_n_train_steps >= 0, "must be >= 0 (0: epoch end)"),
        ("logger.sample_rows", cfg.logger.sample_rows >= 0, "must be >= 0"),
        ("logger.prediction_rows", cfg.logger.prediction_rows >= 0, "must be >= 0"),
    ]
    problems += [(key, f"{OmegaConf.select(cfg, key)!r} {why}") for key, ok, why in checks if not ok]
    for key in (
        "limit_train_batches",
        "limit_val_batches",
        "limit_test_batches",
        "limit_predict_batches",
        "overfit_batches",
        "val_check_interval",
    ):
        why = batches_problem(t[key], allow_zero=key != "val_check_interval")
        if why:
            problems.append((f"trainer.{key}", why))
    if t.max_time is not None and not _is_duration(t.max_time):
        problems.append(("trainer.max_time", f"{t.max_time!r} is not a duration like 00:12:00:00 (DD:HH:MM:SS)"))
    if not isinstance(t.devices, (int, str, ListConfig)) or (
        isinstance(t.devices, str) and t.devices != "auto" and not t.devices.replace(",", "").isdigit()
    ):
        problems.append(("trainer.devices", f"{t.devices!r} must be auto, a count, or a list of device ids"))
    c = cfg.cluster
    checks = [
        ("cluster.nodes", c.nodes >= 1, "must be >= 1"),
        ("cluster.gpus_per_node", c.gpus_per_node >= 0, "must be >= 0"),
        ("cluster.cpus_per_task", c.cpus_per_task >= 1, "must be >= 1"),
        ("cluster.mem_gb", c.mem_gb >= 1, "must be >= 1"),
        ("cluster.signal_delay_s", c.signal_delay_s >= 0, "must be >= 0"),
        ("cluster.max_requeues", c.max_requeues >= 0, "must be >= 0"),
    ]
    problems += [(key, f"{OmegaConf.select(cfg, key)!r} {why}") for key, ok, why in checks if not ok]
    if not re.fullmatch(r"(\d+-)?\d+(:\d+){0,2}", str(c.time).strip()):
        problems.append(("cluster.time", f"{c.time!r} is not a SLURM time such as 90, 04:00:00 or 2-00:00:00"))
    d = cfg.data
    if not (d.num_workers == "auto" or (isinstance(d.num_workers, int) and d.num_workers >= 0)):
        problems.append(("data.num_workers", f"{d.num_workers!r} must be auto or a number >= 0"))
    if not (isinstance(d.pin_memory, bool) or d.pin_memory == "auto"):
        problems.append(("data.pin_memory", f"{d.pin_memory!r} must be auto, true or false"))
    from {{cookiecutter.module_name}}.data_config import validate_data

    problems += validate_data(cfg.data)
    return problems


def batches_problem(value: Any, allow_zero: bool = True) -> str | None:
    """Lightning's rule for limit_*/overfit_batches/val_check_interval: a fraction in [0, 1] (float) or a
    number of batches (int >= 0)."""
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


def run_dir(cfg: DictConfig) -> Path:
    return Path(cfg.run.output_dir) / cfg.run.name


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain data, interpolations resolved and choices as the values users type."""
    return _plain_values(OmegaConf.to_container(cfg, resolve=True))


def _plain_values(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain_values(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain_values(v) for v in node]
    return node.value if isinstance(node, Enum) else node
