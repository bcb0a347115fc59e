"""Checkpoints on disk: written atomically, checked before a resume, set aside (never deleted) when they
cannot be read.

    Trainer(plugins=[AtomicCheckpointIO()])        # a kill while saving never leaves half a file
    scan = scan_checkpoints(run_dir / "checkpoints")
    for path, why in scan.problems.items(): print(why); set_aside(path)
    ckpt_path = scan.newest                         # newest training state that loads, or None
"""

from __future__ import annotations

import os
import pickle
import re
import secrets
import socket
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

REQUIRED_KEYS = ("state_dict", "global_step", "epoch")
_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)-[0-9a-f]+$")


def _partial_name(target: Path) -> Path:
    """A temporary file next to `target`: hidden, and without the `.ckpt` suffix checkpoint globs use."""
    return target.with_name(f".{target.name}.partial-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_partials(folder: str | Path) -> list[Path]:
    """Delete temporary files of saves that were killed: written on this host by a process that no longer
    exists. Partial files of live processes and of other hosts are left alone. Returns what was removed."""
    removed = []
    for path in Path(folder).glob(".*.partial-*"):
        m = _PARTIAL.match(path.name)
        if m and m["host"] == _HOST and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """`torch.save(obj, path)` through a temporary file in the same folder: write, flush, fsync, then
    `os.replace` onto `path` and fsync the folder. Readers see the old file or the new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)
    tmp = _partial_name(target)
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, target)
    return target


def _replace(tmp: Path, target: Path) -> None:
    """Rename the finished temporary file `tmp` onto `target` and make the rename durable."""
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_link(source: str | Path, path: str | Path) -> bool:
    """Put a hard link to `source` under `path` (replacing what was there), the way `atomic_torch_save`
    replaces a file: readers see the old file or the new one. Both names then hold the same data, and
    deleting or replacing either leaves the other whole. False, with nothing changed, where the filesystem
    refuses hard links (another device, some network or FUSE mounts): write the file instead."""
    target = Path(path)
    tmp = _partial_name(target)
    try:
        os.link(source, tmp)
    except OSError:
        return False
    _replace(tmp, target)
    return True


def __getattr__(name: str) -> Any:  # the Lightning plugin, imported only when asked for (lightning is slow)
    if name == "AtomicCheckpointIO":
        from labblocks.checkpoint_io import AtomicCheckpointIO

        return AtomicCheckpointIO
    raise AttributeError(f"module 'labblocks.checkpoints' has no attribute {name!r}")


# -- reading ---------------------------------------------------------------------------------------------


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
