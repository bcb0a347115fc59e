"""A learning rate from an LR range test (Smith's test: the loss while the LR grows exponentially).

Why not Lightning's `lr_find(...).suggestion()`: it takes the steepest point of the loss against the
*linear* learning rate, so on an exponential sweep, where points at small LRs are packed closely, it lands
on the flat start of the curve; and the curve it records is a running average whose bias correction is
one step off (its first point is half the loss) and which lags the sweep by tens of steps.

Here: the raw per-step losses, smoothed by a centred moving average (no lag); the slope against log10(LR)
over a window a third of a decade wide (single noisy steps do not decide); the steepest descent on the
descending part of the curve, before its minimum (after which the loss diverges).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class LRSuggestion:
    lr: float | None  # None when the curve cannot support a suggestion
    index: int | None  # the point of the curve it came from
    reason: str  # why this point, or why none
    smoothed: list[float]  # the smoothed loss curve it was read from (the same length as the input)


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Centred moving average over `window` points (fewer at the ends)."""
    half = window // 2
    out = []
    for i in range(len(values)):
        part = values[max(0, i - half): i + half + 1]
        out.append(sum(part) / len(part))
    return out


def suggest_lr(
    lrs: Sequence[float], losses: Sequence[float], window_decades: float = 0.33, min_points: int = 20
) -> LRSuggestion:
    """The LR at the steepest descent of the smoothed `losses` against log10(`lrs`), before the minimum."""
    keep = [i for i, (lr, loss) in enumerate(zip(lrs, losses, strict=True)) if lr > 0 and math.isfinite(loss)]
    if len(keep) < min_points:
        return LRSuggestion(None, None, f"the curve has {len(keep)} points, fewer than {min_points}: run more "
                                        "steps (lr_find.num_training) or on more batches", list(losses))
    x = [math.log10(lrs[i]) for i in keep]
    y = smooth([losses[i] for i in keep], window=max(5, len(keep) // 12 * 2 + 1))
    smoothed = list(losses)
    for k, i in enumerate(keep):
        smoothed[i] = y[k]
    lowest = min(range(len(y)), key=y.__getitem__)
    start = sum(y[: max(len(y) // 20, 3)]) / max(len(y) // 20, 3)  # the loss before anything is learnt
    if lowest < 2 or start - y[lowest] <= 0.05 * abs(start):
        return LRSuggestion(None, None, f"the loss hardly falls ({start:.3g} -> {y[lowest]:.3g} at best) before it "
                                        "diverges: this model needs more steps to learn than the sweep gives "
                                        "(raise lr_find.num_training, narrow lr_find.min_lr/max_lr)", smoothed)
    half = window_decades / 2
    best_slope, best = 0.0, None
    for i in range(lowest + 1):
        lo = next(j for j in range(len(x)) if x[j] >= x[i] - half)
        hi = max(j for j in range(lowest + 1) if x[j] <= x[i] + half)
        if hi - lo < 2 or x[hi] == x[lo]:
            continue
        slope = (y[hi] - y[lo]) / (x[hi] - x[lo])  # loss change per decade of LR
        if slope < best_slope:
            best_slope, best = slope, i
    if best is None:
        return LRSuggestion(None, None, "the curve has no descending stretch a third of a decade wide", smoothed)
    index = keep[best]
    return LRSuggestion(lrs[index], index, f"steepest descent of the loss, {best_slope:.3g} per decade, before "
                                           f"its minimum at {10 ** x[lowest]:.2e}", smoothed)
