"""The `lr-find` command: an LR range test on the configured model and data.

Runs Lightning's Tuner.lr_find (Smith's test: `lr_find.num_training` steps while the learning rate grows
exponentially from `lr_find.min_lr` to `lr_find.max_lr`), saves the loss-vs-learning-rate plot as
`<run dir>/lr_find.png` (and the curve as lr_find.json), and prints the suggested learning rate with the
train command that uses it. The suggestion is the steepest descent of the loss against log(lr) before the
loss minimum (labblocks.train.lr_suggest explains why not Lightning's own).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.tuner import Tuner
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf

from labblocks.run.cli import arguments, override_key, request
from labblocks.run.config import Request, run_dir
from labblocks.run.errors import RunError
from labblocks.run.project import Project
from labblocks.run.trainer import build_trainer
from labblocks.train.lr_suggest import suggest_lr


def find_lr(project: Project, cfg: DictConfig, out_dir: Path | None = None) -> dict[str, Any]:
    """Run the range test; returns {"suggestion", "reason", "plot", "curve"} (the plot and curve in `out_dir`,
    by default the run directory)."""
    build = project.build()
    out = Path(out_dir) if out_dir else run_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    # The sweep may run past the end of an epoch (or of a short experiment's batch limit): no epoch limit.
    cfg = OmegaConf.merge(cfg, {"trainer": {"max_epochs": -1, "max_steps": -1}})
    L.seed_everything(cfg.run.seed, workers=True, verbose=False)
    dm = build.build_datamodule(cfg)
    module = build.build_model(cfg, dm)
    losses = record_losses(module)  # each step's loss: Lightning keeps only a lagging running average
    trainer = build_trainer(cfg, out, logger=None, callbacks=[])
    f = cfg.lr_find
    finder = Tuner(trainer).lr_find(
        module, datamodule=dm, min_lr=f.min_lr, max_lr=f.max_lr, num_training=f.num_training, update_attr=False
    )
    if finder is None:
        raise RunError("the LR finder did not run (is there any training data?)")
    lrs = finder.results["lr"][: len(losses)]  # the LR of each step
    found = suggest_lr(lrs, losses)
    plot = out / "lr_find.png"
    save_plot(lrs, losses, found.smoothed, found.lr, found.index, plot)
    curve = out / "lr_find.json"
    data = {"lr": lrs, "loss": losses, "smoothed": found.smoothed, "suggestion": found.lr, "reason": found.reason}
    curve.write_text(json.dumps(data), encoding="utf-8")
    return {"suggestion": found.lr, "reason": found.reason, "plot": plot, "curve": curve}


def record_losses(module: L.LightningModule) -> list[float]:
    """A list that fills with the loss of every training step of `module` (through its own
    on_train_batch_end hook: the Tuner replaces the trainer's callbacks while it sweeps)."""
    losses: list[float] = []
    hook = module.on_train_batch_end

    def on_train_batch_end(outputs: Any, batch: Any, batch_idx: int) -> None:
        losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
        hook(outputs, batch, batch_idx)

    module.on_train_batch_end = on_train_batch_end
    return losses


def save_plot(
    lrs: list[float], losses: list[float], smoothed: list[float], lr: float | None, index: int | None, path: Path
) -> None:
    """The loss per step and its smoothed curve against the learning rate (log scale), the suggestion marked."""
    fig = Figure(figsize=(6, 4))  # no pyplot: no global backend or figure state
    ax = fig.subplots()
    ax.plot(lrs, losses, color="lightgray", linewidth=0.8, label="loss per step")
    ax.plot(lrs, smoothed, color="tab:blue", label="smoothed")
    if lr is not None and index is not None:
        ax.plot([lr], [smoothed[index]], "o", color="red", markersize=8, label=f"suggestion {lr:.2e}")
    ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title(f"LR range test: suggestion {lr:.2e}" if lr else "LR range test: no suggestion")
    fig.savefig(path, dpi=120, bbox_inches="tight")


def train_command(project: Project, req: Request, lr: float) -> str:
    """The train command with the user's own config, experiments, flags and overrides, and `optim.lr` set."""
    overrides = [item for item in req.overrides if override_key(item) != "optim.lr"] + [f"optim.lr={lr:.2e}"]
    return shlex.join([project.prog, "train", *arguments(dataclasses.replace(req, overrides=overrides))])


def command(project: Project, args: argparse.Namespace) -> int:
    """`lr-find`: run the range test and print the suggestion, the plot and the train command that uses it."""
    req = request(args)
    result = find_lr(project, project.load(req))
    lr = result["suggestion"]
    print(f"suggested learning rate: {lr:.3e} ({result['reason']})" if lr else f"no suggestion: {result['reason']}")
    print(f"plot: {result['plot']}")
    if lr:
        print(f"use it: {train_command(project, req, lr)}")
    return 0
