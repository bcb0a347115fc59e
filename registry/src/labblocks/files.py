"""Files written atomically: a kill while writing leaves the old file (or none) under the name, never a part of
the new one, plus a hidden temporary file that the next write in that folder removes. Imports nothing heavy."""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.partial-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)-[0-9a-f]+$")


def partial_name(target: Path) -> Path:
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


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """`write(f)` into a temporary file in the same folder, flush and fsync it, then `os.replace` it onto `path`
    and fsync the folder. Readers see the old file or the new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)
    tmp = partial_name(target)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    replace(tmp, target)
    return target


def replace(tmp: Path, target: Path) -> None:
    """Rename the finished temporary file `tmp` onto `target` and make the rename durable."""
    try:
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
