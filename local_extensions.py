"""Jinja helpers: filters that quote free-text answers for the file they land in (TOML, YAML, Python),
and the template's own location.

The pre-generation hook has already refused control characters and line breaks, so quoting only has to
handle quotes, backslashes and characters YAML would read as line breaks or non-printable.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2.ext import Extension

# PyYAML's printable set, minus the characters it folds as line breaks (NEL, LS, PS).
_YAML_UNSAFE = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def toml_str(value: object) -> str:
    """A TOML basic string."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: _escape(m.group()), text) + '"'


def yaml_str(value: object) -> str:
    """A YAML double-quoted scalar."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _YAML_UNSAFE.sub(lambda m: _escape(m.group()), text) + '"'


def py_str(value: object) -> str:
    """A Python string literal."""
    return repr(str(value))


def template_root() -> str:
    """The absolute path of the template repository being baked (where this file lives), whatever
    relative path the template was given as."""
    return Path(__file__).resolve().parent.as_posix()


class QuotingExtension(Extension):
    """Registers the `toml_str`, `yaml_str` and `py_str` filters and the `template_root()` function."""

    def __init__(self, environment):  # noqa: ANN001 - Jinja's signature
        super().__init__(environment)
        environment.filters.update(toml_str=toml_str, yaml_str=yaml_str, py_str=py_str)
        environment.globals["template_root"] = template_root
