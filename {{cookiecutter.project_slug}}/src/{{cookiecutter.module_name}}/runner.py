"""Build data, model, logger, callbacks and trainer from a validated config, and run training.

Used by every entry point (train, evaluate, lr_find, export, search, submit) and by the tests, so all of
them run the same code. Files in the run directory are written by the global rank 0 process only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import netrc
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import labblocks
import lightning as L
import yaml
from labblocks.run.rundir import WANDB_ID_FILE, config_diff, git_commit, wandb_run_id
from labblocks.train.callbacks import (
    LinkingCheckpoint,
    LoaderPosition,
    ProgressBar,
    RNGState,
    RunMetadata,
    SampleTable,
    SignalCheckpoint,
    ValidationPredictions,
    WatchModel,
)
from labblocks.train.profiler import NullProfiler
from labblocks.train.runlock import RunLock, RunLockedError, is_rank_zero
from lightning.pytorch.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateMonitor,
    ModelCheckpoint,
    ModelSummary,
)
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, ListConfig, OmegaConf

import {{cookiecutter.module_name}}.blocks  # noqa: F401  (registers this project's own blocks)
from {{cookiecutter.module_name}}.config import CONFIG_DIR, TrainerConfig, run_dir, to_plain
from {{cookiecutter.module_name}}.data import DataModule
from {{cookiecutter.module_name}}.errors import RunError
from {{cookiecutter.module_name}}.model import Classifier

PROJECT = "{{cookiecutter.module_name}}"
PROJECT_ROOT = CONFIG_DIR.parent
DETERMINISTIC = {"on": True, "warn": "warn", "off": False}


def _value(enum_or_str: Any) -> Any:
    return getattr(enum_or_str, "value", enum_or_str)


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
            raise RunError(f"{where}: {out[key]!r} in the config, but the data gives {value!r}; remove it")
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
    if cfg.model.compile:
        net.compile()
    return Classifier(
        net,
        cfg.optim,
        cfg.scheduler,
        cfg.model.label_smoothing,
        dm.example_input(),
        channels_last=cfg.model.channels_last,
    )


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
            group=cfg.logger.group,
            name=cfg.run.name,
            # kept in the run directory: a rerun continues the same W&B run (rank 0 owns the W&B run)
            id=wandb_run_id(rd) if is_rank_zero() else None,
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


def sweep_values() -> dict[str, Any]:
    """The values a W&B sweep agent chose for this run, read from the file the agent names in
    $WANDB_SWEEP_PARAM_PATH (so every rank of a multi-device run reads the same values)."""
    path = os.environ.get("WANDB_SWEEP_PARAM_PATH")
    if not path or not Path(path).is_file():
        return {}
    params = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {k: v.get("value") if isinstance(v, dict) else v for k, v in params.items() if not k.startswith("_")}


def apply_sweep(cfg: DictConfig, reload: Callable[[dict[str, Any]], DictConfig]) -> tuple[DictConfig, Logger | None]:
    """Under a W&B sweep agent: apply the agent's values as a last config layer (validated like any
    other) and, on rank 0, return the logger that owns the agent's run."""
    run_id = os.environ.get("WANDB_RUN_ID")
    values = sweep_values()
    logger = None
    if is_rank_zero():
        from lightning.pytorch.loggers import WandbLogger

        base = Path(cfg.run.output_dir)
        logger = WandbLogger(
            project=cfg.logger.project, entity=cfg.logger.entity, save_dir=str(base), mode=wandb_mode(cfg)
        )
        values = values or {k: v for k, v in dict(logger.experiment.config).items() if not k.startswith("_")}
        run_id = logger.experiment.id
    cfg = reload({**values, "run.name": f"sweep-{run_id}", "logger.kind": "wandb"})
    return cfg, logger


# -- callbacks and trainer -----------------------------------------------------------------------------


def checkpoint_dir(rd: Path) -> Path:
    return rd / "checkpoints"


