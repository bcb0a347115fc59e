"""The `train` command: seed, build the project's data and model, fit (resuming from the run directory's
newest checkpoint), test the best checkpoint, print where everything went. Files in the run directory are
written by the global rank 0 process only."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import lightning as L
import yaml
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig

from labblocks.run.cli import request
from labblocks.run.config import run_dir
from labblocks.run.errors import RunError, shown
from labblocks.run.failures import building, first_forward
from labblocks.run.project import Project
from labblocks.run.resume import check_checkpoint, checkpoint_dir, resume_from, run_lock, start_over
from labblocks.run.rundir import config_diff
from labblocks.run.sweep import sweep_layer, sweep_values, under_agent
from labblocks.run.trainer import build_callbacks, build_logger, build_trainer, check_trainer, wandb_logger, wandb_mode
from labblocks.train.callbacks.signals import TrainingInterrupted
from labblocks.train.runlock import is_rank_zero


@dataclass
class RunResult:
    trainer: L.Trainer
    module: L.LightningModule
    datamodule: L.LightningDataModule
    run_dir: Path
    resumed_from: str | None
    config_changes: list[str]
    test_metrics: dict[str, float]
    tested: str = ""  # what the test metrics are of: the best checkpoint, or the last state
    wandb_dir: Path | None = None
    wandb_mode: str | None = None
    interrupted: TrainingInterrupted | None = None  # set when a signal stopped the run (after saving)

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
        rows = [("run directory", shown(self.run_dir))]
        if self.resumed_from:
            rows.append(("resumed from", shown(self.resumed_from)))
        rows += [("config changed on resume", change) for change in self.config_changes]
        if self.interrupted is not None:
            stop = self.interrupted
            rows.append(("stopped", f"by {stop.signal_name} at step {stop.step}; run the same command to resume"))
        best = self.best_score
        rows.append((f"best {ck.monitor}", f"{best:.4f}" if best is not None else "n/a"))
        if self.tested and not self.tested.startswith("the best"):
            rows.append(("tested", self.tested))
        rows += [(key, f"{value:.4f}") for key, value in sorted(self.test_metrics.items())]
        rows.append(("best checkpoint", shown(ck.best_model_path) if ck.best_model_path else "none"))
        last = checkpoint_dir(self.run_dir) / "last.ckpt"
        rows.append(("last checkpoint", shown(last) if last.is_file() else "none"))
        if self.wandb_dir is not None:
            rows.append((f"W&B run ({self.wandb_mode})", shown(self.wandb_dir)))
            if self.wandb_mode == "offline":
                rows.append(("upload it with", f"wandb sync {shown(self.wandb_dir)}"))
        width = max(len(label) for label, _ in rows) + 1
        return "\n" + "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)


def train(
    project: Project,
    cfg: DictConfig,
    extra_callbacks: Sequence[Callback] = (),
    logger: Logger | None = None,
    ckpt_path: str | None = "auto",
    test: bool = True,
) -> RunResult:
    """Seed, build, fit, then test the best checkpoint. `ckpt_path="auto"` resumes as the config and the run
    directory say. Raises RunError before training when the run cannot start (a locked run directory,
    unreadable checkpoints, another network in the run directory)."""
    build = project.build()
    rd = run_dir(cfg)
    zero = is_rank_zero()
    new = zero and not rd.exists()
    if zero:
        rd.mkdir(parents=True, exist_ok=True)
    try:
        with run_lock(rd):
            return _train(project, build, cfg, rd, extra_callbacks, logger, ckpt_path, test)
    except RunError:
        if new and not (rd / "checkpoints").exists():  # a run that never started leaves no run directory
            shutil.rmtree(rd, ignore_errors=True)
        raise


def _train(
    project: Project,
    build: ModuleType,
    cfg: DictConfig,
    rd: Path,
    extra_callbacks: Sequence[Callback],
    logger: Logger | None,
    ckpt_path: str | None,
    test: bool,
) -> RunResult:
    """`train` inside the run directory's lock."""
    zero = is_rank_zero()
    auto = ckpt_path == "auto"
    start = resume_from(rd, project.module, cfg.run.resume, cfg.run.ckpt_path) if auto else ckpt_path
    if auto and not cfg.run.resume and not cfg.run.ckpt_path and zero:
        start_over(rd)
    with building(cfg, "trainer"):
        check_trainer(cfg)  # Lightning judges the accelerator, devices, strategy and precision in a second
    L.seed_everything(cfg.run.seed, workers=True, verbose=zero)
    with building(cfg, "data"):
        dm = build.build_datamodule(cfg)
        dm.setup("fit")  # bad data stops here, before a model, a logger run or a trainer exists
    with building(cfg, "model"):
        module = build.build_model(cfg, dm)
        first_forward(cfg, module)  # a network that cannot take the data's inputs stops here, in a second
    config = build.recorded_config(cfg, dm)
    changes = resumed_changes(rd / "config.yaml", config, start, strict=auto and not cfg.run.ckpt_path)
    if zero:
        (rd / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
    if logger is None:
        logger = build_logger(cfg, rd, config)
    else:
        logger.log_hyperparams(config)
    callbacks = [
        *build_callbacks(cfg, rd, config, project, logging=True),
        *build.task_callbacks(cfg, dm, logger),
        *extra_callbacks,
    ]
    trainer = build_trainer(cfg, rd, logger, callbacks, epoch_batches=epoch_batches(cfg, dm))
    if start and zero:
        print(f"Resuming from {start}", flush=True)
    interrupted = None
    try:
        trainer.fit(module, datamodule=dm, ckpt_path=start, weights_only=True)
    except TrainingInterrupted as e:
        interrupted = e
    metrics: dict[str, float] = {}
    tested = ""
    if test and interrupted is None and not trainer.interrupted and not trainer.fast_dev_run:
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        tested = "the best checkpoint" if best else "the last state (no validation ran, so no checkpoint is best)"
        if not best and zero:
            print("No best checkpoint (no validation ran): testing the last state instead", flush=True)
        results = trainer.test(module, datamodule=dm, ckpt_path=best or None, weights_only=True, verbose=False)
        metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    result = RunResult(trainer, module, dm, rd, start, changes, metrics, tested, interrupted=interrupted)
    if isinstance(logger, WandbLogger) and trainer.is_global_zero:
        run = logger.experiment
        mode = "disabled" if run.disabled else run.settings.mode
        if mode != "disabled":
            result.wandb_dir, result.wandb_mode = Path(run.dir).parent, mode
        run.finish()  # flush now, so a rerun in this process starts cleanly
    return result


def epoch_batches(cfg: DictConfig, dm: L.LightningDataModule) -> int:
    """Training batches per epoch in this process, as trainer.limit_train_batches cuts them."""
    batches = len(dm.train_dataloader())
    limit = cfg.trainer.limit_train_batches
    return min(batches, limit) if isinstance(limit, int) else max(int(batches * limit), 1)


def resumed_changes(saved: Path, config: dict[str, Any], start: str | None, strict: bool) -> list[str]:
    """What changed in the config since the run being resumed. With `strict` (resuming the run directory's
    own checkpoints), another network is refused: its checkpoints cannot load into this one."""
    if not start or not saved.is_file():
        return []
    changes = config_diff(yaml.safe_load(saved.read_text(encoding="utf-8")), config)
    network = [change for change in changes if change.startswith("model.net.")]
    if network and strict:
        raise RunError(
            f"{saved.parent} was trained with another network; its checkpoints cannot resume this one "
            f"({'; '.join(network)}). Use --fresh to start over here, or another --name"
        )
    return changes


def command(project: Project, args: argparse.Namespace) -> int:
    """`train`: the exit code (2: the run could not start; 128 + signal number: stopped by a signal, saved)."""
    cfg = project.load(request(args))
    if cfg.run.ckpt_path:
        check_checkpoint(cfg.run.ckpt_path, project.module)  # before building anything: a bad file costs seconds
    logger = None
    if under_agent():  # a W&B sweep: the agent's values are one more layer
        values, run_id = sweep_values(), os.environ.get("WANDB_RUN_ID", "")
        if is_rank_zero():  # rank 0 owns the agent's W&B run
            logger = wandb_logger(
                str(cfg.run.output_dir), project=cfg.logger.project, entity=cfg.logger.entity, mode=wandb_mode(cfg)
            )
            values = values or {k: v for k, v in dict(logger.experiment.config).items() if not k.startswith("_")}
            run_id = logger.experiment.id
        cfg = project.load(request(args), extra=[sweep_layer(values, run_id)])
    result = train(project, cfg, logger=logger)
    if is_rank_zero():
        print(result.summary(), flush=True)
    return 128 + result.interrupted.signum if result.interrupted is not None else 0
