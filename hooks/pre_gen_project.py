"""Validate every answer. A bad answer stops the bake with a message that names the prompt and says what
is allowed.

The checks run twice. First while cookiecutter asks the questions: local_extensions.py imports this file
and `check_answers` runs it from the private variable `__answers_checked`, before any folder exists. Then
as the pre-generation hook, for contexts that skip the questions (a hand-edited replay file); cookiecutter
removes the project folder it made when the hook fails.

Importing this file has no side effects, and the unrendered file is valid Python: the answers are read in
`main()`.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

PROMPTS = {
    "project_name": "Project name",
    "project_slug": "Distribution and folder name",
    "module_name": "Python package name",
    "description": "One-line description",
    "author_name": "Author name",
    "author_email": "Author email",
    "python_version": "Python version",
    "task": "Task",
    "logger": "Experiment logger",
    "license": "License",
    "github_actions": "Add GitHub Actions CI?",
    "labblocks_source": "Where the project gets labblocks from",
    "labblocks_version": "labblocks version",
    "labblocks_git_url": "labblocks git URL",
    "labblocks_index_url": "Package index URL for labblocks",
    "labblocks_path": "Absolute path of labblocks' registry/ folder",
}
CHOICES = {
    "python_version": ["3.10", "3.11", "3.12", "3.13"],
    "task": ["image_classification", "text_classification"],
    "logger": ["wandb", "tensorboard", "csv"],
    "license": ["MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"],
    "labblocks_source": ["git", "index", "path"],
}
# Import names the generated project depends on or that pytest and packaging use.
DEPENDENCY_MODULES = {
    "torch", "torchvision", "torchmetrics", "lightning", "pytorch_lightning", "lightning_fabric", "timm",
    "transformers", "tokenizers", "huggingface_hub", "safetensors", "wandb", "omegaconf", "yaml",
    "labblocks", "numpy", "scipy", "sklearn", "matplotlib", "PIL", "jaxtyping", "pytest", "hypothesis",
    "setuptools", "pip", "uv", "hatchling", "tensorboard", "test", "tests", "src", "configs",
}
# The slug names the project folder, the distribution and its `<slug>-train` commands. 64 characters keep
# every generated path far below file-name (255 bytes) and Windows path (260 characters) limits, and the
# venv's script shebangs (`#!<folder>/<slug>/.venv/bin/python`) below the kernel's 256-byte line.
SLUG_MAX = 64
# The module name is in every import line; at 32 characters the longest generated line still fits ruff's
# line length of 120 (tests/test_render.py bakes one that long and runs ruff).
MODULE_MAX = 32
SLUG_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
MODULE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s\"'<>(),;:\\\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([.+-]?[A-Za-z0-9.]+)?$")
GIT_URL_RE = re.compile(r"^(https?://|ssh://|git@|file://)\S+$")


def shown(value: str, limit: int = 48) -> str:
    """`value` quoted for a message, shortened in the middle when long."""
    return repr(value) if len(value) <= limit else repr(value[: limit // 2] + "…" + value[-limit // 4:])


def shadowed_module(name: str) -> str | None:
    """Why `name` cannot be the project's import name because of what it would shadow, or None."""
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword"
    if name in sys.stdlib_module_names:
        return f"{name!r} would shadow the standard-library module {name!r}"
    if name in DEPENDENCY_MODULES:
        return f"{name!r} would shadow {name!r}, which the project imports or uses"
    return None


def shorten(name: str, limit: int, sep: str) -> str:
    """`name` cut to at most `limit` characters, at the last `sep` that fits when there is one."""
    if len(name) <= limit:
        return name
    cut = name[:limit]
    if name[limit] != sep and sep in cut:
        cut = cut.rsplit(sep, 1)[0]
    return cut.strip(sep)


def derive_module_name(slug: str) -> str:
    """The default import name for a slug; always passes `check` (lower-case, at most MODULE_MAX characters,
    not starting with a digit, shadowing nothing)."""
    name = re.sub(r"[^a-z0-9]+", "_", slug.lower()).strip("_") or "project"
    if name[0].isdigit():
        name = "lab_" + name
    name = shorten(name, MODULE_MAX, "_")
    if shadowed_module(name):
        name = shorten(name, MODULE_MAX - 4, "_") + "_lab"
    return name


