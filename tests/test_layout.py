"""The baked project stays one a newcomer reads in an hour: per task, `src/` is at most about 1,500 lines with no
file over 300, it imports none of its own modules inside a function, and its command table is the only entry
point (`[project.scripts]`, the Makefile and `python -m <module>` name the same commands)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from _helpers import DEFAULT_MODULE, DEFAULT_SLUG, PATH_SOURCE, bake, choices, load_toml, task_marks

MAX_SRC_LINES = 1500
MAX_FILE_LINES = 300
COMMANDS = ("train", "evaluate", "export", "lr-find", "search", "submit")


@pytest.fixture(scope="module", params=[pytest.param(t, marks=task_marks(t)) for t in choices("task")])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bake(tmp_path_factory.mktemp(request.param), task=request.param, **PATH_SOURCE)


def sources(project: Path) -> list[Path]:
    return sorted((project / "src" / DEFAULT_MODULE).rglob("*.py"))


def test_src_is_small_and_each_file_short(project: Path) -> None:
    lengths = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in sources(project)}
    assert sum(lengths.values()) <= MAX_SRC_LINES, lengths
    assert not {name: n for name, n in lengths.items() if n > MAX_FILE_LINES}, lengths


def test_no_import_of_the_project_sits_inside_a_function(project: Path) -> None:
    deferred = []
    for path in sources(project):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(func):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                deferred += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] == DEFAULT_MODULE]
    assert not deferred, deferred


def test_one_command_table_behind_every_entry_point(project: Path) -> None:
    scripts = load_toml(project / "pyproject.toml")["project"]["scripts"]
    assert scripts == {DEFAULT_SLUG: f"{DEFAULT_MODULE}.__main__:main"}
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    used = set(re.findall(rf"\$\(RUN\) {DEFAULT_SLUG} ([a-z-]+)", makefile))
    assert used == set(COMMANDS), used
    assert f"python -m {DEFAULT_MODULE}." not in makefile
