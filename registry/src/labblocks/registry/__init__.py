"""The block registry, one job per module:

    keys        `namespace/name@vN`: parsing and patterns
    schema      argument types as data, read from annotations or from their source
    records     `Record` (one key as data) and `Registration` (a live key)
    plugins     other packages' block modules, found through entry points
    sources     the manifest, live registrations and plugins, merged
    containers  dicts, lists and OmegaConf nodes as plain data
    nodes       the one walk over a config node: resolve, check, fill
    build       modules from walked nodes, and their metadata
    info        `BlockInfo`, what `describe` returns
    core        `Registry` and `REGISTRY`, which tie these together
"""

from labblocks.registry.build import META_ATTR, metadata
from labblocks.registry.core import REGISTRY, Registry
from labblocks.registry.info import BlockInfo
from labblocks.registry.keys import Key, parse_key
from labblocks.registry.nodes import NODE_KEY

__all__ = ["META_ATTR", "NODE_KEY", "REGISTRY", "BlockInfo", "Key", "Registry", "metadata", "parse_key"]
