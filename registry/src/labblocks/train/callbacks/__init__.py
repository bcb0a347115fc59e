"""Reusable Lightning callbacks. They work with the W&B, TensorBoard and CSV loggers (and none)."""

from labblocks.train.callbacks.checkpoint import LeanCheckpoint, LinkingCheckpoint
from labblocks.train.callbacks.group import CallbackGroup
from labblocks.train.callbacks.histograms import PredictionHistograms
from labblocks.train.callbacks.loader_position import LoaderPosition
from labblocks.train.callbacks.metadata import RunMetadata
from labblocks.train.callbacks.predictions import ValidationPredictions
from labblocks.train.callbacks.progress import ProgressBar
from labblocks.train.callbacks.rng import RNGState
from labblocks.train.callbacks.samples import SampleTable
from labblocks.train.callbacks.signals import SignalCheckpoint, TrainingInterrupted
from labblocks.train.callbacks.watch import WatchModel

__all__ = [
    "CallbackGroup",
    "LeanCheckpoint",
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
]
