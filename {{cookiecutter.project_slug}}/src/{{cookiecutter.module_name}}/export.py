"""Export: `python -m {{cookiecutter.module_name}}.export [--name NAME] [--which best|last|PATH] [--out DIR]`.

Writes what inference needs, and nothing of this project's code, to `<run dir>/export/` by default:
`model.safetensors` (CPU weights), `labblocks.json` (rebuilds the network with `labblocks.run.export.load_module`,
this project's own blocks included once the project is installed), `preprocessing.json` (how a raw input
becomes the model's input, exactly as in evaluation, and the class names), any fitted preprocessing such
as `tokenizer.json`, and the run's resolved `config.yaml`. `load_exported(dir)` gives the network back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse


def export_checkpoint(ckpt_path: Path, out_dir: Path) -> Path:
    """Rebuild the network from the checkpoint's labblocks metadata, load its weights, write the export."""
    import labblocks
    import torch
    import yaml
    from labblocks.run.export import export_module

    from {{cookiecutter.module_name}}.data import DataModule
    from {{cookiecutter.module_name}}.runner import RunError, check_checkpoint

    check_checkpoint(ckpt_path, "--which")
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    data_state = ckpt.get(DataModule.__qualname__) or {}
    if "labblocks" not in ckpt or "preprocessing" not in data_state:
        raise RunError(
            f"{ckpt_path}: records no labblocks metadata or preprocessing (written by an older version "
            "of this project); export a checkpoint written by the current train command"
        )
    net = labblocks.rebuild(ckpt["labblocks"]["modules"]["net"], path=f"{ckpt_path}:labblocks.modules.net")
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(weights, strict=True)
    out = export_module(net.eval(), out_dir)
    (out / "config.yaml").write_text(
        yaml.safe_dump(ckpt["config"], sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    (out / "preprocessing.json").write_text(json.dumps(data_state["preprocessing"], indent=2) + "\n", encoding="utf-8")
    if "tokenizer" in data_state:
        (out / data_state["preprocessing"]["tokenizer"]).write_text(data_state["tokenizer"], encoding="utf-8")
    return out


def load_exported(export_dir: str | Path) -> Any:
    """The exported network, rebuilt and loaded, in eval mode on the CPU."""
    from labblocks.run.export import load_module

    return load_module(export_dir)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("python -m {{cookiecutter.module_name}}.export", "Export a trained network.")
    parser.add_argument("--which", default="best", help="best, last, or a checkpoint path (default: best)")
    parser.add_argument("--out", help="output directory (default: <run dir>/export)")
    args = parse(parser, argv)
    cfg = load_or_report(args)
    if cfg is None:
        return 2
    from {{cookiecutter.module_name}}.config import run_dir
    from {{cookiecutter.module_name}}.runner import RunError, find_checkpoint

    try:
        ckpt = find_checkpoint(run_dir(cfg), args.which)
        out = export_checkpoint(ckpt, Path(args.out) if args.out else run_dir(cfg) / "export")
    except (FileNotFoundError, RunError) as e:
        print(f"export error: {e}", file=sys.stderr)
        return 2
    print(f"exported {ckpt} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
