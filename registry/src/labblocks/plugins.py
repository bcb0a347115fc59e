"""Blocks of other packages (e.g. a baked project's `<module>/blocks.py`), found through entry points.

A package declares, in its pyproject.toml:

    [project.entry-points."labblocks.blocks"]
    myproj = "myproj.blocks"        # namespace = module that registers the `myproj/...` keys

Listing and describing read the module's source with `ast` (its `@....register("key", summary=...,
inputs=..., outputs=..., tags=...)` decorators and the constructor's signature), so `labblocks list`
imports neither the module nor torch. Building, rebuilding and validating import the module, which
registers its blocks for real.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labblocks.keys import _KEY_RE, parse_key

GROUP = "labblocks.blocks"
RESERVED = ("core", "timm", "hf")  # labblocks' own namespaces


@dataclass(frozen=True)
class Plugin:
    """One entry point: the namespace it provides and the module that registers it."""

    namespace: str
    module: str
    distribution: str

    def describe(self) -> str:
        return f"entry point {self.namespace} = {self.module!r} of {self.distribution} (group {GROUP!r})"


def entry_points(group: str) -> Iterator[tuple[str, str, str]]:
    """`(name, value, distribution)` of every entry point in `group` of the distributions on sys.path
    (`*.dist-info` / `*.egg-info` folders, the first of a name wins, as with importlib.metadata).

    Read directly: importing importlib.metadata alone takes longer than all of `labblocks list`.
    """
    seen: set[str] = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        if not folder.is_dir():
            continue
        for info in sorted([*folder.glob("*.dist-info"), *folder.glob("*.egg-info")]):
            dist = info.name.rsplit(".", 1)[0].split("-")[0]
            key = re.sub(r"[-_.]+", "_", dist).lower()
            if key in seen:
                continue
            seen.add(key)
            try:
                text = (info / "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            section = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group and "=" in line and not line.startswith(("#", ";")):
                    name, value = (part.strip() for part in line.split("=", 1))
                    yield name, value, dist


def discover(group: str = GROUP) -> dict[str, Plugin]:
    """Installed plugins by namespace. Bad names, reserved namespaces and a namespace claimed twice are
    skipped with a warning that says which distribution declared what."""
    found: dict[str, Plugin] = {}
    for name, value, dist in entry_points(group):
        plugin = Plugin(name, value.split(":")[0].strip(), dist)
        if not _KEY_RE.fullmatch(f"{name}/x") or name in RESERVED:
            why = "is one of labblocks' own namespaces" if name in RESERVED else "is not a valid namespace"
            warnings.warn(f"labblocks: ignoring {plugin.describe()}: {name!r} {why}", stacklevel=2)
            continue
        if name in found and found[name].module != plugin.module:
            warnings.warn(
                f"labblocks: ignoring {plugin.describe()}: namespace {name!r} is already provided by "
                f"{found[name].describe()}",
                stacklevel=2,
            )
            continue
        found[name] = plugin
    return found


def module_file(module: str) -> Path | None:
    """The source file of `module`, found without importing it or its parent packages."""
    parts = module.split(".")
    spec = importlib.util.find_spec(parts[0])  # a top-level lookup runs no code
    for i in range(1, len(parts)):
        if spec is None or spec.submodule_search_locations is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), list(spec.submodule_search_locations))
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


# -- reading registrations from source -----------------------------------------------------------------


def _literal(node: ast.AST | None, default: Any = None) -> Any:
    if node is None:
        return default
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return default


_SCALARS = {"int": "int", "float": "float", "str": "str", "bool": "bool", "None": "none"}


def annotation_schema(node: ast.AST | None) -> dict[str, Any]:
    """A type schema (see `labblocks.schema`) from an annotation's source; `any` where unsure."""
    if node is None:
        return {"type": "any"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        try:
            return annotation_schema(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {"type": "any", "repr": node.value}
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "none"}
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    if name in _SCALARS:
        return {"type": _SCALARS[name]}
    if name in ("Module",):
        return {"type": "block"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return {"type": "union", "of": [annotation_schema(node.left), annotation_schema(node.right)]}
    if isinstance(node, ast.Subscript):
        outer = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer == "Optional":
            return {"type": "union", "of": [annotation_schema(items[0]), {"type": "none"}]}
        if outer == "Union":
            return {"type": "union", "of": [annotation_schema(i) for i in items]}
        if outer == "Literal":
            return {"type": "literal", "values": [_literal(i) for i in items]}
        if outer == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return {"type": "list", "item": annotation_schema(items[0]), "tuple": True}
            return {"type": "tuple", "items": [annotation_schema(i) for i in items]}
        if outer in ("list", "Sequence", "List"):
            return {"type": "list", "item": annotation_schema(items[0])}
        if outer in ("dict", "Mapping", "Dict"):
            return {"type": "dict", "value": annotation_schema(items[-1])}
    return {"type": "any", "repr": ast.unparse(node)}


def _params(func: ast.FunctionDef | None, skip_self: bool) -> list[dict[str, Any]]:
    if func is None:
        return []
    a = func.args
    positional = [*a.posonlyargs, *a.args][1 if skip_self else 0 :]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    pairs = [*zip(positional, defaults, strict=True), *zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    out: list[dict[str, Any]] = []
    for arg, default in pairs:
        item: dict[str, Any] = {"name": arg.arg, "type": annotation_schema(arg.annotation)}
        item["required"] = default is None
        if default is not None:
            item["default"] = _literal(default, ast.unparse(default))
        out.append(item)
    if a.kwarg is not None:
        out.append({"name": a.kwarg.arg, "type": {"type": "any"}, "required": False, "var_keyword": True})
    return out


def _register_call(decorator: ast.expr) -> ast.Call | None:
    """`@<anything>.register(...)` or `@register(...)`."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return decorator if name == "register" and decorator.args else None


def static_records(plugin: Plugin) -> dict[str, dict[str, Any]]:
    """Manifest-style records of the keys `plugin`'s module registers, read from its source.

    Raises OSError/SyntaxError/LookupError when the source cannot be found or read."""
    path = module_file(plugin.module)
    if path is None:
        raise LookupError(f"no Python source file for module {plugin.module!r}")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    records: dict[str, dict[str, Any]] = {}
    for node in tree.body:
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = _register_call(decorator)
            key = _literal(call.args[0]) if call is not None else None
            if not isinstance(key, str) or not parse_key(key).pinned:
                continue
            kw = {k.arg: k.value for k in call.keywords if k.arg}  # type: ignore[union-attr]
            outputs = _literal(kw.get("outputs"))
            if isinstance(node, ast.ClassDef):
                init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
                params = _params(init, skip_self=True)
            else:
                params = _params(node, skip_self=False)
            records[key] = {
                "target": f"{plugin.module}:{node.name}",
                "summary": _literal(kw.get("summary"), "") or "",
                "tags": list(_literal(kw.get("tags"), ()) or ()),
                "params": params,
                "inputs": dict(_literal(kw.get("inputs"), {}) or {}),
                "outputs": list(outputs) if isinstance(outputs, tuple) else outputs,
                "dtypes": dict(_literal(kw.get("dtypes"), {}) or {}),
                "example": dict(_literal(kw.get("example"), {}) or {}),
                "example_dims": dict(_literal(kw.get("example_dims"), {}) or {}),
                "source": f"{path.as_posix()}:{node.decorator_list[0].lineno}",  # as inspect counts it
                "deprecated": _literal(kw.get("deprecated")),
                "dynamic_contract": "contract" in kw,
                "static": plugin.namespace,  # read from source; importing the module gives the exact record
            }
    return records
