"""Reading checkpoints before a resume: checked without running code from them, and set aside (never
deleted) when they cannot be read.

    scan = scan_checkpoints(run_dir / "checkpoints")
    for path, why in scan.problems.items(): print(why); set_aside(path)
    ckpt_path = scan.newest                         # newest training state that loads, or None
"""

from __future__ import annotations

import os
import pickle
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

REQUIRED_KEYS = ("state_dict", "global_step", "epoch")


def _first_line(e: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines()  # without terminal colour codes
    return text[0] if text else type(e).__name__


def _load(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    """(why `path` cannot be resumed from, or None; the loaded checkpoint, tensors memory-mapped)."""
    if not path.exists():
        why = "a link to a missing file" if path.is_symlink() else "no such file"
        return f"{path}: {why}", None
    if not path.is_file():
        return f"{path}: not a file (a directory or a device); a checkpoint is a file written by torch.save", None
    size = path.stat().st_size
    if size == 0:
        return f"{path}: empty (0 bytes); its save was probably cut off", None
    if not zipfile.is_zipfile(path):
        return (
            f"{path}: not a complete checkpoint ({size} bytes): it is not a zip archive or is cut off before "
            "the archive's end; its save was probably interrupted",
            None,
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"Unsupported global: GLOBAL (\S+)|Unsupported operand \S+", str(e))
        what = f"it refers to {found[1]}" if found and found[1] else _first_line(e)
        return (
            f"{path}: holds Python objects that safe loading (weights_only=True) refuses, so nothing in it "
            f"was run or loaded ({what}). Load it with weights_only=False only if you trust its source.",
            None,
        )
    except Exception as e:  # damaged archive members, wrong storage sizes, ...
        return f"{path}: torch.load cannot read it ({type(e).__name__}: {_first_line(e)}); it is damaged", None
    if not isinstance(ckpt, dict):
        return f"{path}: holds a {type(ckpt).__name__}, not a Lightning checkpoint (a dict)", None
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        return f"{path}: not a Lightning checkpoint (no {', '.join(repr(k) for k in missing)})", None
    return None, ckpt


def checkpoint_problem(path: str | Path, project: str | None = None) -> str | None:
    """Why training cannot resume from `path`, in plain words naming the file; None when it can.

    Cheapest checks first: missing, not a file, empty, not a (complete) zip archive, refused by
    `torch.load(weights_only=True, mmap=True)` (which runs no code from the file), not a Lightning
    checkpoint. With `project`, a checkpoint that records another project (`RunMetadata(project=...)`)
    is refused too; one that records none is accepted.
    """
    p = Path(path)
    why, ckpt = _load(p)
    return why or _other_project(p, ckpt, project)


def _other_project(path: Path, ckpt: dict[str, Any] | None, project: str | None) -> str | None:
    theirs = None if ckpt is None or project is None else ckpt.get("project")
    if theirs is not None and theirs != project:
        return f"{path}: written by project {theirs!r}, not {project!r}; resume it from that project"
    return None


def set_aside(path: str | Path) -> Path:
    """Rename an unreadable checkpoint to `<name>.unreadable-<YYYYmmdd-HHMMSS>` (never deleted: it may be
    worth a look) and return the new path; a number is appended if that name exists."""
    p = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    new = p.with_name(f"{p.name}.unreadable-{stamp}")
    n = 1
    while new.exists() or new.is_symlink():
        new = p.with_name(f"{p.name}.unreadable-{stamp}-{n}")
        n += 1
    os.rename(p, new)
    return new


@dataclass
class CheckpointScan:
    """What a checkpoint folder holds: resumable checkpoints, newest training state first (by recorded
    `global_step`, then modification time), and the others with the reason they cannot be resumed from."""

    resumable: list[Path] = field(default_factory=list)
    problems: dict[Path, str] = field(default_factory=dict)

    @property
    def newest(self) -> Path | None:
        return self.resumable[0] if self.resumable else None


def scan_checkpoints(ckpt_dir: str | Path, pattern: str = "*.ckpt", project: str | None = None) -> CheckpointScan:
    """Check every `pattern` file in `ckpt_dir` (temporary files of interrupted saves are not matched)."""
    scan = CheckpointScan()
    found: list[tuple[int, float, Path]] = []
    folder = Path(ckpt_dir)
    for path in sorted(folder.glob(pattern)) if folder.is_dir() else []:
        why, ckpt = _load(path)
        why = why or _other_project(path, ckpt, project)
        if why is not None or ckpt is None:
            scan.problems[path] = why or f"{path}: unreadable"
            continue
        found.append((int(ckpt["global_step"]), path.stat().st_mtime, path))
        del ckpt
    scan.resumable = [p for _, _, p in sorted(found, key=lambda t: (t[0], t[1]), reverse=True)]
    return scan


def resumable_checkpoints(ckpt_dir: str | Path, project: str | None = None) -> list[Path]:
    """Readable checkpoints in `ckpt_dir`, newest training state first."""
    return scan_checkpoints(ckpt_dir, project=project).resumable


def newest_resumable(ckpt_dir: str | Path, project: str | None = None) -> Path | None:
    """The readable checkpoint with the newest training state in `ckpt_dir`, or None."""
    return scan_checkpoints(ckpt_dir, project=project).newest
