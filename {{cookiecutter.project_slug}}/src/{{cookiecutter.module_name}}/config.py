"""The config schema (dataclasses) and how a run's config is assembled and validated.

Layers, each overriding the one before: the schema defaults below, `configs/default.yaml`, experiment
files `configs/experiment/<name>.yaml` (in the order given), command-line flags (--name, --max-epochs,
...), then dotlist overrides such as `optim.lr=3e-4`. Every error names the key and the layer it came from. Nothing here
imports torch or lightning, so a typo costs well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from {{cookiecutter.module_name}}.data_config import DataConfig, supplied_net_args

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


class ConfigError(ValueError):
    """A bad config value: the message names the source (file or command line) and the key."""


class LoggerKind(str, Enum):
    wandb = "wandb"
    tensorboard = "tensorboard"
    csv = "csv"


class WandbMode(str, Enum):
    auto = "auto"  # online if an API key is configured, else offline
    offline = "offline"
    online = "online"
    disabled = "disabled"


class Optimizer(str, Enum):
    adamw = "adamw"
    adam = "adam"
    sgd = "sgd"


class Scheduler(str, Enum):
    cosine = "cosine"  # linear warmup, then cosine decay to min_lr_ratio * lr
    onecycle = "onecycle"
    constant = "constant"


class Precision(str, Enum):
    fp32 = "32-true"
    bf16_mixed = "bf16-mixed"
    fp16_mixed = "16-mixed"
    bf16_true = "bf16-true"


class Determinism(str, Enum):
    on = "on"  # deterministic algorithms only; errors on ops that have none
    warn = "warn"  # deterministic where possible, a warning otherwise (CPU is fully deterministic)
    off = "off"


class Profiler(str, Enum):
    none = "none"
    simple = "simple"
    advanced = "advanced"
    pytorch = "pytorch"


class Mode(str, Enum):
    min = "min"
    max = "max"


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
    max_epochs: int = 10
    max_steps: int = -1
    accelerator: str = "auto"
    devices: Any = "auto"  # "auto", a count, or a list of device ids
    precision: Precision = Precision.fp32
    gradient_clip_val: float | None = 1.0
    accumulate_grad_batches: int = 1
    deterministic: Determinism = Determinism.warn
    benchmark: bool = False
    log_every_n_steps: int = 10
    num_sanity_val_steps: int = 2
    val_check_interval: float = 1.0
    limit_train_batches: float = 1.0  # fractions of each split
    limit_val_batches: float = 1.0
    limit_test_batches: float = 1.0
    profiler: Profiler = Profiler.none
    compile: bool = False  # torch.compile the network in place (state_dict keys unchanged)
    enable_progress_bar: bool = True


@dataclass
class CheckpointConfig:
    monitor: str = "val/acc"
    mode: Mode = Mode.max
    save_top_k: int = 2
    every_n_epochs: int = 1


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
    mode: WandbMode = WandbMode.auto  # $WANDB_MODE wins when set (tests set "disabled")
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    watch: str | None = "gradients"  # wandb.watch: gradients, parameters, all, or null
    watch_log_freq: int = 100
    sample_rows: int = 16  # rows of the sample table logged before training (0 = none)
    histograms: bool = True  # prediction histograms after each validation epoch


@dataclass
class LRFindConfig:
    min_lr: float = 1e-6
    max_lr: float = 1.0
    num_training: int = 100


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


LOGGED_METRICS = ("train/loss", "train/acc", "val/loss", "val/acc")


def _replace_changed_blocks(base: DictConfig, layer: Any, path: str = "") -> None:
    """A node whose `block` differs from the base's replaces it instead of merging into it, so that
    switching `model.net` to another block does not keep the old block's arguments."""
    if not isinstance(layer, DictConfig):
        return
    for key in layer:
        sub, old = layer[key], base.get(key) if isinstance(base, DictConfig) else None
        if isinstance(sub, DictConfig) and isinstance(old, DictConfig):
            if "block" in sub and "block" in old and sub["block"] != old["block"]:
                base[key] = {}
            else:
                _replace_changed_blocks(old, sub, f"{path}{key}.")


