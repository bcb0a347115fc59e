"""`Choice`: the base of every config choice (an Enum whose values are what users type)."""

from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A config choice. Members' values are what users type; `aliases()` adds other accepted spellings.
    Case does not matter, and a YAML boolean (`on`, `yes`, `true` unquoted) reads as on/off."""

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other spellings -> a member's value."""
        return {}

    @classmethod
    def _missing_(cls, value: object) -> Choice | None:
        text = ("on" if value else "off") if isinstance(value, bool) else str(value).strip().lower()
        for member in cls:
            if member.value.lower() == text:
                return member
        alias = cls.aliases().get(text)
        return cls(alias) if alias is not None else None

    @classmethod
    def spelled(cls) -> str:
        """The accepted values, for error messages."""
        aliases = cls.aliases()
        extra = f" (also accepted: {', '.join(aliases)})" if aliases else ""
        return ", ".join(m.value for m in cls) + extra
