"""`BlockInfo`: what `describe` returns, everything about one key for people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class BlockInfo:
    """One key as people read it: the record's data, every version of its name, the source file in full."""

    key: str
    summary: str
    signature: str
    params: list[dict[str, Any]]
    inputs: dict[str, str]
    outputs: Any
    dtypes: dict[str, str]
    versions: list[str]
    source: str
    tags: list[str]
    deprecated: str | None
    example: dict[str, Any]
    target: str
    dynamic_contract: bool = False

    def outputs_text(self, wrap: str) -> str:
        """The output spec(s) as text, each spec formatted with `wrap` (e.g. "[{}]")."""
        outs = self.outputs
        if isinstance(outs, dict):
            return ", ".join(f"{k}: {wrap.format(v)}" for k, v in outs.items())
        if isinstance(outs, list):
            return ", ".join(wrap.format(v) for v in outs)
        return wrap.format(outs)

    def __str__(self) -> str:
        lines = [f"{self.key}  {self.summary}", f"  signature: {self.signature}", "  inputs:"]
        for name, spec in self.inputs.items():
            lines.append(f"    {name}: {self.dtypes.get(name, 'float')}[{spec}]")
        note = "  (depends on arguments; see the docstring)" if self.dynamic_contract else ""
        lines += [f"  output: {self.outputs_text('[{}]')}{note}", f"  versions: {', '.join(self.versions)}"]
        lines.append(f"  tags: {', '.join(self.tags) or '-'}")
        lines += [f"  source: {self.source}", f"  target: {self.target}"]
        if self.example:
            lines.append(f"  example: {self.example}")
        if self.deprecated:
            lines.append(f"  DEPRECATED: {self.deprecated}")
        return "\n".join(lines)
