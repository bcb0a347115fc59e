"""Jinja helpers for the template.

- Filters that quote free-text answers for the file they land in (`toml_str`, `yaml_str`, `py_str`). The
  answer checks have already refused control characters and line breaks, so quoting only has to handle
  quotes, backslashes and characters YAML would read as line breaks or non-printable.
- Filters that derive defaults and check answers while cookiecutter asks the questions, before any folder
  exists (`project_slug_for`, `module_name_for`, `check_answers`); the rules are those of
  hooks/pre_gen_project.py, which this module imports.
- Globals that say where the template came from and what labblocks pins (`template_root`,
  `template_commit`, `template_url`, `labblocks_requirement`, `labblocks_notes`) and that write the
  `.cruft.json` record (`cruft_json`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from jinja2.ext import Extension

HERE = Path(__file__).resolve().parent
# Keys cookiecutter adds to the context that describe this machine, not the project: not recorded.
LOCAL_KEYS = ("_output_dir", "_repo_dir", "_checkout")

# PyYAML's printable set, minus the characters it folds as line breaks (NEL, LS, PS).
_YAML_UNSAFE = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def toml_str(value: object) -> str:
    """A TOML basic string."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: _escape(m.group()), text) + '"'


def yaml_str(value: object) -> str:
    """A YAML double-quoted scalar."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _YAML_UNSAFE.sub(lambda m: _escape(m.group()), text) + '"'


def py_str(value: object) -> str:
    """A Python string literal, quoted as ruff's formatter writes it: double quotes unless the text holds a
    double quote and no single quote (so a fresh bake passes `ruff format --check`)."""
    literal = repr(str(value))
    if literal.startswith("'") and '"' not in literal:
        literal = '"' + literal[1:-1] + '"'  # no quote of either kind inside: nothing to re-escape
    return literal


# ---------------------------------------------------------------------------------------------------------
# Answer checks (the rules live in hooks/pre_gen_project.py)

_loaded: dict[str, ModuleType] = {}


def _load(path: Path) -> ModuleType:
    """The module in `path` as the file is now. Keyed by content: `cruft update` renders two commits of the
    template from one folder in one process, so a module cached by name would be the older one."""
    source = path.read_bytes()
    key = hashlib.sha1(source).hexdigest()
    if key not in _loaded:
        spec = importlib.util.spec_from_file_location(f"_template_{path.stem}_{key[:12]}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def rules() -> ModuleType:
    """hooks/pre_gen_project.py, imported."""
    return _load(HERE / "hooks" / "pre_gen_project.py")


def project_slug_for(name: object) -> str:
    """The default slug for a project name: python-slugify's, cut after the last whole word that fits the slug
    limit."""
    from slugify import slugify

    return slugify(str(name), max_length=rules().SLUG_MAX, word_boundary=True, save_order=True) or "project"


def module_name_for(slug: object) -> str:
    """The default import name for a slug (always a valid one)."""
    return rules().derive_module_name(str(slug))


def check_answers(answers: dict[str, Any]) -> str:
    """Check every answer given so far; raise cookiecutter's FailedHookException, which its CLI prints and
    exits 1 on, naming each bad answer's prompt. Used by the private variable `__answers_checked`, which
    cookiecutter renders after the last question and before it creates the project folder."""
    from cookiecutter.exceptions import FailedHookException

    checks = rules()
    is_git = template_commit() is not None
    errors = checks.check(dict(answers), template_is_git=is_git)
    url = str(answers.get("labblocks_git_url", "auto"))
    if not errors and answers.get("labblocks_source") == "git" and url != "auto" and not is_git:
        tag = f"labblocks-v{answers['labblocks_version']}"
        try:
            found = subprocess.run(["git", "ls-remote", "--tags", _pip_git_url(url), f"refs/tags/{tag}"],
                                   capture_output=True, text=True, timeout=60)
            why = found.stderr.strip().splitlines()[-1:] if found.returncode else None
        except (OSError, subprocess.TimeoutExpired) as err:
            found, why = None, [str(err)]
        if found is None or found.returncode or not found.stdout.strip():
            reason = f"git ls-remote failed: {why[0]}" if why else f"it has no tag {tag}"
            errors.append(
                f'Invalid answer for "{checks.PROMPTS["labblocks_git_url"]}" (labblocks_git_url): this template is '
                f"not a git checkout, so labblocks is pinned to the release tag {tag} of {checks.shown(url)}, but "
                f"{reason}; give a reachable repository that has the tag, or bake from a git clone or URL of the "
                "template (then its commit is pinned)"
            )
    if errors:
        raise FailedHookException(checks.report(errors))
    return "yes"


# ---------------------------------------------------------------------------------------------------------
# Where the template came from, and the labblocks pin


def template_root() -> str:
    """The absolute path of the template being baked (where this file lives): the folder given to
    cookiecutter, its clone in cookiecutter's cache, or cruft's temporary clone."""
    return HERE.as_posix()


def _git(*args: str) -> str | None:
    """Output of a git command in the template folder, or None when it fails."""
    try:
        done = subprocess.run(["git", "-C", str(HERE), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def template_commit() -> str | None:
    """The commit checked out in the template folder, or None when the folder is not the top of a git
    working tree (a zip archive, a copied folder)."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != HERE:
        return None
    return _git("rev-parse", "HEAD")


