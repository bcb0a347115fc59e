"""Reusable Lightning callbacks. They work with the W&B, TensorBoard and CSV loggers (and none)."""

from labblocks.callbacks.checkpoint import LinkingCheckpoint
from labblocks.callbacks.histograms import PredictionHistograms
from labblocks.callbacks.loader_position import LoaderPosition
from labblocks.callbacks.metadata import RunMetadata
from labblocks.callbacks.predictions import ValidationPredictions
from labblocks.callbacks.progress import ProgressBar
from labblocks.callbacks.rng import RNGState
from labblocks.callbacks.samples import SampleTable
from labblocks.callbacks.signals import SignalCheckpoint, TrainingInterrupted
from labblocks.callbacks.wandb_table import log_wandb_table
from labblocks.callbacks.watch import WatchModel

__all__ = [
    "LinkingCheckpoint",
    "LoaderPosition",
    "PredictionHistograms",
    "ProgressBar",
    "RNGState",
    "RunMetadata",
    "SampleTable",
    "SignalCheckpoint",
    "TrainingInterrupted",
    "ValidationPredictions",
    "WatchModel",
    "log_wandb_table",
]
