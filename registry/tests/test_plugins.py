"""Blocks of an installed plugin (entry point group `labblocks.blocks`): listed and shown from source
without importing it (or torch), imported when a key is validated, built or rebuilt.

The plugin is a real distribution as pip leaves it: a package plus a `*.dist-info` folder with
`entry_points.txt`, on sys.path (or PYTHONPATH for the subprocess tests).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_cli import REPORT_HEAVY

import labblocks
from labblocks.registry.schema import from_source

BLOCKS = '''
"""plugpkg's blocks."""
from typing import Literal

from torch import nn

{registry_import}

@{register}(
    "plug/tiny@v1",
    summary="A linear layer with an activation.",
    inputs={{"x": "*b {{dim}}"}},
    outputs="*b {{out_dim}}",
    tags=("plugin", "mlp"),
)
class TinyLin(nn.Module):
    def __init__(self, dim: int, out_dim: int = 4, act: Literal["relu", "gelu"] = "relu", scale: float | None = None):
        super().__init__()
        self.fc = nn.Linear(dim, out_dim)

    def forward(self, x):
        return self.fc(x)

KEY = "plug/dynamic@v1"  # a key that is not a literal in the decorator: found only by importing

@{register}(KEY, summary="made at import", inputs={{}}, outputs=None)
def dynamic(width: int = 2):
    return nn.Linear(width, width)
