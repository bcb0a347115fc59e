"""The labblocks version the template pins is the version of the registry/ package in this checkout."""

from __future__ import annotations

import ast

from _helpers import CONTEXT, REGISTRY, load_toml


def module_version() -> str:
    """`__version__` of labblocks, read from its source (importing it would import torch)."""
    tree = ast.parse((REGISTRY / "src" / "labblocks" / "_version.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("labblocks/_version.py assigns no __version__")


def test_template_pins_the_registry_version() -> None:
    project_version = load_toml(REGISTRY / "pyproject.toml")["project"]["version"]
    assert CONTEXT["labblocks_version"] == project_version
    assert module_version() == project_version
