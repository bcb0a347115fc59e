"""The README's "Change the task" example, as a user follows it: bake the default project, install it, run the
section's shell block as it stands (copy `examples/regression/` over the classifier, remove what only the
classifier used, `train -e fast`, the regression's own sanity tests), and check that every code excerpt the
section shows is a verbatim piece of the example's files (`...` marks what it leaves out), so the README
cannot drift from what this test applies. One bake, one install; about a minute."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from _full import announce, make_install
from _helpers import DEFAULT_MODULE, DEFAULT_SLUG, PATH_SOURCE, bake, iter_files, pytest_summary

pytestmark = pytest.mark.slow

EXAMPLE = Path("examples") / "regression"
SECTION = "## Change the task"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(readme: str) -> str:
    """The README's "Change the task" section, up to the next second-level heading."""
    start = readme.index(SECTION + "\n")
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start:] if end == -1 else readme[start:end]


def blocks(text: str, *languages: str) -> list[str]:
    """The fenced code blocks of `text` in these languages, each without its fences."""
    return [body for lang, body in FENCE.findall(text) if lang in languages]


def is_excerpt(excerpt: str, source: str) -> bool:
    """Whether the excerpt's lines are lines of `source`, in order and contiguous, except that a line `...` skips
    any number of source lines (as in `class Regressor(...):` / `...` / one of its methods). Blank lines do not
    count: ruff formats the README's Python blocks, which may space them differently."""
    have = [line for line in source.splitlines() if line.strip()]
    segments: list[list[str]] = [[]]
    for line in filter(str.strip, excerpt.splitlines()):
        if line.strip() == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    pos = 0
    for seg in filter(None, segments):
        found = next((k for k in range(pos, len(have) - len(seg) + 1) if have[k : k + len(seg)] == seg), None)
        if found is None:
            return False
        pos = found + len(seg)
    return True


def test_the_readme_example_turns_the_classifier_into_a_regression(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    project = bake(tmp_path / "out", **PATH_SOURCE)
    assert project.name == DEFAULT_SLUG
    text = section((project / "README.md").read_text(encoding="utf-8"))

    # Every excerpt is a piece of an example file, and every file the section names is in the example.
    example = {p.relative_to(project / EXAMPLE).as_posix(): p.read_text(encoding="utf-8")
               for p in iter_files(project / EXAMPLE)}
    excerpts = blocks(text, "python", "yaml")
    assert len(excerpts) >= 4, text
    for excerpt in excerpts:
        assert any(is_excerpt(excerpt, source) for source in example.values()), f"not in {EXAMPLE}/:\n{excerpt}"
    named = set(re.findall(r"`((?:src|configs|tests)/[\w./]+\.(?:py|yaml))`", text))
    assert named and named <= set(example), sorted(named - set(example))
    assert f"src/{DEFAULT_MODULE}/model.py" in named and "configs/default.yaml" in named

    installed = make_install(project, request, "test_change_task: default bake")
    (commands,) = blocks(text, "bash")
    assert commands.startswith(f"cp -r {EXAMPLE.as_posix()}/src "), commands
    env = {**installed.env, "VIRTUAL_ENV": str(project / ".venv"),
           "PATH": f"{project / '.venv' / 'bin'}{os.pathsep}{installed.env.get('PATH', '')}"}  # the activated .venv
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=project, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"the README's commands exited {proc.returncode}:\n{commands}\n{out[-6000:]}"
    announce(request, f"[test_change_task] {pytest_summary(proc.stdout)}")

    # The copy replaced the classifier: the project now is what the example holds.
    for rel, source in example.items():
        assert (project / rel).read_text(encoding="utf-8") == source, rel
    assert not (project / "src" / DEFAULT_MODULE / "image_files.py").exists()
    # `train -e fast` ran end to end on the regression's metrics, then the sanity tests passed.
    for line in ("best val/loss:", "test/loss:", "test/mae:", "best checkpoint: +runs/regression-smoke/checkpoints/"):
        assert re.search(f"^{line}", proc.stdout, re.MULTILINE), proc.stdout[-3000:]
    assert (project / "runs" / "regression-smoke" / "checkpoints" / "last.ckpt").is_file()
    summary = pytest_summary(proc.stdout)
    assert summary.startswith("6 passed"), summary
