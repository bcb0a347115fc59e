"""Config containers as plain data, and back.

The registry works on plain dicts and lists. Any mapping (a dict, an OmegaConf `DictConfig`) or sequence (a
list, a tuple, a `ListConfig`) is read through its public protocol: OmegaConf resolves `${...}`
interpolations on access and raises `MissingMandatoryValue` (naming the key) for a `???`. Only `like`, which
gives a pinned config back in the kind it came in, knows OmegaConf by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plain(value: Any) -> Any:
    """`value` as plain dicts and lists (a copy), interpolations resolved."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def is_omegaconf(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "omegaconf"


def like(original: Any, data: Any) -> Any:
    """`data` in the kind of container `original` is: an OmegaConf node for an OmegaConf node, else as is."""
    if not is_omegaconf(original):
        return data
    from omegaconf import OmegaConf  # only reached with an OmegaConf node in hand, so omegaconf is loaded

    return OmegaConf.create(data)
