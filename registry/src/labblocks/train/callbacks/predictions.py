"""`ValidationPredictions`: what the model predicts on fixed validation examples, and how its predicted
probabilities are spread over the whole validation set, after every validation epoch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks.train.examples import first_batch
from labblocks.train.logs import histograms as hist
from labblocks.train.logs.loggers import find_logger
from labblocks.train.logs.media import Row, is_image
from labblocks.train.logs.rows import rows_to_csv, rows_to_tensorboard
from labblocks.train.logs.tables import bind_images, log_wandb_table
from labblocks.train.rng import preserved_rng

Forward = Callable[[LightningModule, Any], torch.Tensor]


def inputs_then_target(module: LightningModule, batch: Any) -> torch.Tensor:
    """Logits (B, K) for a batch `(*inputs, target)`: `module(*inputs)`."""
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError(
            f"ValidationPredictions: the default forward expects batches (*inputs, target), got "
            f"{type(batch).__name__}; pass forward=lambda module, batch: <logits (B, K)>"
        )
    return module(*batch[:-1])


@dataclass(eq=False)
class ValidationPredictions(Callback):
    """After each validation epoch (not the sanity check), on rank zero:

    - a table of the first `rows` items of the validation dataset (collated with the loader's
      `collate_fn`): the input as `render(batch)` shows it (`{"image": (H, W[, C]) array in [0, 1]}` or
      `{"text": str}`, plus `{"label": str}`), the predicted class, its probability and every class's
      probability. The model runs in eval mode, without gradients, under the trainer's precision, and the
      global RNG states are left untouched.
    - histograms over the whole validation set (every rank's share) of each class's predicted probability
      (`<prefix>/prob/<class>`), the predicted class and the top-class confidence, from the `logits`
      (B, K) that `validation_step` returns in its output dict.

    W&B gets a table (images inside the run folder) and histograms; TensorBoard images, a Markdown table
    and histograms; the CSV logger a CSV per validation under `<log dir>/<key>/` (images written once as
    PNG) and a CSV of histogram counts. With none of these, the predicted-class fractions are logged as
    scalars. `rows=0` (or no `render`) logs the histograms only.
    """

    render: Callable[[Any], list[Row]] | None = None
    class_names: Sequence[str] | None = None
    rows: int = 16
    key: str = "val/predictions"
    prefix: str = "val"
    bins: int = 20
    forward: Forward | None = None
    _probs: list[torch.Tensor] = field(default_factory=list, init=False, repr=False)
    _examples: Any = field(default=None, init=False, repr=False)  # (collated batch, rendered rows)
    _wandb_cells: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict, init=False, repr=False)
    _tb_images: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rows < 0 or self.bins < 1:
            raise ValueError(f"{type(self).__name__}: rows={self.rows}, bins={self.bins}; need rows >= 0, bins >= 1")
        if self.rows and self.render is None:
            raise ValueError(
                f"{type(self).__name__}: rows={self.rows} needs render(batch) -> rows, e.g. the DataModule's "
                "render_samples; pass rows=0 for histograms only"
            )

    # -- collecting --------------------------------------------------------------------------------

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._probs = []

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if trainer.sanity_checking or not isinstance(outputs, dict) or "logits" not in outputs:
            return
        self._probs.append(outputs["logits"].detach().float().softmax(-1).cpu())  # (B, K)

    def _all_probs(self, trainer: Trainer) -> torch.Tensor | None:
        """This epoch's probabilities (N, K) from every rank (a collective: every rank calls it)."""
        mine = torch.cat(self._probs) if self._probs else None
        if trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            gathered: list[Any] = [None] * trainer.world_size
            torch.distributed.all_gather_object(gathered, mine)
            parts = [p for p in gathered if p is not None]
            return torch.cat(parts) if parts else None
        return mine

    # -- logging -----------------------------------------------------------------------------------

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        probs = self._all_probs(trainer)
        self._probs = []
        if trainer.global_rank != 0:
            return
        if probs is not None and len(probs):
            self._log_histograms(trainer, probs)
        if self.rows and self.render is not None:
            self._log_table(trainer, pl_module)

    def _names(self, k: int) -> list[str]:
        if self.class_names is None:
            return [str(i) for i in range(k)]
        if len(self.class_names) != k:
            raise ValueError(
                f"{type(self).__name__}: {len(self.class_names)} class names {list(self.class_names)[:5]}... "
                f"but the model predicts {k} classes"
            )
        return [str(n) for n in self.class_names]

    def _log_histograms(self, trainer: Trainer, probs: torch.Tensor) -> None:
        names, step = self._names(probs.shape[1]), trainer.global_step
        wandb_logger, tb_logger = find_logger(trainer, "wandb"), find_logger(trainer, "tensorboard")
        if wandb_logger is not None and not getattr(wandb_logger.experiment, "disabled", False):
            hist.to_wandb(wandb_logger.experiment, self.prefix, probs, names, self.bins, step)
        if tb_logger is not None:
            hist.to_tensorboard(tb_logger.experiment, self.prefix, probs, names, self.bins, step)
        if (csv_logger := find_logger(trainer, "csv")) is not None:
            name = f"histograms-epoch{trainer.current_epoch:03d}-step{step:06d}.csv"
            hist.to_csv(Path(csv_logger.log_dir) / f"{self.prefix}_probabilities" / name, probs, names, self.bins)
        if wandb_logger is None and tb_logger is None:
            for logger in trainer.loggers:
                logger.log_metrics(hist.prediction_fractions(self.prefix, probs), step=step)

    def _fixed_examples(self, trainer: Trainer) -> tuple[Any, list[Row]] | None:
        """The first `rows` validation items, collated, and how `render` shows them (made once)."""
        if self._examples is None:
            loader = trainer.val_dataloaders
            if isinstance(loader, (list, tuple)):
                loader = loader[0] if loader else None
            if loader is None or not hasattr(loader, "dataset"):
                return None
            with preserved_rng():
                batch = first_batch(loader, self.rows)
                assert self.render is not None
                self._examples = (batch, self.render(batch))
        return self._examples

    def _predict(self, trainer: Trainer, module: LightningModule, batch: Any) -> torch.Tensor:
        """Probabilities (n, K) for the fixed batch, in eval mode, leaving RNGs and the mode as they were."""
        was_training = module.training
        module.eval()
        try:
            with preserved_rng(), torch.no_grad(), trainer.precision_plugin.val_step_context():
                on_device = trainer.precision_plugin.convert_input(trainer.strategy.batch_to_device(batch))
                logits = (self.forward or inputs_then_target)(module, on_device)  # (n, K)
        finally:
            module.train(was_training)
        return logits.detach().float().softmax(-1).cpu()

    def _log_table(self, trainer: Trainer, module: LightningModule) -> None:
        examples = self._fixed_examples(trainer)
        if examples is None:
            return
        batch, shown = examples
        probs = self._predict(trainer, module, batch)  # (n, K)
        names = self._names(probs.shape[1])
        conf, pred = probs.max(-1)
        rows = [
            {
                **row,
                "prediction": names[int(pred[i])],
                "confidence": round(float(conf[i]), 4),
                **{f"p_{n}": round(float(p), 4) for n, p in zip(names, probs[i], strict=True)},
            }
            for i, row in enumerate(shown)
        ]
        step = trainer.global_step
        if (logger := find_logger(trainer, "wandb")) is not None:
            self._to_wandb(logger.experiment, rows, step)
        if (logger := find_logger(trainer, "tensorboard")) is not None:
            where = str(logger.log_dir)
            rows_to_tensorboard(logger.experiment, self.key, rows, step, images=where not in self._tb_images)
            self._tb_images.add(where)
        if (logger := find_logger(trainer, "csv")) is not None:
            folder = Path(logger.log_dir) / self.key.replace("/", "_")
            path = folder / f"epoch{trainer.current_epoch:03d}-step{step:06d}.csv"
            rows_to_csv(path, rows, lambda i, column: folder / "images" / f"{i}_{column}.png")

    def _to_wandb(self, run: Any, rows: list[Row], step: int) -> None:
        """The table; the images are written into this run's folder once and referenced every epoch."""
        if getattr(run, "disabled", False):
            return
        cells = self._wandb_cells.setdefault(str(run.dir), {})
        for column in [c for c in rows[0] if is_image(rows[0][c])]:
            if column not in cells:
                cells[column] = bind_images(run, f"{self.key}/{column}", [r[column] for r in rows])
        rows = [{c: cells[c][i] if c in cells else v for c, v in r.items()} for i, r in enumerate(rows)]
        log_wandb_table(run, self.key, rows, {"trainer/global_step": step})
