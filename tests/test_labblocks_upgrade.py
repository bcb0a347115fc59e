"""A project baked from the labblocks 0.2.0 release of the template moves to this labblocks the way its README
says ("Moving to a newer labblocks": put another template commit in the labblocks line of pyproject.toml and
run `make install`), and its own `make test` stays green: its code still imports the 0.2 paths, which keep
working with DeprecationWarnings. Minutes."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
from _full import announce, labblocks_requirement, make_install
from _helpers import clone_checkout, find_uv, git_init_commit, head_commit, output, pytest_summary, run, run_cli

pytestmark = pytest.mark.slow

VERSION_FILE = "registry/src/labblocks/_version.py"
RELEASE_0_2 = "400608636ab9261b1dbc16de7cee7594897e31d2"  # the template commit that released labblocks 0.2.0


def test_a_0_2_project_moves_to_this_labblocks_and_passes_its_tests(tmp_path, request) -> None:
    template = clone_checkout(tmp_path / "template")
    new_commit = head_commit(template)
    baked = run_cli(tmp_path / "old", "--checkout", RELEASE_0_2, "project_name=Old Lab",
                    template=f"git+{template.as_uri()}", timeout=300)
    assert baked.returncode == 0, output(baked)[-3000:]
    old = tmp_path / "old" / "old-lab"
    git_init_commit(old)
    assert labblocks_requirement(old).url.endswith(f"@{RELEASE_0_2}#subdirectory=registry")
    module = old / "src" / "old_lab"
    assert "from labblocks.callbacks import" in (module / "runner.py").read_text(encoding="utf-8")

    pyproject = old / "pyproject.toml"  # the README's step: another commit in the labblocks line
    text = pyproject.read_text(encoding="utf-8")
    assert len(re.findall(RELEASE_0_2, text)) == 1
    pyproject.write_text(text.replace(RELEASE_0_2, new_commit), encoding="utf-8")
    installed = make_install(old, request, "test_labblocks_upgrade: the 0.2 bake on this labblocks")
    version = run([installed.python, "-c", "import labblocks; print(labblocks.__version__)"], cwd=old).stdout
    assert version.strip() == re.search(r'__version__ = "(.+)"', (template / VERSION_FILE).read_text()).group(1)

    start = time.perf_counter()
    proc = run(["make", "test", f"UV={find_uv()}"], cwd=old, env=installed.env)
    summary = pytest_summary(proc.stdout)
    announce(request, f"[test_labblocks_upgrade] make test of the 0.2 bake took {time.perf_counter() - start:.0f} s:"
                      f" {summary}")
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary

    # The old paths it imports are the deprecated ones: with their warnings as errors, they name the new path.
    strict = subprocess.run([installed.python, "-W", "error::DeprecationWarning:old_lab.runner", "-c",
                             "import old_lab.runner"],
                            cwd=old, env=installed.env, capture_output=True, text=True, timeout=300)
    assert strict.returncode != 0
    assert "is deprecated: use labblocks.train." in strict.stderr, strict.stderr[-2000:]
