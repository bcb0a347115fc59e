"""Render-only bakes over the template's options: which files exist, that nothing is left unrendered, that
every Python, YAML, TOML and JSON file parses, that the dependencies follow the answers, and that ruff is clean.

By default the bakes are a covering array of the options task x logger x license x github_actions x
labblocks_source (git, index, index with a custom URL, path) x python_version: every value of every option
and every pair of values of any two options appears in at least one bake (about 20 bakes;
`test_every_pair_of_options_is_baked` checks it). RENDER_FULL_PRODUCT=1 bakes the full product instead, 576
bakes (several minutes).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from _helpers import (
    CONTEXT,
    DEFAULT_MODULE,
    DEFAULT_SLUG,
    MODULE_DIR,
    REGISTRY,
    REPO,
    TASK_PARENTS,
    TEMPLATE,
    bake,
    choices,
    head_commit,
    load_toml,
    relative_files,
    task_implemented,
    task_marks,
    tomllib,
    unrendered_lines,
)
from _pairwise import pairwise, uncovered_pairs
from packaging.requirements import Requirement

VERSION = CONTEXT["labblocks_version"]
INDEX_URL = "https://packages.example.org/simple/"
# The labblocks extra that brings each task's model adapter.
TASK_EXTRA = {"image_classification": "timm", "text_classification": "hf"}
LICENSE_MARKERS = {
    "MIT": ("MIT License", "Permission is hereby granted, free of charge"),
    "Apache-2.0": ("Licensed under the Apache License, Version 2.0", "http://www.apache.org/licenses/LICENSE-2.0"),
    "BSD-3-Clause": ("BSD 3-Clause License", "Redistribution and use in source and binary forms"),
    "Proprietary": ("All rights reserved.", "proprietary and confidential"),
}
SPDX = {"MIT": "MIT", "Apache-2.0": "Apache-2.0", "BSD-3-Clause": "BSD-3-Clause",
        "Proprietary": "LicenseRef-Proprietary"}
AUTHOR = "Ada Lovelace"
LONG_NAME = "Self Supervised Pretraining Of Vision Transformers Lab"


class Combo(NamedTuple):
    task: str
    logger: str
    github_actions: bool
    source: str
    license: str
    python: str
    index_url: str

    @property
    def id(self) -> str:
        gha = "gha" if self.github_actions else "nogha"
        index = "-custom-index" if self.index_url else ""
        return f"{self.task}-{self.logger}-{gha}-{self.source}{index}-{self.license}-py{self.python}"

    def answers(self) -> dict[str, Any]:
        return {
            "task": self.task, "logger": self.logger, "github_actions": self.github_actions,
            "labblocks_source": self.source, "license": self.license, "python_version": self.python,
            "labblocks_index_url": self.index_url, "author_name": AUTHOR,
            "labblocks_path": str(REGISTRY) if self.source == "path" else "",
        }


def axes() -> list[list[Any]]:
    """The options a bake varies, in Combo's field order; `index` with a custom index URL counts as a value."""
    sources = [v for s in choices("labblocks_source") for v in ((s, "index-url") if s == "index" else (s,))]
    return [choices("task"), choices("logger"), [True, False], sources, choices("license"), choices("python_version")]


def combo(task: str, logger: str, gha: bool, source: str, license_: str, python: str) -> Combo:
    index_url = INDEX_URL if source == "index-url" else ""
    return Combo(task, logger, gha, "index" if source == "index-url" else source, license_, python, index_url)


def make_combos(full: bool) -> list[Combo]:
    """A covering array of the options (every pair of values); with `full`, the full product of the options'
    values, every other `index` bake with a custom index URL."""
    if not full:
        return [combo(*row) for row in pairwise(axes())]
    product = itertools.product(*[[v for v in axis if v != "index-url"] for axis in axes()])
    return [combo(*row[:3], "index-url" if row[3] == "index" and i % 2 else row[3], *row[4:])
            for i, row in enumerate(product)]


def axis_values(c: Combo) -> tuple[Any, ...]:
    """A combo as one value per axis (the inverse of `combo`)."""
    source = "index-url" if c.index_url else c.source
    return (c.task, c.logger, c.github_actions, source, c.license, c.python)


COMBOS = make_combos(full=os.environ.get("RENDER_FULL_PRODUCT", "0") == "1")
RUNNABLE = [c for c in COMBOS if task_implemented(c.task)]
PARAMS = [pytest.param(c, id=c.id, marks=task_marks(c.task)) for c in COMBOS]


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Combo], Path]:
    """`baked(combo)`: the project baked for combo, baked once per module."""
    root = tmp_path_factory.mktemp("render")
    cache: dict[Combo, Path] = {}

    def get(combo: Combo) -> Path:
        if combo not in cache:
            cache[combo] = bake(root / combo.id, **combo.answers())
        return cache[combo]

    return get


