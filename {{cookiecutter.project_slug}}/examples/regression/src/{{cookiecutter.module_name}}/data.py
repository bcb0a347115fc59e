"""Regression data: scikit-learn's diabetes data (442 patients, 10 features, offline).

Batches are `(x, y)`: x (B, 10) float32, the features standardised with the training split's mean and std;
y (B,) float32, the disease progression a year later, standardised the same way. The split is random and
fixed by `data.split_seed`, whatever the run's seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from labblocks.run.errors import DataError
from labblocks.train.loaders import SplitDataModule
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from torch.utils.data import TensorDataset

from {{cookiecutter.module_name}}.data_config import DataConfig


class DiabetesDataModule(SplitDataModule):
    """Loads and splits the table and standardises it with the training split's statistics."""

    def __init__(self, cfg: DataConfig, seed: int):
        super().__init__()
        self.cfg, self.seed = cfg, seed
        data = load_diabetes(scaled=False)
        x, y = data.data, data.target  # (442, 10), (442,)
        self.feature_names = list(data.feature_names)
        held = cfg.val_fraction + cfg.test_fraction
        train, rest = train_test_split(np.arange(len(y)), test_size=held, random_state=cfg.split_seed)
        val, test = train_test_split(rest, test_size=cfg.test_fraction / held, random_state=cfg.split_seed)
        self.stats = {  # fitted on the training split only
            "x_mean": x[train].mean(0).tolist(),
            "x_std": x[train].std(0).tolist(),
            "y_mean": float(y[train].mean()),
            "y_std": float(y[train].std()),
        }
        x = (x - self.stats["x_mean"]) / self.stats["x_std"]
        y = (y - self.stats["y_mean"]) / self.stats["y_std"]
        self.splits = {
            name: TensorDataset(torch.tensor(x[idx], dtype=torch.float32), torch.tensor(y[idx], dtype=torch.float32))
            for name, idx in (("train", train), ("val", val), ("test", test))
        }

    # -- what the model needs from the data ------------------------------------------------------------

    def net_args(self, block: str) -> dict[str, int]:
        """Arguments of `model.net` set by the data (see data_config.supplied_net_args)."""
        return {"in_dim": len(self.feature_names), "out_dim": 1}

    def example_input(self) -> tuple[torch.Tensor]:
        return (torch.zeros(1, len(self.feature_names)),)  # (1, F)

    def preprocessing(self) -> dict[str, Any]:
        """How a raw row becomes the model's input and its output a prediction (export: preprocessing.json)."""
        return {
            "input": "features " + ", ".join(self.feature_names) + " (sklearn load_diabetes(scaled=False))",
            "x": "(features - x_mean) / x_std, (B, F) float32",
            "prediction": "output * y_std + y_mean",
            **self.stats,
        }

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: the standardisation, so exports need no data."""
        return {"stats": self.stats, "preprocessing": self.preprocessing()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("stats")
        if saved is not None and not all(np.allclose(saved[k], self.stats[k]) for k in self.stats):
            raise DataError("the checkpoint was trained on another split (data.split_seed or the fractions changed)")

    def render_samples(self, batch: tuple[torch.Tensor, torch.Tensor]) -> list[dict[str, Any]]:
        """Rows of features and target in the data's own units, for the sample table."""
        x, y = batch  # (B, F), (B,)
        x = x.numpy() * self.stats["x_std"] + self.stats["x_mean"]
        y = y.numpy() * self.stats["y_std"] + self.stats["y_mean"]
        return [
            {**dict(zip(self.feature_names, map(float, row), strict=True)), "target": float(t)}
            for row, t in zip(x, y, strict=True)
        ]


DataModule = DiabetesDataModule
