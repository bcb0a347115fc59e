"""Argument type schemas: annotations as plain JSON data, so that arguments can be checked (and shown) from
the manifest without importing the block's module, torch or timm.

A schema is read from a live annotation (`from_annotation`) or from an annotation's source (`from_source`,
for modules that are not imported); both give the same data for the same annotation.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import enum
import inspect
import types
import typing
from typing import Any

Schema = dict[str, Any]
ANY: Schema = {"type": "any"}
_SCALARS = {bool: "bool", int: "int", float: "float", str: "str", type(None): "none"}


def _is_module_class(tp: object) -> bool:
    return isinstance(tp, type) and any(
        c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in tp.__mro__
    )


def from_annotation(ann: object) -> Schema:
    """Turn a type annotation into a schema; anything it does not know is `any`."""
    if ann is inspect.Parameter.empty or ann is Any:
        return dict(ANY)
    if ann is None:
        return {"type": "none"}
    if ann in _SCALARS:
        return {"type": _SCALARS[ann]}
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return {"type": "literal", "values": [m.value for m in ann], "name": ann.__name__}
    if _is_module_class(ann):
        return {"type": "block"}
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        return {"type": "union", "of": [from_annotation(a) for a in args]}
    if origin is typing.Literal:
        return {"type": "literal", "values": list(args)}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "list", "item": from_annotation(args[0]), "tuple": True}
        if args:
            return {"type": "tuple", "items": [from_annotation(a) for a in args]}
        return {"type": "list", "item": dict(ANY), "tuple": True}
    if origin in (list, cabc.Sequence, typing.Sequence) or ann in (list, tuple):
        return {"type": "list", "item": from_annotation(args[0]) if args else dict(ANY)}
    if origin in (dict, cabc.Mapping, typing.Mapping) or ann is dict:
        return {"type": "dict", "value": from_annotation(args[1]) if len(args) == 2 else dict(ANY)}
    return {"type": "any", "repr": getattr(ann, "__name__", str(ann))}


_SOURCE_SCALARS = {"int": "int", "float": "float", "str": "str", "bool": "bool", "None": "none"}


def literal(node: ast.AST | None, default: Any = None) -> Any:
    """The value of a literal expression in source, else `default`."""
    if node is None:
        return default
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return default


def from_source(node: ast.AST | None) -> Schema:
    """Turn an annotation's syntax tree into a schema; `any` where the source alone cannot tell."""
    if node is None:
        return dict(ANY)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        try:
            return from_source(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {"type": "any", "repr": node.value}
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "none"}
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    if name in _SOURCE_SCALARS:
        return {"type": _SOURCE_SCALARS[name]}
    if name == "Module":
        return {"type": "block"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return {"type": "union", "of": [from_source(node.left), from_source(node.right)]}
    if isinstance(node, ast.Subscript):
        outer = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer == "Optional":
            return {"type": "union", "of": [from_source(items[0]), {"type": "none"}]}
        if outer == "Union":
            return {"type": "union", "of": [from_source(i) for i in items]}
        if outer == "Literal":
            return {"type": "literal", "values": [literal(i) for i in items]}
        if outer == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return {"type": "list", "item": from_source(items[0]), "tuple": True}
            return {"type": "tuple", "items": [from_source(i) for i in items]}
        if outer in ("list", "Sequence", "List"):
            return {"type": "list", "item": from_source(items[0])}
        if outer in ("dict", "Mapping", "Dict"):
            return {"type": "dict", "value": from_source(items[-1])}
    return {"type": "any", "repr": ast.unparse(node)}


def render(schema: Schema) -> str:
    """A readable type string, e.g. `int | None` or `Literal['mean', 'cls']`."""
    t = schema["type"]
    if t == "union":
        return " | ".join(render(s) for s in schema["of"])
    if t == "literal":
        vals = ", ".join(repr(v) for v in schema["values"])
        return f"{schema['name']}[{vals}]" if "name" in schema else f"Literal[{vals}]"
    if t == "list":
        inner = render(schema["item"])
        return f"tuple[{inner}, ...]" if schema.get("tuple") else f"list[{inner}]"
    if t == "tuple":
        return f"tuple[{', '.join(render(s) for s in schema['items'])}]"
    if t == "dict":
        return f"dict[str, {render(schema['value'])}]"
    if t == "none":
        return "None"
    if t == "any":
        return schema.get("repr", "Any")
    return t


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check(value: object, schema: Schema) -> str | None:
    """Return None if `value` fits `schema`, else what is wrong, e.g. `expected int, got str 'a'`."""
    t = schema["type"]
    ok: bool
    if t == "any":
        return None
    if t == "union":
        if any(check(value, s) is None for s in schema["of"]):
            return None
        ok = False
    elif t == "none":
        ok = value is None
    elif t == "bool":
        ok = isinstance(value, bool)
    elif t == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif t == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif t == "str":
        ok = isinstance(value, str)
    elif t == "literal":
        raw = value.value if isinstance(value, enum.Enum) else value
        ok = any(raw == v and type(raw) is type(v) for v in schema["values"])
    elif t == "block":
        ok = (isinstance(value, dict) and "block" in value) or hasattr(value, "state_dict")
    elif t in ("list", "tuple"):
        if not isinstance(value, (list, tuple)):
            ok = False
        else:
            items = schema["items"] if t == "tuple" else [schema["item"]] * len(value)
            if len(items) != len(value):
                want = f"{render(schema)} ({len(items)} items)"
                return f"expected {want}, got {len(value)} items {_short(value)}"
            for i, (v, s) in enumerate(zip(value, items, strict=True)):
                problem = check(v, s)
                if problem:
                    return f"item {i}: {problem}"
            return None
    elif t == "dict":
        if not isinstance(value, dict):
            ok = False
        else:
            for k, v in value.items():
                problem = check(v, schema["value"])
                if problem:
                    return f"entry {k!r}: {problem}"
            return None
    else:
        return None
    if ok:
        return None
    return f"expected {render(schema)}, got {type(value).__name__} {_short(value)}"
