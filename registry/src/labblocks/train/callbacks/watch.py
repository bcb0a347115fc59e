"""`WatchModel`: histograms of gradients and parameters, every `log_freq` optimizer steps."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks.train.logs.loggers import find_logger

KINDS = ("gradients", "parameters", "all")


class WatchModel(Callback):
    """What `wandb.watch` logs (`gradients/<name>`, `parameters/<name>` histograms), to W&B and TensorBoard,
    on the steps where `trainer.global_step % log_freq == 0`, and nothing on the others.

    `wandb.watch` puts a Python hook on every parameter's gradient, which runs on every backward pass
    whether or not it logs: on a small model that is a measurable share of each step. Here the histograms
    are taken right before the optimizer step (the gradients as the backward pass left them, before
    clipping), on rank zero (gradients are already averaged over processes). `log` is "gradients",
    "parameters", "all" or None. (Lightning sets `callback.log` to the module's `log`, hence `watch_log`.)
    """

    def __init__(self, log: str | None = "gradients", log_freq: int = 100, bins: int = 64) -> None:
        if log not in (*KINDS, None):
            raise ValueError(f"WatchModel(log={log!r}): expected 'gradients', 'parameters', 'all' or None")
        if log_freq < 1:
            raise ValueError(f"WatchModel(log_freq={log_freq!r}): expected a number of steps >= 1")
        self.watch_log, self.log_freq, self.bins = log, log_freq, bins

    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Any) -> None:
        if self.watch_log is None or trainer.global_step % self.log_freq or not trainer.is_global_zero:
            return
        wandb_logger, tb_logger = find_logger(trainer, "wandb"), find_logger(trainer, "tensorboard")
        if wandb_logger is None and tb_logger is None:
            return
        tensors = self._tensors(pl_module)
        step = trainer.global_step
        if wandb_logger is not None:
            import wandb

            histograms = {name: wandb.Histogram(t.numpy(), num_bins=self.bins) for name, t in tensors.items()}
            wandb_logger.experiment.log({**histograms, "trainer/global_step": step})
        if tb_logger is not None:
            for name, t in tensors.items():
                tb_logger.experiment.add_histogram(name, t, step)

    def _tensors(self, module: LightningModule) -> dict[str, torch.Tensor]:
        """`gradients/<name>` and/or `parameters/<name>` -> a flat float32 CPU copy."""
        out: dict[str, torch.Tensor] = {}
        for name, p in module.named_parameters():
            if self.watch_log in ("gradients", "all") and p.grad is not None:
                out[f"gradients/{name}"] = p.grad.detach().float().flatten().cpu()
            if self.watch_log in ("parameters", "all"):
                out[f"parameters/{name}"] = p.detach().float().flatten().cpu()
        return out
