"""A run directory's own records: its newest `last` checkpoint, the W&B run id that a rerun continues, the
git commit that trained it, and what changed in the config between a run and its resume."""

from __future__ import annotations

import secrets
import string
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

WANDB_ID_FILE = "wandb_run_id"


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
