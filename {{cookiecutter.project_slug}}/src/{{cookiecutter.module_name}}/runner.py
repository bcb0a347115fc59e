"""Build data, model, logger, callbacks and trainer from a validated config, and run training.

Used by every entry point (train, lr_find, export) and by the tests, so all of them run the same code.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import labblocks
import lightning as L
import yaml
from labblocks.callbacks import PredictionHistograms, RNGState, RunMetadata, SampleTable, WatchModel
from labblocks.resume import config_diff, git_commit, last_checkpoint, wandb_run_id
from lightning.pytorch.callbacks import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint, ModelSummary
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

import {{cookiecutter.module_name}}.blocks  # noqa: F401  (registers this project's own blocks)
from {{cookiecutter.module_name}}.config import CONFIG_DIR, ConfigError, run_dir, to_plain
from {{cookiecutter.module_name}}.data import DataModule
from {{cookiecutter.module_name}}.model import Classifier

PROJECT_ROOT = CONFIG_DIR.parent
DETERMINISTIC = {"on": True, "warn": "warn", "off": False}


def _value(enum_or_str: Any) -> str:
    return str(getattr(enum_or_str, "value", enum_or_str))


# -- data and model ------------------------------------------------------------------------------------


def build_datamodule(cfg: DictConfig) -> DataModule:
    return DataModule(cfg.data, seed=cfg.run.seed, run_dir=run_dir(cfg))


def with_data_args(node: dict[str, Any], supplied: dict[str, Any], path: str = "model.net") -> dict[str, Any]:
    """`node` with the data's arguments added (dicts merged key by key). A value the config sets
    differently from the data is an error: the data decides it."""
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


def net_node(cfg: DictConfig, dm: DataModule) -> dict[str, Any]:
    """The complete `model.net` node: the config's arguments plus the data's, pinned, defaults filled."""
    node = OmegaConf.to_container(cfg.model.net, resolve=True)
    return labblocks.pin(with_data_args(node, dm.net_args(str(node["block"]))))


def build_model(cfg: DictConfig, dm: DataModule) -> Classifier:
    """The network from `model.net` (through labblocks), with the arguments the data decides."""
    net = labblocks.build(net_node(cfg, dm), path="model.net")
    dm.attach_model(net)
    if cfg.trainer.compile:
        net.compile()
    return Classifier(net, dm.num_classes, cfg.optim, cfg.scheduler, cfg.model.label_smoothing, dm.example_input())


def recorded_config(cfg: DictConfig, dm: DataModule) -> dict[str, Any]:
    """The config as recorded with the run: plain data, with `model.net` pinned and complete."""
    plain = to_plain(cfg)
    plain["model"]["net"] = net_node(cfg, dm)
    return plain


# -- logging -------------------------------------------------------------------------------------------


def wandb_mode(cfg: DictConfig) -> str:
    """$WANDB_MODE if set; else logger.mode, where `auto` means online only if an API key is configured."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    mode = _value(cfg.logger.mode)
    if mode != "auto":
        return mode
    try:
        has_netrc = netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        has_netrc = False
    return "online" if os.environ.get("WANDB_API_KEY") or has_netrc else "offline"


def build_logger(cfg: DictConfig, rd: Path, config: dict[str, Any]) -> Logger:
    kind = _value(cfg.logger.kind)
    if kind == "wandb":
        from lightning.pytorch.loggers import WandbLogger

        logger = WandbLogger(
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            name=cfg.run.name,
            id=wandb_run_id(rd),  # kept in the run directory: a rerun continues the same W&B run
            resume="allow",
            save_dir=str(rd),
            mode=wandb_mode(cfg),
            notes=cfg.logger.notes or None,
            tags=list(cfg.logger.tags),
            job_type="train",
        )
    elif kind == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        logger = TensorBoardLogger(save_dir=str(rd), name="tensorboard", version="", default_hp_metric=False)
    else:
        from lightning.pytorch.loggers import CSVLogger

        logger = CSVLogger(save_dir=str(rd), name="csv")  # version_N per attempt; steps continue
    logger.log_hyperparams(config)
    return logger


