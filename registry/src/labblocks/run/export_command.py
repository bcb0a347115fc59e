"""The `export` command: what inference needs from a checkpoint, and nothing of the project's code.

Writes to `<run dir>/export/` by default: `model.safetensors` (CPU weights) and `labblocks.json` (the network
rebuilt by `labblocks.run.export.load_module`, a project's own blocks included once the project is
installed), `preprocessing.json` (how a raw input becomes the model's input, exactly as in evaluation, and
the class names), any fitted preprocessing such as `tokenizer.json`, and the run's resolved `config.yaml`.
Kept apart from labblocks.run.export, which inference imports: that one loads no Lightning or config code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
import yaml

from labblocks.registry import REGISTRY
from labblocks.run.cli import request
from labblocks.run.config import run_dir
from labblocks.run.errors import RunError
from labblocks.run.export import export_module
from labblocks.run.project import Project
from labblocks.run.resume import check_checkpoint, find_checkpoint


class ExportError(RunError):
    """A checkpoint that cannot be exported: none found, unreadable, or recording too little."""

    kind = "export error"


def data_state(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The data module's saved state: the entry holding `preprocessing` (Lightning names it after the data
    module's class, which labblocks does not know); {} when there is none."""
    return next((v for v in ckpt.values() if isinstance(v, dict) and "preprocessing" in v), {})


def export_checkpoint(project: Project, ckpt_path: Path, out_dir: Path) -> Path:
    """Rebuild the network from the checkpoint's labblocks metadata, load its weights, write the export."""
    check_checkpoint(ckpt_path, project.module, "--which")
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    data = data_state(ckpt)
    if "labblocks" not in ckpt or not data:
        raise ExportError(
            f"{ckpt_path}: records no labblocks metadata or preprocessing (written by an older version "
            "of this project); export a checkpoint written by the current train command"
        )
    net = REGISTRY.rebuild(ckpt["labblocks"]["modules"]["net"], path=f"{ckpt_path}:labblocks.modules.net")
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(weights, strict=True)
    out = export_module(net.eval(), out_dir)
    config = yaml.safe_dump(ckpt.get("config") or {}, sort_keys=False, allow_unicode=True)
    (out / "config.yaml").write_text(config, encoding="utf-8")
    (out / "preprocessing.json").write_text(json.dumps(data["preprocessing"], indent=2) + "\n", encoding="utf-8")
    if "tokenizer" in data:
        (out / data["preprocessing"]["tokenizer"]).write_text(data["tokenizer"], encoding="utf-8")
    return out


def command(project: Project, args: argparse.Namespace) -> int:
    """`export`: find the checkpoint and write its export."""
    rd = run_dir(project.load(request(args)))
    try:
        ckpt = find_checkpoint(rd, args.which)
        out = export_checkpoint(project, ckpt, Path(args.out) if args.out else rd / "export")
    except ExportError:
        raise
    except RunError as e:  # no checkpoint, or not a readable one of this project
        raise ExportError(e.problems) from None
    print(f"exported {ckpt} -> {out}")
    return 0
