"""A learning rate from an LR range test (Smith's test: the loss while the LR grows exponentially).

Lightning's `_LRFinder.suggestion()` takes the steepest point of loss against the *linear* learning rate.
On an exponential sweep the points at small LRs are packed closely, so their differences dominate and the
suggestion lands on the flat start of the curve (on a ResNet-18 it suggested 5.5e-05, 36x below an LR
that trains to 99.6%). Here the slope is taken against log10(LR), over a window about a third of a decade
wide (so single noisy steps do not decide), and only on the descending part of the curve, before its
minimum (after which the loss diverges): the steepest descent there is the suggestion. The first tenth of
the curve is left out (as Lightning's own `skip_begin`): the running average of the loss that the test
records has not settled there yet.
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


def skipped(n: int) -> int:
    """How many points at the start of an n-point curve are left out."""
    return max(n // 10, 1) if n >= 10 else 0


def suggest_lr(
    lrs: Sequence[float], losses: Sequence[float], window_decades: float = 0.33, min_points: int = 10
) -> LRSuggestion:
    """The LR at the steepest descent of `losses` against log10(`lrs`), before the loss minimum."""
    pairs = list(zip(lrs, losses, strict=True))[skipped(len(lrs)):]
    points = [(math.log10(lr), loss) for lr, loss in pairs if lr > 0 and math.isfinite(loss)]
    if len(points) < min_points:
        return LRSuggestion(None, None, f"the curve has {len(points)} points, fewer than {min_points}: "
                                        "run more steps (lr_find.num_training) or on more batches")
    x = [p[0] for p in points]
    y = [p[1] for p in points]
    lowest = min(range(len(y)), key=y.__getitem__)
    drop = y[0] - y[lowest]
    if lowest < 2 or drop <= 0.05 * abs(y[0]):
        return LRSuggestion(None, None, f"the loss hardly falls ({y[0]:.3g} -> {y[lowest]:.3g} at best): the sweep "
                                        "starts too high or stops too low (lr_find.min_lr, lr_find.max_lr)")
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
        return LRSuggestion(None, None, "the curve has no descending stretch a third of a decade wide")
    index = next(k for k, lr in enumerate(lrs) if lr > 0 and math.isclose(math.log10(lr), x[best]))
    return LRSuggestion(lrs[index], index, f"steepest descent ({best_slope:.3g} loss per decade) before the "
                                           f"minimum at {10 ** x[lowest]:.2e}")