def _without_credentials(url: str) -> str:
    """An http(s) URL without user name and password (they must not land in committed files)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def _abbreviations() -> dict[str, str]:
    from cookiecutter.config import BUILTIN_ABBREVIATIONS, get_user_config

    try:
        return {**BUILTIN_ABBREVIATIONS, **get_user_config()["abbreviations"]}
    except Exception:  # noqa: BLE001 - an unreadable user config is cookiecutter's to report
        return dict(BUILTIN_ABBREVIATIONS)


def template_url(cookiecutter: dict[str, Any]) -> str | None:
    """Where the template came from, as git (and cruft) can clone it: a URL with abbreviations expanded
    (`gh:org/repo` -> `https://github.com/org/repo.git`) and without `git+` or credentials, or the absolute
    path of a local template folder. None for a zip archive."""
    from cookiecutter.repository import expand_abbreviations, is_repo_url, is_zip_file

    given = str(cookiecutter.get("_template", ""))
    expanded = expand_abbreviations(given, _abbreviations())
    if is_zip_file(expanded):
        return None
    if is_repo_url(expanded):
        return _without_credentials(re.sub(r"^(git|hg)\+", "", expanded))
    if re.match(r"^[A-Za-z][\w.-]+:", given):  # an abbreviation only the CLI's --config-file knows: its clone
        origin = _git("remote", "get-url", "origin")
        if origin:
            return _without_credentials(origin)
    if Path(given).is_absolute():  # cruft records local templates as absolute paths
        return Path(given).as_posix()
    return template_root()  # a relative path, resolved by cookiecutter from where it ran


def _pip_git_url(url: str) -> str:
    """A git URL in the form a requirement's `git+` needs: scp-style `git@host:path` becomes
    `ssh://git@host/path`, a local path a file:// URL."""
    url = re.sub(r"^git\+", "", url)
    if re.match(r"^[\w.-]+@[\w.-]+:", url) and "://" not in url:
        user_host, path = url.split(":", 1)
        return f"ssh://{user_host}/{path.lstrip('/')}"
    if "://" not in url:
        return Path(url).as_uri()
    return url


def _commit(cookiecutter: dict[str, Any]) -> str | None:
    """The template commit being baked: cruft passes it as `_commit`; otherwise the checkout's HEAD."""
    return str(cookiecutter.get("_commit") or "") or template_commit()


def labblocks_git_pin(cookiecutter: dict[str, Any]) -> tuple[str, str]:
    """(URL, revision) that the `git` source pins: the template's repository (or labblocks_git_url) at the
    exact commit being baked; the tag `labblocks-v<version>` only when the template is not a git checkout
    and an explicit URL was given (the answer checks make sure that tag exists)."""
    answer = str(cookiecutter["labblocks_git_url"])
    url = template_url(cookiecutter) if answer == "auto" else answer
    commit = _commit(cookiecutter)
    revision = commit or f"labblocks-v{cookiecutter['labblocks_version']}"
    return _pip_git_url(url or ""), revision


