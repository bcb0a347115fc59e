"""The LightningModule: a labblocks network trained with mean squared error, optimizer and schedule from config.

Batches are `(x, y)`: the network maps x (B, F) to (B, 1), one prediction per row, and y (B,) holds the
standardised targets. Logged per epoch for train, val and test: `loss` (MSE of the standardised target) and
`mae` (mean absolute error in the target's own units).
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.aggregation import MeanMetric

KINDS = ("loss", "mae")


class Regressor(L.LightningModule):
    """MSE regressor around `net`. Takes plain values (the training wiring reads them from the config)."""

    def __init__(
        self,
        net: nn.Module,
        optimizer: str = "adamw",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        momentum: float = 0.9,
        schedule: str = "cosine",
        warmup_steps: int = 0,
        min_lr_ratio: float = 0.01,
        target_std: float = 1.0,
        example_input: tuple[torch.Tensor, ...] | None = None,
    ):
        super().__init__()
        self.net = net
        self.optimizer, self.lr, self.weight_decay = optimizer, float(lr), float(weight_decay)
        self.betas, self.momentum = (float(betas[0]), float(betas[1])), float(momentum)
        self.schedule = (schedule, int(warmup_steps), float(min_lr_ratio))
        self.criterion = nn.MSELoss()
        self.target_std = float(target_std)  # mae in the target's units: |prediction - y| * target_std
        # Per split, the epoch's means weighted by batch size, averaged over all processes when logged.
        self.metrics = nn.ModuleDict(
            {
                f"{split}_{kind}": MeanMetric(nan_strategy="disable")
                for split in ("train", "val", "test")
                for kind in KINDS
            }
        )
        self.example_input_array = example_input  # the model summary prints FLOPs and shapes with it
        self._total_steps: int | None = None  # optimizer steps of the whole run, known once training starts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (B, F) -> (B, 1) -> (B,)

    def shared_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch  # (B, F), (B,)
        prediction = self(x)  # (B,)
        return {"loss": self.criterion(prediction, y), "prediction": prediction, "target": y}

    def _log(self, split: str, out: dict[str, torch.Tensor]) -> None:
        n = len(out["target"])
        mae = (out["prediction"].detach() - out["target"]).abs().mean() * self.target_std
        self.metrics[f"{split}_loss"].update(out["loss"].detach(), weight=n)
        self.metrics[f"{split}_mae"].update(mae, weight=n)
        for kind in KINDS:  # computed and reset at the epoch's end
            metric = self.metrics[f"{split}_{kind}"]
            self.log(f"{split}/{kind}", metric, on_step=False, on_epoch=True, prog_bar=split == "val")

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        out = self.shared_step(batch)
        self._log("train", out)
        return out["loss"]

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._log("val", self.shared_step(batch))

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._log("test", self.shared_step(batch))

    def configure_optimizers(self) -> dict[str, Any]:
        # Weight decay on weight matrices only, not on biases and norm scales.
        decay = [p for p in self.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.ndim < 2]
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if self.optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=self.lr, momentum=self.momentum, nesterov=True, foreach=True)
        else:
            cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
            opt = cls(groups, lr=self.lr, betas=self.betas, foreach=True)
        # The schedule's length is read at the first step, not here (a resumed run's loader is not set up yet).
        lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, self._lr_factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": lr_sched, "interval": "step"}}

    def _lr_factor(self, step: int) -> float:
        """The multiple of the learning rate at optimizer step `step` (see `lr_factor`)."""
        kind, warmup, min_ratio = self.schedule
        if step == 0 and self._total_steps is None:
            return lr_factor(0, 1, warmup, min_ratio, kind)
        if self._total_steps is None:
            self._total_steps = max(int(self.trainer.estimated_stepping_batches), 1)
        return lr_factor(step, self._total_steps, warmup, min_ratio, kind)


def lr_factor(step: int, total: int, warmup: int, min_ratio: float, kind: str) -> float:
    """The multiple of the base learning rate at optimizer step `step` of `total`.

    cosine: linear warmup from 1e-3 over `warmup` steps, then cosine decay to `min_ratio`; onecycle: warmup
    from 1/25 over the first 30% of the run, then cosine decay to 1e-4 (Smith's one-cycle shape); constant: 1.
    """
    if kind == "constant":
        return 1.0
    start = 1e-3
    if kind == "onecycle":
        warmup, start, min_ratio = int(0.3 * total), 1 / 25, 1e-4
    warmup = min(warmup, total - 1)
    if step < warmup:
        return start + (1.0 - start) * step / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
