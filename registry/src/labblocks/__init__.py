"""labblocks: a versioned registry of shape-annotated PyTorch blocks, with timm and Hugging Face adapters.

    import labblocks
    mlp = labblocks.build("core/mlp@v1", in_dim=64, hidden_dim=128, out_dim=10)
    net = labblocks.build({"block": "timm/resnet@v1", "variant": "resnet18", "num_classes": 10})
    labblocks.list_blocks("core/*"); print(labblocks.describe("core/mlp@v1"))

Importing this package is cheap: torch, timm and transformers load only when a block is built. The rest is
in subpackages: `registry` (keys, records, building), `blocks` and `adapters` (the keys labblocks ships),
`train` (Lightning callbacks, checkpoints, RNG state, run lock), `run` (run directories, export),
`testing` (contract and sanity checks), `tools` (the `labblocks` command, catalog, manifest).
"""

from labblocks import _moved
from labblocks._version import __version__
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


_moved.install()

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
