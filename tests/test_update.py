"""A baked project remembers where it came from (`.cruft.json`) and can be rendered again: cruft's record,
`cruft create`, `cruft diff`, `cookiecutter --replay` and a user config's `default_context` all work, and the
post-generation hook keeps what it did not write. (`cruft update` of an installed project, with a template
change and a conflict, is in test_full.py.)"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import (
    CONTEXT,
    DEFAULT_SLUG,
    clone_checkout,
    git_init_commit,
    head_commit,
    load_toml,
    output,
    relative_files,
    run,
    run_cli,
)

CRUFT = [sys.executable, "-m", "cruft"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git clone of this checkout, the template of this module's bakes."""
    return clone_checkout(tmp_path_factory.mktemp("template") / "research-template")


def bake_cli(out: Path, template: str | Path, *args: str) -> Path:
    proc = run_cli(out, *args, template=template)
    assert proc.returncode == 0, output(proc)[-3000:]
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    return project


def same_tree(a: Path, b: Path, ignore: tuple[str, ...] = ()) -> None:
    """Both folders hold the same files with the same content."""
    files = relative_files(a) - set(ignore)
    assert files == relative_files(b) - set(ignore)
    different = [f for f in sorted(files) if not filecmp.cmp(a / f, b / f, shallow=False)]
    assert not different, different


