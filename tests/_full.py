"""Helpers of the full-bake tests (test_full*.py): bake with the CLI, install with the project's own
`make install`, install more bakes into that environment, print timings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from _helpers import cli_args, find_uv, git_init_commit, load_toml, output, run, run_cli, uv_env
from packaging.requirements import Requirement


@dataclass
class Installed:
    project: Path
    python: Path
    env: dict[str, str]


def announce(request: pytest.FixtureRequest, message: str) -> None:
    """Print a line to the terminal even while pytest captures output (timings are worth seeing on success)."""
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(message)
        return
    with capture.global_and_fixture_disabled():
        print(message, flush=True)


def bake_and_commit(out: Path, template: str, **answers: object) -> Path:
    """Bake with the real CLI, then make the project a git repository with one commit (train records it)."""
    proc = run_cli(out, *cli_args(answers), template=template, timeout=300)
    assert proc.returncode == 0, output(proc)[-3000:]
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    git_init_commit(project)
    return project


def make_install(project: Path, request: pytest.FixtureRequest, label: str) -> Installed:
    """Install a bake as its README says (`make install`: uv sync into its own .venv)."""
    env = uv_env()
    start = time.perf_counter()
    run(["make", "install", f"UV={find_uv()}"], cwd=project, env=env)
    announce(request, f"\n[{label}] make install (uv sync) took {time.perf_counter() - start:.0f} s")
    python = project / ".venv" / "bin" / "python"
    assert python.is_file()
    return Installed(project, python, env)


def labblocks_requirement(project: Path) -> Requirement:
    deps = [Requirement(d) for d in load_toml(project / "pyproject.toml")["project"]["dependencies"]]
    (labblocks,) = [d for d in deps if d.name == "labblocks"]
    return labblocks


def install_next_to(installed: Installed, project: Path, *options: str) -> float:
    """Install a bake into another bake's environment (faster than its own `uv sync`: torch and the rest
    are already there, labblocks from the same pin); returns the seconds it took. Bakes get distinct names, so
    packages do not collide."""
    start = time.perf_counter()
    run([find_uv(), "pip", "install", "--python", installed.python, *options, "-e", project],
        cwd=project, env=installed.env)
    return time.perf_counter() - start