def module_of(project: Path) -> str:
    (module,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    return module


def expected_files(combo: Combo, module: str) -> set[str]:
    """The template's files as the answers should leave them: the chosen task's `_tasks/<task>/` files moved up
    (placeholders named .keep dropped), other tasks' files gone, and .github only with GitHub Actions."""
    expected = set()
    for rel in relative_files(TEMPLATE):
        for parent in TASK_PARENTS:
            prefix = f"{parent}/_tasks/"
            if rel.startswith(prefix):
                task, _, rest = rel[len(prefix):].partition("/")
                rel = f"{parent}/{rest}" if task == combo.task and Path(rest).name != ".keep" else ""
                break
        if not rel or (rel.startswith(".github/") and not combo.github_actions):
            continue
        expected.add(rel.replace(MODULE_DIR, module))
    return expected


@pytest.mark.parametrize("combo", PARAMS)
def test_files_present_and_absent(baked: Callable[[Combo], Path], combo: Combo) -> None:
    project = baked(combo)
    module = module_of(project)
    assert project.name == DEFAULT_SLUG and module == DEFAULT_MODULE
    files = relative_files(project)
    assert files == expected_files(combo, module)
    for moved in (f"src/{module}/data.py", f"src/{module}/data_config.py", "tests/test_data.py",
                  "configs/default.yaml"):
        assert moved in files
    assert not [p for p in project.rglob("*") if p.name == "_tasks" or p.name == ".keep"]
    assert ((project / ".github" / "workflows" / "ci.yml").is_file()) is combo.github_actions
    assert (project / ".github").exists() is combo.github_actions


@pytest.mark.parametrize("combo", PARAMS)
def test_nothing_left_unrendered(baked: Callable[[Combo], Path], combo: Combo) -> None:
    project = baked(combo)
    leftovers = {}
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        assert "{" not in rel and "cookiecutter" not in rel, rel
        if path.is_file():
            lines = unrendered_lines(path.read_text(encoding="utf-8"))
            if rel == ".cruft.json":  # the answers record names cookiecutter's extensions; Jinja must be gone
                lines = [line for line in lines if re.search(r"\{\{|\{%|\{#", line)]
            if lines:
                leftovers[rel] = lines
    assert not leftovers
    if combo.github_actions:
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
        assert workflow["jobs"]["gpu"]["if"] == "${{ vars.RUN_GPU_JOB == 'true' }}"


@pytest.mark.parametrize("combo", PARAMS)
def test_every_python_yaml_and_toml_file_parses(baked: Callable[[Combo], Path], combo: Combo) -> None:
    project = baked(combo)
    counts = {".py": 0, ".yaml": 0, ".toml": 0, ".json": 0}
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            compile(text, str(path), "exec", dont_inherit=True)
            counts[".py"] += 1
        elif path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(text))
            counts[".yaml"] += 1
        elif path.suffix == ".toml":
            tomllib.loads(text)
            counts[".toml"] += 1
        elif path.suffix == ".json":
            json.loads(text)
            counts[".json"] += 1
    assert counts[".py"] >= 15 and counts[".yaml"] >= 6 and counts[".toml"] == 1 and counts[".json"] == 1, counts


@pytest.mark.parametrize("combo", PARAMS)
def test_pyproject_follows_the_answers(baked: Callable[[Combo], Path], combo: Combo) -> None:
    project = baked(combo)
    pyproject = load_toml(project / "pyproject.toml")
    meta = pyproject["project"]
    assert meta["name"] == DEFAULT_SLUG
    assert meta["requires-python"] == f">={combo.python}"
    assert meta["license"] == SPDX[combo.license]
    assert meta["authors"] == [{"name": AUTHOR, "email": "you@example.com"}]
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + combo.python.replace(".", "")
    assert (project / ".python-version").read_text(encoding="utf-8").strip() == combo.python

    deps = [Requirement(d) for d in meta["dependencies"]]
    names = [d.name for d in deps]
    assert ("tensorboard" in names) is (combo.logger == "tensorboard")
    (labblocks,) = [d for d in deps if d.name == "labblocks"]
    assert {"run", TASK_EXTRA[combo.task]} <= labblocks.extras
    sources = pyproject["tool"].get("uv", {}).get("sources", {})
    if combo.source == "git":
        assert labblocks.url == f"git+{REPO.as_uri()}@{head_commit()}#subdirectory=registry"
        assert not str(labblocks.specifier) and "labblocks" not in sources
    elif combo.source == "path":
        assert labblocks.url == REGISTRY.as_uri()
        assert sources["labblocks"] == {"path": str(REGISTRY), "editable": True}
    else:
        assert labblocks.url is None and str(labblocks.specifier) == f"~={VERSION}"
        indexes = pyproject["tool"].get("uv", {}).get("index", [])
        if combo.index_url:
            assert [i["url"] for i in indexes] == [combo.index_url]
            assert sources["labblocks"] == {"index": indexes[0]["name"]}
        else:
            assert not indexes and "labblocks" not in sources


