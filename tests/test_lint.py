"""A fresh bake passes its own lint tooling at the versions it pins: pre-commit's hooks on the first commit,
the ruff version shared by pre-commit and the dev dependencies, and actionlint's runner labels."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from _helpers import bake, git_init_commit, load_toml, output
from packaging.requirements import Requirement


def ruff_pins(project: Path) -> tuple[set[str], set[str]]:
    """The ruff versions in the dev dependencies and in the pre-commit hooks."""
    pyproject = load_toml(project / "pyproject.toml")
    dev = [*pyproject["project"]["optional-dependencies"]["dev"], *pyproject["dependency-groups"]["dev"]]
    in_dev = {str(r.specifier) for r in map(Requirement, dev) if r.name == "ruff"}
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hook_list = [hook for repo in hooks["repos"] for hook in repo["hooks"]]
    pinned = [dep for hook in hook_list for dep in hook.get("additional_dependencies", [])]
    in_hooks = {str(r.specifier) for r in map(Requirement, pinned) if r.name == "ruff"}
    return in_dev, in_hooks


def test_pre_commit_and_dev_dependencies_pin_the_same_ruff(tmp_path: Path) -> None:
    project = bake(tmp_path)
    in_dev, in_hooks = ruff_pins(project)
    assert len(in_dev) == 1 and in_dev == in_hooks and next(iter(in_dev)).startswith("==")
    # the template's own tests lint the bakes with that version
    assert next(iter(in_dev)) == f"=={version('ruff')}"


def test_actionlint_knows_the_gpu_runner_label(tmp_path: Path) -> None:
    project = bake(tmp_path)
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    labels = set(yaml.safe_load((project / ".github/actionlint.yaml").read_text(encoding="utf-8"))
                 ["self-hosted-runner"]["labels"])
    custom = {label for job in workflow["jobs"].values() if isinstance(job.get("runs-on"), list)
              for label in job["runs-on"] if label != "self-hosted"}
    assert custom and custom <= labels


@pytest.mark.slow  # pre-commit builds its hook environment (ruff from PyPI) on first use
def test_pre_commit_hooks_pass_on_the_first_commit(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project = bake(tmp_path / "out")
    git_init_commit(project)
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"), "PATH": path}
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, output(proc)[-4000:]
    assert "ruff check" in proc.stdout and "Passed" in proc.stdout
