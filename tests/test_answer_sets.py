"""Property: any set of answers either bakes a project whose every .py, .toml, .yaml and .json file parses,
or is refused with a message naming a prompt, leaving nothing in the output folder or next to it.

The answers are of the kind that broke bakes before the checks ran while cookiecutter asks: project names
of hundreds of characters (a slug too long for a folder name), slugs and module names holding path
separators, dots, `..`, spaces and non-ASCII letters, with every choice. The examples per run come from the
Hypothesis profile (tests/conftest.py: 100 locally, 500 on CI).

To count the outcomes of N answer sets against any checkout of the template (e.g. an old commit):

    python tests/test_answer_sets.py --template DIR [--examples 500]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cookiecutter.generate
import cookiecutter.hooks
import yaml
from _helpers import CONTEXT, REGISTRY, REPO, hook_errors, iter_files, tomllib
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter as bake_api
from hypothesis import event, given, settings
from hypothesis import strategies as st

PIECES = ["lab", "Lab", "Digits", "/", "\\", "..", ".", "-", "_", " ", "  ", ":", "é", "ß", "Ω", "中文", "😀",
          "x" * 60, "Vision Transformers " * 6, "a" * 250, "../", "./", "~", "$HOME", "*", "?", "\t"]
chunk = st.one_of(
    st.sampled_from(PIECES),
    st.text(st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), exclude_characters="{}"), max_size=12),
)
text = st.lists(chunk, max_size=30).map(lambda parts: "".join(parts)[:700])
identifier = st.one_of(text, st.from_regex(r"[a-z_][a-z0-9_]{0,60}", fullmatch=True))
CHOICE_KEYS = ("python_version", "task", "logger", "license", "labblocks_source")


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A project name, maybe a typed slug and module name, and a value for every choice."""
    answers: dict[str, Any] = {"project_name": draw(text)}
    if draw(st.booleans()):
        answers["project_slug"] = draw(identifier)
    if draw(st.booleans()):
        answers["module_name"] = draw(identifier)
    for key in CHOICE_KEYS:
        answers[key] = draw(st.sampled_from(CONTEXT[key]))
    answers["github_actions"] = draw(st.booleans())
    if answers["labblocks_source"] == "path":
        answers["labblocks_path"] = str(REGISTRY)
    return answers


@contextmanager
def captured_output() -> Iterator[list[str]]:
    """Capture what this process and its children (the hooks) write to file descriptors 1 and 2."""
    sink: list[str] = []
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield sink
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            sink.append(tmp.read())


class Escaped(Exception):
    """cookiecutter was about to create or delete a folder outside the sandbox."""


@contextmanager
def sandboxed(sandbox: Path) -> Iterator[None]:
    """Make cookiecutter's folder creation and removal refuse paths outside `sandbox`. A slug such as
    `a/../../..` makes cookiecutter create the folder `<output>/a/../../..` and, when the pre-generation hook
    then fails, delete it: two levels above the output folder. Without this guard a template that lets such a
    slug through deletes the temporary folder of the whole machine (this happened to /tmp while this test was
    written)."""
    inside = os.path.realpath(sandbox)

    def check(path: Any) -> Any:
        target = os.path.normpath(os.path.join(os.getcwd(), os.fspath(path)))
        if os.path.commonpath([inside, os.path.realpath(target)]) != inside:
            raise Escaped(f"cookiecutter would touch {target}, outside the output folder's parent")
        return path  # unchanged: cookiecutter creates `a/../x` as `a` and `x`

    saved = (cookiecutter.generate.make_sure_path_exists, cookiecutter.generate.rmtree, cookiecutter.hooks.rmtree)
    cookiecutter.generate.make_sure_path_exists = lambda path: saved[0](check(path))
    cookiecutter.generate.rmtree = lambda path: saved[1](check(path))
    cookiecutter.hooks.rmtree = lambda path: saved[2](check(path))
    try:
        yield
    finally:
        cookiecutter.generate.make_sure_path_exists, cookiecutter.generate.rmtree, cookiecutter.hooks.rmtree = saved


def parse_every_file(project: Path) -> None:
    """Raise when a .py, .toml, .yaml or .json file of the project does not parse."""
    for path in iter_files(project):
        content = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            compile(content, str(path), "exec", dont_inherit=True)
        elif path.suffix == ".toml":
            tomllib.loads(content)
        elif path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(content))
        elif path.suffix == ".json":
            json.loads(content)


def outcome(template: Path, answers: dict[str, Any]) -> str:
    """Bake `answers` into a fresh folder: "baked", "refused: <keys>", or "BROKEN (<kind>): <details>"."""
    parent = Path(tempfile.mkdtemp(prefix="answer-set-"))
    out = parent / "out"
    try:
        with captured_output() as printed, sandboxed(parent):
            try:
                project = Path(bake_api(str(template), no_input=True, output_dir=str(out), extra_context=answers))
                error = None
            except FailedHookException as refused:
                error = refused
            except Escaped as exc:
                return f"BROKEN (creates or deletes outside the output folder): {exc}"
            except Exception as exc:  # noqa: BLE001 - any other exception is a broken bake
                return f"BROKEN (exception {type(exc).__name__}): {str(exc)[:200]}"
        left = sorted(p.relative_to(parent).as_posix() for p in parent.rglob("*") if p != out)
        if error is not None:
            keys = sorted(hook_errors(str(error) + printed[0]))
            if not keys:
                return f"BROKEN (refused without naming a prompt): {str(error)[:200]}"
            if left:
                return f"BROKEN (refused, files left on disk): {', '.join(keys)}; {left[:3]}"
            return f"refused: {', '.join(keys)}"
        if project.parent.resolve() != out.resolve():
            return f"BROKEN (baked outside the output folder): {project}"
        try:
            parse_every_file(project)
        except Exception as exc:  # noqa: BLE001 - a file that does not parse is a broken bake
            return f"BROKEN (a generated file does not parse): {type(exc).__name__}: {str(exc)[:200]}"
        return "baked"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@given(answers=answer_sets())
def test_every_answer_set_bakes_or_is_refused_cleanly(answers: dict[str, Any]) -> None:
    result = outcome(REPO, answers)
    event(result.split(":")[0])
    assert not result.startswith("BROKEN"), f"{result}\nanswers: {answers!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Count bake outcomes of generated answer sets.")
    parser.add_argument("--template", default=str(REPO), help="template folder (default: this checkout)")
    parser.add_argument("--examples", type=int, default=500)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="answer-sets-cc-"))
    (home / "config.yaml").write_text(f'cookiecutters_dir: "{home}/c"\nreplay_dir: "{home}/r"\n', encoding="utf-8")
    os.environ["COOKIECUTTER_CONFIG"] = str(home / "config.yaml")
    results: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    @settings(max_examples=args.examples, derandomize=True, database=None, phases=["generate"], deadline=None)
    @given(answers=answer_sets())
    def collect(answers: dict[str, Any]) -> None:
        result = outcome(Path(args.template), answers)
        kind = result.split(":")[0]
        results[kind] += 1
        if kind.startswith("BROKEN"):
            examples.setdefault(kind, []).append((result, answers))

    collect()
    print(f"{sum(results.values())} answer sets against {args.template}:")
    for kind, count in results.most_common():
        print(f"  {count:4d}  {kind}")
    for kind, cases in examples.items():
        result, answers = cases[0]
        print(f"\nfirst {kind} of {len(cases)}: {result[:300]}")
        print(f"  answers: {json.dumps(answers, ensure_ascii=False)[:300]}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