def apply_sweep(cfg: DictConfig, reload: Callable[[dict[str, Any]], DictConfig]) -> tuple[DictConfig, Logger]:
    """Under a W&B sweep agent: start the agent's run, apply `wandb.config` as a last config layer
    (validated like any other), and return the config with the logger that owns the run."""
    from lightning.pytorch.loggers import WandbLogger

    base = Path(cfg.run.output_dir)
    logger = WandbLogger(project=cfg.logger.project, entity=cfg.logger.entity, save_dir=str(base), mode=wandb_mode(cfg))
    values = {k: v for k, v in dict(logger.experiment.config).items() if not k.startswith("_")}
    cfg = reload({**values, "run.name": f"sweep-{logger.experiment.id}", "logger.kind": "wandb"})
    return cfg, logger


# -- callbacks and trainer -----------------------------------------------------------------------------


def build_callbacks(
    cfg: DictConfig, rd: Path, dm: DataModule, config: dict[str, Any], logger: Logger | None
) -> list[Callback]:
    ck = cfg.checkpoint
    callbacks: list[Callback] = [
        ModelCheckpoint(
            dirpath=rd / "checkpoints",
            filename="epoch{epoch:03d}-acc{val/acc:.4f}",
            auto_insert_metric_name=False,
            monitor=ck.monitor,
            mode=_value(ck.mode),
            save_top_k=ck.save_top_k,
            save_last=True,  # a full copy: "link" would point at the newest top-k file, not the newest state
            every_n_epochs=ck.every_n_epochs,
        ),
        RNGState(),
        RunMetadata(config, cfg.run.seed, git_commit(PROJECT_ROOT)),
        ModelSummary(max_depth=1),  # parameters, FLOPs, input and output sizes (from example_input_array)
    ]
    es = cfg.early_stopping
    if es.enabled:
        # Checked after validation only: a run cut short by trainer.max_steps mid-epoch has no val metric.
        stopper = EarlyStopping(
            monitor=es.monitor, mode=_value(es.mode), patience=es.patience, min_delta=es.min_delta,
            check_on_train_epoch_end=False,
        )
        callbacks.append(stopper)
    if logger is not None:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
        if cfg.logger.sample_rows > 0:
            callbacks.append(SampleTable(dm.render_samples, rows=cfg.logger.sample_rows))
        if cfg.logger.histograms:
            callbacks.append(PredictionHistograms())
        if _value(cfg.logger.kind) == "wandb" and cfg.logger.watch:
            callbacks.append(WatchModel(log=cfg.logger.watch, log_freq=cfg.logger.watch_log_freq))
    return callbacks


def build_trainer(cfg: DictConfig, rd: Path, logger: Logger | None, callbacks: Sequence[Callback]) -> L.Trainer:
    t = cfg.trainer
    profiler = _value(t.profiler)
    devices = t.devices if isinstance(t.devices, (int, str)) else list(t.devices)
    return L.Trainer(
        default_root_dir=rd,
        logger=logger if logger is not None else False,
        callbacks=list(callbacks),
        max_epochs=t.max_epochs,
        max_steps=t.max_steps,
        accelerator=t.accelerator,
        devices=devices,
        precision=_value(t.precision),
        gradient_clip_val=t.gradient_clip_val,
        accumulate_grad_batches=t.accumulate_grad_batches,
        deterministic=DETERMINISTIC[_value(t.deterministic)],
        benchmark=t.benchmark,
        log_every_n_steps=t.log_every_n_steps,
        num_sanity_val_steps=t.num_sanity_val_steps,
        val_check_interval=t.val_check_interval,
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches,
        limit_test_batches=t.limit_test_batches,
        profiler=None if profiler == "none" else profiler,
        enable_progress_bar=t.enable_progress_bar,
    )


# -- a whole run ---------------------------------------------------------------------------------------


