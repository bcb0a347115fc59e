"""`PredictionHistograms`: distributions of predictions, logged after every validation epoch."""

from __future__ import annotations

from collections.abc import Sequence

from labblocks.train.callbacks.predictions import ValidationPredictions


class PredictionHistograms(ValidationPredictions):
    """`ValidationPredictions` without the table: from the `logits` (B, K) that `validation_step`
    returns, histograms of the predicted class, the top-class confidence and (new in 0.2) each class's
    predicted probability (W&B / TensorBoard; a CSV of counts for the CSV logger), or the predicted-class
    fractions as scalars (other loggers). A collapsing model shows up as one spike."""

    def __init__(self, prefix: str = "val", class_names: Sequence[str] | None = None, bins: int = 20) -> None:
        super().__init__(render=None, class_names=class_names, rows=0, prefix=prefix, bins=bins)
