"""Full bakes of the other answers: the text task, installed by its own `make install` and tested by its own
`make test`, and the other loggers, installed next to it (`uv pip install -e`, which adds the image task's
packages) and trained end to end. A separate file from test_full.py, so that two pytest-xdist workers
(`--dist loadfile`) share the long bakes. Minutes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _full import Installed, announce, bake_and_commit, install_next_to, make_install
from _helpers import choices, clone_checkout, find_uv, pytest_summary, run, task_marks

pytestmark = pytest.mark.slow

DEFAULT_LOGGER = choices("logger")[0]
OTHER_TASK = choices("task")[1]


@pytest.fixture(scope="module")
def template_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_checkout(tmp_path_factory.mktemp("template") / "research-template")


@pytest.fixture(scope="module")
def other_task_install(template_clone: Path, tmp_path_factory: pytest.TempPathFactory,
                       request: pytest.FixtureRequest) -> Installed:
    """The other task's bake from `git+file://<clone>`, installed by its `make install`."""
    project = bake_and_commit(tmp_path_factory.mktemp("full-task"), f"git+{template_clone.as_uri()}",
                              project_name=f"{OTHER_TASK.split('_')[0]} lab", task=OTHER_TASK)
    return make_install(project, request, f"test_full_variants: {OTHER_TASK} bake")


@pytest.mark.parametrize("task", [pytest.param(OTHER_TASK, marks=task_marks(OTHER_TASK))])
def test_other_task_passes_its_own_test_suite(
    other_task_install: Installed, request: pytest.FixtureRequest, task: str
) -> None:
    start = time.perf_counter()
    # The everyday suite (`make test`): the slow multi-process tests run the same runner code in the default bake.
    proc = run(["make", "test", f"UV={find_uv()}"], cwd=other_task_install.project, env=other_task_install.env)
    announce(request, f"[test_full_variants] {task} bake: make test took {time.perf_counter() - start:.0f} s")
    summary = pytest_summary(proc.stdout)
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


@pytest.mark.parametrize("logger", [lg for lg in choices("logger") if lg != DEFAULT_LOGGER])
def test_other_logger_trains_end_to_end(
    other_task_install: Installed, template_clone: Path, tmp_path: Path, request: pytest.FixtureRequest, logger: str
) -> None:
    """Each other logger (an image-task bake), installed next to the text bake, runs its end-to-end train test."""
    project = bake_and_commit(tmp_path / "out", f"git+{template_clone.as_uri()}", project_name=f"Digits Lab {logger}",
                              logger=logger)
    module = project.name.replace("-", "_")
    install = install_next_to(other_task_install, project)
    code = f"import {module}.config as c; print(c.load_config().logger.kind.value)"
    check = run([other_task_install.python, "-c", code], cwd=project, env=other_task_install.env)
    assert check.stdout.strip() == logger
    start = time.perf_counter()
    proc = run([other_task_install.python, "-m", "pytest", "-q", "tests/test_train_e2e.py"], cwd=project,
               env=other_task_install.env)
    took = time.perf_counter() - start
    announce(request, f"[test_full_variants] {logger} bake: uv pip install {install:.0f} s, e2e test {took:.0f} s")
    assert pytest_summary(proc.stdout).startswith("1 passed"), proc.stdout[-2000:]
