"""Shared fixtures for the labblocks tests: an isolated registry, temporary modules, the CLI, shape mode."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import labblocks
from labblocks import shapes

REGISTRY_DIR = Path(__file__).resolve().parent.parent  # registry/
TEST_REGISTRY_MODULE = "labblocks_test_registry"  # temp modules register into `<this>.REG`


@pytest.fixture(autouse=True)
def _shape_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with shape checking unset (so `off`) and no env override; restored afterwards."""
    monkeypatch.delenv("LABBLOCKS_SHAPE_CHECK", raising=False)
    monkeypatch.setattr(shapes, "_mode", None)
    yield


@pytest.fixture
def hooks_on() -> None:
    """Blocks built in this test get shape-checking hooks."""
    labblocks.set_shape_check("hooks")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> labblocks.Registry:
    """A fresh, empty registry with one removed key (`t/gone@v1`).

    Temporary modules register into it through `labblocks_test_registry.REG`.
    """
    reg = labblocks.Registry(
        manifest={"entries": {}, "removed": {"t/gone@v1": "use t/net@v2 and rename width to dim"}}
    )
    holder = types.ModuleType(TEST_REGISTRY_MODULE)
    holder.REG = reg  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, TEST_REGISTRY_MODULE, holder)
    return reg


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`make_module(name, source, load=True)`: write `name.py` into a folder on sys.path, then import it."""
    folder = tmp_path / "modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    names: list[str] = []

    def make(name: str, source: str, load: bool = True) -> types.ModuleType | Path:
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        importlib.invalidate_caches()
        return importlib.import_module(name) if load else path

    yield make
    for name in names:
        sys.modules.pop(name, None)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run `labblocks ARGS...` as a real subprocess of this interpreter."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "labblocks", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=REGISTRY_DIR,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """`cli(*args)`: run the labblocks command in a subprocess; returns the CompletedProcess."""
    return run_cli


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "multisecond: takes seconds, not milliseconds (real processes, W&B runs, Trainer fits)"
    )
