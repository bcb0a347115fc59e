"""TEMPORARY stub (replaced by the labblocks branch): checkpoint files on disk."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path
from typing import Any

from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        import torch

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def checkpoint_problem(path: str | Path) -> str | None:
    import torch

    path = Path(path)
    if not path.exists():
        return f"{path} does not exist"
    if path.stat().st_size == 0:
        return f"{path} is empty (0 bytes)"
    if not zipfile.is_zipfile(path):
        return f"{path} is not a checkpoint (not a zip archive, or truncated)"
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:
        return f"{path} cannot be loaded safely ({type(e).__name__})"
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        return f"{path} is not a Lightning checkpoint (no state_dict)"
    return None


def set_aside(path: str | Path) -> Path:
    path = Path(path)
    new = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, new)
    return new


def newest_resumable(folder: str | Path) -> Path | None:
    import torch

    found = []
    for p in Path(folder).glob("*.ckpt"):
        if checkpoint_problem(p) is None:
            step = torch.load(p, map_location="cpu", weights_only=True, mmap=True).get("global_step", 0)
            found.append((step, p.stat().st_mtime, p))
    return max(found)[2] if found else None
