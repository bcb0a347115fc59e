"""Where records come from: the packaged manifest, live registrations, and plugins read from source.

`labblocks list` and `describe` need records only, so they import no block module. A key's module is
imported when the key is built, which registers it live (`Sources.registration`).
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from labblocks.errors import BlockImportError, DuplicateKeyError, LabblocksError
from labblocks.registry.keys import Key, base_of, parse_key
from labblocks.registry.plugins import Plugin, discover, plugin_records
from labblocks.registry.records import Record, Registration

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
ManifestSource = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None
EXTRAS = {"timm": "timm", "transformers": "hf"}  # a missing library -> the labblocks extra that installs it


@cache
def load_manifest() -> dict[str, Any]:
    """The packaged manifest (`{"labblocks_version", "entries", "removed"}`), read once."""
    with MANIFEST_PATH.open(encoding="utf-8") as f:
        return json.load(f)


class Sources:
    """Every known key's record. The manifest's records win, then live registrations, then records of plugins
    read from source; `plugin_group` names the entry-point group of other packages' block modules."""

    def __init__(self, manifest: ManifestSource = None, plugin_group: str | None = None) -> None:
        self._manifest_src = manifest
        self._manifest: Mapping[str, Any] | None = None
        self._manifest_records: dict[str, Record] | None = None
        self.live: dict[str, Registration] = {}
        self._group = plugin_group
        self._plugins: dict[str, Plugin] | None = None
        self._plugins_imported: set[str] = set()
        self._from_source: dict[str, Record] | None = None
        self._merged: dict[str, Record] | None = None

    @property
    def manifest(self) -> Mapping[str, Any]:
        if self._manifest is None:
            src = self._manifest_src
            self._manifest = (src() if callable(src) else src) or {"entries": {}, "removed": {}}
        return self._manifest

    @property
    def removed(self) -> dict[str, str]:
        """Tombstones: removed key -> how to migrate."""
        return dict(self.manifest.get("removed", {}))

    def packaged(self) -> dict[str, Record]:
        """The manifest's records (labblocks' own keys)."""
        if self._manifest_records is None:
            entries = self.manifest.get("entries", {})
            self._manifest_records = {k: Record.from_json(k, v) for k, v in entries.items()}
        return self._manifest_records

    @property
    def plugins(self) -> dict[str, Plugin]:
        """Installed plugins by namespace (found once, from entry points; nothing is imported)."""
        if self._plugins is None:
            self._plugins = discover(self._group) if self._group else {}
        return self._plugins

    def _plugin_records(self) -> dict[str, Record]:
        if self._from_source is None:
            records: dict[str, Record] = {}
            for plugin in self.plugins.values():
                try:
                    records.update(plugin_records(plugin))
                except (OSError, SyntaxError, LookupError, ValueError) as e:
                    warnings.warn(
                        f"labblocks: cannot read the blocks of {plugin.describe()} from source "
                        f"({type(e).__name__}: {e}); they are listed once the module is imported",
                        stacklevel=4,
                    )
            self._from_source = records
        return self._from_source

    def records(self) -> dict[str, Record]:
        """Every known key's record."""
        if self._merged is None:
            packaged = self.packaged()
            merged = {k: r for k, r in self._plugin_records().items() if k not in packaged}
            merged.update({k: reg.record for k, reg in self.live.items() if k not in packaged})
            merged.update(packaged)
            self._merged = merged
        return self._merged

    def record(self, key: Key) -> Record | None:
        """The record of a pinned key; labblocks' own keys are looked up without looking for plugins."""
        k = str(key)
        return self.packaged().get(k) or self.records().get(k)

    def exact(self, key: Key) -> Record:
        """The key's record, importing its plugin first when the record was only read from source."""
        rec = self.record(key)
        assert rec is not None, key  # callers resolve the key first
        if rec.static and self.import_plugin(rec.static) and str(key) in self.live:
            return self.live[str(key)].record
        return rec

    def versions(self, base: str) -> list[int]:
        """Every version of `namespace/name` that exists (deprecated included, removed excluded)."""
        return sorted(parse_key(k).version or 0 for k in self.records() if base_of(k) == base)

    def import_plugin(self, namespace: str) -> bool:
        """Import the plugin module of `namespace` (once); False if no plugin provides it."""
        plugin = self.plugins.get(namespace)
        if plugin is None or namespace in self._plugins_imported:
            return False
        self._plugins_imported.add(namespace)
        try:
            importlib.import_module(plugin.module)
        except Exception as e:
            raise BlockImportError(
                f"namespace '{namespace}': importing {plugin.module} ({plugin.describe()}) failed: "
                f"{type(e).__name__}: {e}"
            ) from e
        self._merged = None
        return True

    def add(self, registration: Registration) -> None:
        """Register a live key; the same object again (a module reloaded) replaces it."""
        k = str(registration.key)
        old = self.live.get(k)
        if old is not None and old.target != registration.target:
            taken = max(self.versions(registration.key.base), default=0)
            raise DuplicateKeyError(
                f"{k} is already registered by {old.target} ({old.source()}); cannot register "
                f"{registration.target} ({registration.source()}) under the same key. Use a new name or a new "
                f"version, e.g. '{registration.key.at(taken + 1)}'."
            )
        self.live[k] = registration
        self._merged = None

    def registration(self, key: Key) -> Registration:
        """The live registration of a resolved key, importing the module that defines it if needed."""
        k = str(key)
        if k not in self.live:
            self.exact(key)
        if k not in self.live:
            target = self.record(key).target  # type: ignore[union-attr]
            module = target.split(":")[0]
            try:
                importlib.import_module(module)
            except ImportError as e:
                extra = EXTRAS.get(getattr(e, "name", "") or "")
                hint = f" Install it with: pip install 'labblocks[{extra}]'." if extra else ""
                why = f"{type(e).__name__}: {e}.{hint}"
                raise BlockImportError(f"{k}: its module {module} failed to import: {why}") from e
            if k not in self.live:
                raise LabblocksError(
                    f"{k}: the manifest says {target}, but importing {module} did not register it; "
                    "the manifest is stale (run `labblocks manifest --write`)"
                )
        return self.live[k]
