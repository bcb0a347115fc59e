"""A tiny Lightning classification setup for tests of the callbacks: 8x8 grey images, 3 classes, a
linear model. Image i has known pixels (a constant level plus a horizontal ramp), so what a logger
wrote can be compared with what went in."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

CLASSES = ["cat", "dog", "bird"]
SIZE = 8


def image(i: int) -> torch.Tensor:
    """Item i's image (1, 8, 8) in [0, 1]: level 0.15 + 0.1 * (i % 7) plus a ramp of 0..0.2 across columns."""
    ramp = torch.linspace(0.0, 0.2, SIZE).expand(SIZE, SIZE)
    return (0.15 + 0.1 * (i % 7) + ramp).clamp(0, 1).unsqueeze(0)


class TinyImages(Dataset):
    def __init__(self, n: int, offset: int = 0) -> None:
        self.n, self.offset = n, offset

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        j = i + self.offset
        return image(j), j % len(CLASSES)


class TinyData(L.LightningDataModule):
    def __init__(self, n_train: int = 24, n_val: int = 12, batch_size: int = 6) -> None:
        super().__init__()
        self.n_train, self.n_val, self.batch_size = n_train, n_val, batch_size
        self.class_names = list(CLASSES)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TinyImages(self.n_train), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TinyImages(self.n_val, offset=1000), batch_size=self.batch_size)

    def render_samples(self, batch: tuple[torch.Tensor, torch.Tensor]) -> list[dict[str, Any]]:
        x, y = batch  # (B, 1, H, W), (B,)
        images = x.permute(0, 2, 3, 1).numpy()  # (B, 1, H, W) -> (B, H, W, 1)
        return [{"image": img, "label": CLASSES[int(c)]} for img, c in zip(images, y, strict=True)]


class TinyModel(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(SIZE * SIZE, len(CLASSES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, 1, H, W) -> (B, K)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        x, y = batch
        logits = self(x)
        self.log("val/loss", nn.functional.cross_entropy(logits, y))
        return {"logits": logits}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.5)


def val_probabilities(model: TinyModel, data: TinyData) -> np.ndarray:
    """Softmax probabilities (N, K) of the model on the whole validation set, in eval mode."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x).softmax(-1) for x, _ in data.val_dataloader()]).numpy()


def quiet_trainer(**kwargs: Any) -> L.Trainer:
    """A CPU trainer without progress bar, model summary or checkpoints unless asked."""
    defaults: dict[str, Any] = {
        "accelerator": "cpu", "devices": 1, "enable_progress_bar": False, "enable_model_summary": False,
        "enable_checkpointing": False, "logger": False, "num_sanity_val_steps": 0,
    }
    return L.Trainer(**{**defaults, **kwargs})