def registry_version() -> str | None:
    """The version in the template's registry/pyproject.toml (what a `git` pin of this commit installs)."""
    try:
        text = (HERE / "registry" / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)
    return match.group(1) if match else None


def labblocks_requirement(cookiecutter: dict[str, Any]) -> str:
    """The PEP 508 line for labblocks, with the extras the task needs, for the chosen source."""
    extras = "timm,run" if cookiecutter["task"] == "image_classification" else "hf,run"
    source = cookiecutter["labblocks_source"]
    if source == "git":
        url, revision = labblocks_git_pin(cookiecutter)
        return f"labblocks[{extras}] @ git+{url}@{revision}#subdirectory=registry"
    if source == "path":
        return f"labblocks[{extras}] @ file://{quote(str(cookiecutter['labblocks_path']))}"
    return f"labblocks[{extras}]~={cookiecutter['labblocks_version']}"


def labblocks_notes(cookiecutter: dict[str, Any]) -> list[str]:
    """Lines the post-generation hook prints about the labblocks pin: what it is, and warnings when it will
    not be what the user expects (uncommitted changes under registry/, a pin to a folder on this machine)."""
    if cookiecutter["labblocks_source"] != "git":
        return []
    url, revision = labblocks_git_pin(cookiecutter)
    notes = [f"labblocks: pinned to {url} at {revision[:12]} (subdirectory registry)"]
    if "_commit" not in cookiecutter and _git("status", "--porcelain", "--", "registry"):
        notes.append(
            "WARNING: the template folder has uncommitted changes under registry/; they are NOT in the pinned "
            "commit. To use them, bake again with labblocks_source=path "
            f"labblocks_path={(HERE / 'registry').as_posix()} (or commit them and bake again)."
        )
    if url.startswith("file://"):
        origin = _git("remote", "get-url", "origin")
        hint = f" (e.g. labblocks_git_url={_without_credentials(origin)})" if origin else ""
        notes.append(
            "Note: the pin names a folder on this machine; a clone of this project elsewhere (CI, a colleague) "
            f"cannot install it. Bake from the template's URL, or answer labblocks_git_url{hint}."
        )
    return notes


def cruft_json(cookiecutter: dict[str, Any]) -> str:
    """The `.cruft.json` record of this bake, as cruft writes it: template URL, commit, checkout, the
    answers (`context.cookiecutter`, with `_template` and `_commit` as cruft passes them) and directory,
    so that `cruft check`, `cruft diff` and `cruft update` work on the baked project."""
    answers = {k: v for k, v in cookiecutter.items() if k not in LOCAL_KEYS}
    answers["_template"] = template_url(cookiecutter)
    answers.pop("_commit", None)
    answers["_commit"] = _commit(cookiecutter)
    state = {
        "template": answers["_template"],
        "commit": answers["_commit"],
        "checkout": cookiecutter.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": None,
    }
    return json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": "))


FILTERS = {
    "toml_str": toml_str, "yaml_str": yaml_str, "py_str": py_str, "project_slug_for": project_slug_for,
    "module_name_for": module_name_for, "check_answers": check_answers,
}
GLOBALS = {
    "template_root": template_root, "template_commit": template_commit, "template_url": template_url,
    "labblocks_requirement": labblocks_requirement, "registry_version": registry_version,
    "labblocks_notes": labblocks_notes, "cruft_json": cruft_json,
}


_OWN_DIGEST = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()


class QuotingExtension(Extension):
    """Registers FILTERS and GLOBALS, taken from this file as it is on disk now: under `cruft update` the
    module imported for the old commit stays in sys.modules while the new commit is rendered."""

    def __init__(self, environment):  # noqa: ANN001 - Jinja's signature
        super().__init__(environment)
        path = Path(__file__)
        if hashlib.sha1(path.read_bytes()).hexdigest() == _OWN_DIGEST:
            filters, functions = FILTERS, GLOBALS
        else:
            current = _load(path)
            filters, functions = current.FILTERS, current.GLOBALS
        environment.filters.update(filters)
        environment.globals.update(functions)
