"""The registry: versioned keys mapped to block classes or factories, resolved lazily from the manifest.

A key's module is imported only when the key is built; listing, describing, validating and pinning read
the manifest. Nothing here imports torch.
"""

from __future__ import annotations

import copy
import difflib
import enum
import fnmatch
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labblocks import schema
from labblocks.errors import (
    BlockArgumentError,
    BlockImportError,
    DeprecatedKeyError,
    DuplicateKeyError,
    InvalidKeyError,
    LabblocksError,
    RemovedKeyError,
    UnknownKeyError,
    UnpinnedKeyError,
)
from labblocks.keys import Key, parse_key
from labblocks.shapes import Contract, OutputSpec

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds `labblocks/`
META_ATTR = "_labblocks_meta"
NODE_KEY = "block"


def _jsonable(value: Any) -> Any:
    """Plain JSON/YAML data for a default or an argument: tuples become lists, Enums their values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{value!r} is not plain data (int, float, str, bool, None, list or dict)")


def _to_plain(node: Any) -> Any:
    """An OmegaConf node (interpolations resolved) or a mapping, as plain dicts and lists."""
    if type(node).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
    if isinstance(node, Mapping):
        return {k: _to_plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_to_plain(v) for v in node]
    return node


_SUPPLIED = object()  # stands for an argument the caller fills in at build time

# `portable(module or None, args) -> (args, init)`: arguments that rebuild the same architecture without
# any file outside the metadata (e.g. no pretrained-weights path), and the replaced values, kept for
# people as the metadata's `init`. `module` is None when old metadata is rebuilt.
PortableFn = Callable[[Any, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]


def _origin(obj: Any) -> tuple[str, str]:
    return obj.__module__, obj.__qualname__


def _is_node(value: Any) -> bool:
    return isinstance(value, Mapping) and NODE_KEY in value


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


@dataclass
class Entry:
    """One registered key: the object that builds it and what it declares."""

    key: Key
    obj: Callable[..., Any]
    summary: str
    contract: Contract
    tags: tuple[str, ...] = ()
    example: dict[str, Any] = field(default_factory=dict)
    example_dims: dict[str, int] = field(default_factory=dict)
    deprecated: str | None = None
    contract_fn: Callable[[Any, dict[str, Any]], Contract] | None = None
    portable: PortableFn | None = None

    @property
    def target(self) -> str:
        return f"{self.obj.__module__}:{self.obj.__qualname__}"

    @property
    def is_packaged(self) -> bool:
        return self.obj.__module__.split(".")[0] == "labblocks"

    def source(self) -> str:
        """`file:line` of the definition; relative to the package root for labblocks' own blocks.

        An object without a source file (defined in a REPL or by `exec`) gives `<module>:?`.
        """
        try:
            path = Path(inspect.getsourcefile(self.obj) or "?").resolve()
            line = inspect.getsourcelines(self.obj)[1]
        except (TypeError, OSError):
            return f"<{self.obj.__module__}>:?"
        if path.is_relative_to(PACKAGE_ROOT) and self.is_packaged:
            path = path.relative_to(PACKAGE_ROOT)
        return f"{path.as_posix()}:{line}"

    def params(self) -> list[dict[str, Any]]:
        """The constructor's parameters as data: name, type schema, required, default."""
        out = []
        for p in inspect.signature(self.obj, eval_str=True).parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                continue
            if p.kind is p.VAR_KEYWORD:
                out.append({"name": p.name, "type": dict(schema.ANY), "required": False, "var_keyword": True})
                continue
            item: dict[str, Any] = {"name": p.name, "type": schema.from_annotation(p.annotation)}
            item["required"] = p.default is p.empty
            if not item["required"]:
                try:
                    item["default"] = _jsonable(p.default)
                except TypeError as e:
                    raise InvalidKeyError(f"{self.key}: default of {p.name!r}: {e}") from None
            out.append(item)
        return out

    def info(self) -> dict[str, Any]:
        """The manifest record of this entry."""
        c = self.contract
        return {
            "target": self.target,
            "summary": self.summary,
            "tags": list(self.tags),
            "params": self.params(),
            "inputs": dict(c.inputs),
            "outputs": list(c.outputs) if isinstance(c.outputs, tuple) else c.outputs,
            "dtypes": dict(c.dtypes),
            "example": _jsonable(self.example),
            "example_dims": dict(self.example_dims),
            "source": self.source(),
            "deprecated": self.deprecated,
            "dynamic_contract": self.contract_fn is not None,
        }


