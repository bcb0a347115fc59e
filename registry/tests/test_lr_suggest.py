"""The LR suggestion on synthetic range-test curves, next to Lightning's own rule on the same curve."""

from __future__ import annotations

import math

import numpy as np
import torch

from labblocks.train.lr_suggest import smooth, suggest_lr


def range_test_curve(n: int = 100, seed: int = 0) -> tuple[list[float], list[float]]:
    """A typical sweep from 1e-6 to 1: flat at ln(10), a descent between 1e-3 and 1e-2, divergence after 3e-2,
    with per-step noise."""
    lrs = np.logspace(-6, 0, n)
    x = np.log10(lrs)
    loss = 2.3 - 1.3 / (1 + np.exp(-(x + 2.5) * 4)) + np.where(x > -1.5, (x + 1.5) ** 2 * 3, 0.0)
    noise = np.random.default_rng(seed).normal(0, 0.05, n)
    return lrs.tolist(), (loss + noise).tolist()


def lightning_rule(lrs: list[float], losses: list[float]) -> float:
    """Lightning's suggestion: the steepest gradient against the linear learning rate (skip 10, 1)."""
    lr, loss = torch.tensor(lrs[10:-1]), torch.tensor(losses[10:-1])
    return float(lr[torch.argmin(torch.gradient(loss, spacing=[lr])[0])])


def test_steepest_descent_against_log_lr_lands_in_the_descent() -> None:
    for seed in range(5):
        lrs, losses = range_test_curve(seed=seed)
        found = suggest_lr(lrs, losses)
        assert found.lr is not None and 1e-3 <= found.lr <= 1e-2, (seed, found)
        assert len(found.smoothed) == len(losses)


def test_the_linear_lr_rule_picks_the_flat_start_on_the_same_curves() -> None:
    """The bug this module exists for: a gradient against linear LR on an exponential sweep."""
    picks = [lightning_rule(*range_test_curve(seed=seed)) for seed in range(5)]
    assert sum(lr < 1e-4 for lr in picks) >= 3, picks


def test_a_flat_curve_gets_a_reason_not_a_number() -> None:
    lrs = np.logspace(-5, -1, 100).tolist()
    losses = [math.log(2) + 0.003 * math.sin(i) for i in range(100)]
    found = suggest_lr(lrs, losses)
    assert found.lr is None and "hardly falls" in found.reason


def test_a_short_curve_gets_a_reason() -> None:
    lrs, losses = range_test_curve(n=12)
    found = suggest_lr(lrs, losses)
    assert found.lr is None and "fewer than 20" in found.reason


def test_non_finite_losses_are_ignored() -> None:
    lrs, losses = range_test_curve()
    losses[-5:] = [float("nan"), float("inf"), float("nan"), float("inf"), float("nan")]
    found = suggest_lr(lrs, losses)
    assert found.lr is not None and 1e-3 <= found.lr <= 1e-2


def test_smooth_is_centred() -> None:
    assert smooth([0, 0, 9, 0, 0], window=3) == [0, 3, 3, 3, 0]
