"""The baked project's `make install` with each labblocks source: when labblocks cannot be installed, it says
which bake answer to change and how, after uv's own error (a git URL that cannot be reached, a repository
without the pinned commit, an index that cannot be reached); a path source installs the folder. Each runs
the real `uv sync`, which fails or finishes within seconds with a warm cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from _helpers import (
    GIT,
    REPO,
    clone_checkout,
    find_uv,
    head_commit,
    output,
    run_cli,
    uv_env,
)


def bake_and_install(tmp_path: Path, template: Path | str, *answers: str) -> subprocess.CompletedProcess[str]:
    """Bake with the CLI and run the project's `make install`; returns the finished make."""
    out = tmp_path / "out"
    baked = run_cli(out, *answers, template=template)
    assert baked.returncode == 0, output(baked)[-3000:]
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    return subprocess.run(["make", "install", f"UV={find_uv()}"], cwd=project, env=uv_env(), capture_output=True,
                          text=True, timeout=600)


def assert_explained(proc: subprocess.CompletedProcess[str], *phrases: str) -> None:
    text = output(proc)
    assert proc.returncode != 0, text[-3000:]
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in:\n{text[-4000:]}"


def test_unreachable_git_url(tmp_path: Path) -> None:
    missing = (tmp_path / "moved-away").as_uri()
    proc = bake_and_install(tmp_path, REPO, f"labblocks_git_url={missing}")
    assert_explained(proc, f"labblocks is pinned to git: {missing} at {head_commit()}",
                     "labblocks_source=git and labblocks_git_url", "PROBLEM: the repository cannot be reached",
                     "--variables-to-update '{\"labblocks_git_url\"", "\"labblocks_source\": \"path\"",
                     "then run make install again")


def test_repository_without_the_commit(tmp_path: Path) -> None:
    """A template commit that was never pushed to the URL the project names (here: a local commit of a clone,
    with the original checkout as labblocks_git_url)."""
    template = clone_checkout(tmp_path / "template")
    (template / "NEW.md").write_text("not pushed\n", encoding="utf-8")
    subprocess.run([*GIT, "add", "-A"], cwd=template, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "local only"], cwd=template, check=True)
    proc = bake_and_install(tmp_path, template, f"labblocks_git_url={REPO.as_uri()}")
    assert_explained(proc, f"PROBLEM: the repository is reachable but has no commit {head_commit(template)}",
                     "labblocks_git_url", "pyproject.toml")


@pytest.mark.parametrize("index", ["http://127.0.0.1:9/simple/"])
def test_unreachable_index(tmp_path: Path, index: str) -> None:
    proc = bake_and_install(tmp_path, REPO, "labblocks_source=index", f"labblocks_index_url={index}")
    assert_explained(proc, f"is looked for on {index}", "labblocks_source=index, labblocks_version and "
                     "labblocks_index_url", "--variables-to-update '{\"labblocks_index_url\"")


def test_path_source_installs_the_folder_editable(tmp_path: Path) -> None:
    """Control for the failures above, and the source `make demo` uses: labblocks_source=path installs the
    given registry/ folder, editable."""
    proc = bake_and_install(tmp_path, REPO, "labblocks_source=path", f"labblocks_path={REPO / 'registry'}")
    assert proc.returncode == 0, output(proc)[-3000:]
    project = tmp_path / "out" / "digits-lab"
    where = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c",
                            "import labblocks, pathlib; print(pathlib.Path(labblocks.__file__).resolve())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(REPO / "registry" / "src" / "labblocks" / "__init__.py")
