"""Helpers for tests that stop training processes mid-epoch and rerun them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import torch

# A prefix for training commands started by a test: on a busy machine the test itself, which watches their
# checkpoints, is then scheduled first and catches them mid-training.
NICE = ["nice", "-n", "10"]


def global_step(ckpt: Path) -> int:
    return int(torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"])


def wait_for_checkpoint(ckpt: Path, proc: subprocess.Popen | None, after: float, timeout: float = 300) -> None:
    """Until `ckpt` is (re)written after time `after` (it is replaced atomically, so it is whole)."""
    deadline = time.monotonic() + timeout
    while not (ckpt.is_file() and ckpt.stat().st_mtime > after):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"training ended early:\n{proc.communicate()[1][-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{ckpt} was not written in time")
        time.sleep(0.02)


def interrupt(pid: int, signum: int, ckpt: Path, before_step: int) -> int:
    """Send `signum` to a training process that is still mid-training: it is frozen (SIGSTOP) while its last
    checkpoint is read, so it cannot finish in between, and the signal arrives as it continues. Returns the
    step of that checkpoint, which must be before `before_step` (the run's last step)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        step = global_step(ckpt)
        assert step < before_step, f"the run reached step {step} of {before_step} before it could be interrupted"
        os.kill(pid, signum)
    finally:
        os.kill(pid, signal.SIGCONT)
    return step
