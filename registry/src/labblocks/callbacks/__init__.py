"""Reusable Lightning callbacks. They work with the W&B, TensorBoard and CSV loggers (and none)."""

from labblocks.callbacks.histograms import PredictionHistograms
from labblocks.callbacks.metadata import RunMetadata
from labblocks.callbacks.predictions import ValidationPredictions
from labblocks.callbacks.rng import RNGState
from labblocks.callbacks.samples import SampleTable
from labblocks.callbacks.wandb_table import log_wandb_table
from labblocks.callbacks.watch import WatchModel

__all__ = [
    "PredictionHistograms",
    "RNGState",
    "RunMetadata",
    "SampleTable",
    "ValidationPredictions",
    "WatchModel",
    "log_wandb_table",
]
