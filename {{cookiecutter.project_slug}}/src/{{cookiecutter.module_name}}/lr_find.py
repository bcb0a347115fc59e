"""LR range test: `python -m {{cookiecutter.module_name}}.lr_find [-e EXPERIMENT] [KEY=VALUE ...]`.

Runs Lightning's Tuner.lr_find (Smith's exponential range test) on the configured model and data,
saves the loss-vs-learning-rate plot as `<run dir>/lr_find.png` (and the curve as lr_find.json), and
prints the suggested learning rate. Settings: the config's `lr_find` section.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse


def find_lr(cfg: Any, out_dir: Path | None = None) -> dict[str, Any]:
    """Run the range test; returns {"suggestion", "plot", "curve"} (the plot and curve files)."""
    import matplotlib

    matplotlib.use("Agg")
    import lightning as L
    from lightning.pytorch.tuner import Tuner

    from {{cookiecutter.module_name}}.config import run_dir
    from {{cookiecutter.module_name}}.runner import build_datamodule, build_model, build_trainer

    out = Path(out_dir) if out_dir else run_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.run.seed, workers=True)
    dm = build_datamodule(cfg)
    module = build_model(cfg, dm)
    trainer = build_trainer(cfg, out, logger=None, callbacks=[])
    f = cfg.lr_find
    finder = Tuner(trainer).lr_find(
        module, datamodule=dm, min_lr=f.min_lr, max_lr=f.max_lr, num_training=f.num_training, update_attr=False
    )
    if finder is None:
        raise RuntimeError("the LR finder did not run (is there any training data?)")
    suggestion = finder.suggestion()
    fig = finder.plot(suggest=True)
    fig.axes[0].set_title(f"LR range test: suggestion {suggestion:.2e}" if suggestion else "LR range test")
    plot = out / "lr_find.png"
    fig.savefig(plot, dpi=120, bbox_inches="tight")
    curve = out / "lr_find.json"
    curve.write_text(json.dumps({"lr": finder.results["lr"], "loss": finder.results["loss"], "suggestion": suggestion}))
    return {"suggestion": suggestion, "plot": plot, "curve": curve}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("python -m {{cookiecutter.module_name}}.lr_find", "Find a learning rate (LR range test).")
    cfg = load_or_report(parse(parser, argv))
    if cfg is None:
        return 2
    result = find_lr(cfg)
    lr = result["suggestion"]
    print(f"suggested learning rate: {lr:.3e}" if lr else "no suggestion (loss curve too flat or too short)")
    print(f"plot: {result['plot']}")
    if lr:
        print(f"use it: python -m {{cookiecutter.module_name}}.train optim.lr={lr:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
