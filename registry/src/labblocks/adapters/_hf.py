"""What the Hugging Face adapters share: model types and config fields checked by name, and the record of
a model's architecture as config fields (what a rebuild needs when the weights are in a checkpoint)."""

from __future__ import annotations

import json
from typing import Any

from transformers import CONFIG_MAPPING, PretrainedConfig

from labblocks.adapters._hub import closest, did_you_mean
from labblocks.errors import BlockArgumentError, LabblocksError

# Config fields that say where a config came from, not what the model is; num_labels sets the label maps.
NOT_ARCHITECTURE = {"transformers_version", "architectures", "_name_or_path", "model_type", "id2label",
                    "label2id", "_commit_hash", "auto_map"}
_MISSING = object()


def check_model_type(key: str, model_type: str) -> None:
    """Refuse a model type transformers does not know, with the closest ones it does."""
    if model_type not in CONFIG_MAPPING:
        hint = did_you_mean(model_type, CONFIG_MAPPING.keys())
        raise BlockArgumentError(key, [f"model_type: {model_type!r} is not a transformers model type{hint}"])


def field_problems(config: PretrainedConfig, overrides: dict[str, Any]) -> list[str]:
    """One problem per key of `overrides` that is not a field of `config` (with the closest field)."""
    problems = []
    for name in overrides:
        if not hasattr(config, name):
            close = closest(name, config.to_dict(), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"config.{name}: not a field of {type(config).__name__}{hint}")
    return problems


def resolved_config(key: str, config: PretrainedConfig) -> dict[str, Any]:
    """The fields of a model's config that differ from its model type's defaults (JSON data)."""
    defaults = CONFIG_MAPPING[config.model_type]()
    base = defaults.to_dict()
    out = {}
    for name, value in config.to_dict().items():
        if name in NOT_ARCHITECTURE or not hasattr(defaults, name) or base.get(name, _MISSING) == value:
            continue
        try:
            json.dumps(value)
        except TypeError:
            raise LabblocksError(f"{key}: config field {name}={value!r} is not JSON data; cannot record it") from None
        out[name] = value
    return out