def build_callbacks(
    cfg: DictConfig, rd: Path, dm: DataModule, config: dict[str, Any], logger: Logger | None
) -> list[Callback]:
    ck = cfg.checkpoint
    checkpoint = LinkingCheckpoint if ck.link_last else ModelCheckpoint
    callbacks: list[Callback] = [
        checkpoint(  # the best top-k by the monitored metric (first: it is trainer.checkpoint_callback)
            dirpath=checkpoint_dir(rd),
            filename="epoch{epoch:03d}-acc{val/acc:.4f}",
            auto_insert_metric_name=False,
            monitor=ck.monitor,
            mode=_value(ck.mode),
            save_top_k=ck.save_top_k,
            every_n_epochs=ck.every_n_epochs,
        ),
        # last.ckpt is always the newest state, whatever the metric did: callbacks of its own with no monitor
        # (Lightning's save_last only refreshes it on a step where a top-k checkpoint is also saved).
        last_checkpoint(rd, checkpoint, every_n_epochs=1),
        RNGState(),
        LoaderPosition(),
        RunMetadata(config, cfg.run.seed, git_commit(PROJECT_ROOT), project=PROJECT),
        ModelSummary(max_depth=1),  # parameters, FLOPs, input and output sizes (from example_input_array)
    ]
    if cfg.trainer.enable_progress_bar:
        callbacks.append(ProgressBar(interval=0.5))  # redrawn twice a second: a redraw costs about 1 ms
    if ck.every_n_train_steps:  # and mid-epoch (Lightning takes steps or epochs per callback, not both)
        callbacks.append(last_checkpoint(rd, checkpoint, every_n_train_steps=ck.every_n_train_steps))
    if ck.save_on_signal:
        callbacks.append(SignalCheckpoint(checkpoint_dir(rd) / "last.ckpt"))
    es = cfg.early_stopping
    if es.enabled:
        # Checked after validation only: a run cut short by trainer.max_steps mid-epoch has no val metric.
        stopper = EarlyStopping(
            monitor=es.monitor,
            mode=_value(es.mode),
            patience=es.patience,
            min_delta=es.min_delta,
            check_on_train_epoch_end=False,
        )
        callbacks.append(stopper)
    if logger is not None:
        callbacks.append(LearningRateMonitor(logging_interval="step"))
        if cfg.logger.sample_rows > 0:
            callbacks.append(SampleTable(dm.render_samples, rows=cfg.logger.sample_rows))
        rows = cfg.logger.prediction_rows
        if rows > 0 or cfg.logger.histograms:  # predictions on fixed val examples, per-class probability histograms
            callbacks.append(ValidationPredictions(dm.render_samples, dm.class_names, rows=rows))
        if _value(cfg.logger.kind) in ("wandb", "tensorboard") and cfg.logger.watch:
            callbacks.append(WatchModel(log=cfg.logger.watch, log_freq=cfg.logger.watch_log_freq))
    return callbacks


def last_checkpoint(rd: Path, checkpoint: type[ModelCheckpoint], **every: int) -> ModelCheckpoint:
    """A callback that writes the newest training state to checkpoints/last.ckpt (every epoch or N steps)."""
    return checkpoint(dirpath=checkpoint_dir(rd), filename="last", save_top_k=1, enable_version_counter=False, **every)


def trainer_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """Every `trainer:` key as the Lightning Trainer argument of the same name."""
    t = cfg.trainer
    kwargs = {f.name: _value(t[f.name]) for f in dataclasses.fields(TrainerConfig)}
    kwargs["deterministic"] = DETERMINISTIC[kwargs["deterministic"]]
    # "none": a profiler that records nothing, cheaper per hook call than Lightning's default one
    kwargs["profiler"] = NullProfiler() if kwargs["profiler"] == "none" else kwargs["profiler"]
    kwargs["devices"] = list(t.devices) if isinstance(t.devices, ListConfig) else t.devices
    return kwargs


def build_trainer(cfg: DictConfig, rd: Path, logger: Logger | None, callbacks: Sequence[Callback]) -> L.Trainer:
    from labblocks.train.checkpoints.lightning_io import AtomicCheckpointIO

    return L.Trainer(
        default_root_dir=rd,
        logger=logger if logger is not None else False,
        callbacks=list(callbacks),
        plugins=[AtomicCheckpointIO()],  # a kill while saving never leaves a half-written checkpoint
        use_distributed_sampler=False,  # the DataModule shards with its own seeded, resumable sampler
        **trainer_kwargs(cfg),
    )


