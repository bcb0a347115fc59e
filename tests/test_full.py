"""Full bakes, the way a user gets a project: the real cookiecutter CLI with every default answer, from a git
URL of a clone of this checkout (`git+file://...`, like `cookiecutter gh:<org>/<repo>`), installed with the
baked project's own `make install` (uv sync; labblocks pinned to the clone's commit) and tested with its own
`make test`; then a project baked from an older commit takes a template change with `cruft update` and is
installed next to it. The other task and loggers are in test_full_variants.py. Minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _full import Installed, announce, bake_and_commit, install_next_to, labblocks_requirement, make_install
from _helpers import (
    CONTEXT,
    DEFAULT_SLUG,
    GIT,
    choices,
    clone_checkout,
    find_uv,
    head_commit,
    load_toml,
    output,
    pytest_summary,
    run,
)

# The tests share one installed environment (a module fixture), so `make test` runs pytest-xdist with
# --dist loadfile (xdist 3.8's loadgroup does not group under pytest 9, which ignores the node ids it edits).
pytestmark = pytest.mark.slow

DEFAULT_LOGGER = choices("logger")[0]


@pytest.fixture(scope="module")
def template_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git clone of this checkout (see clone_checkout), the template every bake of this module comes from."""
    return clone_checkout(tmp_path_factory.mktemp("template") / "research-template")


@pytest.fixture(scope="module")
def default_install(template_clone: Path, tmp_path_factory: pytest.TempPathFactory,
                    request: pytest.FixtureRequest) -> Installed:
    """The bake with every default answer from `git+file://<clone>`, installed once by its `make install`."""
    project = bake_and_commit(tmp_path_factory.mktemp("full-default"), f"git+{template_clone.as_uri()}")
    return make_install(project, request, "test_full: default bake")


def test_default_bake_passes_its_own_test_suite(
    default_install: Installed, template_clone: Path, request: pytest.FixtureRequest
) -> None:
    """All default answers: labblocks is pinned to the clone's commit, the project records where it came from
    (.cruft.json), installs, and passes its own suite (`make test-all` on CI, `make test` locally)."""
    project = default_install.project
    assert load_toml(project / "pyproject.toml")["project"]["name"] == DEFAULT_SLUG
    assert CONTEXT["logger"][0] == DEFAULT_LOGGER
    commit = head_commit(template_clone)
    assert labblocks_requirement(project).url == f"git+{template_clone.as_uri()}@{commit}#subdirectory=registry"
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert (record["template"], record["commit"]) == (template_clone.as_uri(), commit)
    assert record["context"]["cookiecutter"]["labblocks_source"] == "git"
    start = time.perf_counter()
    # Locally its everyday suite (a minute); on CI (BAKED_SUITE=all, set by .ci/run) everything, the slow
    # multi-process tests (DDP, signals, kills, submitit, searches) included, as the project's own CI runs.
    target = "test-all" if os.environ.get("BAKED_SUITE") == "all" else "test"
    proc = run(["make", target, f"UV={find_uv()}"], cwd=project, env=default_install.env)
    announce(request, f"[test_full] default bake: make {target} took {time.perf_counter() - start:.0f} s")
    summary = pytest_summary(proc.stdout)
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


def change_template(template: Path) -> None:
    """Commit a template change: a line in a task config (a file the post-generation hook moves into place), a new
    README title line, and a new file rendered with a new filter from local_extensions.py (under `cruft update`
    the old commit's module is already imported when the new commit renders)."""
    slug_dir = template / "{{cookiecutter.project_slug}}"
    config = slug_dir / "configs" / "_tasks" / "image_classification" / "default.yaml"
    config.write_text("# tuned by the template's maintainers\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    readme = slug_dir / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# {{ cookiecutter.project_name }}\n")
    readme.write_text(text.replace("# {{ cookiecutter.project_name }}\n",
                                   "# {{ cookiecutter.project_name }} (baked from the research template)\n", 1),
                      encoding="utf-8")
    extensions = template / "local_extensions.py"
    source = extensions.read_text(encoding="utf-8")
    assert "\nFILTERS = {" in source
    extensions.write_text(source.replace("\nFILTERS = {", '\ndef shout(value: object) -> str:\n'
                                         '    return str(value).upper()\n\n\nFILTERS = {"shout": shout, ', 1),
                          encoding="utf-8")
    notes = slug_dir / "docs" / "NOTES.md"
    notes.parent.mkdir()
    notes.write_text("# Notes of {{ cookiecutter.project_name | shout }}\n", encoding="utf-8")
    run([*GIT, "add", "-A"], cwd=template)
    run([*GIT, "commit", "-q", "-m", "template change"], cwd=template)


def test_cruft_update_brings_template_changes(
    default_install: Installed, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A project baked from an older commit takes a template change with `cruft update -y`: untouched files
    change, a new file appears, a file the user edited gets a conflict that cruft reports and keeps both sides,
    the labblocks pin moves to the new commit, and the project's config tests still pass."""
    template = clone_checkout(tmp_path / "template")
    old_commit = head_commit(template)
    project = bake_and_commit(tmp_path / "out", f"git+{template.as_uri()}", project_name="Update Lab")
    cruft = [sys.executable, "-m", "cruft"]
    assert run([*cruft, "check"], cwd=project).returncode == 0

    readme = project / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("# Update Lab\n", "# Update Lab: my experiments\n", 1)
                      + "\n## My notes\n\nThe user's own section.\n", encoding="utf-8")
    run([*GIT, "commit", "-q", "-am", "my edits"], cwd=project)

    change_template(template)
    new_commit = head_commit(template)
    stale = subprocess.run([*cruft, "check"], cwd=project, capture_output=True, text=True)
    assert stale.returncode != 0 and "out of date" in output(stale), output(stale)

    start = time.perf_counter()
    proc = run([*cruft, "update", "-y"], cwd=project)
    took = time.perf_counter() - start
    report = output(proc)
    assert "README.md" in report and "conflict" in report, report  # cruft passes on git's conflict report

    config = (project / "configs" / "default.yaml").read_text(encoding="utf-8")
    assert config.startswith("# tuned by the template's maintainers\n")
    assert (project / "docs" / "NOTES.md").read_text(encoding="utf-8") == "# Notes of UPDATE LAB\n"
    merged = readme.read_text(encoding="utf-8")
    for kept in ("<<<<<<<", ">>>>>>>", "# Update Lab: my experiments",
                 "# Update Lab (baked from the research template)", "## My notes\n\nThe user's own section."):
        assert kept in merged, merged[:600]
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert record["commit"] == new_commit != old_commit
    assert labblocks_requirement(project).url == f"git+{template.as_uri()}@{new_commit}#subdirectory=registry"
    assert not (project / "configs" / "_tasks").exists()

    install = install_next_to(default_install, project, "--no-deps")
    tests = run([default_install.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_config.py"],
                cwd=project, env=default_install.env)
    summary = pytest_summary(tests.stdout)
    announce(request, f"[test_full] cruft update {took:.0f} s, install {install:.0f} s: {summary}")
    assert " passed" in summary and "failed" not in summary
