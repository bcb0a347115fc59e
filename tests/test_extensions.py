"""The Jinja globals of local_extensions.py that say where a template came from and what labblocks pins, for
template locations a test cannot bake from (GitHub, GitLab, SSH remotes, URLs with credentials)."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

import pytest
from _helpers import CONTEXT, REPO, head_commit


def load_extensions() -> ModuleType:
    spec = importlib.util.spec_from_file_location("local_extensions_under_test", REPO / "local_extensions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXT = load_extensions()
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def answers(**overrides: Any) -> dict[str, Any]:
    """The default answers as cookiecutter passes them to templates, with `_commit` as cruft sets it."""
    base = {k: (v[0] if isinstance(v, list) and not k.startswith("_") else v) for k, v in CONTEXT.items()
            if not k.startswith("__")}
    return {**base, "project_slug": "digits-lab", "module_name": "digits_lab", "_commit": COMMIT, **overrides}


@pytest.mark.parametrize(
    ("template", "url", "pin"),
    [
        ("gh:acme/research-template", "https://github.com/acme/research-template.git",
         "git+https://github.com/acme/research-template.git"),
        ("gl:acme/research-template", "https://gitlab.com/acme/research-template.git",
         "git+https://gitlab.com/acme/research-template.git"),
        ("https://github.com/acme/research-template", "https://github.com/acme/research-template",
         "git+https://github.com/acme/research-template"),
        ("git+https://git.example.org/acme/tmpl.git", "https://git.example.org/acme/tmpl.git",
         "git+https://git.example.org/acme/tmpl.git"),
        ("https://ada:s3cret@git.example.org/acme/tmpl.git", "https://git.example.org/acme/tmpl.git",
         "git+https://git.example.org/acme/tmpl.git"),
        ("git@github.com:acme/research-template.git", "git@github.com:acme/research-template.git",
         "git+ssh://git@github.com/acme/research-template.git"),
        ("ssh://git@example.org/acme/tmpl.git", "ssh://git@example.org/acme/tmpl.git",
         "git+ssh://git@example.org/acme/tmpl.git"),
        ("/srv/templates/research-template", "/srv/templates/research-template",
         "git+file:///srv/templates/research-template"),
        (".", REPO.as_posix(), f"git+{REPO.as_uri()}"),
    ],
    ids=["gh", "gl", "https", "git+https", "credentials", "scp-style", "ssh", "absolute-path", "relative-path"],
)
def test_template_url_and_git_pin(template: str, url: str, pin: str) -> None:
    """Abbreviations are expanded, `git+` and credentials dropped, local paths made absolute; the pin is the
    requirement form of that URL at the baked commit."""
    context = answers(_template=template)
    assert EXT.template_url(context) == url
    assert EXT.labblocks_requirement(context) == f"labblocks[timm,run] @ {pin}@{COMMIT}#subdirectory=registry"


def test_commit_comes_from_the_template_checkout_without_cruft() -> None:
    context = answers(_template=".")
    del context["_commit"]
    assert EXT.labblocks_requirement(context).endswith(f"@{head_commit()}#subdirectory=registry")


def test_other_sources() -> None:
    assert EXT.labblocks_requirement(answers(labblocks_source="index", task="text_classification")) == (
        f"labblocks[hf,run]~={CONTEXT['labblocks_version']}")
    assert EXT.labblocks_requirement(answers(labblocks_source="path", labblocks_path="/opt/my lab/registry")) == (
        "labblocks[timm,run] @ file:///opt/my%20lab/registry")


def test_cruft_record_is_what_cruft_writes() -> None:
    """cruft_json() is byte for byte what cruft writes for the same state (its own json_dumps)."""
    from cruft._commands.utils.cruft import json_dumps

    context = answers(_template="gh:acme/research-template", _output_dir="/home/ada/out", _repo_dir="/tmp/x",
                      _checkout=None)
    context.pop("_commit")
    context["_commit"] = COMMIT
    record = EXT.cruft_json(context) + "\n"
    state = json.loads(record)
    assert record == json_dumps(state)
    assert state["template"] == "https://github.com/acme/research-template.git" == state["context"]["cookiecutter"][
        "_template"]
    assert not {"_output_dir", "_repo_dir", "_checkout"} & set(state["context"]["cookiecutter"])
    assert list(state["context"]["cookiecutter"])[-2:] == ["_template", "_commit"]


def test_slug_and_module_defaults_fit_the_limits() -> None:
    rules = EXT.rules()
    slug = EXT.project_slug_for("Self Supervised " * 40)
    assert len(slug) <= rules.SLUG_MAX and rules.slug_problem(slug) is None
    for name in ["x" * 200, "9lives", "import", "json", "Über Lab", "🎉"]:
        module = EXT.module_name_for(EXT.project_slug_for(name))
        assert rules.module_problem(module) is None, (name, module)
