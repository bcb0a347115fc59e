"""One record type for a key: what listing, describing and checking arguments need, as plain data.

A `Record` is made from a live registration (the constructor's signature, read with `inspect`) or from a
module's source (its `register(...)` decorators, read with `ast`, nothing imported); the manifest stores
records as JSON. A `Registration` is a live key: the object that builds it plus what it declares.
"""

from __future__ import annotations

import ast
import enum
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from labblocks.errors import InvalidKeyError
from labblocks.registry.keys import Key, parse_key
from labblocks.registry.schema import ANY, from_annotation, from_source, literal, render
from labblocks.shapes import Contract

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds `labblocks/`

# `portable(module or None, args) -> (args, init)`: arguments that rebuild the same architecture without any
# file outside the metadata (e.g. no pretrained-weights path), and the replaced values, kept for people as the
# metadata's `init`. `module` is None when metadata written before labblocks 0.2 is rebuilt.
PortableFn = Callable[[Any, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]
ContractFn = Callable[[Any, dict[str, Any]], Contract]


def jsonable(value: Any) -> Any:
    """Plain JSON/YAML data for a default or an argument: tuples become lists, Enums their values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{value!r} is not plain data (int, float, str, bool, None, list or dict)")


@dataclass(frozen=True)
class Param:
    """One constructor parameter: its type schema and default (JSON data), or `**name` (`var_keyword`)."""

    name: str
    type: dict[str, Any]
    required: bool
    default: Any = None
    var_keyword: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.var_keyword:
            out["var_keyword"] = True
        elif not self.required:
            out["default"] = self.default
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Param:
        return cls(data["name"], dict(data["type"]), bool(data["required"]), data.get("default"),
                   bool(data.get("var_keyword", False)))

    def text(self) -> str:
        if self.var_keyword:
            return f"**{self.name}"
        return f"{self.name}: {render(self.type)}" + ("" if self.required else f" = {self.default!r}")


@dataclass(frozen=True)
class Record:
    """Everything known about a key without importing its module. `static` names the plugin namespace of a
    record read from source (importing that plugin gives the exact record)."""

    key: str
    target: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: Any = None
    dtypes: dict[str, str] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)
    example_dims: dict[str, int] = field(default_factory=dict)
    source: str = "?"
    deprecated: str | None = None
    dynamic_contract: bool = False
    static: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest's form of this record."""
        return {
            "target": self.target, "summary": self.summary, "tags": list(self.tags),
            "params": [p.to_json() for p in self.params], "inputs": dict(self.inputs),
            "outputs": list(self.outputs) if isinstance(self.outputs, tuple) else self.outputs,
            "dtypes": dict(self.dtypes), "example": self.example, "example_dims": dict(self.example_dims),
            "source": self.source, "deprecated": self.deprecated, "dynamic_contract": self.dynamic_contract,
        }

    @classmethod
    def from_json(cls, key: str, data: Mapping[str, Any]) -> Record:
        return cls(
            key=key, target=data["target"], summary=data.get("summary", ""), tags=tuple(data.get("tags", ())),
            params=tuple(Param.from_json(p) for p in data.get("params", ())), inputs=dict(data.get("inputs", {})),
            outputs=data.get("outputs"), dtypes=dict(data.get("dtypes", {})), example=dict(data.get("example", {})),
            example_dims=dict(data.get("example_dims", {})), source=data.get("source", "?"),
            deprecated=data.get("deprecated"), dynamic_contract=bool(data.get("dynamic_contract", False)),
        )

    @property
    def signature(self) -> str:
        return f"({', '.join(p.text() for p in self.params)})"


def params_of(obj: Callable[..., Any], key: Key) -> tuple[Param, ...]:
    """The constructor's parameters as data, from its live signature."""
    out = []
    for p in inspect.signature(obj, eval_str=True).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            out.append(Param(p.name, dict(ANY), required=False, var_keyword=True))
            continue
        if p.default is p.empty:
            out.append(Param(p.name, from_annotation(p.annotation), required=True))
            continue
        try:
            default = jsonable(p.default)
        except TypeError as e:
            raise InvalidKeyError(f"{key}: default of {p.name!r}: {e}") from None
        out.append(Param(p.name, from_annotation(p.annotation), required=False, default=default))
    return tuple(out)


@dataclass
class Registration:
    """A live key: the class or factory that builds it and what `register(...)` declared."""

    key: Key
    obj: Callable[..., Any]
    summary: str
    contract: Contract
    tags: tuple[str, ...] = ()
    example: dict[str, Any] = field(default_factory=dict)
    example_dims: dict[str, int] = field(default_factory=dict)
    deprecated: str | None = None
    contract_fn: ContractFn | None = None
    portable: PortableFn | None = None

    @property
    def target(self) -> str:
        return f"{self.obj.__module__}:{self.obj.__qualname__}"

    @property
    def is_packaged(self) -> bool:
        return self.obj.__module__.split(".")[0] == "labblocks"

    def source(self) -> str:
        """`file:line` of the definition, relative to the package root for labblocks' own blocks; an object
        without a source file (defined in a REPL or by `exec`) gives `<module>:?`."""
        try:
            path = Path(inspect.getsourcefile(self.obj) or "?").resolve()
            line = inspect.getsourcelines(self.obj)[1]
        except (TypeError, OSError):
            return f"<{self.obj.__module__}>:?"
        if path.is_relative_to(PACKAGE_ROOT) and self.is_packaged:
            path = path.relative_to(PACKAGE_ROOT)
        return f"{path.as_posix()}:{line}"

    @cached_property
    def record(self) -> Record:
        c = self.contract
        return Record(
            key=str(self.key), target=self.target, summary=self.summary, tags=self.tags,
            params=params_of(self.obj, self.key), inputs=dict(c.inputs), dtypes=dict(c.dtypes),
            outputs=list(c.outputs) if isinstance(c.outputs, tuple) else c.outputs,
            example=jsonable(self.example), example_dims=dict(self.example_dims), source=self.source(),
            deprecated=self.deprecated, dynamic_contract=self.contract_fn is not None,
        )


# -- records read from source ------------------------------------------------------------------------------


def _source_params(func: ast.FunctionDef | None, skip_self: bool) -> tuple[Param, ...]:
    if func is None:
        return ()
    a = func.args
    positional = [*a.posonlyargs, *a.args][1 if skip_self else 0:]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    pairs = [*zip(positional, defaults, strict=True), *zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    out = [
        Param(arg.arg, from_source(arg.annotation), required=default is None,
              default=None if default is None else literal(default, ast.unparse(default)))
        for arg, default in pairs
    ]
    if a.kwarg is not None:
        out.append(Param(a.kwarg.arg, dict(ANY), required=False, var_keyword=True))
    return tuple(out)


def _register_call(decorator: ast.expr) -> ast.Call | None:
    """`@<anything>.register(...)` or `@register(...)`."""
    if not isinstance(decorator, ast.Call):
        return None
    func = decorator.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return decorator if name == "register" and decorator.args else None


def records_from_source(path: Path, module: str, namespace: str) -> dict[str, Record]:
    """The records of the keys that `module` (source file `path`) registers, read without importing it.

    Only literal keys and arguments are seen; a key made at import time is found once the module is imported.
    Raises OSError or SyntaxError when the file cannot be read or parsed."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    records: dict[str, Record] = {}
    for node in tree.body:
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        for decorator in node.decorator_list:
            call = _register_call(decorator)
            key = literal(call.args[0]) if call is not None else None
            if not isinstance(key, str) or not parse_key(key).pinned:
                continue
            kw = {k.arg: k.value for k in call.keywords if k.arg}  # type: ignore[union-attr]
            if isinstance(node, ast.ClassDef):
                init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
                params = _source_params(init, skip_self=True)
            else:
                params = _source_params(node, skip_self=False)
            outputs = literal(kw.get("outputs"))
            records[key] = Record(
                key=key, target=f"{module}:{node.name}", summary=literal(kw.get("summary"), "") or "",
                tags=tuple(literal(kw.get("tags"), ()) or ()), params=params,
                inputs=dict(literal(kw.get("inputs"), {}) or {}),
                outputs=list(outputs) if isinstance(outputs, tuple) else outputs,
                dtypes=dict(literal(kw.get("dtypes"), {}) or {}),
                example=dict(literal(kw.get("example"), {}) or {}),
                example_dims=dict(literal(kw.get("example_dims"), {}) or {}),
                source=f"{path.as_posix()}:{node.decorator_list[0].lineno}",  # as inspect counts it
                deprecated=literal(kw.get("deprecated")), dynamic_contract="contract" in kw, static=namespace,
            )
    return records
