"""`Project`: what the generic commands need to know of a project: its schema, configs, metrics, and the
module that builds its data, model and task callbacks. Imports no torch: a project's command table, `--help`
and config validation stay light."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from omegaconf import DictConfig

from labblocks.run.config import Checks, Request, load
from labblocks.run.schema import check_sections


@dataclass(frozen=True)
class Project:
    """A project as the commands see it.

    `wiring` names the module that builds the run from a validated config; it provides
    `build_datamodule(cfg)`, `build_model(cfg, datamodule)`, `recorded_config(cfg, datamodule)` (the config
    as saved with the run) and `task_callbacks(cfg, datamodule, logger)` (callbacks of this task only).
    It is imported when a command first needs it, so the command table and validation never load torch.
    """

    module: str  # the import name; checkpoints record it and refuse another project's
    prog: str  # the console script, e.g. digits-lab
    schema: type  # the config dataclass
    config_dir: Path  # holds default.yaml, experiment/ and sweep.yaml
    metrics: tuple[str, ...]  # what the model logs: the choices for checkpoint.monitor and the search metric
    wiring: str  # module name of the build functions (see above)
    checks: Checks | None = None  # the project's own checks beyond types (data, model)

    @property
    def root(self) -> Path:
        """The project's folder (its git repository)."""
        return self.config_dir.parent

    def load(self, request: Request | None = None, extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> DictConfig:
        """The validated config (raises ConfigError with every problem); see labblocks.run.config."""
        return load(self.schema, self.config_dir, request, extra, self.validate)

    def validate(self, cfg: DictConfig) -> list[tuple[str, str]]:
        """Every check of the shared sections and of the project's own: (key, why) pairs."""
        return check_sections(cfg, self.metrics) + (self.checks(cfg) if self.checks else [])

    def build(self) -> ModuleType:
        """The wiring module."""
        return importlib.import_module(self.wiring)