# -- resuming ------------------------------------------------------------------------------------------


def check_checkpoint(path: str | Path, what: str = "--ckpt-path") -> None:
    """Raise RunError unless `path` is a readable checkpoint of this project (cheap checks first; a file
    that would run code when unpickled is refused without running it)."""
    from labblocks.train.checkpoints import checkpoint_problem

    problem = checkpoint_problem(path, project=PROJECT)
    if problem is not None:
        raise RunError(f"{what}: {problem}")


def resume_checkpoint(cfg: DictConfig, rd: Path) -> str | None:
    """What to resume from: run.ckpt_path when given; else, with run.resume, the newest readable
    checkpoint of the run directory. An unreadable one (a job killed while writing it before writes were
    atomic, a full disk) is moved aside, not deleted, with a line that names it."""
    from labblocks.train.checkpoints import scan_checkpoints, set_aside

    if cfg.run.ckpt_path:
        check_checkpoint(cfg.run.ckpt_path)
        return str(cfg.run.ckpt_path)
    folder = checkpoint_dir(rd)
    if not cfg.run.resume or not folder.is_dir():
        return None
    scan = scan_checkpoints(folder, project=PROJECT)
    for path, problem in scan.problems.items():
        if is_rank_zero():
            print(f"unreadable checkpoint set aside: {problem} -> moved to {set_aside(path).name}", flush=True)
    if scan.newest is None and scan.problems:
        raise RunError(
            f"{folder} holds no readable checkpoint to resume from; rerun with --fresh to start over "
            "in this run directory, or pass --ckpt-path PATH"
        )
    return str(scan.newest) if scan.newest else None


def start_over(rd: Path) -> None:
    """`--fresh` in a run directory that holds an earlier run: its checkpoints move to
    `checkpoints.before-fresh-<time>/` (nothing is deleted) and the new run gets its own W&B run id, so
    neither a later resume (which takes the most advanced checkpoint) nor W&B mixes the two runs."""
    folder = checkpoint_dir(rd)
    if folder.is_dir() and any(folder.glob("*.ckpt*")):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = rd / f"checkpoints.before-fresh-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = rd / f"checkpoints.before-fresh-{stamp}-{n}"
        folder.rename(target)
        print(f"starting over (--fresh): the earlier run's checkpoints moved to {target}", flush=True)
    (rd / WANDB_ID_FILE).unlink(missing_ok=True)  # a new W&B run; the earlier one stays in wandb/


def find_checkpoint(rd: Path, which: str) -> Path:
    """`last`, `best` (as recorded in last.ckpt by the top-k checkpoint callback), or a path."""
    if which not in ("best", "last"):
        return Path(which)
    last = checkpoint_dir(rd) / "last.ckpt"
    if not last.is_file():
        raise FileNotFoundError(f"{rd}: no checkpoints/last.ckpt; train first, or pass a checkpoint path")
    if which == "last":
        return last
    import torch

    states = torch.load(last, map_location="cpu", weights_only=True, mmap=True).get("callbacks", {})
    best = next(
        (s.get("best_model_path") for k, s in states.items() if k.startswith("ModelCheckpoint") and s.get("monitor")),
        None,
    )
    if not best or not Path(best).is_file():
        raise FileNotFoundError(f"{last} records no best checkpoint that still exists ({best!r}); use last")
    return Path(best)


