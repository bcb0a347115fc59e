"""Property: any project name, description and author name either bakes a project that carries them exactly
(in TOML, YAML, Python and Markdown) or is refused clearly with nothing left on disk."""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from _helpers import bake, hook_errors, iter_files, listing, load_toml
from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import FailedHookException, UndefinedVariableInTemplate
from hypothesis import event, given
from hypothesis import strategies as st
from jinja2 import TemplateSyntaxError, UndefinedError
from slugify import slugify

FREE_TEXT = ("project_name", "description", "author_name")
TOKENS = [
    "'", '"', ":", "\\", "{", "}", "#", " ", "  ", "yes", "no", "null", "~", "true", "off", "- x", ": x", "? x",
    "&a", "*a", "!tag", "%", "@", '"""', "'''", "[", "]", ",", "|", ">", "`", "$", "${x}", "\\n", "\\u0041",
    "<b>", "&amp;", "é", "ß", "Ω", "😀", "👩\u200d🔬", "中文", "日本語", "\u00a0", "0x1F", "1e3", "Lab",
    "{{", "}}", "{%", "{#", "#}", "{{ 7 * 6 }}", "{{x}}",
]
# Characters that make a free-text answer unusable in one-line fields; the hook must refuse them.
HARD = ["\n", "\r", "\r\n", "\t", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\ud800", "\udfff"]
# Invisible format characters (category Cf): refusing them is allowed, carrying them exactly is too.
SOFT = ["\u200b", "\u202e", "\ufeff", "\u00ad", "\u2066"]
JINJA = StrictEnvironment(keep_trailing_newline=True)

plain = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), max_size=6)
clean = st.lists(st.one_of(st.sampled_from(TOKENS), plain), max_size=6).map("".join)


@st.composite
def free_text(draw: st.DrawFn) -> str:
    """Mostly printable text full of quoting hazards; about one answer in eight gets a control character."""
    text = draw(clean)
    if draw(st.integers(0, 7)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(HARD + SOFT)) + text[at:]
    return text


names = st.one_of(free_text(), st.builds(lambda a, b: f"{a}Lab{b}", free_text(), free_text()))


def rendered(answer: str) -> str | None:
    """What cookiecutter makes of a non-interactive answer, which it renders as a Jinja template (so
    `{{ 7 * 6 }}` becomes `42`); None where rendering fails."""
    try:
        return JINJA.from_string(answer).render(cookiecutter={})
    except (TemplateSyntaxError, UndefinedError):
        return None


def hard_problem(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") for ch in text)


def soft_problem(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cf" and ch != "\u200d" for ch in text)


def project_name_in(init_py: Path) -> Any:
    """The value of `PROJECT_NAME = <literal>` in a module."""
    for node in ast.parse(init_py.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PROJECT_NAME"]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no PROJECT_NAME in {init_py}")


def check_project(project: Path, name: str, description: str, author: str) -> None:
    """Every file parses and carries the answers exactly."""
    # cut after the last whole word within 64 characters; nothing to slugify: the default slug
    assert project.name == (slugify(name, max_length=64, word_boundary=True, save_order=True) or "project")
    pyproject = load_toml(project / "pyproject.toml")["project"]
    assert pyproject["description"] == description
    assert pyproject["authors"][0]["name"] == author
    for path in iter_files(project):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            compile(text, str(path), "exec", dont_inherit=True)
        elif path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(text))
        elif path.suffix == ".json":
            json.loads(text)
    config = yaml.safe_load((project / "configs" / "default.yaml").read_text(encoding="utf-8"))
    assert config["logger"]["notes"] == description
    (module,) = (project / "src").iterdir()
    assert project_name_in(module / "__init__.py") == name
    readme = (project / "README.md").read_text(encoding="utf-8").split("\n")
    assert readme[0] == f"# {name}" and readme[2] == description
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert any(author in line for line in license_text.split("\n") if line.startswith("Copyright"))


@given(name=names, description=free_text(), author=free_text())
def test_free_text_bakes_exactly_or_is_refused(
    capfd: pytest.CaptureFixture[str], name: str, description: str, author: str
) -> None:
    answers = {"project_name": name, "description": description, "author_name": author}
    capfd.readouterr()  # drop what earlier examples printed
    tmp = Path(tempfile.mkdtemp(prefix="free-text-"))
    # A folder that does not exist yet: with an existing one, a name without any slug-able character hits
    # cookiecutter's "directory already exists" before the hook runs (test_hooks' name-empty case).
    out = tmp / "out"
    try:
        values = {key: rendered(value) for key, value in answers.items()}
        if None in values.values():
            with pytest.raises((UndefinedVariableInTemplate, TemplateSyntaxError)):
                bake(out, **answers)
            assert any(opener in answers[k] for k in FREE_TEXT for opener in ("{{", "{%", "{#"))
            assert listing(tmp) in ([], ["out"]) and listing(out) == []
            event("refused by cookiecutter: Jinja syntax in an answer")
            return
        must_refuse = {k for k, v in values.items() if hard_problem(v)}
        if not values["project_name"].strip():
            must_refuse.add("project_name")
        may_refuse = must_refuse | {k for k, v in values.items() if soft_problem(v)} | {"project_slug", "module_name"}
        try:
            project = bake(out, **answers)
        except FailedHookException as refused:  # the answer checks (the message) or the hook (on stderr)
            errors = hook_errors(str(refused) + capfd.readouterr().err)
            assert errors, "the bake was refused without naming a prompt"
            assert must_refuse <= set(errors) <= may_refuse, (errors, must_refuse, may_refuse)
            assert listing(out) == []
            event(f"refused by the hook: {', '.join(sorted(errors))}")
            return
        assert not must_refuse, f"accepted unusable answers for {sorted(must_refuse)}"
        check_project(project, values["project_name"], values["description"], values["author_name"])
        event("baked")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
