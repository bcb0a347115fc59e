"""The LightningModule: a labblocks network trained with cross-entropy, its optimizer and schedule given as values.

Batches are tuples `(*inputs, y)`: the network maps `inputs` to logits (B, K) and y (B,) holds class
indices. The same module serves every task; only the data decides what `inputs` are.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.aggregation import MeanMetric


class Classifier(L.LightningModule):
    """Cross-entropy classifier around `net`; logs loss and accuracy for train, val and test.

    Takes plain values (the training wiring reads them from the config). Each step adds its batch to the
    epoch's sums on the device (loss times batch size, correct predictions). At the split's last batch the
    sums go to torchmetrics, which averages them over all samples of all processes, and are logged, so
    callbacks and monitors find `train/loss` at the epoch's end. The step loss is logged only at the
    logger's interval (`trainer.log_every_n_steps`).
    """

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
        label_smoothing: float = 0.0,
        example_input: tuple[torch.Tensor, ...] | None = None,
        channels_last: bool = False,
    ):
        super().__init__()
        self.net = net
        self.optimizer, self.lr, self.weight_decay = optimizer, float(lr), float(weight_decay)
        self.betas, self.momentum = (float(betas[0]), float(betas[1])), float(momentum)
        self.schedule = (schedule, int(warmup_steps), float(min_lr_ratio))
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        # Per split, the epoch's means weighted by its sample count; a NaN loss still shows in the mean.
        self.metrics = nn.ModuleDict(
            {
                f"{split}_{kind}": MeanMetric(nan_strategy="disable")
                for split in ("train", "val", "test")
                for kind in ("loss", "acc")
            }
        )
        self._sums: dict[str, dict[str, Any]] = {}  # split -> this epoch's loss sum, correct count, samples
        self.example_input_array = example_input  # the model summary prints FLOPs and shapes with it
        self.channels_last = channels_last
        self._total_steps: int | None = None  # optimizer steps of the whole run, known once training starts
        if channels_last:
            self.net.to(memory_format=torch.channels_last)

    @property
    def example_input_array(self) -> Any:
        """The example input (model summary: FLOPs and shapes) in the dtype the weights have now, so
        `*-true` precisions, which store the weights in bf16/fp16, get a matching input."""
        example = self._example_input_array
        if example is None:
            return None
        dtype = next(self.parameters()).dtype
        return tuple(t.to(dtype) if t.is_floating_point() else t for t in example)

    @example_input_array.setter
    def example_input_array(self, example: Any) -> None:
        self._example_input_array = example

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.net(*inputs)  # inputs -> (B, K)

    def shared_step(self, batch: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        *inputs, y = batch  # y: (B,)
        if self.channels_last:  # (B, C, H, W) images in NHWC memory order; other inputs unchanged
            inputs = [t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else t for t in inputs]
        logits = self(*inputs)  # (B, K)
        return {"loss": self.criterion(logits, y), "logits": logits, "target": y}

    def _update(self, split: str, out: dict[str, torch.Tensor]) -> None:
        y = out["target"]  # (B,)
        sums = self._sums.setdefault(split, {"loss": 0.0, "correct": 0, "n": 0})
        sums["loss"] += out["loss"].detach().float() * len(y)  # on the device: no sync
        sums["correct"] += (out["logits"].detach().argmax(-1) == y).sum()  # (B, K) -> (B,) -> ()
        sums["n"] += len(y)

    def _log_epoch(self, split: str, prog_bar: bool = False) -> None:
        sums = self._sums.pop(split, None)
        if sums is not None and sums["n"]:  # this process's means, weighted by its sample count
            self.metrics[f"{split}_loss"].update(sums["loss"] / sums["n"], weight=sums["n"])
            self.metrics[f"{split}_acc"].update(sums["correct"] / sums["n"], weight=sums["n"])
        for kind in ("loss", "acc"):  # averaged over all samples of all processes, then reset
            self.log(
                f"{split}/{kind}", self.metrics[f"{split}_{kind}"], on_step=False, on_epoch=True, prog_bar=prog_bar
            )

    def on_train_epoch_start(self) -> None:
        self._sums.pop("train", None)  # nothing carried over from an epoch that was cut short

    def on_validation_epoch_start(self) -> None:
        self._sums.pop("val", None)

    def on_test_epoch_start(self) -> None:
        self._sums.pop("test", None)

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        out = self.shared_step(batch)
        self._update("train", out)
        if (self.global_step + 1) % self.trainer.log_every_n_steps == 0:  # only at the logger's interval
            self.log("train/loss_step", out["loss"], prog_bar=True)
        return out["loss"]

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        t = self.trainer
        if batch_idx + 1 >= t.num_training_batches or 0 < t.max_steps <= self.global_step:
            self._log_epoch("train")  # the epoch's last batch: before the callbacks' on_train_epoch_end

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> dict[str, torch.Tensor]:
        out = self.shared_step(batch)
        self._update("val", out)
        return {"logits": out["logits"].detach()}  # read by the predictions callback

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val", prog_bar=True)

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._update("test", self.shared_step(batch))

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self) -> dict[str, Any]:
        # Weight decay on weight matrices and kernels only, not on biases and norm scales.
        decay = [p for p in self.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in self.parameters() if p.requires_grad and p.ndim < 2]
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if self.optimizer == "sgd":
            opt = torch.optim.SGD(groups, lr=self.lr, momentum=self.momentum, nesterov=True, foreach=True)
        else:
            cls = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
            opt = cls(groups, lr=self.lr, betas=self.betas, **self._adam_kernel())
        # The schedule's length is read at the first step, not here: asking Lightning for it now would set
        # up the training loader before a checkpoint's loader position is restored (mid-epoch resume).
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

    def _adam_kernel(self) -> dict[str, bool]:
        """The fused kernel (one per step) where Lightning allows it, else the multi-tensor one.

        A fused Adam unscales gradients inside its step. Under `*-mixed` precision Lightning unscales the
        gradients before clipping them, so it refuses to clip with an optimizer that unscales itself
        ("does not allow for gradient clipping"); there the foreach kernel, which clips like any other.
        """
        t = self.trainer
        mixed = str(t.precision).endswith("-mixed")
        clipping = bool(t.gradient_clip_val)
        on_fused_device = all(p.device.type in ("cpu", "cuda") for p in self.parameters())
        if on_fused_device and not (mixed and clipping):
            return {"fused": True}
        return {"foreach": True}


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
