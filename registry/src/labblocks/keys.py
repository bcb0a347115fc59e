"""Registry keys: `namespace/name@vN`, e.g. `core/mlp@v1`; the version may be omitted when resolving."""

from __future__ import annotations

import re
from dataclasses import dataclass

from labblocks.errors import InvalidKeyError

_KEY_RE = re.compile(r"^(?P<ns>[a-z][a-z0-9_]*)/(?P<name>[a-z][a-z0-9_]*)(?:@v(?P<ver>[1-9][0-9]*))?$")
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
    m = _KEY_RE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        loc = f"{where}: " if where else ""
        raise InvalidKeyError(f"{loc}invalid block key {text!r}; expected {KEY_FORM}")
    ver = m.group("ver")
    return Key(m.group("ns"), m.group("name"), int(ver) if ver else None)
