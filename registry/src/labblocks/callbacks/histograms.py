"""`PredictionHistograms`: distributions of predictions, logged after every validation epoch."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks.callbacks._loggers import find_logger


class PredictionHistograms(Callback):
    """Collects `outputs["logits"]` (B, K) from `validation_step` and logs, per epoch, histograms of the
    predicted class and of the top-class confidence (W&B / TensorBoard), or the predicted-class
    fractions as scalars (other loggers). A collapsing model shows up as one spike."""

    def __init__(self, prefix: str = "val") -> None:
        self.prefix = prefix
        self._preds: list[torch.Tensor] = []
        self._conf: list[torch.Tensor] = []

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._preds, self._conf = [], []

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or "logits" not in outputs:
            return
        probs = outputs["logits"].detach().float().softmax(-1)  # (B, K)
        conf, pred = probs.max(-1)  # (B,), (B,)
        self._preds.append(pred.cpu())
        self._conf.append(conf.cpu())

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking or not self._preds or trainer.global_rank != 0:
            return
        preds, conf = torch.cat(self._preds), torch.cat(self._conf)
        step = trainer.global_step
        if (logger := find_logger(trainer, "wandb")) is not None:
            import wandb

            num_classes = int(preds.max()) + 1
            logger.experiment.log({
                f"{self.prefix}/pred_class": wandb.Histogram(preds.numpy(), num_bins=max(num_classes, 2)),
                f"{self.prefix}/confidence": wandb.Histogram(conf.numpy(), num_bins=20),
                "trainer/global_step": step,
            })
        if (logger := find_logger(trainer, "tensorboard")) is not None:
            logger.experiment.add_histogram(f"{self.prefix}/pred_class", preds, step)
            logger.experiment.add_histogram(f"{self.prefix}/confidence", conf, step)
        if find_logger(trainer, "wandb") is None and find_logger(trainer, "tensorboard") is None:
            counts = torch.bincount(preds).float() / len(preds)
            metrics = {f"{self.prefix}/pred_frac_{k}": float(v) for k, v in enumerate(counts)}
            metrics[f"{self.prefix}/confidence_mean"] = float(conf.mean())
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=step)
