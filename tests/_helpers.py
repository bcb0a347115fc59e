"""Shared helpers for the template tests: paths, the answers cookiecutter.json offers, baking, file walking."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the dev environment runs 3.11+, tomli is the same parser
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "{{cookiecutter.project_slug}}"
MODULE_DIR = "{{cookiecutter.module_name}}"
REGISTRY = REPO / "registry"
CONTEXT: dict[str, Any] = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))
DEFAULT_SLUG = "digits-lab"
DEFAULT_MODULE = "digits_lab"
# Folders (relative to the baked project, with MODULE_DIR unrendered) whose `_tasks/<task>/` the post hook moves up.
TASK_PARENTS = ("src/" + MODULE_DIR, "tests", "configs")
# Answers that make every bake self-contained: labblocks from this checkout when the source is `path`.
PATH_SOURCE = {"labblocks_source": "path", "labblocks_path": str(REGISTRY)}
SUBPROCESS_TIMEOUT = 900
# git without the user's identity or signing settings, for commits the tests make.
GIT = ["git", "-c", "user.name=Template Tests", "-c", "user.email=tests@example.org", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]


def choices(key: str) -> list[str]:
    """The values cookiecutter.json offers for a choice prompt, in its order."""
    value = CONTEXT[key]
    assert isinstance(value, list), f"{key} is not a choice in cookiecutter.json"
    return [str(v) for v in value]


def prompt_text(key: str) -> str:
    """The question cookiecutter shows for `key`."""
    prompt = CONTEXT["__prompts__"][key]
    return prompt["__prompt__"] if isinstance(prompt, dict) else prompt


def task_implemented(task: str) -> bool:
    """Whether the template ships the task's files (a task can be a placeholder before its files land)."""
    return (TEMPLATE / "src" / MODULE_DIR / "_tasks" / task / "data.py").is_file()


def task_marks(task: str) -> list[pytest.MarkDecorator]:
    """Marks for a test that bakes `task`: a skip while the template lacks that task's files."""
    if task_implemented(task):
        return []
    return [pytest.mark.skip(reason=f"{task.split('_')[0]} task files not present yet")]


def bake(output_dir: Path, template: str | Path = REPO, **answers: Any) -> Path:
    """Bake non-interactively with the cookiecutter API (which creates output_dir if needed); returns the
    project folder."""
    return Path(
        cookiecutter(template=str(template), no_input=True, output_dir=str(output_dir), extra_context=answers or None)
    )


def cli_args(answers: dict[str, Any]) -> list[str]:
    """`key=value` arguments for the cookiecutter CLI."""
    return [f"{k}={'yes' if v is True else 'no' if v is False else v}" for k, v in answers.items()]


def run_cli(
    output_dir: Path,
    *args: str,
    template: str | Path = REPO,
    no_input: bool = True,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the real cookiecutter CLI (`python -m cookiecutter`) in a subprocess, capturing its output. It runs in
    the output folder unless told otherwise: `python -m` puts the working directory first on sys.path, and in
    this checkout that would import its local_extensions.py instead of the baked template's."""
    output_dir.mkdir(parents=True, exist_ok=True)
    cwd = cwd or output_dir
    cmd = [sys.executable, "-m", "cookiecutter", *(["--no-input"] if no_input else []), "-o", str(output_dir),
           str(template), *args]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(cmd, input=stdin if stdin is not None else "", capture_output=True, text=True,
                          encoding="utf-8", errors="replace", cwd=cwd, env=env, timeout=timeout)


def output(proc: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr of a finished command, together (cookiecutter's CLI prints refusals to stdout)."""
    return proc.stdout + proc.stderr


def head_commit(repo: Path = REPO) -> str:
    """The commit checked out in a git working tree."""
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def clone_checkout(dest: Path) -> Path:
    """A git clone of this repository at `dest`: its committed state and, when the checkout has uncommitted
    edits (tracked or new, not ignored), one more commit holding them, so a developer tests what they see
    (on CI's clean clone there is none). Returns dest."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True, capture_output=True, timeout=300)
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout
    for rel in sorted(set(filter(None, listed.split("\0")))):
        src, dst = REPO / rel, dest / rel
        if not src.exists():
            dst.unlink(missing_ok=True)
        elif not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    subprocess.run([*GIT, "-C", str(dest), "add", "-A"], check=True, capture_output=True)
    if subprocess.run(["git", "-C", str(dest), "diff", "--cached", "--quiet"]).returncode:
        subprocess.run([*GIT, "-C", str(dest), "commit", "-q", "-m", "uncommitted edits of the checkout"],
                       check=True, capture_output=True)
    return dest


def git_init_commit(project: Path, message: str = "baked") -> None:
    """Make `project` a git repository with everything committed."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run([*GIT, *args], cwd=project, check=True, capture_output=True)


def iter_files(root: Path) -> Iterator[Path]:
    """Every file under root, skipping VCS metadata, virtual environments and caches."""
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(filenames):
            yield Path(dirpath, name)


def relative_files(root: Path) -> set[str]:
    """The posix paths of every file under root, relative to it."""
    return {p.relative_to(root).as_posix() for p in iter_files(root)}


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def listing(root: Path) -> list[str]:
    """Everything left under root (files and folders), for assertion messages."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) if root.exists() else []


# `${{ ... }}` is GitHub Actions' expression syntax, which a workflow file legitimately contains.
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}\n]*\}\}")
UNRENDERED = re.compile(r"\{\{|\{%|\{#|cookiecutter\.")


def unrendered_lines(text: str) -> list[str]:
    """Lines that still hold Jinja delimiters or `cookiecutter.` references (GitHub's `${{ }}` allowed)."""
    return [line for line in text.splitlines() if UNRENDERED.search(GITHUB_EXPRESSION.sub("", line))]


def hook_errors(text: str) -> dict[str, tuple[str, str]]:
    """The answer checks' `Invalid answer for "<prompt>" (<key>): <why>` lines, by key."""
    found = re.findall(r'^Invalid answer for "([^"\n]+)" \((\w+)\): (.+)$', text, flags=re.MULTILINE)
    return {key: (label, why) for label, key, why in found}


def pytest_summary(stdout: str) -> str:
    """The closing line of a `pytest -q` run ("32 passed, 2 skipped in 40.1s"), wherever it stands in the
    output (make may print more after it); fails the test when there is none."""
    for line in reversed(stdout.splitlines()):
        if re.search(r"\b\d+ (passed|failed|errors?|skipped|deselected)\b.* in [\d.]+s", line):
            return line.strip("= ")
    pytest.fail(f"no pytest summary line in the output:\n{stdout[-3000:]}")


def uv_env() -> dict[str, str]:
    """The environment for uv and the baked project: the caller's (UV_CACHE_DIR included), minus whatever would
    point uv at another environment or interpreter; W&B disabled."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "PYTHONPATH", "CONDA_PREFIX",
                        "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "UV_COMPILE_BYTECODE")}  # a make of its own; uv defaults
    env["WANDB_MODE"] = "disabled"
    return env


def find_uv() -> str:
    """uv on PATH, or the one installed next to this Python."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv is None:
        pytest.skip("uv is not installed")
    return uv


def run(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = SUBPROCESS_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with the tail of its output when it exits non-zero."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode} in {cwd}\n"
                    f"--- stdout (tail) ---\n{proc.stdout[-6000:]}\n--- stderr (tail) ---\n{proc.stderr[-6000:]}")
    return proc