@pytest.mark.parametrize("form", ["git-url", "local-path"])
def test_record_is_what_cruft_reads(tmp_path: Path, template: Path, form: str) -> None:
    """.cruft.json has cruft's fields: template (a URL or path git can clone), the baked commit, checkout,
    the answers as context.cookiecutter with `_template` and `_commit` as cruft passes them, and directory."""
    given = f"git+{template.as_uri()}" if form == "git-url" else str(template)
    project = bake_cli(tmp_path / "out", given, "author_name=Ada Lovelace", "labblocks_source=index")
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    expected_template = template.as_uri() if form == "git-url" else str(template)
    assert list(record) == ["template", "commit", "checkout", "context", "directory"]
    assert record["template"] == expected_template and record["commit"] == head_commit(template)
    assert record["checkout"] is None and record["directory"] is None
    answers = record["context"]["cookiecutter"]
    assert answers["author_name"] == "Ada Lovelace" and answers["labblocks_source"] == "index"
    assert (answers["_template"], answers["_commit"]) == (record["template"], record["commit"])
    assert set(CONTEXT) - {"__prompts__"} <= set(answers)
    assert not {"_output_dir", "_repo_dir", "_checkout"} & set(answers)  # paths of the baking machine
    assert load_toml(project / "pyproject.toml")["tool"]["cruft"]["skip"] == [".cruft.json"]

    git_init_commit(project)
    check = subprocess.run([*CRUFT, "check"], cwd=project, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0 and "up to date" in output(check), output(check)
    diff = run([*CRUFT, "diff", "--exit-code"], cwd=project, timeout=300)  # the bake re-renders exactly
    assert diff.stdout.strip() == "", diff.stdout[-3000:]


def test_cruft_create_bakes_the_same_project(tmp_path: Path, template: Path) -> None:
    """`cruft create` renders the template (hooks included) into the same files as cookiecutter, and the record
    it writes is the one the template renders."""
    answers = {"project_name": "Cruft Lab", "task": "text_classification", "logger": "csv"}
    by_cookiecutter = bake_cli(tmp_path / "cc", template, *(f"{k}={v}" for k, v in answers.items()))
    (tmp_path / "cruft").mkdir()
    run([*CRUFT, "create", "--no-input", "--output-dir", str(tmp_path / "cruft"), "--extra-context",
         json.dumps(answers), str(template)], cwd=tmp_path, timeout=300)
    by_cruft = tmp_path / "cruft" / "cruft-lab"
    same_tree(by_cookiecutter, by_cruft)


def test_replay_bakes_the_same_project(tmp_path: Path, template: Path,
                                       isolated_cookiecutter_config: Path) -> None:
    """`cookiecutter --replay` and `--replay-file` bake again what the first bake made, record included."""
    first = bake_cli(tmp_path / "first", template, "project_name=Replay Lab", "license=Apache-2.0", "github_actions=no")
    replay_file = isolated_cookiecutter_config / "replay" / f"{template.name}.json"
    assert json.loads(replay_file.read_text(encoding="utf-8"))["cookiecutter"]["project_name"] == "Replay Lab"
    again = run_cli(tmp_path / "again", "--replay", template=template, no_input=False)
    assert again.returncode == 0, output(again)[-3000:]
    same_tree(first, tmp_path / "again" / "replay-lab")
    copied = tmp_path / "answers.json"
    copied.write_text(replay_file.read_text(encoding="utf-8"), encoding="utf-8")
    from_file = run_cli(tmp_path / "file", "--replay-file", str(copied), template=template, no_input=False)
    assert from_file.returncode == 0, output(from_file)[-3000:]
    same_tree(first, tmp_path / "file" / "replay-lab")


def test_user_config_default_context(tmp_path: Path, template: Path) -> None:
    """A user config's `default_context` sets defaults, choices included; the record keeps them, so a later
    `cruft update` renders with them."""
    config = tmp_path / "user.yaml"
    config.write_text(f"""cookiecutters_dir: "{tmp_path / 'cc'}"
replay_dir: "{tmp_path / 'replay'}"
default_context:
  author_name: "Grace Hopper"
  author_email: "grace@example.org"
  task: "text_classification"
  logger: "csv"
  license: "BSD-3-Clause"
""", encoding="utf-8")
    project = bake_cli(tmp_path / "out", template, "--config-file", str(config))
    meta = load_toml(project / "pyproject.toml")["project"]
    assert meta["authors"] == [{"name": "Grace Hopper", "email": "grace@example.org"}]
    assert meta["license"] == "BSD-3-Clause"
    assert (project / "src" / "digits_lab" / "synthetic.py").is_file()  # the text task's files
    answers = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["context"]["cookiecutter"]
    assert (answers["task"], answers["logger"], answers["author_name"]) == ("text_classification", "csv",
                                                                           "Grace Hopper")


def test_render_over_a_project_keeps_what_the_template_did_not_write(tmp_path: Path, template: Path) -> None:
    """`cookiecutter -f` over an existing project (what cruft does in its temporary folders) moves the task files
    into place again and, without GitHub Actions, removes only the template's workflow, not the user's."""
    out = tmp_path / "out"
    project = bake_cli(out, template, "github_actions=no")
    mine = project / ".github" / "workflows" / "mine.yml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\n", encoding="utf-8")
    (project / "configs" / "default.yaml").write_text("edited: true\n", encoding="utf-8")
    again = run_cli(out, "-f", "github_actions=no", template=template)
    assert again.returncode == 0, output(again)[-3000:]
    assert mine.read_text(encoding="utf-8") == "name: mine\n"
    assert not (project / ".github" / "workflows" / "ci.yml").exists()
    assert "edited: true" not in (project / "configs" / "default.yaml").read_text(encoding="utf-8")
    assert not list(project.rglob("_tasks"))
    assert project.name == DEFAULT_SLUG


def test_uncommitted_registry_edits_are_not_pinned_and_said_so(tmp_path: Path) -> None:
    """A bake from a working tree pins its HEAD; edits under registry/ that are not committed are not in the
    pin, and the bake says so and how to use them (labblocks_source=path)."""
    template = clone_checkout(tmp_path / "template")
    changelog = template / "registry" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text(encoding="utf-8") + "\n- an uncommitted change\n", encoding="utf-8")
    proc = run_cli(tmp_path / "out", template=template)
    assert proc.returncode == 0, output(proc)[-3000:]
    text = output(proc)
    commit = head_commit(template)
    assert f"labblocks: pinned to {template.as_uri()} at {commit[:12]}" in text
    assert "WARNING: the template folder has uncommitted changes under registry/" in text
    assert f"labblocks_source=path labblocks_path={template / 'registry'}" in text
    deps = load_toml(tmp_path / "out" / DEFAULT_SLUG / "pyproject.toml")["project"]["dependencies"]
    assert any(f"@{commit}#subdirectory=registry" in d for d in deps)