'''


def make_plugin(
    root: Path, *, register: str, registry_import: str, name: str = "plugpkg", namespace: str = "plug",
    init: str = "import torch  # a heavy package: listing must not import it\n", blocks: str | None = None,
) -> Path:
    """A package `name` with `name/blocks.py`, and `<name>-0.1.0.dist-info` declaring the entry point."""
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(init)
    source = blocks if blocks is not None else BLOCKS.format(register=register, registry_import=registry_import)
    (pkg / "blocks.py").write_text(textwrap.dedent(source))
    info = root / f"{name}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[labblocks.blocks]\n{namespace} = {name}.blocks\n")
    importlib.invalidate_caches()
    return root


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """`plugin_site(**make_plugin_args)`: a folder on sys.path holding plugin distributions."""
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))

    def make(**kwargs: str) -> Path:
        kwargs.setdefault("register", "REG.register")
        kwargs.setdefault("registry_import", "from labblocks_test_registry import REG")
        return make_plugin(site, **kwargs)

    yield make
    for mod in [m for m in sys.modules if m.split(".")[0] in ("plugpkg", "otherpkg", "brokenpkg")]:
        del sys.modules[mod]


@pytest.fixture
def reg(registry: labblocks.Registry, monkeypatch: pytest.MonkeyPatch) -> labblocks.Registry:
    """A fresh registry that looks for plugins (temporary plugins register into it)."""
    fresh = labblocks.Registry(manifest={"entries": {}, "removed": {}}, plugins="labblocks.blocks")
    monkeypatch.setattr(sys.modules["labblocks_test_registry"], "REG", fresh)
    return fresh


def test_plugin_keys_are_listed_and_described_from_source(
    plugin_site: Callable[..., Path], reg: labblocks.Registry
) -> None:
    plugin_site()
    assert reg.list() == ["plug/tiny@v1"]  # the dynamic key is not visible in the source
    assert reg.list(tags=["plugin"]) == ["plug/tiny@v1"]
    info = reg.describe("plug/tiny")
    assert "plugpkg" not in sys.modules and "plugpkg.blocks" not in sys.modules  # nothing imported
    assert info.summary == "A linear layer with an activation." and info.inputs == {"x": "*b {dim}"}
    assert info.signature == (
        "(dim: int, out_dim: int = 4, act: Literal['relu', 'gelu'] = 'relu', scale: float | None = None)"
    )
    assert info.target == "plugpkg.blocks:TinyLin" and info.source.endswith("plugpkg/blocks.py:9")
    reg.build("plug/tiny@v1", dim=3)  # imported: the live record says the same
    assert reg.describe("plug/tiny@v1") == info


def test_validate_and_build_import_the_plugin(plugin_site: Callable[..., Path], reg: labblocks.Registry) -> None:
    plugin_site()
    with pytest.raises(labblocks.BlockArgumentError, match=r"model\.net\.act: expected Literal\['relu', 'gelu'\]"):
        reg.validate({"block": "plug/tiny@v1", "dim": 3, "act": "tanh"}, path="model.net")
    assert "plugpkg.blocks" in sys.modules  # validation uses the real signature
    net = reg.build("plug/tiny@v1", dim=3)
    assert net.fc.out_features == 4 and labblocks.metadata(net)["args"]["out_dim"] == 4
    assert reg.list() == ["plug/dynamic@v1", "plug/tiny@v1"]  # once imported, every registered key


def test_rebuild_in_a_fresh_process_imports_the_plugin(plugin_site: Callable[..., Path], reg: labblocks.Registry,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_site()
    meta = labblocks.metadata(reg.build("plug/dynamic@v1", width=5))  # not visible in source: import by namespace
    for mod in ("plugpkg", "plugpkg.blocks"):
        monkeypatch.delitem(sys.modules, mod)
    fresh = labblocks.Registry(manifest={"entries": {}, "removed": {}}, plugins="labblocks.blocks")
    monkeypatch.setattr(sys.modules["labblocks_test_registry"], "REG", fresh)
    assert fresh.rebuild(meta).in_features == 5


def test_unknown_key_in_a_plugin_namespace(plugin_site: Callable[..., Path], reg: labblocks.Registry) -> None:
    plugin_site()
    with pytest.raises(labblocks.UnknownKeyError, match=r"did you mean: plug/tiny@v1"):
        reg.build("plug/tiny_cnn@v1")


def test_a_plugin_that_fails_to_import(plugin_site: Callable[..., Path], reg: labblocks.Registry) -> None:
    plugin_site(name="brokenpkg", namespace="broken", init="",
                blocks="import a_dependency_that_is_not_installed\n")
    with pytest.raises(labblocks.BlockImportError) as info:
        reg.build("broken/anything@v1")
    message = str(info.value)
    assert "namespace 'broken': importing brokenpkg.blocks (entry point broken = 'brokenpkg.blocks' of " in message
    assert "brokenpkg (group 'labblocks.blocks')) failed: ModuleNotFoundError: No module named" in message


def test_reserved_and_claimed_namespaces_are_ignored(plugin_site: Callable[..., Path], reg: labblocks.Registry) -> None:
    plugin_site()
    plugin_site(name="otherpkg", namespace="plug")
    plugin_site(name="corepkg", namespace="core")
    with pytest.warns(UserWarning) as caught:
        found = reg.sources.plugins
    assert sorted(found) == ["plug"] and found["plug"].module in ("plugpkg.blocks", "otherpkg.blocks")
    messages = " | ".join(str(w.message) for w in caught)
    assert "'core' is one of labblocks' own namespaces" in messages
    assert "namespace 'plug' is already provided by entry point plug = " in messages


def test_annotation_schemas_from_source() -> None:
    import ast

    def schema(text: str) -> dict:
        return from_source(ast.parse(text, mode="eval").body)

    assert schema("tuple[int, ...]") == {"type": "list", "item": {"type": "int"}, "tuple": True}
    assert schema("Optional[str]") == {"type": "union", "of": [{"type": "str"}, {"type": "none"}]}
    assert schema("dict[str, float]") == {"type": "dict", "value": {"type": "float"}}
    assert schema("nn.Module") == {"type": "block"}
    assert schema("'int'") == {"type": "int"}
    assert schema("Callable[[int], int]")["type"] == "any"


# -- the command and the global registry, in fresh processes ------------------------------------------------


def _run(site: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.multisecond
def test_labblocks_list_and_show_a_plugin_without_importing_torch(tmp_path: Path) -> None:
    site = make_plugin(tmp_path / "site", register="labblocks.register", registry_import="import labblocks")
    code = textwrap.dedent("""
        import contextlib, io, json
        from labblocks.tools.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["list", "plug/*"]) == 0
            assert main(["show", "plug/tiny@v1", "--json"]) == 0
        print(json.dumps(out.getvalue()))
    """)
    result = _run(site, code + REPORT_HEAVY)
    assert result.returncode == 0, result.stderr
    printed, heavy = (json.loads(line) for line in result.stdout.splitlines()[-2:])
    assert heavy == []  # neither torch nor the plugin package (which imports torch) was imported
    assert printed.splitlines()[0] == "plug/tiny@v1  A linear layer with an activation."
    shown = json.loads(printed.split("\n", 1)[1])
    assert shown["target"] == "plugpkg.blocks:TinyLin" and shown["tags"] == ["plugin", "mlp"]
    built = _run(site, textwrap.dedent("""
        import labblocks
        net = labblocks.build({"block": "plug/tiny@v1", "dim": 3})
        again = labblocks.rebuild(labblocks.metadata(net))
        print(type(again).__name__, again.fc.out_features, labblocks.describe("plug/dynamic").key)
    """))
    assert built.returncode == 0, built.stderr
    assert built.stdout.split() == ["TinyLin", "4", "plug/dynamic@v1"]


def test_entry_point_scan_agrees_with_importlib_metadata(plugin_site: Callable[..., Path]) -> None:
    import importlib.metadata

    from labblocks.registry.plugins import entry_points

    plugin_site()
    for group in ("labblocks.blocks", "console_scripts"):
        found = importlib.metadata.entry_points(group=group)
        norm = lambda dist: dist.replace("-", "_").lower()  # noqa: E731  (folder names hold normalised names)
        assert sorted((n, v, norm(d)) for n, v, d in entry_points(group)) == sorted(
            (e.name, e.value, norm(e.dist.name) if e.dist else "?") for e in found
        )