@dataclass
class BlockInfo:
    """What `describe` returns: everything about one key, read from the manifest."""

    key: str
    summary: str
    signature: str
    params: list[dict[str, Any]]
    inputs: dict[str, str]
    outputs: Any
    dtypes: dict[str, str]
    versions: list[str]
    source: str
    tags: list[str]
    deprecated: str | None
    example: dict[str, Any]
    target: str
    dynamic_contract: bool = False

    def outputs_text(self, wrap: str) -> str:
        """The output spec(s) as text, each spec formatted with `wrap` (e.g. "[{}]")."""
        outs = self.outputs
        if isinstance(outs, dict):
            return ", ".join(f"{k}: {wrap.format(v)}" for k, v in outs.items())
        if isinstance(outs, list):
            return ", ".join(wrap.format(v) for v in outs)
        return wrap.format(outs)

    def __str__(self) -> str:
        lines = [f"{self.key}  {self.summary}", f"  signature: {self.signature}", "  inputs:"]
        for name, spec in self.inputs.items():
            dtype = self.dtypes.get(name, "float")
            lines.append(f"    {name}: {dtype}[{spec}]")
        outs = self.outputs_text("[{}]")
        note = "  (depends on arguments; see the docstring)" if self.dynamic_contract else ""
        lines += [f"  output: {outs}{note}", f"  versions: {', '.join(self.versions)}"]
        lines.append(f"  tags: {', '.join(self.tags) or '-'}")
        lines += [f"  source: {self.source}", f"  target: {self.target}"]
        if self.example:
            lines.append(f"  example: {self.example}")
        if self.deprecated:
            lines.append(f"  DEPRECATED: {self.deprecated}")
        return "\n".join(lines)


def format_signature(params: list[dict[str, Any]]) -> str:
    parts = []
    for p in params:
        if p.get("var_keyword"):
            parts.append(f"**{p['name']}")
            continue
        text = f"{p['name']}: {schema.render(p['type'])}"
        if not p["required"]:
            text += f" = {p['default']!r}"
        parts.append(text)
    return f"({', '.join(parts)})"