def free_text_problem(text: str, required: bool) -> str | None:
    """Why a one-line free-text answer cannot be used, or None."""
    if required and not text.strip():
        return "must not be empty"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that cannot be written as UTF-8 (lone surrogates)"
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\u200d":
            return f"must be one line of printable text; it contains {unicodedata.name(ch, repr(ch))} ({ch!r})"
    return None


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name the project folder and distribution, or None."""
    allowed = (f"use at most {SLUG_MAX} letters, digits, '-', '_' and '.', starting and ending with a letter or "
               "digit (e.g. 'digits-lab')")
    if not slug:
        return f"must not be empty; {allowed}"
    if "/" in slug or "\\" in slug or ".." in slug:
        return f"{shown(slug)} is a path, not a folder name: it holds '/', '\\' or '..'; {allowed}"
    if len(slug) > SLUG_MAX:
        return f"{shown(slug)} is {len(slug)} characters long; {allowed}"
    if not SLUG_RE.match(slug):
        return f"{shown(slug)} is not a valid distribution and folder name; {allowed}"
    return None


def module_problem(module: str) -> str | None:
    """Why `module` cannot be the project's import name, or None."""
    if len(module) > MODULE_MAX:
        return (f"{shown(module)} is {len(module)} characters long; use at most {MODULE_MAX} (it appears in every "
                f"import), e.g. {derive_module_name(module)!r}")
    if not MODULE_RE.match(module):
        hint = f"; e.g. {derive_module_name(module)!r}" if module else ""
        return (f"{shown(module)} is not a valid package name: use lower-case ASCII letters, digits and '_', "
                f"not starting with a digit{hint}")
    why = shadowed_module(module)
    return f"{why}; choose another name, e.g. '{module}_lab'" if why else None


def check(answers: dict[str, Any], template_is_git: bool = True) -> list[str]:
    """Every problem with the answers, each naming its prompt. `template_is_git`: whether the template being
    baked is a git checkout (so `labblocks_git_url=auto` can pin its commit)."""
    problems: list[tuple[str, str]] = []

    def bad(key: str, why: str | None) -> None:
        if why:
            problems.append((key, why))

    for key in ("project_name", "description", "author_name"):
        bad(key, free_text_problem(str(answers[key]), required=key == "project_name"))
    bad("project_slug", slug_problem(str(answers["project_slug"])))
    bad("module_name", module_problem(str(answers["module_name"])))
    email = str(answers["author_email"])
    if email and not EMAIL_RE.match(email):
        bad("author_email", f"{shown(email)} is not an email address like 'name@example.org' (leave it empty for none)")
    for key, allowed in CHOICES.items():
        if str(answers[key]) not in allowed:
            bad(key, f"{answers[key]!r} is not supported; choose one of {', '.join(allowed)}")
    if not isinstance(answers["github_actions"], bool) and str(answers["github_actions"]).lower() not in (
        "yes", "no", "y", "n", "true", "false", "1", "0", "on", "off"
    ):
        bad("github_actions", f"{answers['github_actions']!r} is not yes or no")
    version = str(answers["labblocks_version"])
    if not VERSION_RE.match(version):
        bad("labblocks_version", f"{shown(version)} is not a version like '0.1.0'")
    url = str(answers["labblocks_git_url"])
    if url != "auto" and not GIT_URL_RE.match(url):
        bad("labblocks_git_url", f"{shown(url)} is not 'auto' or a git URL (https://, ssh://, git@ or file://)")
    index = str(answers["labblocks_index_url"])
    if index and not re.match(r"^https?://\S+$", index):
        bad("labblocks_index_url", f"{shown(index)} is not empty or an http(s) URL of a package index")
    if answers["labblocks_source"] == "path":
        raw = str(answers["labblocks_path"])
        path = Path(raw)
        if not raw or not path.is_absolute():
            bad("labblocks_path", f"{shown(raw)} is not an absolute path; give the full path of labblocks' registry/ "
                                  "folder")
        elif not (path / "pyproject.toml").is_file() or 'name = "labblocks"' not in (path / "pyproject.toml").read_text(
            encoding="utf-8", errors="replace"
        ):
            bad("labblocks_path", f"{shown(raw)} holds no pyproject.toml of labblocks; point it at the registry/ "
                                  "folder")
    if answers["labblocks_source"] == "git" and url == "auto" and not template_is_git:
        bad("labblocks_git_url", "'auto' pins the commit of the template being baked, but this template is not a git "
                                 "repository (a zip archive or a copied folder); give the repository's git URL, or "
                                 "answer labblocks_source=path with labblocks_path=<the template's registry/ folder>")
    return [f'Invalid answer for "{PROMPTS[key]}" ({key}): {why}' for key, why in problems]


def report(errors: list[str]) -> str:
    """The message for a refused bake."""
    return "\n".join(["", *errors, "", "Nothing was generated. Run cookiecutter again with corrected answers."])


def main() -> None:
    answers = json.loads(r'''{{ cookiecutter | tojson }}''')
    template_is_git = json.loads(r'''{{ (template_commit() is not none) | tojson }}''')
    errors = check(answers, template_is_git)
    if errors:
        print(report(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
