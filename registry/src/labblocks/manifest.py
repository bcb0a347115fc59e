"""The static manifest (`manifest.json`): every packaged key with its target, summary, signature, shapes
and source, so that listing and describing never import the blocks' modules, torch, timm or transformers.

It is generated from the registered code with `labblocks manifest --write`; a test fails when the two
disagree.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
PACKAGES = ("labblocks.blocks", "labblocks.adapters")


@cache
def load_manifest() -> dict[str, Any]:
    """The packaged manifest, read once."""
    with MANIFEST_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def registering_modules() -> list[str]:
    """Every module of labblocks that registers blocks."""
    names = []
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        found = pkgutil.iter_modules(pkg.__path__)
        names += [f"{pkg_name}.{m.name}" for m in found if not m.name.startswith("_")]
    return sorted(names)


def generate_manifest() -> dict[str, Any]:
    """Import every registering module and describe what it registered (needs timm and transformers)."""
    from labblocks import __version__
    from labblocks.legacy import REMOVED
    from labblocks.registry import REGISTRY

    for name in registering_modules():
        importlib.import_module(name)
    entries = {k: e.info() for k, e in sorted(REGISTRY.live_entries().items()) if e.is_packaged}
    return {
        "labblocks_version": __version__,
        "entries": entries,
        "removed": dict(sorted(REMOVED.items())),
    }


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"


def write_manifest(path: Path = MANIFEST_PATH) -> Path:
    path.write_text(dumps(generate_manifest()), encoding="utf-8")
    load_manifest.cache_clear()
    return path
