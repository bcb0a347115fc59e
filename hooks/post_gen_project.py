"""Prune what the answers did not ask for, move the chosen task's files into place, print next steps.

It also runs when a project is rendered again (cruft update/diff render the template into temporary
folders; `cookiecutter -f` renders over an existing project), so it only moves and removes files the
template itself wrote.
"""

import json
import shutil
from pathlib import Path

ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
NOTES = json.loads(r'''{{ labblocks_notes(cookiecutter) | tojson }}''')
TASK_DIRS = ("src/{module}/_tasks", "tests/_tasks", "configs/_tasks")
WORKFLOW_FILES = (".github/workflows/ci.yml", ".github/actionlint.yaml")


def place_task_files(root: Path, module: str, task: str) -> None:
    """Move `<dir>/_tasks/<task>/*` up into `<dir>/` (replacing what is there) and delete every `_tasks`
    folder."""
    for pattern in TASK_DIRS:
        tasks = root / pattern.format(module=module)
        chosen = tasks / task
        for item in sorted(chosen.rglob("*")):
            if item.is_file():
                target = tasks.parent / item.relative_to(chosen)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(item), str(target))
        shutil.rmtree(tasks)


def remove_workflow(root: Path) -> None:
    """Delete the template's CI workflow and its actionlint settings, and the folders they leave empty (a
    user's own workflows stay)."""
    for name in WORKFLOW_FILES:
        (root / name).unlink(missing_ok=True)
    for folder in (root / ".github" / "workflows", root / ".github"):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def main() -> None:
    root = Path.cwd()
    module = ANSWERS["module_name"]
    place_task_files(root, module, ANSWERS["task"])
    if str(ANSWERS["github_actions"]).lower() not in ("true", "yes", "y", "1", "on"):
        remove_workflow(root)
    if "_output_dir" not in ANSWERS:  # rendered by cruft (create, update, diff), which reports for itself
        return
    notes = [*NOTES, ""] if NOTES else []
    print("\n".join([
        "",
        f"Created {root}",
        "",
        *notes,
        "Next steps:",
        f"  cd {root.name}",
        "  make install        # uv sync: creates .venv with torch, lightning, labblocks, ...",
        "  make test           # the sanity suite: initial loss, overfit, checkpoints, resume, determinism",
        f"  make train          # {ANSWERS['project_slug']} train  (runs/<name>/ holds checkpoints and logs)",
        "Read README.md for the first hour: configs, W&B, resume, LR finder, sweeps, export and labblocks.",
        "",
    ]))


if __name__ == "__main__":
    main()
