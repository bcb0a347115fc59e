"""`ProgressBar`: Lightning's tqdm progress bar, redrawn every few tenths of a second instead of every N batches."""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import TQDMProgressBar


class ProgressBar(TQDMProgressBar):
    """`TQDMProgressBar` that redraws when `interval` seconds have passed since its last redraw, and after
    each loop's last batch; the batches in between cost a clock read.

    Lightning's `refresh_rate` counts batches, so one rate redraws too often for a model with short steps
    (each redraw formats the bar and its metrics) and too rarely for one with long steps. Redrawing by the
    clock, as tqdm itself does, keeps the cost and the view the same whatever the step time.
    """

    def __init__(self, interval: float = 0.5, process_position: int = 0, leave: bool = False) -> None:
        if not interval >= 0:
            raise ValueError(f"ProgressBar(interval={interval!r}): expected seconds between redraws, >= 0")
        super().__init__(refresh_rate=1, process_position=process_position, leave=leave)
        self.interval = interval
        self._next_redraw = 0.0

    def _should_update(self, current: int, total: int | float) -> bool:
        """Whether to redraw after batch number `current` of `total`. Lightning's bar asks this after every
        train, validation, test and predict batch (tests/test_progress_profiler.py fails if it stops)."""
        if not self.is_enabled:
            return False
        now = time.monotonic()
        if now < self._next_redraw and current != total:
            return False
        self._next_redraw = now + self.interval
        return True