def _merge(cfg: DictConfig, layer: Any, source: str) -> DictConfig:
    try:
        _replace_changed_blocks(cfg, layer)
        return OmegaConf.merge(cfg, layer)
    except ConfigKeyError as e:
        parent, _, key = str(e.full_key).rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else cfg
        valid = list(node.keys()) if isinstance(node, DictConfig) else []
        import difflib

        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"; did you mean '{(parent + '.' if parent else '') + close[0]}'?" if close else ""
        raise ConfigError(f"{source}: {e.full_key}: unknown key{hint} (valid keys here: {', '.join(valid)})") from None
    except OmegaConfBaseException as e:
        msg = str(getattr(e, "msg", e)).splitlines()[0]
        raise ConfigError(f"{source}: {getattr(e, 'full_key', '?')}: {msg}") from None


def _load_yaml(path: Path, what: str) -> DictConfig:
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist")
    try:
        return OmegaConf.load(path)
    except Exception as e:  # yaml's errors carry the line and column
        raise ConfigError(f"{path}: not valid YAML: {e}") from None


def experiment_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path
    return CONFIG_DIR / "experiment" / f"{name}.yaml"


def load_config(
    config: str | Path | None = None,
    experiment: str | list[str] | None = None,
    flags: dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    extra: tuple[tuple[str, dict[str, Any]], ...] = (),
) -> DictConfig:
    """Assemble and validate a run's config (see the module docstring for the layers).

    `flags` are dotted keys from command-line flags; `extra` adds named layers last (e.g. the values of
    a W&B sweep). Raises ConfigError naming the source and key of the first problem.
    """
    cfg = OmegaConf.structured(Config)
    default = Path(config) if config else CONFIG_DIR / "default.yaml"
    layers: list[tuple[str, Any]] = [(str(default), _load_yaml(default, "config file"))]
    for name in [experiment] if isinstance(experiment, str) else experiment or []:
        path = experiment_path(name)
        if not path.is_file():
            names = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
            raise ConfigError(f"--experiment {name!r}: no file {path}; experiments: {', '.join(names)}")
        layers.append((str(path), _load_yaml(path, "experiment file")))
    if flags:
        layers.append(("command-line flags", OmegaConf.from_dotlist([f"{k}={v}" for k, v in flags.items()])))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"command-line override {item!r}: expected key=value, e.g. optim.lr=3e-4")
    if overrides:
        try:
            layers.append(("command-line overrides", OmegaConf.from_dotlist(list(overrides))))
        except Exception as e:
            raise ConfigError(f"command-line overrides: {e}") from None
    for name, values in extra:
        layers.append((name, OmegaConf.from_dotlist([f"{k}={v}" for k, v in values.items()])))
    for source, layer in layers:
        cfg = _merge(cfg, layer, source)
    validate(cfg)
    return cfg


def validate(cfg: DictConfig) -> None:
    """Checks beyond types: the network node against labblocks' manifest, monitored metrics, ranges."""
    import labblocks

    if not cfg.model.net or "block" not in cfg.model.net:
        raise ConfigError("model.net: missing; it needs `block: <labblocks key>` and the block's arguments")
    if str(cfg.model.net.block).startswith("{{cookiecutter.module_name}}/"):
        import {{cookiecutter.module_name}}.blocks  # noqa: F401  (registers this project's own blocks)
    try:
        labblocks.validate(cfg.model.net, path="model.net", supplied=supplied_net_args(str(cfg.model.net.block)))
    except labblocks.LabblocksError as e:
        raise ConfigError(f"model.net: {e}") from None
    for key in ("checkpoint.monitor", "early_stopping.monitor"):
        value = OmegaConf.select(cfg, key)
        if value not in LOGGED_METRICS:
            raise ConfigError(f"{key}: {value!r} is not a logged metric; choose one of {', '.join(LOGGED_METRICS)}")
    checks = [
        ("optim.lr", cfg.optim.lr > 0, "must be > 0"),
        ("trainer.max_epochs", cfg.trainer.max_epochs >= 1 or cfg.trainer.max_steps > 0, "must be >= 1"),
        ("trainer.accumulate_grad_batches", cfg.trainer.accumulate_grad_batches >= 1, "must be >= 1"),
        ("scheduler.warmup_steps", cfg.scheduler.warmup_steps >= 0, "must be >= 0"),
    ]
    for key, ok, why in checks:
        if not ok:
            raise ConfigError(f"{key}: {OmegaConf.select(cfg, key)!r} {why}")
    for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches", "val_check_interval"):
        value = cfg.trainer[key]
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"trainer.{key}: {value} must be a fraction in [0, 1]")
    from {{cookiecutter.module_name}}.data_config import validate_data

    validate_data(cfg.data)


def run_dir(cfg: DictConfig) -> Path:
    return Path(cfg.run.output_dir) / cfg.run.name


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain data, interpolations resolved and enums as their names."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
