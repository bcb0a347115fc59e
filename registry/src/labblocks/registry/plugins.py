"""Blocks of other packages (e.g. a baked project's `<module>/blocks.py`), found through entry points.

A package declares, in its pyproject.toml:

    [project.entry-points."labblocks.blocks"]
    myproj = "myproj.blocks"        # namespace = module that registers the `myproj/...` keys

Listing and describing read the module's source (`records.records_from_source`), so `labblocks list`
imports neither the module nor torch. Building, rebuilding and validating import the module, which
registers its blocks for real.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labblocks.registry.keys import is_namespace
from labblocks.registry.records import Record, records_from_source

GROUP = "labblocks.blocks"
RESERVED = ("core", "timm", "hf")  # labblocks' own namespaces


@dataclass(frozen=True)
class Plugin:
    """One entry point: the namespace it provides and the module that registers it."""

    namespace: str
    module: str
    distribution: str

    def describe(self) -> str:
        return f"entry point {self.namespace} = {self.module!r} of {self.distribution} (group {GROUP!r})"


def entry_points(group: str) -> Iterator[tuple[str, str, str]]:
    """`(name, value, distribution)` of every entry point in `group` of the distributions on sys.path
    (`*.dist-info` / `*.egg-info` folders, the first of a name wins, as with importlib.metadata).

    Read directly: importing importlib.metadata alone takes longer than all of `labblocks list`.
    """
    seen: set[str] = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        if not folder.is_dir():
            continue
        for info in sorted([*folder.glob("*.dist-info"), *folder.glob("*.egg-info")]):
            dist = info.name.rsplit(".", 1)[0].split("-")[0]
            key = re.sub(r"[-_.]+", "_", dist).lower()
            if key in seen:
                continue
            seen.add(key)
            try:
                text = (info / "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            section = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group and "=" in line and not line.startswith(("#", ";")):
                    name, value = (part.strip() for part in line.split("=", 1))
                    yield name, value, dist


def discover(group: str = GROUP) -> dict[str, Plugin]:
    """Installed plugins by namespace. Bad names, reserved namespaces and a namespace claimed twice are
    skipped with a warning that says which distribution declared what."""
    found: dict[str, Plugin] = {}
    for name, value, dist in entry_points(group):
        plugin = Plugin(name, value.split(":")[0].strip(), dist)
        if not is_namespace(name) or name in RESERVED:
            why = "is one of labblocks' own namespaces" if name in RESERVED else "is not a valid namespace"
            warnings.warn(f"labblocks: ignoring {plugin.describe()}: {name!r} {why}", stacklevel=2)
            continue
        if name in found and found[name].module != plugin.module:
            warnings.warn(
                f"labblocks: ignoring {plugin.describe()}: namespace {name!r} is already provided by "
                f"{found[name].describe()}",
                stacklevel=2,
            )
            continue
        found[name] = plugin
    return found


def module_file(module: str) -> Path | None:
    """The source file of `module`, found without importing it or its parent packages."""
    parts = module.split(".")
    spec = importlib.util.find_spec(parts[0])  # a top-level lookup runs no code
    for i in range(1, len(parts)):
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), list(spec.submodule_search_locations))
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def plugin_records(plugin: Plugin) -> dict[str, Record]:
    """The records of `plugin`'s keys, read from its module's source (nothing is imported).

    Raises OSError, SyntaxError or LookupError when the source cannot be found or read."""
    path = module_file(plugin.module)
    if path is None:
        raise LookupError(f"no Python source file for module {plugin.module!r}")
    return records_from_source(path, plugin.module, plugin.namespace)
