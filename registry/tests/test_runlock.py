"""One run directory, one writer: a second process is refused with who holds it; a killed holder frees it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from labblocks.train.runlock import RunLock, RunLockedError, is_rank_zero

HOLDER = """
import sys
from labblocks.train.runlock import RunLock
with RunLock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def _holder(run_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(run_dir), "--marker-arg"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_is_refused_until_the_holder_dies(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "exp1"
    holder = _holder(run_dir)
    try:
        with pytest.raises(RunLockedError) as info:
            RunLock(run_dir).acquire()
        message = str(info.value)
        assert message.startswith(f"run directory {run_dir} is in use by process {holder.pid} on this host since ")
        command = message.splitlines()[1]  # the other process's command line
        assert command.startswith(f"    {sys.executable} -c ") and command.endswith(" --marker-arg")
        assert f"Wait for it to finish or stop it (kill {holder.pid}); the lock is released as soon" in message
        assert message.endswith(f"(lock file: {run_dir / '.lock'})")
        owner = json.loads((run_dir / ".lock").read_text())
        assert owner["pid"] == holder.pid and owner["host"] == socket.gethostname()
    finally:
        holder.kill()  # SIGKILL: no cleanup code runs in the holder
        holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    with RunLock(run_dir) as lock:  # the OS released the dead holder's lock
        assert lock.held
        assert json.loads((run_dir / ".lock").read_text())["pid"] == os.getpid()
    assert not lock.held and (run_dir / ".lock").read_text() == ""


def test_a_released_lock_can_be_taken_by_another_process(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    holder.wait(timeout=30)
    RunLock(tmp_path).acquire().release()


def test_same_process_second_lock_is_refused_and_exceptions_release(tmp_path: Path) -> None:
    first = RunLock(tmp_path)
    with pytest.raises(ValueError, match="boom"), first:
        with pytest.raises(RunLockedError, match=f"in use by process {os.getpid()} on this host"):
            RunLock(tmp_path).acquire()
        raise ValueError("boom")
    assert not first.held
    with RunLock(tmp_path):
        pass


def test_only_rank_zero_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert is_rank_zero()
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert not is_rank_zero()
    with RunLock(tmp_path) as other_rank, RunLock(tmp_path, enabled=True) as rank_zero:
        assert not other_rank.held and rank_zero.held  # a rank > 0 process writes as part of the run
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("NODE_RANK", "1")  # rank 0 of the second node
    assert not is_rank_zero()
