"""`RunError`: a run cannot start or go on. One type for every such stop, with its list of problems; each
problem names what is wrong, where it came from and what would be right. Commands print it without a
traceback and exit with 2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class RunError(Exception):
    """One or more problems that stop a command; `kind` is how the command labels them."""

    kind = "error"

    def __init__(self, problems: str | Sequence[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(self.problems[0] if len(self.problems) == 1 else listing(self.problems))


class ConfigError(RunError, ValueError):
    """Bad config values: each problem names its source (a file, the command line), the key and what is allowed."""

    kind = "config error"


class DataError(RunError):
    """Bad input data: each problem names its file (and line) and how to fix or skip it."""

    kind = "data error"


def listing(problems: Sequence[str], what: str = "problems", fix: str = "", shown: int = 10) -> str:
    """How many `what` there are, the first `shown` of them one per line, then what to do."""
    more = f"\n  ... and {len(problems) - shown} more" if len(problems) > shown else ""
    text = f"{len(problems)} {what}:\n  " + "\n  ".join(problems[:shown]) + more
    return f"{text}\n{fix}" if fix else text


def shown(path: str | Path) -> str:
    """`path` as messages name it: relative to the working directory when it is inside it."""
    p = Path(path).absolute()
    return str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)
