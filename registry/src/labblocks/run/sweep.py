"""A W&B sweep agent's values for this run, as one more config layer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

LAYER = "wandb.config (sweep)"  # the layer's name in error messages


def under_agent() -> bool:
    return bool(os.environ.get("WANDB_SWEEP_ID"))


def sweep_values() -> dict[str, Any]:
    """The values the agent chose, read from the file it names in $WANDB_SWEEP_PARAM_PATH (so every rank of a
    multi-device run reads the same values); {} when there is none (then the values are in wandb.config)."""
    path = os.environ.get("WANDB_SWEEP_PARAM_PATH")
    if not path or not Path(path).is_file():
        return {}
    params = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {k: v.get("value") if isinstance(v, dict) else v for k, v in params.items() if not k.startswith("_")}


def sweep_layer(values: dict[str, Any], run_id: str) -> tuple[str, dict[str, Any]]:
    """The agent's values plus what every sweep run sets: its run name and the W&B logger."""
    return LAYER, {**values, "run.name": f"sweep-{run_id}", "logger.kind": "wandb"}
