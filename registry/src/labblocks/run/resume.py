"""Where a run resumes from: the checkpoint to load, a fresh start that keeps the earlier run, `best` and
`last` looked up in a run directory, and the run directory's lock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from labblocks.run.errors import RunError
from labblocks.run.rundir import WANDB_ID_FILE
from labblocks.train.checkpoints import checkpoint_problem, scan_checkpoints, set_aside
from labblocks.train.runlock import RunLock, RunLockedError, is_rank_zero


def checkpoint_dir(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def check_checkpoint(path: str | Path, project: str, what: str = "--ckpt-path") -> None:
    """Raise RunError unless `path` is a readable checkpoint of `project` (cheap checks first; a file that
    would run code when unpickled is refused without running it)."""
    problem = checkpoint_problem(path, project=project)
    if problem is not None:
        raise RunError(f"{what}: {problem}")


def resume_from(run_dir: Path, project: str, resume: bool, ckpt_path: str | None) -> str | None:
    """What to resume from: `ckpt_path` when given; else, with `resume`, the newest readable checkpoint of the
    run directory. An unreadable one (a job killed while writing it before writes were atomic, a full disk)
    is moved aside, not deleted, with a line that names it."""
    if ckpt_path:
        check_checkpoint(ckpt_path, project)
        return str(ckpt_path)
    folder = checkpoint_dir(run_dir)
    if not resume or not folder.is_dir():
        return None
    scan = scan_checkpoints(folder, project=project)
    for path, problem in scan.problems.items():
        if is_rank_zero():
            print(f"unreadable checkpoint set aside: {problem} -> moved to {set_aside(path).name}", flush=True)
    if scan.newest is None and scan.problems:
        raise RunError(
            f"{folder} holds no readable checkpoint to resume from; rerun with --fresh to start over "
            "in this run directory, or pass --ckpt-path PATH"
        )
    return str(scan.newest) if scan.newest else None


def start_over(run_dir: Path) -> None:
    """`--fresh` in a run directory that holds an earlier run: its checkpoints move to
    `checkpoints.before-fresh-<time>/` (nothing is deleted) and the new run gets its own W&B run id, so
    neither a later resume (which takes the most advanced checkpoint) nor W&B mixes the two runs."""
    folder = checkpoint_dir(run_dir)
    if folder.is_dir() and any(folder.glob("*.ckpt*")):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = run_dir / f"checkpoints.before-fresh-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = run_dir / f"checkpoints.before-fresh-{stamp}-{n}"
        folder.rename(target)
        print(f"starting over (--fresh): the earlier run's checkpoints moved to {target}", flush=True)
    (run_dir / WANDB_ID_FILE).unlink(missing_ok=True)  # a new W&B run; the earlier one stays in wandb/


def find_checkpoint(run_dir: Path, which: str) -> Path:
    """`last`, `best` (as recorded in last.ckpt by the top-k checkpoint callback), or a path."""
    if which not in ("best", "last"):
        return Path(which)
    last = checkpoint_dir(run_dir) / "last.ckpt"
    if not last.is_file():
        raise RunError(f"{run_dir}: no checkpoints/last.ckpt; train first, or pass a checkpoint path")
    if which == "last":
        return last
    states = torch.load(last, map_location="cpu", weights_only=True, mmap=True).get("callbacks", {})
    best = next(
        (s.get("best_model_path") for k, s in states.items() if k.startswith("ModelCheckpoint") and s.get("monitor")),
        None,
    )
    if not best or not Path(best).is_file():
        raise RunError(f"{last} records no best checkpoint that still exists ({best!r}); use last")
    return Path(best)


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's lock (rank 0): a second process training into it stops with a message."""
    try:
        lock = RunLock(run_dir).acquire()
    except RunLockedError as e:
        raise RunError(str(e)) from None
    try:
        yield
    finally:
        lock.release()