@pytest.mark.parametrize("combo", PARAMS)
def test_logger_license_and_readme(baked: Callable[[Combo], Path], combo: Combo) -> None:
    project = baked(combo)
    config = yaml.safe_load((project / "configs" / "default.yaml").read_text(encoding="utf-8"))
    # default.yaml holds only what differs from the schema, whose logger.kind is wandb (labblocks.run.schema)
    assert config["logger"].get("kind", "wandb") == combo.logger
    assert ("kind" in config["logger"]) is (combo.logger != "wandb")
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    for name, markers in LICENSE_MARKERS.items():
        for marker in markers:
            assert (marker in license_text) is (name == combo.license), (name, marker)
    (copyright_line,) = [line for line in license_text.splitlines() if line.startswith("Copyright")]
    assert AUTHOR in copyright_line
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Digits Lab\n\nA PyTorch Lightning research project.\n")
    assert f"Python {combo.python}+" in readme


def test_every_pair_of_options_is_baked() -> None:
    """The runnable bakes hold every value of every option and every pair of values of any two options."""
    runnable_axes = axes()
    runnable_axes[0] = [t for t in runnable_axes[0] if task_implemented(t)]
    assert not uncovered_pairs(runnable_axes, [axis_values(c) for c in RUNNABLE])
    assert {c.source for c in COMBOS} == set(choices("labblocks_source"))
    assert len(COMBOS) < 30 or os.environ.get("RENDER_FULL_PRODUCT") == "1"


def test_ruff_is_clean_on_every_bake(baked: Callable[[Combo], Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    """`ruff check` and `ruff format --check` over all baked projects (the ruff version baked projects pin);
    each project is checked with the config in its own pyproject. One more bake has a long package name,
    whose every `import <module>` line must still fit and format the same."""
    projects = [baked(c) for c in RUNNABLE]
    root = projects[0].parents[1]  # every bake lies in <root>/<combo id>/<slug>
    # The longest package name the hook allows (32 characters) is the worst case for line lengths.
    projects.append(bake(root / "long-name", project_name=LONG_NAME, module_name="self_supervised_vit_pretraining1"))
    names = [str(p.relative_to(root)) for p in projects]
    for command in (["check", "--output-format", "concise"], ["format", "--check"]):
        proc = subprocess.run([sys.executable, "-m", "ruff", *command, "--no-cache", *names], cwd=root,
                              capture_output=True, text=True, timeout=300)
        report = proc.stdout if len(proc.stdout) < 8000 else proc.stdout[:6000] + "\n...\n" + proc.stdout[-1500:]
        assert proc.returncode == 0, f"ruff {' '.join(command)}:\n" + report + proc.stderr[-2000:]


@pytest.mark.parametrize("where", ["absolute", "dot", "relative"])
def test_auto_git_url_from_a_local_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """labblocks_git_url=auto with a local template renders a git+file:// URL of the template folder, however
    the template path was typed (`cookiecutter /abs/path`, `cookiecutter .`, `cookiecutter ../name`)."""
    template = {"absolute": str(REPO), "dot": ".", "relative": REPO.name}[where]
    monkeypatch.chdir(REPO.parent if where == "relative" else REPO)
    project = bake(tmp_path / "out", template=template, labblocks_source="git", labblocks_git_url="auto")
    deps = [Requirement(d) for d in load_toml(project / "pyproject.toml")["project"]["dependencies"]]
    (labblocks,) = [d for d in deps if d.name == "labblocks"]
    assert labblocks.url == f"git+{REPO.as_uri()}@{head_commit()}#subdirectory=registry"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/research-template", "git+https://github.com/acme/research-template"),
        ("https://gitlab.example.org/acme/tmpl.git", "git+https://gitlab.example.org/acme/tmpl.git"),
        ("git@github.com:acme/research-template.git", "git+ssh://git@github.com/acme/research-template.git"),
        ("ssh://git@example.org/acme/tmpl.git", "git+ssh://git@example.org/acme/tmpl.git"),
        ("file:///srv/git/tmpl", "git+file:///srv/git/tmpl"),
    ],
    ids=["https", "https-dotgit", "scp-style", "ssh", "file"],
)
def test_explicit_git_url(tmp_path: Path, url: str, expected: str) -> None:
    project = bake(tmp_path, labblocks_source="git", labblocks_git_url=url)
    deps = [Requirement(d) for d in load_toml(project / "pyproject.toml")["project"]["dependencies"]]
    (labblocks,) = [d for d in deps if d.name == "labblocks"]
    assert labblocks.url == f"{expected}@{head_commit()}#subdirectory=registry"
