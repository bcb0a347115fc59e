"""Export: `python -m {{cookiecutter.module_name}}.export [--name NAME] [--which best|last|PATH] [--out DIR]`.

Writes the network's CPU weights (`model.safetensors`), its labblocks metadata (`labblocks.json`, which
rebuilds it), the run's resolved config (`config.yaml`), the preprocessing it expects
(`preprocessing.json`) and any fitted preprocessing such as a tokenizer (`tokenizer.json`) to
`<run dir>/export/` by default. `load_exported(dir)` gives the network back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse


def resolve_checkpoint(run_dir: Path, which: str) -> Path:
    """`last`, `best` (as recorded by ModelCheckpoint in last.ckpt), or a path."""
    import torch

    if which not in ("best", "last"):
        path = Path(which)
        if not path.is_file():
            raise FileNotFoundError(f"--which {which!r}: no such checkpoint file")
        return path
    last = run_dir / "checkpoints" / "last.ckpt"
    if not last.is_file():
        raise FileNotFoundError(f"{run_dir}: no checkpoints/last.ckpt; train first, or pass --which PATH")
    if which == "last":
        return last
    states = torch.load(last, map_location="cpu", weights_only=True).get("callbacks", {})
    best = next((s.get("best_model_path") for k, s in states.items() if k.startswith("ModelCheckpoint")), None)
    if not best or not Path(best).is_file():
        raise FileNotFoundError(f"{last} records no best checkpoint that still exists ({best!r}); use --which last")
    return Path(best)


def export_checkpoint(ckpt_path: Path, out_dir: Path) -> Path:
    """Rebuild the network from the checkpoint's labblocks metadata, load its weights, write the export."""
    import labblocks
    import torch
    import yaml
    from labblocks.export import export_module

    from {{cookiecutter.module_name}}.data import DataModule

    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    for key in ("labblocks", "state_dict", "config"):
        if key not in ckpt:
            raise ValueError(f"{ckpt_path}: not a checkpoint of this project (no {key!r}); was it written by train?")
    net = labblocks.rebuild(ckpt["labblocks"]["modules"]["net"], path=f"{ckpt_path}:labblocks.modules.net")
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    net.load_state_dict(weights, strict=True)
    out = export_module(net.eval(), out_dir)
    config = yaml.safe_dump(ckpt["config"], sort_keys=False, allow_unicode=True)
    (out / "config.yaml").write_text(config, encoding="utf-8")
    preprocessing = {"data_config": getattr(net, "data_config", None), "data": ckpt["config"]["data"]}
    (out / "preprocessing.json").write_text(json.dumps(preprocessing, indent=2, default=list) + "\n", encoding="utf-8")
    for name, text in ckpt.get(DataModule.__qualname__, {}).items():  # fitted preprocessing, e.g. a tokenizer
        (out / f"{name}.json").write_text(text, encoding="utf-8")
    return out


def load_exported(export_dir: str | Path) -> Any:
    """The exported network, rebuilt and loaded, in eval mode on the CPU."""
    from labblocks.export import load_module

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

    try:
        ckpt = resolve_checkpoint(run_dir(cfg), args.which)
        out = export_checkpoint(ckpt, Path(args.out) if args.out else run_dir(cfg) / "export")
    except (FileNotFoundError, ValueError) as e:
        print(f"export error: {e}", file=sys.stderr)
        return 2
    print(f"exported {ckpt} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
