"""The one walk over a config: every block node `{"block": key, **args}` gets its key resolved and pinned, its
arguments checked against the key's record and its defaults filled in, nested nodes included.

`validate`, `pin`, `build`, `rebuild` and the metadata of a built module all start from this walk, which
visits each node once and reports every argument problem of a top-level node in one BlockArgumentError.
The walk takes plain data (see `containers.plain`).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from labblocks.errors import BlockArgumentError, InvalidKeyError
from labblocks.registry.keys import Key
from labblocks.registry.records import Param
from labblocks.registry.schema import ANY, check, render

NODE_KEY = "block"


def is_node(value: Any) -> bool:
    return isinstance(value, dict) and NODE_KEY in value


def is_node_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_node(v) for v in value)


def join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


class Resolver(Protocol):
    """What the walk asks the registry: the pinned key a node names, and that key's parameters."""

    def resolve(self, key: Any, where: str = "", strict: bool = False) -> Key: ...

    def params(self, key: Key) -> tuple[Param, ...]: ...


@dataclass
class Node:
    """A walked block node: its pinned key, where it sits, and its arguments (given, then defaults, in the
    signature's order; `**kwargs` extras last). Nested nodes are Nodes, lists of nodes lists of Nodes."""

    key: Key
    path: str
    args: dict[str, Any]

    def plain(self) -> dict[str, Any]:
        """The pinned and filled node as plain data."""
        return {NODE_KEY: str(self.key), **{k: to_plain(v) for k, v in self.args.items()}}


def to_plain(value: Any) -> Any:
    """A walked tree as plain data."""
    if isinstance(value, Node):
        return value.plain()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def walk_node(node: Any, resolver: Resolver, path: str = "", strict: bool = False,
              supplied: Iterable[str] = ()) -> Node:
    """Walk one block node. `supplied` names top-level arguments the caller passes at build time (e.g.
    `num_classes` from the data): they count as given. Raises BlockArgumentError with every problem."""
    if not is_node(node):
        raise InvalidKeyError(f"{path or 'config'}: expected a block node with a '{NODE_KEY}' key, got {node!r}")
    return _Walk(resolver, strict).top(node, path, frozenset(supplied))


def walk_tree(tree: Any, resolver: Resolver, path: str = "", strict: bool = False) -> Any:
    """Walk every block node of a whole config (dicts and lists at any depth); other values stay."""
    return _Walk(resolver, strict).tree(tree, path)


class _Walk:
    def __init__(self, resolver: Resolver, strict: bool) -> None:
        self.resolver, self.strict = resolver, strict

    def tree(self, value: Any, path: str) -> Any:
        if is_node(value):
            return self.top(value, path, frozenset())
        if isinstance(value, dict):
            return {k: self.tree(v, join(path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.tree(v, join(path, i)) for i, v in enumerate(value)]
        return value

    def top(self, node: dict[str, Any], path: str, supplied: frozenset[str]) -> Node:
        problems: list[str] = []
        walked = self.node(node, path, supplied, problems)
        if problems:
            raise BlockArgumentError(str(walked.key), problems)
        return walked

    def node(self, node: dict[str, Any], path: str, supplied: frozenset[str], problems: list[str]) -> Node:
        key = self.resolver.resolve(node[NODE_KEY], join(path, NODE_KEY) if path else "", self.strict)
        params = self.resolver.params(key)
        by_name = {p.name: p for p in params if not p.var_keyword}
        open_kwargs = any(p.var_keyword for p in params)
        given = {k: v for k, v in node.items() if k != NODE_KEY}
        args: dict[str, Any] = {}
        for p in by_name.values():
            where = join(path, p.name)
            if p.name in given:
                args[p.name] = self.value(given.pop(p.name), p.type, where, problems)
            elif p.name in supplied:
                continue
            elif p.required:
                problems.append(f"{where}: missing required argument ({render(p.type)})")
            else:
                args[p.name] = copy.deepcopy(p.default)
        for name, value in given.items():  # names the signature does not have
            where = join(path, name)
            if open_kwargs:
                args[name] = self.value(value, ANY, where, problems)
                continue
            close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{where}: unknown argument '{name}' for {key}{hint} (accepted: {', '.join(by_name)})")
        if not open_kwargs:
            for name in sorted(supplied - set(by_name) - set(node)):
                where = join(path, name)
                problems.append(f"{where}: {key} has no argument '{name}', which the caller passes at build time")
        return Node(key, path, args)

    def value(self, value: Any, sch: dict[str, Any], where: str, problems: list[str]) -> Any:
        if is_node(value):
            return self.node(value, where, frozenset(), problems)
        if is_node_list(value):
            return [self.node(v, join(where, i), frozenset(), problems) for i, v in enumerate(value)]
        problem = check(value, sch)
        if problem:
            problems.append(f"{where}: {problem}")
        return value
