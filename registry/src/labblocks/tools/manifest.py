"""Writing and checking the static manifest (`labblocks/registry/manifest.json`): every packaged key's
record, so that listing and describing never import the blocks' modules, torch, timm or transformers.

`labblocks manifest --write` regenerates it from the registered code; a test fails when the two disagree.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

from labblocks._version import __version__
from labblocks.registry import REGISTRY
from labblocks.registry.sources import MANIFEST_PATH, load_manifest
from labblocks.tools.legacy import REMOVED

PACKAGES = ("labblocks.blocks", "labblocks.adapters")


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
    for name in registering_modules():
        importlib.import_module(name)
    live = sorted(REGISTRY.sources.live.items())
    return {
        "labblocks_version": __version__,
        "entries": {k: reg.record.to_json() for k, reg in live if reg.is_packaged},
        "removed": dict(sorted(REMOVED.items())),
    }


def dumps(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"


def write_manifest(path: Path = MANIFEST_PATH) -> Path:
    path.write_text(dumps(generate_manifest()), encoding="utf-8")
    load_manifest.cache_clear()
    return path
