"""Errors that stop a run before or during training with a message that says what to do (exit code 2)."""

from __future__ import annotations


class RunError(Exception):
    """The run cannot start or go on: a locked run directory, unreadable checkpoints, ..."""


class DataError(RunError):
    """Bad input data: every problem found, each with its file and line, and how to fix or skip it."""


def listing(problems: list[str], what: str, fix: str, shown: int = 10) -> str:
    """A message for several problems: how many, the first `shown`, and what to do."""
    more = f"\n  ... and {len(problems) - shown} more" if len(problems) > shown else ""
    return f"{len(problems)} {what}:\n  " + "\n  ".join(problems[:shown]) + more + f"\n{fix}"
