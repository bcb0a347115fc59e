"""One run directory, one writer: an exclusive `flock` on `<run_dir>/.lock`.

    with RunLock(run_dir):          # RunLockedError if another process trains into run_dir
        trainer.fit(...)

The operating system releases the lock when the process ends, however it ends, so a crash never
leaves a run locked. The file holds who has it (pid, host, start time, command) for the message
another process gets. Under a multi-process launcher only the rank-zero process locks (see
`is_rank_zero`): the other ranks write into the same directory as part of the same run.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from labblocks.errors import LabblocksError

LOCK_NAME = ".lock"
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")


class RunLockedError(LabblocksError):
    """Another process holds the run directory."""


@dataclass
class RunOwner:
    """Who holds a run directory."""

    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    since: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S %z"))
    command: str = field(default_factory=lambda: shlex.join([sys.executable, *sys.argv]))

    @classmethod
    def from_text(cls, text: str) -> RunOwner | None:
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), str(data["host"]), str(data["since"]), str(data["command"]))
        except (ValueError, KeyError, TypeError):
            return None


def is_rank_zero() -> bool:
    """False in a process that a distributed launcher started as rank > 0 (torchrun, Lightning's DDP
    launcher, SLURM tasks), judged from the environment variables they set."""
    for name in RANK_VARIABLES:
        value = os.environ.get(name, "0").strip() or "0"
        if value.isdigit() and int(value) != 0:
            return False
    return True


class RunLock:
    """Exclusive use of `run_dir` by this process, released on exit or by the OS when the process dies.

    `enabled=None` locks only in the rank-zero process (`is_rank_zero()`); False makes it a no-op.
    Re-entering a lock this object holds is an error; a second `RunLock` on the same directory in the
    same process is refused like any other writer.
    """

    def __init__(self, run_dir: str | Path, enabled: bool | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.enabled = is_rank_zero() if enabled is None else enabled
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        import fcntl

        if not self.enabled:
            return self
        if self._fd is not None:
            raise RuntimeError(f"RunLock({self.run_dir}) is already held by this object")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
            os.close(fd)
            raise RunLockedError(self._message(RunOwner.from_text(text))) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(RunOwner()), indent=1) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale owner for the next reader; the file itself stays (see below)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        # Never delete the lock file: a process that opened it just before would lock a removed file
        # while a third process creates and locks a new one.

    def _message(self, owner: RunOwner | None) -> str:
        if owner is None:
            who, stop = "another process (it has not written its details yet)", "stop it"
        else:
            where = "this host" if owner.host == socket.gethostname() else f"host {owner.host}"
            who = f"process {owner.pid} on {where} since {owner.since}, running:\n    {owner.command}"
            stop = f"stop it (kill {owner.pid}" + ("" if where == "this host" else f" on {owner.host}") + ")"
        return (
            f"run directory {self.run_dir} is in use by {who}\n"
            f"  Two processes writing one run would mix its checkpoints and logs. Wait for it to finish or {stop}; "
            "the lock is released as soon as it exits. Or use another run name or output directory.\n"
            f"  (lock file: {self.path})"
        )

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else ("free" if self.enabled else "disabled")
        return f"RunLock({str(self.run_dir)!r}, {state})"

    def __getstate__(self) -> dict[str, Any]:  # e.g. pickled into spawned workers: they do not hold it
        return {**self.__dict__, "_fd": None}
