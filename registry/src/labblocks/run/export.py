"""Export a labblocks-built module as CPU safetensors weights plus its metadata, and load it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from labblocks.registry import REGISTRY, metadata

WEIGHTS = "model.safetensors"
META = "labblocks.json"


def export_module(module: Any, out_dir: str | Path) -> Path:
    """Write `model.safetensors` (CPU, contiguous) and `labblocks.json` (key, args, version, and the class names
    of a module that has them) to `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = metadata(module)
    if getattr(module, "class_names", None):  # a kept pretrained head's classes (timm/model@v1)
        meta["class_names"] = list(module.class_names)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS), metadata={"labblocks_key": meta["key"]})
    (out / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def load_module(export_dir: str | Path) -> Any:
    """Rebuild the module from `labblocks.json` and load `model.safetensors` into it (strict)."""
    src = Path(export_dir)
    for name in (WEIGHTS, META):
        if not (src / name).is_file():
            raise FileNotFoundError(f"{src}: no {name}; expected a directory written by export_module")
    meta = json.loads((src / META).read_text(encoding="utf-8"))
    module = REGISTRY.rebuild(meta, path=str(src / META))
    module.load_state_dict(load_file(str(src / WEIGHTS)), strict=True)
    if "class_names" in meta:
        module.class_names = meta["class_names"]
    return module.eval()
