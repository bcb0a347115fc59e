"""Registry keys: `namespace/name@vN`, e.g. `core/mlp@v1`; the version may be omitted when resolving."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from labblocks.errors import InvalidKeyError

KEY_RE = re.compile(r"^(?P<ns>[a-z][a-z0-9_]*)/(?P<name>[a-z][a-z0-9_]*)(?:@v(?P<ver>[1-9][0-9]*))?$")
KEY_FORM = "namespace/name@vN (lower-case letters, digits and '_', e.g. 'core/mlp@v1')"


@dataclass(frozen=True, order=True)
class Key:
    namespace: str
    name: str
    version: int | None = None

    @property
    def base(self) -> str:
        """The key without its version, e.g. `core/mlp`."""
        return f"{self.namespace}/{self.name}"

    @property
    def pinned(self) -> bool:
        return self.version is not None

    def at(self, version: int) -> Key:
        return Key(self.namespace, self.name, version)

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}@v{self.version}"


def parse_key(text: object, where: str = "") -> Key:
    """Parse `text` into a Key; `where` (a config path) goes into the error message."""
    if isinstance(text, Key):
        return text
    m = KEY_RE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        loc = f"{where}: " if where else ""
        raise InvalidKeyError(f"{loc}invalid block key {text!r}; expected {KEY_FORM}")
    ver = m.group("ver")
    return Key(m.group("ns"), m.group("name"), int(ver) if ver else None)


def base_of(key: str) -> str:
    """`core/mlp@v1` -> `core/mlp`."""
    return key.rsplit("@", 1)[0]


def is_namespace(name: str) -> bool:
    """Whether `name` can be a key's namespace."""
    return KEY_RE.fullmatch(f"{name}/x") is not None


def matches(key: str, pattern: str) -> bool:
    """A wildcard `pattern` against `namespace/name`, or against the whole key when it holds an `@`."""
    return fnmatch.fnmatchcase(key if "@" in pattern else base_of(key), pattern)
