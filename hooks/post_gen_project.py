"""Prune what the answers did not ask for, move the chosen task's files into place, print next steps."""

import json
import shutil
from pathlib import Path

ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
TASK_DIRS = ("src/{module}/_tasks", "tests/_tasks", "configs/_tasks")


def place_task_files(root: Path, module: str, task: str) -> None:
    """Move `<dir>/_tasks/<task>/*` up into `<dir>/` and delete every `_tasks` folder."""
    for pattern in TASK_DIRS:
        tasks = root / pattern.format(module=module)
        chosen = tasks / task
        for item in sorted(chosen.rglob("*")):
            if item.is_file():
                target = tasks.parent / item.relative_to(chosen)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(item), str(target))
        shutil.rmtree(tasks)


def main() -> None:
    root = Path.cwd()
    module = ANSWERS["module_name"]
    place_task_files(root, module, ANSWERS["task"])
    if str(ANSWERS["github_actions"]).lower() not in ("true", "yes", "y", "1", "on"):
        shutil.rmtree(root / ".github", ignore_errors=True)
    print(
        f"""
Created {root}

Next steps:
  cd {root.name}
  make install        # uv sync: creates .venv with torch, lightning, labblocks, ...
  make test           # the sanity suite: initial loss, overfit, checkpoints, resume, determinism
  make train          # python -m {module}.train  (runs/<name>/ holds checkpoints and logs)
Read README.md for the first hour: configs, W&B, resume, LR finder, sweeps, export and labblocks.
"""
    )


if __name__ == "__main__":
    main()
