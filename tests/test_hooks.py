"""Bad answers are refused before anything is generated: the real CLI exits non-zero, the message names the
prompt and says what is allowed, and the output folder stays empty. The checks run while cookiecutter asks
the questions (the private variable `__answers_checked`), before it creates the project folder; the
pre-generation hook runs them again for contexts that skip the questions (replay files)."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _helpers import (
    CONTEXT,
    DEFAULT_SLUG,
    GIT,
    REGISTRY,
    REPO,
    TEMPLATE,
    bake,
    cli_args,
    hook_errors,
    listing,
    load_toml,
    output,
    prompt_text,
    relative_files,
    run_cli,
)
from cookiecutter.exceptions import UndefinedVariableInTemplate

EMPTY_DIR = "<an existing folder without pyproject.toml>"

# (id, answers, prompt key the message must name, what the message must say is allowed or wrong)
BAD_ANSWERS: list[tuple[str, dict[str, Any], str, str]] = [
    ("name-empty", {"project_name": ""}, "project_name", "must not be empty"),
    ("name-blank", {"project_name": "   "}, "project_name", "must not be empty"),
    ("name-newline", {"project_name": "Digits\nLab"}, "project_name", "must be one line of printable text"),
    ("name-carriage-return", {"project_name": "Digits\rLab"}, "project_name", "must be one line of printable text"),
    ("name-bell", {"project_name": "Digits\x07Lab"}, "project_name", "must be one line of printable text"),
    ("name-escape", {"project_name": "Digits\x1b[31mLab"}, "project_name", "must be one line of printable text"),
    ("name-rtl-override", {"project_name": "Digits\u202eLab"}, "project_name", "must be one line of printable text"),
    ("name-line-separator", {"project_name": "Digits\u2028Lab"}, "project_name",
     "must be one line of printable text"),
    ("description-newline", {"description": "One line\nand another"}, "description",
     "must be one line of printable text"),
    ("description-tab", {"description": "tab\there"}, "description", "must be one line of printable text"),
    ("author-backspace", {"author_name": "Ada\x08Lovelace"}, "author_name", "must be one line of printable text"),
    ("author-lone-surrogate", {"author_name": "Ada \udcff"}, "author_name", "cannot be written as UTF-8"),
    ("slug-leading-dash", {"project_slug": "-digits-lab"}, "project_slug",
     "use at most 64 letters, digits, '-', '_' and '.'"),
    ("slug-space", {"project_slug": "digits lab"}, "project_slug", "is not a valid distribution and folder name"),
    ("module-dash", {"module_name": "digits-lab"}, "module_name", "use lower-case ASCII letters, digits and '_'"),
    ("module-upper-case", {"module_name": "DigitsLab"}, "module_name", "is not a valid package name"),
    ("module-leading-digit", {"module_name": "1digits"}, "module_name", "not starting with a digit"),
    ("module-non-ascii", {"module_name": "dígits"}, "module_name", "is not a valid package name"),
    ("module-keyword", {"module_name": "class"}, "module_name", "is a Python keyword"),
    ("module-keyword-import", {"module_name": "import"}, "module_name", "is a Python keyword"),
    ("module-stdlib-json", {"module_name": "json"}, "module_name", "would shadow the standard-library module 'json'"),
    ("module-stdlib-os", {"module_name": "os"}, "module_name", "would shadow the standard-library module 'os'"),
    ("module-dep-test", {"module_name": "test"}, "module_name", "would shadow 'test'"),
    ("module-dep-torch", {"module_name": "torch"}, "module_name", "would shadow 'torch', which the project imports"),
    ("module-dep-labblocks", {"module_name": "labblocks"}, "module_name", "would shadow 'labblocks'"),
    ("module-dep-wandb", {"module_name": "wandb"}, "module_name", "would shadow 'wandb'"),
    ("module-dep-lightning", {"module_name": "lightning"}, "module_name", "would shadow 'lightning'"),
    ("module-dep-tests", {"module_name": "tests"}, "module_name", "would shadow 'tests'"),
    ("slug-path", {"project_slug": "lab/../x"}, "project_slug", "is a path, not a folder name"),
    ("slug-parent", {"project_slug": ".."}, "project_slug", "is a path, not a folder name"),
    ("slug-backslash", {"project_slug": "lab\\x"}, "project_slug", "is a path, not a folder name"),
    ("slug-too-long", {"project_slug": "a" * 65}, "project_slug", "is 65 characters long; use at most 64"),
    ("slug-empty", {"project_slug": ""}, "project_slug", "must not be empty"),
    ("slug-colon", {"project_slug": "lab:x"}, "project_slug", "is not a valid distribution and folder name"),
    ("module-too-long", {"module_name": "m" * 33}, "module_name", "is 33 characters long; use at most 32"),
    ("email-no-at", {"author_email": "not-an-email"}, "author_email", "is not an email address like"),
    ("email-no-domain-dot", {"author_email": "ada@localhost"}, "author_email", "leave it empty for none"),
    ("email-space", {"author_email": "ada lovelace@example.org"}, "author_email", "is not an email address"),
    ("email-angle-brackets", {"author_email": "<ada@example.org>"}, "author_email", "is not an email address"),
    ("version-two-parts", {"labblocks_version": "1.0"}, "labblocks_version", "is not a version like '0.1.0'"),
    ("version-word", {"labblocks_version": "latest"}, "labblocks_version", "is not a version like '0.1.0'"),
    ("version-v-prefix", {"labblocks_version": "v0.1.0"}, "labblocks_version", "is not a version like"),
    ("git-url-no-scheme", {"labblocks_git_url": "github.com/acme/tmpl"}, "labblocks_git_url",
     "is not 'auto' or a git URL (https://, ssh://, git@ or file://)"),
    ("git-url-ftp", {"labblocks_git_url": "ftp://example.org/tmpl.git"}, "labblocks_git_url", "is not 'auto'"),
    ("git-url-space", {"labblocks_git_url": "https://example.org/my tmpl"}, "labblocks_git_url", "a git URL"),
    ("index-url-no-scheme", {"labblocks_source": "index", "labblocks_index_url": "pypi.example.org/simple"},
     "labblocks_index_url", "is not empty or an http(s) URL of a package index"),
    ("index-url-file", {"labblocks_source": "index", "labblocks_index_url": "file:///srv/index"},
     "labblocks_index_url", "is not empty or an http(s) URL"),
    ("path-relative", {"labblocks_source": "path", "labblocks_path": "registry"}, "labblocks_path",
     "is not an absolute path"),
    ("path-empty", {"labblocks_source": "path", "labblocks_path": ""}, "labblocks_path", "is not an absolute path"),
    ("path-without-pyproject", {"labblocks_source": "path", "labblocks_path": EMPTY_DIR}, "labblocks_path",
     "holds no pyproject.toml of labblocks; point it at the registry/ folder"),
    ("path-other-project", {"labblocks_source": "path", "labblocks_path": str(REPO)}, "labblocks_path",
     "holds no pyproject.toml of labblocks"),
    ("path-missing", {"labblocks_source": "path", "labblocks_path": "/nonexistent/registry"}, "labblocks_path",
     "holds no pyproject.toml of labblocks"),
]

# Values outside a choice list: cookiecutter itself refuses them on the command line, before any hook.
BAD_CHOICES: list[tuple[str, str]] = [
    ("python_version", "3.9"),
    ("task", "segmentation"),
    ("logger", "mlflow"),
    ("license", "GPL-3.0"),
    ("labblocks_source", "pypi"),
    ("github_actions", "maybe"),
]


def fresh_out(tmp_path: Path) -> Path:
    """An output folder that is alone in its parent, so that a bake writing beside it is seen."""
    return tmp_path / "alone" / "out"


def assert_refused(out: Path, proc: subprocess.CompletedProcess[str], key: str, allowed: str,
                   by_hook: bool = False) -> None:
    """The answer checks refused `key` with a message naming its prompt, and nothing is left in `out` or next
    to it. Refusals while cookiecutter asks are clean; `by_hook`: the pre-generation hook refused (cookiecutter
    logs the hook's failure with a traceback before the message)."""
    text = output(proc)
    assert proc.returncode == 1, text[-3000:]
    assert ("Traceback" in text) is by_hook, text[-3000:]
    errors = hook_errors(text)
    assert key in errors, text[-3000:]
    label, why = errors[key]
    assert prompt_text(key).startswith(label), (label, prompt_text(key))  # the words the user was asked
    assert allowed in why, why
    if isinstance(CONTEXT[key], list):  # a choice: every allowed value is listed
        assert all(str(choice) in why for choice in CONTEXT[key]), why
    assert "Nothing was generated" in text
    assert listing(out) == []
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # nothing written next to it either (see fresh_out)


@pytest.mark.parametrize(("answers", "key", "allowed"), [case[1:] for case in BAD_ANSWERS],
                         ids=[case[0] for case in BAD_ANSWERS])
def test_bad_answer_is_refused(tmp_path: Path, answers: dict[str, Any], key: str, allowed: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    answers = {k: str(empty) if v == EMPTY_DIR else v for k, v in answers.items()}
    out = fresh_out(tmp_path)
    proc = run_cli(out, *cli_args(answers))
    assert_refused(out, proc, key, allowed)


def test_long_name_derives_a_slug_and_module_that_fit(tmp_path: Path) -> None:
    """A project name of hundreds of characters bakes: the derived slug is cut at a word boundary to 64
    characters, the module name to 32, each a valid name."""
    name = "Self Supervised Pretraining Of Vision Transformers " * 8
    project = bake(tmp_path, project_name=name.strip())
    module = [p.name for p in (project / "src").iterdir()][0]
    assert project.name == "self-supervised-pretraining-of-vision-transformers-self"
    assert module == "self_supervised_pretraining_of"
    assert len(project.name) <= 64 and len(module) <= 32


@pytest.mark.parametrize(("name", "module"), [("Torch", "torch_lab"), ("JSON", "json_lab"), ("3D Lab", "lab_3d_lab"),
                                              ("Test", "test_lab"), ("class", "class_lab")])
def test_derived_module_name_is_always_valid(tmp_path: Path, name: str, module: str) -> None:
    """A default module name that would shadow a module, be a keyword or start with a digit is adjusted."""
    project = bake(tmp_path, project_name=name)
    assert (project / "src" / module / "__init__.py").is_file()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(out, "author_email=nope", "labblocks_version=latest", "module_name=json")
    assert proc.returncode != 0
    assert set(hook_errors(output(proc))) == {"author_email", "labblocks_version", "module_name"}
    assert listing(out) == []


@pytest.mark.parametrize(("key", "value"), BAD_CHOICES, ids=[c[0] for c in BAD_CHOICES])
def test_bad_choice_on_the_command_line_is_refused(tmp_path: Path, key: str, value: str) -> None:
    """cookiecutter checks `key=value` against the choice list before the hook runs."""
    out = tmp_path / "out"
    proc = run_cli(out, f"{key}={value}")
    assert proc.returncode != 0
    if isinstance(CONTEXT[key], list):
        assert f"{value} provided for choice variable {key}, but the choices are" in proc.stderr
        assert all(repr(choice) in proc.stderr for choice in CONTEXT[key])
    else:
        assert f"{value} provided for variable {key} could not be converted to a boolean" in proc.stderr
    assert listing(out) == []


@pytest.fixture(scope="module")
def replay_answers(tmp_path_factory: pytest.TempPathFactory, isolated_cookiecutter_config: Path) -> dict[str, Any]:
    """The replay file cookiecutter writes for a good bake: a context that no prompt re-checks."""
    bake(tmp_path_factory.mktemp("replay-base"))
    return json.loads((isolated_cookiecutter_config / "replay" / f"{REPO.name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("key", "value"), BAD_CHOICES, ids=[c[0] for c in BAD_CHOICES])
def test_bad_choice_in_a_replay_file_is_refused_by_the_hook(
    tmp_path: Path, replay_answers: dict[str, Any], key: str, value: str
) -> None:
    """A replay file skips cookiecutter's own checks; the pre-gen hook still refuses the value."""
    context = json.loads(json.dumps(replay_answers))
    context["cookiecutter"][key] = value
    replay = tmp_path / "bad.json"
    replay.write_text(json.dumps(context), encoding="utf-8")
    out = fresh_out(tmp_path)
    proc = run_cli(out, "--replay-file", str(replay), no_input=False)
    assert_refused(out, proc, key, "choose one of" if isinstance(CONTEXT[key], list) else "is not yes or no",
                   by_hook=True)


def test_replay_file_of_good_answers_bakes(tmp_path: Path, replay_answers: dict[str, Any]) -> None:
    """Control for the replay tests above: the unchanged replay file bakes."""
    replay = tmp_path / "good.json"
    replay.write_text(json.dumps(replay_answers), encoding="utf-8")
    proc = run_cli(tmp_path / "out", "--replay-file", str(replay), no_input=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out" / DEFAULT_SLUG / "pyproject.toml").is_file()


def zipped_template(tmp_path: Path) -> Path:
    """This template as a zip archive (which cookiecutter unpacks to a temporary folder, not a git clone)."""
    archive = tmp_path / "template.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("template/", "")  # cookiecutter wants the top-level folder as the first entry
        for rel in ["cookiecutter.json", "local_extensions.py", "hooks/pre_gen_project.py",
                    "hooks/post_gen_project.py", "registry/pyproject.toml"]:
            zf.write(REPO / rel, f"template/{rel}")
        for rel in relative_files(TEMPLATE):
            zf.write(TEMPLATE / rel, f"template/{TEMPLATE.name}/{rel}")
    return archive


def test_auto_git_url_needs_a_git_template(tmp_path: Path) -> None:
    """'auto' pins the commit of the template, so a template that is no git checkout (a zip archive) is
    refused with the two ways out."""
    out = fresh_out(tmp_path)
    proc = run_cli(out, "labblocks_source=git", "labblocks_git_url=auto", template=zipped_template(tmp_path))
    assert_refused(out, proc, "labblocks_git_url", "this template is not a git repository")
    assert "labblocks_source=path" in hook_errors(output(proc))["labblocks_git_url"][1]


def test_explicit_git_url_for_a_zip_pins_an_existing_release_tag(tmp_path: Path) -> None:
    """Without a commit to pin, an explicit URL pins the release tag labblocks-v<version>, but only when the
    repository has it: otherwise the answer is refused."""
    archive = zipped_template(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "README").write_text("labblocks\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
        subprocess.run([*GIT, *args], cwd=remote, check=True, capture_output=True)
    tag = f"labblocks-v{CONTEXT['labblocks_version']}"
    out = fresh_out(tmp_path)
    proc = run_cli(out, "labblocks_source=git", f"labblocks_git_url={remote.as_uri()}", template=archive)
    assert_refused(out, proc, "labblocks_git_url", f"it has no tag {tag}")

    subprocess.run([*GIT, "tag", tag], cwd=remote, check=True)
    ok = run_cli(tmp_path / "ok", "labblocks_source=git", f"labblocks_git_url={remote.as_uri()}", template=archive)
    assert ok.returncode == 0, output(ok)[-3000:]
    deps = load_toml(tmp_path / "ok" / DEFAULT_SLUG / "pyproject.toml")["project"]["dependencies"]
    assert f"labblocks[timm,run] @ git+{remote.as_uri()}@{tag}#subdirectory=registry" in deps


@pytest.mark.parametrize(
    "answers",
    [
        {"author_email": ""},
        {"project_slug": "digits.lab_2", "module_name": "digits_lab_2"},
        {"module_name": "_private_lab"},
        {"project_name": "Ünïcödé Lab 😀", "author_name": "Zoë O'Brien \"Z\"", "description": "Say: \"yes\" # no"},
        {"labblocks_version": "1.2.3rc1", "labblocks_source": "index",
         "labblocks_index_url": "https://packages.example.org/simple/"},
        {"labblocks_source": "path", "labblocks_path": str(REGISTRY)},
        {"github_actions": False},
    ],
    ids=["empty-email", "dotted-slug", "underscore-module", "unicode-free-text", "index-rc", "path", "no-ci"],
)
def test_unusual_but_valid_answers_bake(tmp_path: Path, answers: dict[str, Any]) -> None:
    """Counterpart of the refusals: the validation does not reject valid answers."""
    project = bake(tmp_path, **answers)
    meta = load_toml(project / "pyproject.toml")["project"]
    assert meta["name"] == answers.get("project_slug", project.name)
    assert (project / "src" / answers.get("module_name", project.name.replace("-", "_"))).is_dir()
    if "author_email" in answers:
        assert meta["authors"] == [{"name": "Your Name"}]


def test_jinja_braces_in_an_interactive_name_bake(tmp_path: Path) -> None:
    """A name typed at the prompt is not rendered as a template, so braces in it are kept verbatim."""
    out = tmp_path / "out"
    proc = run_cli(out, no_input=False, stdin="My {{x}} lab\n" + "\n" * 40)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    project = out / "my-x-lab"
    assert (project / "README.md").read_text(encoding="utf-8").split("\n", 1)[0] == "# My {{x}} lab"
    init = (project / "src" / "my_x_lab" / "__init__.py").read_text(encoding="utf-8")
    assert 'PROJECT_NAME = "My {{x}} lab"' in init


def test_jinja_braces_in_a_non_interactive_name_are_refused(tmp_path: Path) -> None:
    """Non-interactive answers are rendered by cookiecutter, so an undefined `{{x}}` stops it cleanly."""
    with pytest.raises(UndefinedVariableInTemplate):
        bake(tmp_path, project_name="My {{x}} lab")
    assert listing(tmp_path) == []
