"""Tombstones of removed keys. A removed key stays here for good, with how to migrate, so that an old
config fails with directions instead of an unknown-key error.

Format: `"namespace/name@vN": "what to use instead and how to convert the arguments"`.
"""

from __future__ import annotations

REMOVED: dict[str, str] = {}
