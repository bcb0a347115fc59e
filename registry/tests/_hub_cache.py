"""A Hugging Face hub cache made by a test (what `hf download` leaves on a login node), and a Python process
that runs offline on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"


def snapshot(cache: Path, repo_id: str) -> Path:
    """The snapshot folder of `repo_id` in `cache` (its files go there), with `refs/main` pointing at it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(REVISION)
    folder = repo / "snapshots" / REVISION
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def offline_env(cache: Path) -> dict[str, str]:
    """What a compute node sets: HF_HUB_OFFLINE=1, and the cache to read."""
    return {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HOME": str(cache.parent)}


def run_offline(script: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh process (huggingface_hub reads its variables at import), offline, on `cache`."""
    env = {**os.environ, **offline_env(cache)}
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
