"""Validate every answer before anything is generated. A bad answer exits 1 with a message that names
the prompt and says what is allowed; cookiecutter then removes the half-made project folder."""

import json
import keyword
import re
import sys
import unicodedata
from pathlib import Path

ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')

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
SLUG_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
MODULE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s\"'<>(),;:\\\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([.+-]?[A-Za-z0-9.]+)?$")


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


def check(answers: dict) -> list[str]:
    """Every problem with the answers, each naming its prompt."""
    problems: list[tuple[str, str]] = []

    def bad(key: str, why: str) -> None:
        problems.append((key, why))

    for key in ("project_name", "description", "author_name"):
        why = free_text_problem(str(answers[key]), required=key == "project_name")
        if why:
            bad(key, why)
    slug = str(answers["project_slug"])
    if not SLUG_RE.match(slug):
        bad("project_slug", f"{slug!r} is not a valid distribution name: use letters, digits, '-', '_' and '.', "
                            "starting and ending with a letter or digit (e.g. 'digits-lab')")
    if len(slug) > 64:
        bad("project_slug", f"{slug!r} is {len(slug)} characters long; use at most 64")
    module = str(answers["module_name"])
    if len(module) > 32:
        bad("module_name", f"{module!r} is {len(module)} characters long; use at most 32 (it appears in every import)")
    elif not MODULE_RE.match(module):
        hint = f"; e.g. 'lab_{re.sub(r'[^a-z0-9_]', '_', module.lower())}'" if module else ""
        bad("module_name", f"{module!r} is not a valid package name: use lower-case ASCII letters, digits and '_', "
                           f"not starting with a digit{hint}")
    elif keyword.iskeyword(module):
        bad("module_name", f"{module!r} is a Python keyword; choose another name, e.g. '{module}_lab'")
    elif module in sys.stdlib_module_names:
        bad("module_name", f"{module!r} would shadow the standard-library module {module!r}; e.g. '{module}_lab'")
    elif module in DEPENDENCY_MODULES:
        bad("module_name", f"{module!r} would shadow {module!r}, which the project imports or uses; "
                           f"e.g. '{module}_lab'")
    email = str(answers["author_email"])
    if email and not EMAIL_RE.match(email):
        bad("author_email", f"{email!r} is not an email address like 'name@example.org' (leave it empty for none)")
    for key, allowed in CHOICES.items():
        if str(answers[key]) not in allowed:
            bad(key, f"{answers[key]!r} is not supported; choose one of {', '.join(allowed)}")
    if not isinstance(answers["github_actions"], bool) and str(answers["github_actions"]).lower() not in (
        "yes", "no", "y", "n", "true", "false", "1", "0", "on", "off"
    ):
        bad("github_actions", f"{answers['github_actions']!r} is not yes or no")
    version = str(answers["labblocks_version"])
    if not VERSION_RE.match(version):
        bad("labblocks_version", f"{version!r} is not a version like '0.1.0'")
    url = str(answers["labblocks_git_url"])
    if url != "auto" and not re.match(r"^(https?://|ssh://|git@|file://)\S+$", url):
        bad("labblocks_git_url", f"{url!r} is not 'auto' or a git URL (https://, ssh://, git@ or file://)")
    index = str(answers["labblocks_index_url"])
    if index and not re.match(r"^https?://\S+$", index):
        bad("labblocks_index_url", f"{index!r} is not empty or an http(s) URL of a package index")
    if answers["labblocks_source"] == "path":
        raw = str(answers["labblocks_path"])
        path = Path(raw)
        if not raw or not path.is_absolute():
            bad("labblocks_path", f"{raw!r} is not an absolute path; give the full path of labblocks' registry/ folder")
        elif not (path / "pyproject.toml").is_file() or 'name = "labblocks"' not in (path / "pyproject.toml").read_text(
            encoding="utf-8", errors="replace"
        ):
            bad("labblocks_path", f"{raw!r} holds no pyproject.toml of labblocks; point it at the registry/ folder")
    if answers["labblocks_source"] == "git" and url == "auto" and str(answers.get("_template", "")).endswith(".zip"):
        bad("labblocks_git_url", "'auto' cannot name a repository for a zipped template (it is unpacked to a "
                                 "temporary folder); give the repository's git URL")
    return [f'Invalid answer for "{PROMPTS[key]}" ({key}): {why}' for key, why in problems]


if __name__ == "__main__":
    errors = check(ANSWERS)
    if errors:
        print("\n".join(["", *errors, "", "Nothing was generated. Run cookiecutter again with corrected answers."]),
              file=sys.stderr)
        sys.exit(1)
