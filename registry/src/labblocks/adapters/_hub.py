"""What the timm and Hugging Face adapters share: close-name hints, the offline switch, the hub cache.

Pretrained weights come from a local path, or from the Hugging Face cache (`HF_HOME`/`HF_HUB_CACHE`),
which is what a compute node without internet has after a login node fetched them once. Nothing downloads
unless the block is built with `allow_download=True`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

from huggingface_hub import try_to_load_from_cache

OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def closest(name: str, known: Iterable[str], n: int = 4) -> list[str]:
    """Up to `n` names of `known` close to `name`, closest first."""
    return difflib.get_close_matches(name, list(known), n=n, cutoff=0.6)


def did_you_mean(name: str, known: Iterable[str], n: int = 4) -> str:
    """The hint "; did you mean a, b?" with the names of `known` closest to `name`, or "" when none is close."""
    close = closest(name, known, n)
    return f"; did you mean {', '.join(close)}?" if close else ""


def offline_var() -> str | None:
    """The offline variable set in the environment now (huggingface_hub reads it only at import time)."""
    for name in OFFLINE_VARS:
        if os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return name
    return None


def cached_file(repo_id: str, filename: str) -> Path | None:
    """`filename` of hub repository `repo_id` in the local Hugging Face cache, or None; never downloads."""
    found = try_to_load_from_cache(repo_id, filename)
    return Path(found) if isinstance(found, str) else None


def fetch_hint(repo_id: str) -> str:
    """How to put `repo_id` into the cache on a machine with internet, for use offline after that."""
    return f"fetch it once where there is internet (`hf download {repo_id}`, into the same HF_HOME)"
