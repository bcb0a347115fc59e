"""The `evaluate` command: the metrics of a checkpoint on the test or validation split.

Rebuilds the model and data from the config recorded in the checkpoint (the command line's experiments,
flags and overrides on top, e.g. data.batch_size=256 trainer.accelerator=gpu), runs the chosen split,
prints the metrics, logs them with the run's logger and writes them to
`<run dir>/eval/<checkpoint>-<split>.json`. `best` and `last` are looked up in the run directory named by
--name / -e / run.name.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import torch
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig

from labblocks.run.cli import request
from labblocks.run.config import Request, run_dir
from labblocks.run.errors import RunError
from labblocks.run.project import Project
from labblocks.run.resume import check_checkpoint, find_checkpoint
from labblocks.run.trainer import build_logger, build_trainer
from labblocks.train.runlock import is_rank_zero


def saved_config(project: Project, ckpt_path: Path, req: Request) -> DictConfig:
    """The checkpoint's recorded config with the request's experiments, flags and overrides on top."""
    recorded = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True).get("config")
    if not isinstance(recorded, dict):
        raise RunError(f"{ckpt_path}: records no config; evaluate a checkpoint written by the train command")
    return project.load(dataclasses.replace(req, base=recorded))


def evaluate(project: Project, cfg: DictConfig, ckpt_path: Path, split: str = "test") -> dict[str, float]:
    """The metrics of `ckpt_path` on `split`, logged with the run's logger and written next to the run."""
    build = project.build()
    rd = run_dir(cfg)
    dm = build.build_datamodule(cfg)
    # Lightning saves the data module's state under its class's name
    state = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True).get(type(dm).__qualname__)
    if state:
        dm.load_state_dict(state)  # fitted preprocessing (a tokenizer) before the model is sized from it
    module = build.build_model(cfg, dm)
    logger = build_logger(cfg, rd, build.recorded_config(cfg, dm)) if is_rank_zero() else None
    trainer = build_trainer(cfg, rd, logger, callbacks=[])
    run = trainer.test if split == "test" else trainer.validate
    results = run(module, datamodule=dm, ckpt_path=str(ckpt_path), weights_only=True, verbose=False)
    metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    if trainer.is_global_zero:
        out = rd / "eval" / f"{ckpt_path.stem}-{split}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        record = {"checkpoint": str(ckpt_path), "split": split, **metrics}
        out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if isinstance(logger, WandbLogger):
        logger.experiment.finish()
    return metrics


def command(project: Project, args: argparse.Namespace) -> int:
    """`evaluate`: find the checkpoint, rebuild its run, print the split's metrics."""
    req = request(args)
    ckpt = find_checkpoint(run_dir(project.load(req)), args.ckpt)
    check_checkpoint(ckpt, project.module, "--ckpt")
    metrics = evaluate(project, saved_config(project, ckpt, req), ckpt, args.split)
    if is_rank_zero():
        width = max(len(k) for k in ["checkpoint", *metrics]) + 1
        print(f"{'checkpoint:':<{width}} {ckpt}")
        for key, value in sorted(metrics.items()):
            print(f"{key + ':':<{width}} {value:.4f}")
    return 0
