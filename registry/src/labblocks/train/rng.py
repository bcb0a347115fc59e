"""RNG states (Python, NumPy, torch CPU and CUDA) as checkpoint-safe data: captured, restored, gathered from
every rank, and kept still around work that must not move them."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch


def capture_rng() -> dict[str, Any]:
    """The Python, NumPy and torch (CPU and every CUDA device) RNG states, as checkpoint-safe data."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": (str(kind), keys.tolist(), int(pos), int(has_gauss), float(gauss)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, Any]) -> None:
    """Set the RNG states captured by `capture_rng`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, gauss_np = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss_np))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


RNG_FORMAT = "per_rank/v1"


def gather_rng() -> list[dict[str, Any]]:
    """Every rank's `capture_rng()`, in rank order: a collective under torch.distributed (every rank calls
    it at the same point); `[this process's states]` without a process group."""
    mine = capture_rng()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        world = torch.distributed.get_world_size()
        if world > 1:
            states: list[Any] = [None] * world
            torch.distributed.all_gather_object(states, mine)
            return states
    return [mine]


def rng_for_rank(saved: Mapping[str, Any], rank: int, world_size: int) -> tuple[Mapping[str, Any], str | None]:
    """The states `rank` restores from saved `{"format", "ranks": [...]}` (or one process's states, as
    labblocks 0.1 saved them), and a warning when the number of ranks changed (then: rank 0's states)."""
    if "ranks" not in saved:
        return saved, None
    ranks = saved["ranks"]
    if len(ranks) == world_size:
        return ranks[rank], None
    return ranks[0], (
        f"the checkpoint holds RNG states of {len(ranks)} rank(s), but this run has {world_size}; every rank "
        "restores rank 0's states, so random draws will not match the uninterrupted run"
    )


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (logging samples, counting FLOPs) without moving any global RNG."""
    state = capture_rng()
    try:
        yield
    finally:
        restore_rng(state)
