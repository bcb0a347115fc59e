"""The LightningModule: a labblocks network trained with cross-entropy, optimizer and schedule from config.

Batches are tuples `(*inputs, y)`: the network maps `inputs` to logits (B, K) and y (B,) holds class
indices. The same module serves every task; only the data decides what `inputs` are.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from {{cookiecutter.module_name}}.config import OptimConfig, SchedulerConfig


class Classifier(L.LightningModule):
    """Cross-entropy classifier around `net`; logs loss and accuracy for train, val and test."""

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optim: OptimConfig,
        scheduler: SchedulerConfig,
        label_smoothing: float = 0.0,
        example_input: tuple[torch.Tensor, ...] | None = None,
    ):
        super().__init__()
        self.net = net
        self.num_classes = num_classes
        self.optim_cfg, self.sched_cfg = optim, scheduler
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.example_input_array = example_input  # the model summary prints FLOPs and shapes with it

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.net(*inputs)  # inputs -> (B, K)

    def shared_step(self, batch: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        *inputs, y = batch  # y: (B,)
        logits = self(*inputs)  # (B, K)
        return {"loss": self.criterion(logits, y), "logits": logits, "target": y}

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        out = self.shared_step(batch)
        self.train_acc(out["logits"], out["target"])
        self.log("train/loss", out["loss"], on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True)
        return {"loss": out["loss"]}

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        out = self.shared_step(batch)
        self.val_acc(out["logits"], out["target"])
        self.log("val/loss", out["loss"], on_epoch=True, prog_bar=True)
        self.log("val/acc", self.val_acc, on_epoch=True, prog_bar=True)
        return {"logits": out["logits"].detach()}  # read by the prediction-histogram callback

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        out = self.shared_step(batch)
        self.test_acc(out["logits"], out["target"])
        self.log("test/loss", out["loss"], on_epoch=True)
        self.log("test/acc", self.test_acc, on_epoch=True)

    def configure_optimizers(self) -> dict[str, Any]:
        o, s = self.optim_cfg, self.sched_cfg
        # Weight decay on weight matrices and kernels only, not on biases and norm scales.
        decay = [p for p in self.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.ndim < 2]
        groups = [{"params": decay, "weight_decay": o.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        name = _name(o.name)
        if name == "sgd":
            opt = torch.optim.SGD(groups, lr=o.lr, momentum=o.momentum, nesterov=True, foreach=True)
        else:
            cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
            fused = all(p.device.type in ("cpu", "cuda") for p in self.parameters())  # one kernel per step
            opt = cls(groups, lr=o.lr, betas=tuple(o.betas), fused=fused or None)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        sched = _name(s.name)
        if sched == "onecycle":
            lr_sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=o.lr, total_steps=total)
        elif sched == "cosine":
            warmup = min(s.warmup_steps, total - 1)
            sched_cls = torch.optim.lr_scheduler.CosineAnnealingLR
            cosine = sched_cls(opt, T_max=total - warmup, eta_min=o.lr * s.min_lr_ratio)
            lr_sched = cosine
            if warmup > 0:
                ramp = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-3, total_iters=warmup)
                lr_sched = torch.optim.lr_scheduler.SequentialLR(opt, [ramp, cosine], milestones=[warmup])
        else:
            lr_sched = torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": lr_sched, "interval": "step"}}


def _name(value: Any) -> str:
    """An enum member or its name/value as the plain name string."""
    return str(getattr(value, "value", value))
