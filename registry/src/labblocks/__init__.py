"""labblocks: a versioned registry of shape-annotated PyTorch blocks, with timm and Hugging Face adapters.

    import labblocks
    mlp = labblocks.build("core/mlp@v1", in_dim=64, hidden_dim=128, out_dim=10)
    net = labblocks.build({"block": "timm/resnet@v1", "variant": "resnet18", "num_classes": 10})
    labblocks.list_blocks("core/*"); print(labblocks.describe("core/mlp@v1"))

Importing this package is cheap: torch, timm and transformers load only when a block is built.
"""

from __future__ import annotations

from typing import Any

from labblocks.errors import (
    BlockArgumentError,
    BlockImportError,
    DeprecatedKeyError,
    DownloadDisabledError,
    DuplicateKeyError,
    InvalidKeyError,
    LabblocksError,
    RemovedKeyError,
    ShapeError,
    UnknownKeyError,
    UnpinnedKeyError,
)
from labblocks.registry import REGISTRY, BlockInfo, Registry, metadata
from labblocks.shapes import set_shape_check, shape_check_mode

__version__ = "0.2.0"

register = REGISTRY.register
build = REGISTRY.build
rebuild = REGISTRY.rebuild
describe = REGISTRY.describe
validate = REGISTRY.validate
pin = REGISTRY.pin
contract = REGISTRY.contract


def list_blocks(pattern: str = "*", tags: list[str] | None = None) -> list[str]:
    """Keys matching a wildcard `pattern` (e.g. `core/*`, `*/resnet`, `core/mlp@v*`) and all `tags`."""
    return REGISTRY.list(pattern, tags)


def __getattr__(name: str) -> Any:  # keep `labblocks.testing` and friends lazy
    if name in (
        "testing", "callbacks", "resume", "export", "blocks", "adapters", "checkpoints", "checkpoint_io", "runlock",
        "plugins",
    ):
        import importlib

        return importlib.import_module(f"labblocks.{name}")
    raise AttributeError(f"module 'labblocks' has no attribute {name!r}")


__all__ = [
    "BlockArgumentError",
    "BlockImportError",
    "BlockInfo",
    "DeprecatedKeyError",
    "DownloadDisabledError",
    "DuplicateKeyError",
    "InvalidKeyError",
    "LabblocksError",
    "Registry",
    "RemovedKeyError",
    "ShapeError",
    "UnknownKeyError",
    "UnpinnedKeyError",
    "__version__",
    "build",
    "contract",
    "describe",
    "list_blocks",
    "metadata",
    "pin",
    "rebuild",
    "register",
    "set_shape_check",
    "shape_check_mode",
    "validate",
]
