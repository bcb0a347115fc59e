"""`Registry`: versioned keys to block classes or factories, and `REGISTRY`, the one labblocks uses.

It ties the parts together: `sources` (where records come from), `nodes` (the walk that checks and fills a
config node), `build` (modules and their metadata). A key's module is imported only when the key is built;
listing, describing, validating and pinning read records. Nothing here imports torch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from labblocks._version import __version__
from labblocks.errors import InvalidKeyError, LabblocksError, RemovedKeyError, UnknownKeyError, UnpinnedKeyError
from labblocks.registry.build import bound_contract, construct, portable_old
from labblocks.registry.containers import like, plain
from labblocks.registry.info import BlockInfo
from labblocks.registry.keys import Key, base_of, matches, parse_key
from labblocks.registry.nodes import NODE_KEY, to_plain, walk_node, walk_tree
from labblocks.registry.records import PACKAGE_ROOT, ContractFn, Param, PortableFn, Registration
from labblocks.registry.sources import ManifestSource, Sources, load_manifest
from labblocks.shapes import BoundContract, Contract, OutputSpec


class Registry:
    """Keys to blocks. `manifest` describes keys whose modules are not imported yet; `plugins` names an
    entry-point group of other packages' block modules (see `labblocks.registry.plugins`)."""

    def __init__(self, manifest: ManifestSource = None, plugins: str | None = None) -> None:
        self.sources = Sources(manifest, plugins)

    # -- registering and resolving -------------------------------------------------------------------

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
        contract: ContractFn | None = None,
        portable: PortableFn | None = None,
    ) -> Any:
        """Decorator that registers a block class or factory under a pinned key.

        `inputs` maps forward argument names to shape specs; `outputs` is a spec, a tuple of specs or a dict
        of them. `example` holds small constructor arguments used by tests, the catalog and benchmarks.
        `contract(module, args)` computes the contract when it depends on the arguments. `portable(module,
        args) -> (args, init)` gives the arguments recorded in the metadata when some only load weights from
        a file (see `records.PortableFn`): a rebuild then needs nothing but the metadata.
        """
        k = parse_key(key)
        if not k.pinned:
            raise InvalidKeyError(f"register({key!r}): a registered key needs a version, e.g. '{k.at(1)}'")
        spec = Contract(dict(inputs), tuple(outputs) if isinstance(outputs, list) else outputs, dict(dtypes or {}))

        def decorator(obj: Any) -> Any:
            self.sources.add(Registration(
                key=k, obj=obj, summary=summary, contract=spec, tags=tuple(tags), example=dict(example or {}),
                example_dims=dict(example_dims or {}), deprecated=deprecated, contract_fn=contract,
                portable=portable,
            ))
            return obj

        return decorator

    def resolve(self, key: str | Key, where: str = "", strict: bool = False) -> Key:
        """The pinned key that `key` names: its own version, or the latest one when it has none."""
        k = parse_key(key, where)
        loc = f" (at {where})" if where else ""
        src = self.sources
        if str(k) in src.removed:
            raise RemovedKeyError(f"{k}{loc} was removed. To migrate: {src.removed[str(k)]}")
        if k.pinned and str(k) in src.packaged():
            return k  # labblocks' own keys: no need to look for plugins
        known = src.record(k) is not None if k.pinned else bool(src.versions(k.base))
        if not known and src.import_plugin(k.namespace):  # a plugin whose source could not be read
            return self.resolve(k, where, strict)
        if k.pinned:
            if src.record(k) is None:
                raise self._unknown(k, loc)
            return k
        found = src.versions(k.base)
        if strict:
            hint = f"; pin it, e.g. '{k.at(found[-1])}'" if found else ""
            raise UnpinnedKeyError(f"{k}{loc}: strict mode needs a pinned key (namespace/name@vN){hint}")
        if not found:
            raise self._unknown(k, loc)
        return k.at(found[-1])

    def _unknown(self, k: Key, loc: str) -> UnknownKeyError:
        src = self.sources
        bases = sorted({base_of(r) for r in [*src.records(), *src.removed]})
        lines = [f"unknown block key '{k}'{loc}."]
        versions = src.versions(k.base)
        if versions:
            listed = ", ".join(f"v{v}" for v in versions)
            lines.append(f"  '{k.base}' has versions: {listed} (latest v{versions[-1]})")
        else:
            same_ns = [b for b in bases if b.startswith(k.namespace + "/")]
            close = difflib.get_close_matches(k.base, same_ns, n=3, cutoff=0.7)
            close += [c for c in difflib.get_close_matches(k.base, bases, n=3, cutoff=0.6) if c not in close]
            if close:
                lines.append("  did you mean: " + ", ".join(
                    f"{c}@v{src.versions(c)[-1]}" if src.versions(c) else c for c in close))
            if same_ns:
                lines.append(f"  in namespace '{k.namespace}': {', '.join(same_ns)}")
            else:
                namespaces = ", ".join(sorted({b.split("/")[0] for b in bases}))
                lines.append(f"  namespace '{k.namespace}' does not exist; namespaces: {namespaces}")
        lines.append("  (`labblocks list` shows every key)")
        return UnknownKeyError("\n".join(lines))

    def params(self, key: Key) -> tuple[Param, ...]:
        return self.sources.exact(key).params

    # -- catalog queries ---------------------------------------------------------------------------------

    def list(self, pattern: str = "*", tags: Iterable[str] | None = None) -> list[str]:
        """Keys matching a wildcard pattern (on `namespace/name` or, with `@`, on the full key) and all `tags`."""
        want = set(tags or ())
        records = self.sources.records()
        return [k for k in sorted(records, key=parse_key) if matches(k, pattern) and want <= set(records[k].tags)]

    def describe(self, key: str | Key) -> BlockInfo:
        """Signature, shapes, versions, source and summary of a key, from its record."""
        k = self.resolve(key)
        rec = self.sources.record(k)
        assert rec is not None, k  # resolved
        source = rec.source
        if not Path(source.rsplit(":", 1)[0]).is_absolute() and not source.startswith("<"):
            source = (PACKAGE_ROOT / source).as_posix()
        versions = []
        for v in self.sources.versions(k.base):
            other = self.sources.record(k.at(v))
            versions.append(f"v{v}" + (" (deprecated)" if other and other.deprecated else ""))
        versions += [f"{r.rsplit('@', 1)[1]} (removed)" for r in self.sources.removed if base_of(r) == k.base]
        return BlockInfo(
            key=str(k), summary=rec.summary, signature=rec.signature, params=[p.to_json() for p in rec.params],
            inputs=dict(rec.inputs), outputs=rec.outputs, dtypes=dict(rec.dtypes), versions=versions, source=source,
            tags=list(rec.tags), deprecated=rec.deprecated, example=dict(rec.example), target=rec.target,
            dynamic_contract=rec.dynamic_contract,
        )

    # -- nodes ---------------------------------------------------------------------------------------

    def validate(self, node: Any, path: str = "", strict: bool = False, supplied: Iterable[str] = ()) -> None:
        """Check a node (`{"block": key, **args}`) and its nested nodes without building anything.

        Every argument problem in the tree is reported in one BlockArgumentError, each with its config path.
        `supplied` names top-level arguments the caller passes at build time (e.g. `num_classes` from the data).
        """
        walk_node(plain(node), self, path, strict, supplied)

    def pin(self, config: Any, strict: bool = False) -> Any:
        """`config` with every block key pinned to a version and every default filled in.

        Works on dicts, lists and OmegaConf nodes (returned as the same kind), at any depth. In strict mode a
        key without `@vN` is refused instead of resolved to the latest version.
        """
        walked = walk_tree(plain(config), self, "", strict)
        return like(config, to_plain(walked))

    def build(
        self, spec: Any, /, *, path: str = "", strict: bool = False, allow_deprecated: bool = False, **kwargs: Any
    ) -> Any:
        """Build a block from a key and arguments, or from a node `{"block": key, **args}`.

        Nodes may be dicts or OmegaConf nodes (interpolations are resolved first); argument values that are
        nodes themselves are built first. All argument problems are reported at once, before any constructor
        runs; `path` (e.g. `model.net`) names the node in error messages.
        """
        node = {NODE_KEY: str(spec)} if isinstance(spec, (str, Key)) else plain(spec)
        if not isinstance(node, dict):
            raise InvalidKeyError(f"{path or 'build()'}: expected a key or a block node, got {spec!r}")
        node = {**node, **plain(kwargs)}
        if isinstance(node.get(NODE_KEY), Key):
            node[NODE_KEY] = str(node[NODE_KEY])
        return construct(walk_node(node, self, path, strict), self.sources.registration, allow_deprecated)

    def rebuild(self, meta: Mapping[str, Any], *, path: str = "metadata") -> Any:
        """Recreate a module from the metadata a built module carries (see `labblocks.metadata`)."""
        if not isinstance(meta, Mapping) or not {"key", "args"} <= set(meta):
            expected = "{'key', 'args', 'labblocks_version'}"
            raise LabblocksError(f"{path}: expected labblocks metadata {expected}, got {meta!r}")
        try:
            key = self.resolve(meta["key"], f"{path}.key", strict=True)
        except UnknownKeyError as e:
            note = f"(metadata written by labblocks {meta.get('labblocks_version', '?')}; installed {__version__})"
            raise UnknownKeyError(f"{e}\n  {note}") from None
        node = walk_node({NODE_KEY: str(key), **plain(meta["args"])}, self, f"{path}.args", strict=True)
        node.path = path
        if "init" not in meta:  # written before 0.2: may name files that only loaded weights
            node = portable_old(node, self.sources.registration)
        return construct(node, self.sources.registration, allow_deprecated=True)

    def contract(self, module: Any) -> BoundContract:
        """The bound shape contract of a module built by labblocks."""
        return bound_contract(module, self.sources.registration)


REGISTRY = Registry(load_manifest, plugins="labblocks.blocks")
