"""Exceptions raised by labblocks. Every message names the key and, where there is one, the config path."""

from __future__ import annotations


class LabblocksError(Exception):
    """Base class of every labblocks error."""


class InvalidKeyError(LabblocksError, ValueError):
    """A key that is not of the form `namespace/name@vN`."""


class UnknownKeyError(LabblocksError, LookupError):
    """A key that no registered block or manifest entry matches."""

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return str(self.args[0])


class BlockImportError(LabblocksError, ImportError):
    """The module that defines a key failed to import; the original error is chained."""


class DeprecatedKeyError(LabblocksError):
    """A deprecated key used where it is not explicitly allowed."""


class RemovedKeyError(LabblocksError):
    """A key that was removed; its tombstone says how to migrate."""


class UnpinnedKeyError(LabblocksError):
    """A key without `@vN` in strict mode."""


class DuplicateKeyError(LabblocksError):
    """A different object registered under a key that is already taken."""


class BlockArgumentError(LabblocksError, TypeError):
    """Bad block arguments. `problems` lists every one, each prefixed with its config path."""

    def __init__(self, key: str, problems: list[str]):
        self.key = key
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{key}: {n} bad argument{'s' if n != 1 else ''}:\n{lines}")


class ShapeError(LabblocksError, ValueError):
    """A tensor that breaks a block's declared shape contract."""


class DownloadDisabledError(LabblocksError, OSError):
    """Pretrained weights were asked for but are neither local nor allowed to download (or offline)."""