class Registry:
    """Keys to blocks. `manifest` describes entries whose modules are not imported yet; `plugins` names
    an entry-point group of other packages' block modules (see `labblocks.plugins`)."""

    def __init__(
        self,
        manifest: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        plugins: str | None = None,
    ):
        self._manifest_src = manifest
        self._manifest: dict[str, Any] | None = None
        self._live: dict[str, Entry] = {}
        self._cache: dict[str, dict[str, Any]] | None = None
        self._plugin_group = plugins
        self._plugins: dict[str, Any] | None = None  # namespace -> labblocks.plugins.Plugin
        self._plugin_records: dict[str, dict[str, Any]] | None = None
        self._plugins_imported: set[str] = set()

    # -- plugins -----------------------------------------------------------------------------------

    @property
    def plugins(self) -> dict[str, Any]:
        """Installed plugins by namespace (found once, from entry points; nothing is imported)."""
        if self._plugins is None:
            from labblocks.plugins import discover

            self._plugins = discover(self._plugin_group) if self._plugin_group else {}
        return self._plugins

    def _static_plugin_records(self) -> dict[str, dict[str, Any]]:
        if self._plugin_records is None:
            from labblocks.plugins import static_records

            records: dict[str, dict[str, Any]] = {}
            for plugin in self.plugins.values():
                try:
                    records.update(static_records(plugin))
                except (OSError, SyntaxError, LookupError, ValueError) as e:
                    warnings.warn(
                        f"labblocks: cannot read the blocks of {plugin.describe()} from source "
                        f"({type(e).__name__}: {e}); they are listed once the module is imported",
                        stacklevel=3,
                    )
            self._plugin_records = records
        return self._plugin_records

    def import_plugin(self, namespace: str) -> bool:
        """Import the plugin module of `namespace` (once); False if no plugin provides it."""
        plugin = self.plugins.get(namespace)
        if plugin is None or namespace in self._plugins_imported:
            return False
        self._plugins_imported.add(namespace)
        try:
            importlib.import_module(plugin.module)
        except Exception as e:
            raise BlockImportError(
                f"namespace '{namespace}': importing {plugin.module} ({plugin.describe()}) failed: "
                f"{type(e).__name__}: {e}"
            ) from e
        self._cache = None
        return True

    # -- catalog -----------------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            src = self._manifest_src
            self._manifest = (src() if callable(src) else src) or {"entries": {}, "removed": {}}
        return self._manifest

    def live_entries(self) -> dict[str, Entry]:
        return dict(self._live)

    def _records(self) -> dict[str, dict[str, Any]]:
        """Every known key's record: the manifest's, plus live entries that it does not list, plus keys of
        plugins not imported yet (read from their source)."""
        if self._cache is None:
            manifest = self.manifest.get("entries", {})
            records = {k: r for k, r in self._static_plugin_records().items() if k not in manifest}
            for k, e in self._live.items():
                if k not in manifest:
                    records[k] = e.info()
            records.update(manifest)
            self._cache = records
        return self._cache

    def _exact_record(self, key: Key) -> dict[str, Any]:
        """The key's record, importing its plugin first when the record was only read from source."""
        rec = self._record(key)
        if rec.get("static") and self.import_plugin(rec["static"]) and str(key) in self._live:
            return self._record(key)
        return rec

    def _removed(self) -> dict[str, str]:
        return self.manifest.get("removed", {})

    def versions(self, base: str) -> list[int]:
        """All versions of `namespace/name` that exist (deprecated included, removed excluded)."""
        return sorted(parse_key(k).version for k in self._records() if k.rsplit("@", 1)[0] == base)

    # -- resolution --------------------------------------------------------------------------------

    def resolve(self, key: str | Key, where: str = "", strict: bool = False) -> Key:
        """The pinned key that `key` names: its own version, or the latest one when it has none."""
        k = parse_key(key, where)
        loc = f" (at {where})" if where else ""
        if str(k) in self._removed():
            raise RemovedKeyError(f"{k}{loc} was removed. To migrate: {self._removed()[str(k)]}")
        if k.pinned and str(k) in self.manifest.get("entries", {}):
            return k  # labblocks' own keys: no need to look for plugins
        known = str(k) in self._records() if k.pinned else bool(self.versions(k.base))
        if not known and self.import_plugin(k.namespace):  # a plugin whose source could not be read
            return self.resolve(k, where, strict)
        if not k.pinned:
            if strict:
                latest = self.versions(k.base)
                hint = f"; pin it, e.g. '{k.at(latest[-1])}'" if latest else ""
                raise UnpinnedKeyError(f"{k}{loc}: strict mode needs a pinned key (namespace/name@vN){hint}")
            found = self.versions(k.base)
            if not found:
                raise self._unknown(k, loc)
            return k.at(found[-1])
        if str(k) not in self._records():
            raise self._unknown(k, loc)
        return k

    def _unknown(self, k: Key, loc: str) -> UnknownKeyError:
        records = self._records()
        bases = sorted({r.rsplit("@", 1)[0] for r in [*records, *self._removed()]})
        lines = [f"unknown block key '{k}'{loc}."]
        versions = self.versions(k.base)
        if versions:
            listed = ", ".join(f"v{v}" for v in versions)
            lines.append(f"  '{k.base}' has versions: {listed} (latest v{versions[-1]})")
        else:
            same_ns = [b for b in bases if b.startswith(k.namespace + "/")]
            close = difflib.get_close_matches(k.base, same_ns, n=3, cutoff=0.7)
            close += [c for c in difflib.get_close_matches(k.base, bases, n=3, cutoff=0.6) if c not in close]
            if close:
                hint = ", ".join(f"{c}@v{self.versions(c)[-1]}" if self.versions(c) else c for c in close)
                lines.append(f"  did you mean: {hint}")
            if same_ns:
                lines.append(f"  in namespace '{k.namespace}': {', '.join(same_ns)}")
            else:
                namespaces = sorted({b.split("/")[0] for b in bases})
                listed = ", ".join(namespaces)
                lines.append(f"  namespace '{k.namespace}' does not exist; namespaces: {listed}")
        lines.append("  (`labblocks list` shows every key)")
        return UnknownKeyError("\n".join(lines))

    def _record(self, key: Key) -> dict[str, Any]:
        entries = self.manifest.get("entries", {})  # labblocks' own keys: no need to look for plugins
        return entries[str(key)] if str(key) in entries else self._records()[str(key)]

    def entry(self, key: str | Key, where: str = "") -> Entry:
        """The live entry for `key`, importing the module that defines it if needed."""
        k = self.resolve(key, where)
        if str(k) not in self._live:
            self._exact_record(k)
        if str(k) not in self._live:
            target = self._record(k)["target"]
            module = target.split(":")[0]
            try:
                importlib.import_module(module)
            except ImportError as e:
                extra = {"timm": "timm", "transformers": "hf"}.get(getattr(e, "name", "") or "")
                hint = f" Install it with: pip install 'labblocks[{extra}]'." if extra else ""
                raise BlockImportError(
                    f"{k}: its module {module} failed to import: {type(e).__name__}: {e}.{hint}"
                ) from e
            if str(k) not in self._live:
                raise LabblocksError(
                    f"{k}: the manifest says {target}, but importing {module} did not register it; "
                    "the manifest is stale (run `labblocks manifest --write`)"
                )
        return self._live[str(k)]

    # -- registration ------------------------------------------------------------------------------

    def register(
        self,
        key: str,
        *,
        summary: str,
        inputs: dict[str, str],
        outputs: OutputSpec,
        tags: Iterable[str] = (),
        dtypes: dict[str, str] | None = None,
        example: dict[str, Any] | None = None,
        example_dims: dict[str, int] | None = None,
        deprecated: str | None = None,
        contract: Callable[[Any, dict[str, Any]], Contract] | None = None,
        portable: PortableFn | None = None,
    ) -> Callable[[Any], Any]:
        """Decorator that registers a block class or factory under a pinned key.

        `inputs` maps forward argument names to shape specs; `outputs` is a spec, a tuple of specs or a
        dict of them. `example` holds small constructor arguments used by tests, the catalog and
        benchmarks. `contract(module, args)` computes the contract when it depends on the arguments.
        `portable(module, args) -> (args, init)` gives the arguments recorded in the metadata when some
        only load weights from a file (see `PortableFn`): a rebuild then needs nothing but the metadata.
        """
        k = parse_key(key)
        if not k.pinned:
            raise InvalidKeyError(f"register({key!r}): a registered key needs a version, e.g. '{k.at(1)}'")

        def decorator(obj: Any) -> Any:
            entry = Entry(
                key=k,
                obj=obj,
                summary=summary,
                contract=Contract(dict(inputs), tuple(outputs) if isinstance(outputs, list) else outputs,
                                  dict(dtypes or {})),
                tags=tuple(tags),
                example=dict(example or {}),
                example_dims=dict(example_dims or {}),
                deprecated=deprecated,
                contract_fn=contract,
                portable=portable,
            )
            old = self._live.get(str(k))
            if old is not None and _origin(old.obj) != _origin(obj):  # the same origin: a reload
                raise DuplicateKeyError(
                    f"{k} is already registered by {old.target} ({old.source()}); "
                    f"cannot register {entry.target} ({entry.source()}) under the same key. "
                    f"Use a new name or a new version, e.g. '{k.at(max(self.versions(k.base)) + 1)}'."
                )
            self._live[str(k)] = entry
            self._cache = None
            return obj

        return decorator

    # -- arguments ---------------------------------------------------------------------------------

    def params(self, key: Key) -> list[dict[str, Any]]:
        return self._exact_record(key)["params"]

    def validate(self, node: Any, path: str = "", strict: bool = False, supplied: Iterable[str] = ()) -> None:
        """Check a node (`{"block": key, **args}`) and its nested nodes without building anything.

        Every argument problem in the tree is reported in one BlockArgumentError. `supplied` names
        top-level arguments that the caller will pass at build time (e.g. `num_classes` from the data).
        """
        problems: list[str] = []
        plain = _to_plain(node)
        if _is_node(plain):
            plain = {**{name: _SUPPLIED for name in supplied}, **plain}
        top = self._check_node(plain, path, strict, problems)
        if problems:
            raise BlockArgumentError(str(top), problems)

    def _check_node(self, node: Any, path: str, strict: bool, problems: list[str]) -> Key:
        if not _is_node(node):
            where = path or "config"
            raise InvalidKeyError(f"{where}: expected a block node with a '{NODE_KEY}' key, got {node!r}")
        key = self.resolve(node[NODE_KEY], _join(path, NODE_KEY) if path else "", strict)
        params = self.params(key)
        by_name = {p["name"]: p for p in params if not p.get("var_keyword")}
        open_kwargs = any(p.get("var_keyword") for p in params)
        args = {k: v for k, v in node.items() if k != NODE_KEY}
        for name, value in args.items():
            where = _join(path, name)
            if name not in by_name:
                if open_kwargs:
                    continue
                if value is _SUPPLIED:
                    problems.append(
                        f"{where}: {key} has no argument '{name}', which the caller passes at build time"
                    )
                    continue
                close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                accepted = ", ".join(by_name)
                problems.append(f"{where}: unknown argument '{name}' for {key}{hint} (accepted: {accepted})")
                continue
            self._check_value(value, by_name[name]["type"], where, strict, problems)
        for p in by_name.values():
            if p["required"] and p["name"] not in args:
                where = _join(path, p["name"])
                problems.append(f"{where}: missing required argument ({schema.render(p['type'])})")
        return key

    def _check_value(
        self, value: Any, sch: dict[str, Any], where: str, strict: bool, problems: list[str]
    ) -> None:
        if _is_node(value):
            self._check_node(value, where, strict, problems)
            return
        if isinstance(value, list) and value and all(_is_node(v) for v in value):
            for i, v in enumerate(value):
                self._check_node(v, _join(where, i), strict, problems)
            return
        if value is _SUPPLIED:
            return
        problem = schema.check(value, sch)
        if problem:
            problems.append(f"{where}: {problem}")

    def _fill(self, node: dict[str, Any], strict: bool, path: str = "") -> dict[str, Any]:
        """The node with its key pinned and every default filled in, recursively."""
        key = self.resolve(node[NODE_KEY], _join(path, NODE_KEY) if path else "", strict)
        out: dict[str, Any] = {NODE_KEY: str(key)}
        given = {k: v for k, v in node.items() if k != NODE_KEY}
        for p in self.params(key):
            if p.get("var_keyword"):
                continue
            if p["name"] in given:
                out[p["name"]] = self._fill_value(given.pop(p["name"]), strict, _join(path, p["name"]))
            elif not p["required"]:
                out[p["name"]] = copy.deepcopy(p["default"])
        out.update({k: self._fill_value(v, strict, _join(path, k)) for k, v in given.items()})
        return out

    def _fill_value(self, value: Any, strict: bool, path: str) -> Any:
        if _is_node(value):
            return self._fill(value, strict, path)
        if isinstance(value, list):
            return [self._fill_value(v, strict, _join(path, i)) for i, v in enumerate(value)]
        return value

    def pin(self, config: Any, strict: bool = False) -> Any:
        """`config` with every block key pinned to a version and every default filled in.

        Works on dicts, lists and OmegaConf nodes (returned as the same kind), at any depth. In strict
        mode a key without `@vN` is refused instead of resolved to the latest version.
        """
        plain = _to_plain(config)

        def walk(value: Any, path: str) -> Any:
            if _is_node(value):
                self.validate(value, path, strict)
                filled = self._fill(value, strict, path)
                return {k: (v if k == NODE_KEY else walk(v, _join(path, k))) for k, v in filled.items()}
            if isinstance(value, dict):
                return {k: walk(v, _join(path, k)) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, _join(path, i)) for i, v in enumerate(value)]
            return value

        pinned = walk(plain, "")
        if type(config).__module__.startswith("omegaconf"):
            from omegaconf import OmegaConf

            return OmegaConf.create(pinned)
        return pinned

    # -- building ----------------------------------------------------------------------------------

    def build(
        self,
        spec: Any,
        /,
        *,
        path: str | None = None,
        strict: bool = False,
        allow_deprecated: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Build a block from a key and arguments, or from a node `{"block": key, **args}`.

        Nodes may be dicts or OmegaConf nodes (interpolations are resolved first); argument values that
        are nodes themselves are built first. All argument problems are reported at once, before any
        constructor runs. `path` names the node in error messages (taken from OmegaConf when omitted).
        """
        if path is None:
            path = _omegaconf_path(spec)
        node = {NODE_KEY: spec} if isinstance(spec, (str, Key)) else _to_plain(spec)
        if not isinstance(node, dict):
            raise InvalidKeyError(f"{path or 'build()'}: expected a key or a block node, got {spec!r}")
        node = {**node, **_to_plain(kwargs)}
        if isinstance(node.get(NODE_KEY), Key):
            node[NODE_KEY] = str(node[NODE_KEY])
        self.validate(node, path, strict)
        return self._build(self._fill(node, strict, path), path, allow_deprecated)

    def _build(self, node: dict[str, Any], path: str, allow_deprecated: bool) -> Any:
        from labblocks import __version__
        from labblocks.shapes import install_hooks, shape_check_mode

        entry = self.entry(node[NODE_KEY], _join(path, NODE_KEY) if path else "")
        if entry.deprecated:
            at = f" (at {path})" if path else ""
            msg = f"{entry.key}{at} is deprecated. To migrate: {entry.deprecated}"
            if not allow_deprecated:
                raise DeprecatedKeyError(msg + " (pass allow_deprecated=True to build it anyway)")
            warnings.warn(msg, FutureWarning, stacklevel=3)
        args = {k: v for k, v in node.items() if k != NODE_KEY}
        built = {k: self._build_value(v, _join(path, k), allow_deprecated) for k, v in args.items()}
        try:
            module = entry.obj(**built)
        except BlockArgumentError as e:
            if not path:
                raise
            raise BlockArgumentError(e.key, [_join(path, p) for p in e.problems]) from e
        except Exception as e:
            if hasattr(e, "add_note"):
                e.add_note(f"while building {entry.key}" + (f" at {path}" if path else ""))
            raise
        recorded, init = _recorded_args(args, built)
        if entry.portable is not None:
            recorded, own = entry.portable(module, recorded)
            init.update(own)
        meta: dict[str, Any] = {"key": str(entry.key), "args": recorded, "labblocks_version": __version__}
        if init:
            meta["init"] = init
        object.__setattr__(module, META_ATTR, meta)
        if shape_check_mode() == "hooks":
            install_hooks(module, self.contract(module))
        return module

    def _build_value(self, value: Any, path: str, allow_deprecated: bool) -> Any:
        if _is_node(value):
            return self._build(value, path, allow_deprecated)
        if isinstance(value, list) and value and all(_is_node(v) for v in value):
            return [self._build(v, _join(path, i), allow_deprecated) for i, v in enumerate(value)]
        return value

    def contract(self, module: Any) -> Any:
        """The bound shape contract of a module built by labblocks."""
        meta = metadata(module)
        entry = self.entry(meta["key"])
        c = entry.contract_fn(module, meta["args"]) if entry.contract_fn else entry.contract
        return c.bind(meta["key"], meta["args"])

    def rebuild(self, meta: Mapping[str, Any], *, path: str = "metadata") -> Any:
        """Recreate a module from the metadata a built module carries (see `metadata`)."""
        from labblocks import __version__

        if not isinstance(meta, Mapping) or not {"key", "args"} <= set(meta):
            raise LabblocksError(
                f"{path}: expected labblocks metadata {{'key', 'args', 'labblocks_version'}}, got {meta!r}"
            )
        try:
            key = self.resolve(meta["key"], f"{path}.key", strict=True)
        except UnknownKeyError as e:
            written = meta.get("labblocks_version", "?")
            note = f"(metadata written by labblocks {written}; installed {__version__})"
            raise UnknownKeyError(f"{e}\n  {note}") from None
        args = _to_plain(meta["args"])
        if "init" not in meta:  # written before 0.2: may name files that only loaded weights
            args = self._portable_old(key, args)
        node = {NODE_KEY: str(key), **args}
        self.validate(node, f"{path}.args", strict=True)
        return self._build(self._fill(node, True, path), path, allow_deprecated=True)

    def _portable_old(self, key: Key, args: dict[str, Any]) -> dict[str, Any]:
        """Arguments of metadata written before 0.2 (args as given, nested nodes too), made portable where
        the block can tell without being built (e.g. timm weights files are dropped)."""
        out = {k: self._portable_old_value(v) for k, v in args.items()}
        entry = self.entry(key)
        return entry.portable(None, out)[0] if entry.portable is not None else out

    def _portable_old_value(self, value: Any) -> Any:
        if _is_node(value):
            inner = {k: v for k, v in value.items() if k != NODE_KEY}
            return {NODE_KEY: value[NODE_KEY], **self._portable_old(self.resolve(value[NODE_KEY]), inner)}
        if isinstance(value, list):
            return [self._portable_old_value(v) for v in value]
        return value

    # -- catalog queries ---------------------------------------------------------------------------

    def list(self, pattern: str = "*", tags: Iterable[str] | None = None) -> list[str]:
        """Keys matching a wildcard pattern (on `namespace/name` or, with `@`, on the full key)."""
        want = set(tags or ())
        out = []
        for k, rec in sorted(self._records().items(), key=lambda kv: parse_key(kv[0])):
            subject = k if "@" in pattern else k.rsplit("@", 1)[0]
            if fnmatch.fnmatchcase(subject, pattern) and want <= set(rec.get("tags", ())):
                out.append(k)
        return out

    def describe(self, key: str | Key) -> BlockInfo:
        """Signature, shapes, versions, source and summary of a key, from the manifest."""
        k = self.resolve(key)
        rec = self._record(k)
        source = rec["source"]
        if not Path(source.rsplit(":", 1)[0]).is_absolute() and not source.startswith("<"):
            source = (PACKAGE_ROOT / source).as_posix()
        versions = []
        for v in self.versions(k.base):
            note = " (deprecated)" if self._record(k.at(v)).get("deprecated") else ""
            versions.append(f"v{v}{note}")
        gone = [r for r in self._removed() if r.rsplit("@", 1)[0] == k.base]
        versions += [f"{r.rsplit('@', 1)[1]} (removed)" for r in gone]
        return BlockInfo(
            key=str(k),
            summary=rec["summary"],
            signature=format_signature(rec["params"]),
            params=rec["params"],
            inputs=rec["inputs"],
            outputs=rec["outputs"],
            dtypes=rec.get("dtypes", {}),
            versions=versions,
            source=source,
            tags=rec.get("tags", []),
            deprecated=rec.get("deprecated"),
            example=rec.get("example", {}),
            target=rec["target"],
            dynamic_contract=rec.get("dynamic_contract", False),
        )


def _recorded_args(args: dict[str, Any], built: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arguments to record for a module: nested nodes replaced by their built modules' own recorded
    node (portable), and the `init` values those set aside, by argument name."""
    recorded: dict[str, Any] = {}
    init: dict[str, Any] = {}

    def one(value: Any, module: Any) -> tuple[Any, Any]:
        meta = getattr(module, META_ATTR, None)
        if _is_node(value) and meta is not None:
            return {NODE_KEY: meta["key"], **copy.deepcopy(meta["args"])}, meta.get("init")
        return copy.deepcopy(value), None

    for name, value in args.items():
        if isinstance(value, list) and value and all(_is_node(v) for v in value):
            pairs = [one(v, m) for v, m in zip(value, built[name], strict=True)]
            recorded[name] = [p[0] for p in pairs]
            if any(p[1] for p in pairs):
                init[name] = [p[1] or {} for p in pairs]
        else:
            recorded[name], sub = one(value, built[name])
            if sub:
                init[name] = sub
    return recorded, init


def _omegaconf_path(spec: Any) -> str:
    """The full key of an OmegaConf node inside its root config, e.g. `model.net`, else ''."""
    if not type(spec).__module__.startswith("omegaconf"):
        return ""
    try:
        return str(spec._get_full_key(None) or "")
    except Exception:  # private API; the path is only a nicety in messages
        return ""


def metadata(module: Any) -> dict[str, Any]:
    """What a built module carries: `{"key", "args", "labblocks_version"}` (a copy), plus `init` when some
    arguments only loaded weights from outside (a pretrained file or directory): `args` then rebuild the
    architecture alone, and `init` records the original values for people (`rebuild` ignores it)."""
    meta = getattr(module, META_ATTR, None)
    if meta is None:
        name = type(module).__name__
        raise LabblocksError(f"{name} was not built by labblocks.build, so it has no metadata")
    return copy.deepcopy(meta)


def _default_manifest() -> dict[str, Any]:
    from labblocks.manifest import load_manifest

    return load_manifest()


REGISTRY = Registry(_default_manifest, plugins="labblocks.blocks")
