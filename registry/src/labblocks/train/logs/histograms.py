"""Histograms of predicted probabilities over a validation set, written in each logger's own form."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch


def class_tag(name: str) -> str:
    """A class name usable in a metric name (no '/', which loggers read as nesting)."""
    return str(name).replace("/", "_").replace(" ", "_")


def probability_histograms(probs: torch.Tensor, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts (K, bins) of each class's predicted probability over [0, 1], and the bin edges (bins + 1,)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    values = probs.numpy()  # (N, K)
    counts = np.stack([np.histogram(values[:, k], bins=edges)[0] for k in range(values.shape[1])])
    return counts, edges


def to_wandb(run: Any, prefix: str, probs: torch.Tensor, names: Sequence[str], bins: int, step: int) -> None:
    """`prefix/pred_class`, `prefix/confidence` and `prefix/prob/<class>` as W&B histograms."""
    import wandb

    conf, pred = probs.max(-1)  # (N,), (N,)
    counts, edges = probability_histograms(probs, bins)
    k = probs.shape[1]
    data: dict[str, Any] = {
        f"{prefix}/pred_class": wandb.Histogram(np_histogram=np.histogram(pred.numpy(), bins=np.arange(k + 1))),
        f"{prefix}/confidence": wandb.Histogram(np_histogram=np.histogram(conf.numpy(), bins=edges)),
        "trainer/global_step": step,
    }
    for i, name in enumerate(names):
        data[f"{prefix}/prob/{class_tag(name)}"] = wandb.Histogram(np_histogram=(counts[i], edges))
    run.log(data)


def to_tensorboard(writer: Any, prefix: str, probs: torch.Tensor, names: Sequence[str], bins: int, step: int) -> None:
    """The same histograms as TensorBoard histogram summaries."""
    conf, pred = probs.max(-1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    writer.add_histogram(f"{prefix}/pred_class", pred, step, bins=np.arange(probs.shape[1] + 1))
    writer.add_histogram(f"{prefix}/confidence", conf, step, bins=edges)
    for i, name in enumerate(names):
        writer.add_histogram(f"{prefix}/prob/{class_tag(name)}", probs[:, i], step, bins=edges)


def to_csv(path: Path, probs: torch.Tensor, names: Sequence[str], bins: int) -> Path:
    """One CSV: `class, bin_start, bin_end, count` for every class and bin."""
    counts, edges = probability_histograms(probs, bins)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["class", "bin_start", "bin_end", "count"])
        for i, name in enumerate(names):
            for b in range(bins):
                writer.writerow([name, f"{edges[b]:.4f}", f"{edges[b + 1]:.4f}", int(counts[i, b])])
    return path


def prediction_fractions(prefix: str, probs: torch.Tensor) -> dict[str, float]:
    """Scalars for loggers without histograms: the fraction predicted as each class, mean confidence."""
    conf, pred = probs.max(-1)
    fractions = torch.bincount(pred, minlength=probs.shape[1]).float() / len(pred)
    metrics = {f"{prefix}/pred_frac_{k}": float(v) for k, v in enumerate(fractions)}
    metrics[f"{prefix}/confidence_mean"] = float(conf.mean())
    return metrics