@dataclass
class RunResult:
    trainer: L.Trainer
    module: Classifier
    datamodule: DataModule
    run_dir: Path
    resumed_from: str | None
    config_changes: list[str]
    test_metrics: dict[str, float]
    wandb_dir: Path | None = None
    wandb_mode: str | None = None

    @property
    def checkpoint_callback(self) -> ModelCheckpoint:
        return self.trainer.checkpoint_callback

    @property
    def best_val_acc(self) -> float | None:
        score = self.checkpoint_callback.best_model_score
        return None if score is None else float(score)

    def summary(self) -> str:
        """What the run produced and where it went, one `label: value` per line."""
        ck = self.checkpoint_callback
        rows = [("run directory", _short(self.run_dir))]
        if self.resumed_from:
            rows.append(("resumed from", _short(self.resumed_from)))
        rows += [("config changed on resume", change) for change in self.config_changes]
        best = self.best_val_acc
        rows.append((f"best {ck.monitor}", f"{best:.4f}" if best is not None else "n/a"))
        rows += [(key, f"{value:.4f}") for key, value in sorted(self.test_metrics.items())]
        rows.append(("best checkpoint", _short(ck.best_model_path) if ck.best_model_path else "none"))
        last = last_checkpoint(self.run_dir)
        rows.append(("last checkpoint", _short(last) if last else "none"))
        if self.wandb_dir is not None:
            rows.append((f"W&B run ({self.wandb_mode})", _short(self.wandb_dir)))
            if self.wandb_mode == "offline":
                rows.append(("upload it with", f"wandb sync {_short(self.wandb_dir)}"))
        width = max(len(label) for label, _ in rows) + 1
        return "\n" + "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)


def _short(path: str | Path) -> str:
    """`path` relative to the working directory when it is inside it."""
    p = Path(path).absolute()
    return str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)


def resume_checkpoint(cfg: DictConfig, rd: Path) -> str | None:
    """An explicit run.ckpt_path, else the run directory's last.ckpt when run.resume is on."""
    if cfg.run.ckpt_path:
        if not Path(cfg.run.ckpt_path).is_file():
            raise ConfigError(f"run.ckpt_path: {cfg.run.ckpt_path!r} is not a file")
        return str(cfg.run.ckpt_path)
    last = last_checkpoint(rd)
    return str(last) if last is not None and cfg.run.resume else None


def train(
    cfg: DictConfig,
    extra_callbacks: Sequence[Callback] = (),
    logger: Logger | None = None,
    ckpt_path: str | None = "auto",
    test: bool = True,
) -> RunResult:
    """Seed, build, fit (resuming when the run directory has a last checkpoint), then test the best
    checkpoint. `ckpt_path="auto"` decides from the config and the run directory."""
    rd = run_dir(cfg)
    rd.mkdir(parents=True, exist_ok=True)
    resume_from = resume_checkpoint(cfg, rd) if ckpt_path == "auto" else ckpt_path
    L.seed_everything(cfg.run.seed, workers=True)
    dm = build_datamodule(cfg)
    module = build_model(cfg, dm)
    config = recorded_config(cfg, dm)
    changes = []
    saved = rd / "config.yaml"
    if resume_from and saved.is_file():
        changes = config_diff(yaml.safe_load(saved.read_text(encoding="utf-8")), config)
    saved.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if logger is None:
        logger = build_logger(cfg, rd, config)
    else:
        logger.log_hyperparams(config)
    callbacks = [*build_callbacks(cfg, rd, dm, config, logger), *extra_callbacks]
    trainer = build_trainer(cfg, rd, logger, callbacks)
    if resume_from:
        print(f"Resuming from {resume_from}", flush=True)
    trainer.fit(module, datamodule=dm, ckpt_path=resume_from, weights_only=True)
    metrics: dict[str, float] = {}
    if test and not trainer.interrupted and trainer.checkpoint_callback.best_model_path:
        results = trainer.test(module, datamodule=dm, ckpt_path="best", weights_only=True, verbose=False)
        metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    result = RunResult(trainer, module, dm, rd, resume_from, changes, metrics)
    if type(logger).__name__ == "WandbLogger":
        run = logger.experiment
        mode = "disabled" if run.disabled else run.settings.mode
        if mode != "disabled":
            result.wandb_dir, result.wandb_mode = Path(run.dir).parent, mode
        run.finish()  # flush now, so a rerun in this process starts cleanly
    return result
