"""Import paths of labblocks 0.2 that moved in 0.3, as a table of old -> new, kept working until 0.7.

`import labblocks` appends a finder to `sys.meta_path` that answers only for the old module names below
(real modules always come first). An old module is a stand-in: each name read from it is taken from its new
home with a DeprecationWarning that gives the new path, e.g. `labblocks.callbacks.ProgressBar is deprecated:
use labblocks.train.callbacks.ProgressBar`. A value is `module` (same name there) or `module:name`; `*`
stands for every other name. Remove an entry, or this module, when the old path goes.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from importlib.machinery import ModuleSpec
from typing import Any

_CALLBACKS = ("checkpoint", "histograms", "loader_position", "metadata", "predictions", "progress", "rng",
              "samples", "signals", "watch")
_RNG = ("capture_rng", "restore_rng", "gather_rng", "rng_for_rank", "preserved_rng", "RNG_FORMAT")
_RUN_DIR = ("last_checkpoint", "wandb_run_id", "WANDB_ID_FILE", "git_commit", "config_diff")

MOVED: dict[str, dict[str, str]] = {
    "labblocks.callbacks": {"*": "labblocks.train.callbacks", "log_wandb_table": "labblocks.train.logs.tables"},
    **{f"labblocks.callbacks.{name}": {"*": f"labblocks.train.callbacks.{name}"} for name in _CALLBACKS},
    "labblocks.callbacks.wandb_table": {"*": "labblocks.train.logs.tables"},
    "labblocks.checkpoints": {"*": "labblocks.train.checkpoints",
                              "AtomicCheckpointIO": "labblocks.train.checkpoints.lightning_io"},
    "labblocks.checkpoint_io": {"*": "labblocks.train.checkpoints.lightning_io"},
    "labblocks.resume": {**dict.fromkeys(_RNG, "labblocks.train.rng"),
                         **dict.fromkeys(_RUN_DIR, "labblocks.run.rundir")},
    "labblocks.runlock": {"*": "labblocks.train.runlock"},
    "labblocks.lr_suggest": {"*": "labblocks.train.lr_suggest"},
    "labblocks.profiler": {"*": "labblocks.train.profiler"},
    "labblocks.export": {"*": "labblocks.run.export"},
    "labblocks.cli": {"*": "labblocks.tools.cli"},
    "labblocks.catalog": {"*": "labblocks.tools.catalog"},
    "labblocks.manifest": {"*": "labblocks.tools.manifest", "load_manifest": "labblocks.registry.sources",
                           "MANIFEST_PATH": "labblocks.registry.sources"},
    "labblocks.legacy": {"*": "labblocks.tools.legacy"},
    "labblocks.keys": {"*": "labblocks.registry.keys"},
    "labblocks.schema": {"*": "labblocks.registry.schema"},
    "labblocks.plugins": {"*": "labblocks.registry.plugins",
                          "annotation_schema": "labblocks.registry.schema:from_source"},
}
REMOVED_IN = "0.7"


def new_path(old_module: str, name: str) -> tuple[str, str] | None:
    """(new module, new name) of `old_module.name`, or None if it did not move."""
    table = MOVED.get(old_module, {})
    target = table.get(name) or (table.get("*") if not name.startswith("__") else None)
    if target is None:
        return None
    module, _, new_name = target.partition(":")
    return module, new_name or name


class MovedModule(types.ModuleType):
    """An old module path: names are read from their new modules, with a DeprecationWarning."""

    def __getattr__(self, name: str) -> Any:
        old = self.__name__
        if f"{old}.{name}" in MOVED:  # an old submodule, e.g. labblocks.callbacks.signals
            return importlib.import_module(f"{old}.{name}")
        if name == "__all__" and "*" in MOVED[old]:
            return [n for n in importlib.import_module(MOVED[old]["*"]).__all__ if not n.startswith("_")]
        found = new_path(old, name)
        module = importlib.import_module(found[0]) if found else None
        if found is None or not hasattr(module, found[1]):
            raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved in labblocks 0.3)")
        warnings.warn(
            f"{old}.{name} is deprecated: use {found[0]}.{found[1]} (moved in labblocks 0.3; the old path goes in "
            f"{REMOVED_IN})", DeprecationWarning, stacklevel=2,
        )
        value = getattr(module, found[1])
        setattr(self, name, value)  # warned once: `from package import name` reads a name twice
        return value

    def __dir__(self) -> list[str]:
        return sorted(n for n in MOVED[self.__name__] if n != "*")


class MovedFinder:
    """Finds and creates the stand-ins of the old module paths in `MOVED`."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname not in MOVED:
            return None
        package = any(other.startswith(fullname + ".") for other in MOVED)
        return ModuleSpec(fullname, self, is_package=package)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        module = MovedModule(spec.name, f"Deprecated alias (labblocks 0.2 path); see {__name__}.MOVED.")
        if spec.submodule_search_locations is not None:
            module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install() -> None:
    """Append the finder to `sys.meta_path`, once."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(MovedFinder())
