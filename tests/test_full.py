"""Full bakes: bake with the real CLI, install with the generated project's own command (`uv sync`), run its
test suite. Minutes; labblocks comes from this checkout (labblocks_source=path)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from _helpers import (
    CONTEXT,
    DEFAULT_SLUG,
    PATH_SOURCE,
    choices,
    cli_args,
    find_uv,
    load_toml,
    pytest_summary,
    run,
    run_cli,
    task_marks,
)

pytestmark = pytest.mark.slow

DEFAULT_LOGGER = choices("logger")[0]


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


def uv_env() -> dict[str, str]:
    """The environment for uv and the baked project: the caller's (UV_CACHE_DIR included), minus whatever would
    point uv at another environment or interpreter; W&B disabled."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "PYTHONPATH", "CONDA_PREFIX",
                        "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # `make test` here runs a make of its own
    env["WANDB_MODE"] = "disabled"
    return env


def bake_and_commit(out: Path, **answers: object) -> Path:
    """Bake with the real CLI, then make the project a git repository with one commit (train records it)."""
    proc = run_cli(out, *cli_args({**PATH_SOURCE, **answers}), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    git = ["git", "-c", "user.name=Template Tests", "-c", "user.email=tests@example.org",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    run([*git, "init", "-q"], cwd=project)
    run([*git, "add", "-A"], cwd=project)
    run([*git, "commit", "-q", "-m", "baked"], cwd=project)
    return project


@pytest.fixture(scope="module")
def default_install(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Installed:
    """The default bake, installed once with `uv sync` into its own .venv."""
    project = bake_and_commit(tmp_path_factory.mktemp("full-default"))
    env = uv_env()
    start = time.perf_counter()
    run([find_uv(), "sync"], cwd=project, env=env)
    announce(request, f"\n[test_full] default bake: uv sync took {time.perf_counter() - start:.0f} s")
    python = project / ".venv" / "bin" / "python"
    assert python.is_file()
    return Installed(project, python, env)


def test_default_bake_passes_its_own_test_suite(default_install: Installed, request: pytest.FixtureRequest) -> None:
    project = default_install.project
    assert load_toml(project / "pyproject.toml")["project"]["name"] == DEFAULT_SLUG
    assert CONTEXT["logger"][0] == DEFAULT_LOGGER
    start = time.perf_counter()
    proc = run(["make", "test", f"UV={find_uv()}"], cwd=project, env=default_install.env)  # as its README says
    announce(request, f"[test_full] default bake: make test took {time.perf_counter() - start:.0f} s")
    summary = pytest_summary(proc.stdout)
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


def install_next_to_default(default_install: Installed, project: Path) -> float:
    """Install a bake into the default bake's environment (faster than its own `uv sync`: torch and the rest
    are already there); returns the seconds it took. Bakes get distinct names, so packages do not collide."""
    start = time.perf_counter()
    run([find_uv(), "pip", "install", "--python", default_install.python, "-e", project],
        cwd=project, env=default_install.env)
    return time.perf_counter() - start


@pytest.mark.parametrize("logger", [lg for lg in choices("logger") if lg != DEFAULT_LOGGER])
def test_other_logger_trains_end_to_end(
    default_install: Installed, tmp_path: Path, request: pytest.FixtureRequest, logger: str
) -> None:
    """Each other logger, installed next to the default bake, runs its end-to-end train test."""
    project = bake_and_commit(tmp_path / "out", project_name=f"Digits Lab {logger}", logger=logger)
    module = project.name.replace("-", "_")
    install = install_next_to_default(default_install, project)
    code = f"import {module}.config as c; print(c.load_config().logger.kind.value)"
    check = run([default_install.python, "-c", code], cwd=project, env=default_install.env)
    assert check.stdout.strip() == logger
    start = time.perf_counter()
    proc = run([default_install.python, "-m", "pytest", "-q", "tests/test_train_e2e.py"], cwd=project,
               env=default_install.env)
    took = time.perf_counter() - start
    announce(request, f"[test_full] {logger} bake: uv pip install {install:.0f} s, e2e test {took:.0f} s")
    assert pytest_summary(proc.stdout).startswith("1 passed"), proc.stdout[-2000:]


@pytest.mark.parametrize(
    "task", [pytest.param(t, marks=task_marks(t)) for t in choices("task") if t != choices("task")[0]]
)
def test_other_task_passes_its_own_test_suite(
    default_install: Installed, tmp_path: Path, request: pytest.FixtureRequest, task: str
) -> None:
    """Each other task, installed next to the default bake (its extra dependencies added), passes its suite."""
    project = bake_and_commit(tmp_path / "out", project_name=f"{task.split('_')[0]} lab", task=task)
    install = install_next_to_default(default_install, project)
    start = time.perf_counter()
    proc = run([default_install.python, "-m", "pytest", "-q", "-n", "2"], cwd=project, env=default_install.env)
    took = time.perf_counter() - start
    announce(request, f"[test_full] {task} bake: uv pip install {install:.0f} s, pytest {took:.0f} s")
    summary = pytest_summary(proc.stdout)
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