@contextlib.contextmanager
def run_lock(rd: Path) -> Iterator[None]:
    """Hold the run directory's lock (rank 0): a second process training into it stops with a message."""
    try:
        lock = RunLock(rd).acquire()
    except RunLockedError as e:
        raise RunError(str(e)) from None
    try:
        yield
    finally:
        lock.release()


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
    interrupted: Any = None  # the TrainingInterrupted that stopped the run, if a signal did

    @property
    def checkpoint_callback(self) -> ModelCheckpoint:
        return self.trainer.checkpoint_callback

    @property
    def best_score(self) -> float | None:
        score = self.checkpoint_callback.best_model_score
        return None if score is None else float(score)

    def summary(self) -> str:
        """What the run produced and where it went, one `label: value` per line."""
        ck = self.checkpoint_callback
        rows = [("run directory", _short(self.run_dir))]
        if self.resumed_from:
            rows.append(("resumed from", _short(self.resumed_from)))
        rows += [("config changed on resume", change) for change in self.config_changes]
        if self.interrupted is not None:
            rows.append(
                (
                    "stopped",
                    f"by {self.interrupted.signal_name} at step {self.interrupted.step}; "
                    "run the same command to resume",
                )
            )
        best = self.best_score
        rows.append((f"best {ck.monitor}", f"{best:.4f}" if best is not None else "n/a"))
        rows += [(key, f"{value:.4f}") for key, value in sorted(self.test_metrics.items())]
        rows.append(("best checkpoint", _short(ck.best_model_path) if ck.best_model_path else "none"))
        last = checkpoint_dir(self.run_dir) / "last.ckpt"
        rows.append(("last checkpoint", _short(last) if last.is_file() else "none"))
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


def train(
    cfg: DictConfig,
    extra_callbacks: Sequence[Callback] = (),
    logger: Logger | None = None,
    ckpt_path: str | None = "auto",
    test: bool = True,
) -> RunResult:
    """Seed, build, fit (resuming from the run directory's newest checkpoint), then test the best
    checkpoint. `ckpt_path="auto"` decides from the config and the run directory. Raises RunError before
    training when the run cannot start (locked run directory, unreadable checkpoints)."""
    from labblocks.train.callbacks.signals import TrainingInterrupted

    rd = run_dir(cfg)
    zero = is_rank_zero()
    if zero:
        rd.mkdir(parents=True, exist_ok=True)
    with run_lock(rd):
        resume_from = resume_checkpoint(cfg, rd) if ckpt_path == "auto" else ckpt_path
        if ckpt_path == "auto" and not cfg.run.resume and not cfg.run.ckpt_path and zero:
            start_over(rd)
        L.seed_everything(cfg.run.seed, workers=True, verbose=zero)
        dm = build_datamodule(cfg)
        module = build_model(cfg, dm)
        dm.setup("fit")  # bad data stops here, before a logger run or a trainer exists (fit's setup is a no-op)
        config = recorded_config(cfg, dm)
        changes = []
        saved = rd / "config.yaml"
        if resume_from and saved.is_file():
            changes = config_diff(yaml.safe_load(saved.read_text(encoding="utf-8")), config)
            network = [change for change in changes if change.startswith("model.net.")]
            if network and ckpt_path == "auto" and not cfg.run.ckpt_path:
                raise RunError(
                    f"{rd} was trained with another network; its checkpoints cannot resume this one "
                    f"({'; '.join(network)}). Use --fresh to start over here, or another --name"
                )
        if zero:
            saved.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
        if logger is None:
            logger = build_logger(cfg, rd, config)
        else:
            logger.log_hyperparams(config)
        callbacks = [*build_callbacks(cfg, rd, dm, config, logger), *extra_callbacks]
        trainer = build_trainer(cfg, rd, logger, callbacks)
        if resume_from and zero:
            print(f"Resuming from {resume_from}", flush=True)
        interrupted = None
        try:
            trainer.fit(module, datamodule=dm, ckpt_path=resume_from, weights_only=True)
        except TrainingInterrupted as e:
            interrupted = e
        metrics: dict[str, float] = {}
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if test and interrupted is None and not trainer.interrupted and best:
            results = trainer.test(module, datamodule=dm, ckpt_path="best", weights_only=True, verbose=False)
            metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
        result = RunResult(trainer, module, dm, rd, resume_from, changes, metrics, interrupted=interrupted)
        if type(logger).__name__ == "WandbLogger" and trainer.is_global_zero:
            run = logger.experiment
            mode = "disabled" if run.disabled else run.settings.mode
            if mode != "disabled":
                result.wandb_dir, result.wandb_mode = Path(run.dir).parent, mode
            run.finish()  # flush now, so a rerun in this process starts cleanly
        return result
