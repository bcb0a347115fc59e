"""Checkpoint files written atomically (labblocks.files): a kill while saving leaves the old file (or none)
under the name, never a part of the new one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from labblocks.files import atomic_write, partial_name, remove_stale_partials, replace

__all__ = ["atomic_link", "atomic_torch_save", "remove_stale_partials"]


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """`torch.save(obj, path)` through a temporary file (labblocks.files.atomic_write)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def atomic_link(source: str | Path, path: str | Path) -> bool:
    """Put a hard link to `source` under `path` (replacing what was there), the way `atomic_torch_save`
    replaces a file: readers see the old file or the new one. Both names then hold the same data, and
    deleting or replacing either leaves the other whole. False, with nothing changed, where the filesystem
    refuses hard links (another device, some network or FUSE mounts): write the file instead."""
    target = Path(path)
    tmp = partial_name(target)
    try:
        os.link(source, tmp)
    except OSError:
        return False
    replace(tmp, target)
    return True
