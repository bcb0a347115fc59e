"""A config as YAML with each key's documentation beside it, read from the comments beside the schema's
fields (`name: type = default  # what it is`), so the documentation lives in one place."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
from typing import Any

import yaml
from omegaconf import DictConfig

from labblocks.run.config import to_plain


def field_docs(schema: type, prefix: str = "") -> dict[str, str]:
    """Dotted key -> the comment beside its field (or the comment lines just above it), for every section."""
    out: dict[str, str] = {}
    comments = _comments(schema)
    for f in dataclasses.fields(schema):
        if f.name in comments:
            out[prefix + f.name] = comments[f.name]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out.update(field_docs(type(default), f"{prefix}{f.name}."))
    return out


def _comments(cls: type) -> dict[str, str]:
    """Field name -> the comment on its line (or its last line), else the comment lines just above it; for the
    class and its bases."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        try:
            lines, _ = inspect.getsourcelines(klass)
        except (OSError, TypeError):
            continue
        tokens = tokenize.generate_tokens(io.StringIO("".join(lines)).readline)
        comments = {tok.start[0]: tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT}
        body = ast.parse(textwrap.dedent("".join(lines))).body[0].body
        for node in body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            beside = comments.get(node.end_lineno or node.lineno) or comments.get(node.lineno)
            above, k = [], node.lineno - 1
            while k in comments and lines[k - 1].lstrip().startswith("#"):
                above.insert(0, comments[k])
                k -= 1
            if beside or above:
                out[node.target.id] = beside or " ".join(above)
    return out


def commented_yaml(cfg: DictConfig, schema: type) -> str:
    """The resolved config as YAML, each documented key followed by `# its documentation`."""
    docs = field_docs(schema)
    lines: list[str] = []
    _emit(to_plain(cfg), "", 0, docs, lines)
    return "\n".join(lines) + "\n"


def _emit(node: dict[str, Any], prefix: str, depth: int, docs: dict[str, str], lines: list[str]) -> None:
    pad = "  " * depth
    for key, value in node.items():
        dotted = prefix + str(key)
        doc = f"  # {docs[dotted]}" if dotted in docs else ""
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:{doc}")
            _emit(value, dotted + ".", depth + 1, docs, lines)
        else:
            text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
            text = text.removesuffix("\n...").removesuffix("...").strip()
            lines.append(f"{pad}{key}: {text}{doc}")
