"""Helpers that make runs restartable and reproducible: RNG state capture, the run directory's last
checkpoint and W&B run id, the git commit, and config differences between a run and its resume."""

from __future__ import annotations

import contextlib
import random
import secrets
import string
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

WANDB_ID_FILE = "wandb_run_id"


def capture_rng() -> dict[str, Any]:
    """The Python, NumPy and torch (CPU and every CUDA device) RNG states, as checkpoint-safe data."""
    import numpy as np
    import torch

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
    import numpy as np
    import torch

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
    import torch

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


def last_checkpoint(run_dir: str | Path) -> Path | None:
    """`<run_dir>/checkpoints/last.ckpt` if it exists."""
    path = Path(run_dir) / "checkpoints" / "last.ckpt"
    return path if path.is_file() else None


def wandb_run_id(run_dir: str | Path) -> str:
    """The W&B run id kept in the run directory, created on first use, so a rerun continues the run."""
    path = Path(run_dir) / WANDB_ID_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    path.write_text(run_id + "\n", encoding="utf-8")
    return run_id


def git_commit(path: str | Path = ".") -> str | None:
    """The HEAD commit of the repository holding `path`, with `-dirty` if it has changes; None if no git."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], cwd=path, capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()

        commit = git("rev-parse", "HEAD")
        return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested configs, as `key: old -> new` lines."""
    out = []
    for key in sorted(set(old) | set(new), key=str):
        path = f"{prefix}{key}"
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += config_diff(a, b, path + ".")
        elif a != b:
            out.append(f"{path}: {a!r} -> {b!r}")
    return out
