"""Modules from walked nodes, built innermost first, and what each built module carries (`metadata`): its key,
the arguments that rebuild it with no file outside the metadata, and the labblocks version.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

from labblocks._version import __version__
from labblocks.errors import BlockArgumentError, DeprecatedKeyError, LabblocksError
from labblocks.registry.keys import Key, parse_key
from labblocks.registry.nodes import NODE_KEY, Node, join
from labblocks.registry.records import Registration
from labblocks.shapes import BoundContract, install_hooks, shape_check_mode

META_ATTR = "_labblocks_meta"
Lookup = Callable[[Key], Registration]


def metadata(module: Any) -> dict[str, Any]:
    """What a built module carries: `{"key", "args", "labblocks_version"}` (a copy), plus `init` when some
    arguments only loaded weights from outside (a pretrained file or directory): `args` then rebuild the
    architecture alone, and `init` records the original values for people (`rebuild` ignores it)."""
    meta = getattr(module, META_ATTR, None)
    if meta is None:
        raise LabblocksError(f"{type(module).__name__} was not built by labblocks.build, so it has no metadata")
    return copy.deepcopy(meta)


def bound_contract(module: Any, lookup: Lookup) -> BoundContract:
    """The shape contract of a built module, with its arguments filled in."""
    meta = metadata(module)
    reg = lookup(parse_key(meta["key"]))
    c = reg.contract_fn(module, meta["args"]) if reg.contract_fn else reg.contract
    return c.bind(meta["key"], meta["args"])


def construct(node: Node, lookup: Lookup, allow_deprecated: bool) -> Any:
    """Build `node`, its nested nodes first, and attach the metadata (and, in `hooks` mode, shape checks)."""
    reg = lookup(node.key)
    at = f" (at {node.path})" if node.path else ""
    if reg.deprecated:
        message = f"{reg.key}{at} is deprecated. To migrate: {reg.deprecated}"
        if not allow_deprecated:
            raise DeprecatedKeyError(message + " (pass allow_deprecated=True to build it anyway)")
        warnings.warn(message, FutureWarning, stacklevel=4)
    built = {name: _construct_value(v, lookup, allow_deprecated) for name, v in node.args.items()}
    try:
        module = reg.obj(**built)
    except BlockArgumentError as e:
        if not node.path:
            raise
        raise BlockArgumentError(e.key, [join(node.path, p) for p in e.problems]) from e
    except Exception as e:
        if hasattr(e, "add_note"):  # Python 3.11+
            e.add_note(f"while building {reg.key}" + (f" at {node.path}" if node.path else ""))
        raise
    recorded: dict[str, Any] = {}
    init: dict[str, Any] = {}
    for name, value in node.args.items():
        recorded[name], inner = _recorded(value, built[name])
        if inner:
            init[name] = inner
    if reg.portable is not None:
        recorded, own = reg.portable(module, recorded)
        init.update(own)
    meta: dict[str, Any] = {"key": str(reg.key), "args": recorded, "labblocks_version": __version__}
    if init:
        meta["init"] = init
    object.__setattr__(module, META_ATTR, meta)
    if shape_check_mode() == "hooks":
        install_hooks(module, bound_contract(module, lookup))
    return module


def _is_node_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Node) for v in value)


def _construct_value(value: Any, lookup: Lookup, allow_deprecated: bool) -> Any:
    if isinstance(value, Node):
        return construct(value, lookup, allow_deprecated)
    if _is_node_list(value):
        return [construct(v, lookup, allow_deprecated) for v in value]
    return value


def _recorded(value: Any, built: Any) -> tuple[Any, Any]:
    """An argument as the metadata records it: a nested node as its built module's own recorded node (so
    the whole record is portable), with the `init` values that one set aside."""
    if isinstance(value, Node):
        meta = getattr(built, META_ATTR)
        return {NODE_KEY: meta["key"], **copy.deepcopy(meta["args"])}, meta.get("init")
    if _is_node_list(value):
        pairs = [_recorded(v, m) for v, m in zip(value, built, strict=True)]
        return [p[0] for p in pairs], ([p[1] or {} for p in pairs] if any(p[1] for p in pairs) else None)
    return copy.deepcopy(value), None


def portable_old(node: Node, lookup: Lookup) -> Node:
    """A node from metadata written before labblocks 0.2 (which recorded arguments as given, weights paths
    included), made portable where each block can tell without being built, nested nodes first."""
    args = {name: _portable_old_value(v, lookup) for name, v in node.args.items()}
    reg = lookup(node.key)
    if reg.portable is not None:
        args = reg.portable(None, args)[0]
    return Node(node.key, node.path, args)


def _portable_old_value(value: Any, lookup: Lookup) -> Any:
    if isinstance(value, Node):
        return portable_old(value, lookup)
    if isinstance(value, list):
        return [_portable_old_value(v, lookup) for v in value]
    return value
