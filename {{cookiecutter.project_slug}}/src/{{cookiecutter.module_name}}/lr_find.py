"""LR range test: `python -m {{cookiecutter.module_name}}.lr_find [-e EXPERIMENT] [KEY=VALUE ...]`.

Runs Lightning's Tuner.lr_find (Smith's test: `lr_find.num_training` steps while the learning rate grows
exponentially from `lr_find.min_lr` to `lr_find.max_lr`) on the configured model and data, saves the
loss-vs-learning-rate plot as `<run dir>/lr_find.png` (and the curve as lr_find.json), and prints the
suggested learning rate with the train command that uses it. The suggestion is the steepest descent of the
loss against log(lr) before the loss minimum (labblocks.train.lr_suggest explains why not Lightning's own).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse


def find_lr(cfg: Any, out_dir: Path | None = None) -> dict[str, Any]:
    """Run the range test; returns {"suggestion", "reason", "plot", "curve"}."""
    import lightning as L
    from labblocks.train.lr_suggest import suggest_lr
    from lightning.pytorch.tuner import Tuner
    from omegaconf import OmegaConf

    from {{cookiecutter.module_name}}.config import run_dir
    from {{cookiecutter.module_name}}.runner import build_datamodule, build_model, build_trainer

    out = Path(out_dir) if out_dir else run_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    # The sweep may run past the end of an epoch (or of a short experiment's batch limit): no epoch limit.
    cfg = OmegaConf.merge(cfg, {"trainer": {"max_epochs": -1, "max_steps": -1}})
    L.seed_everything(cfg.run.seed, workers=True, verbose=False)
    dm = build_datamodule(cfg)
    module = build_model(cfg, dm)
    losses = record_losses(module)  # each step's loss: Lightning keeps only a lagging running average
    trainer = build_trainer(cfg, out, logger=None, callbacks=[])
    f = cfg.lr_find
    finder = Tuner(trainer).lr_find(
        module, datamodule=dm, min_lr=f.min_lr, max_lr=f.max_lr, num_training=f.num_training, update_attr=False
    )
    if finder is None:
        raise RuntimeError("the LR finder did not run (is there any training data?)")
    lrs = finder.results["lr"][: len(losses)]  # the LR of each step
    found = suggest_lr(lrs, losses)
    plot = out / "lr_find.png"
    _plot(lrs, losses, found.smoothed, found.lr, found.index, plot)
    curve = out / "lr_find.json"
    data = {"lr": lrs, "loss": losses, "smoothed": found.smoothed, "suggestion": found.lr, "reason": found.reason}
    curve.write_text(json.dumps(data))
    return {"suggestion": found.lr, "reason": found.reason, "plot": plot, "curve": curve}


def record_losses(module: Any) -> list[float]:
    """A list that fills with the loss of every training step of `module` (through its own
    on_train_batch_end hook: the Tuner replaces the trainer's callbacks while it sweeps)."""
    losses: list[float] = []
    hook = module.on_train_batch_end

    def on_train_batch_end(outputs: Any, batch: Any, batch_idx: int) -> None:
        losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
        hook(outputs, batch, batch_idx)

    module.on_train_batch_end = on_train_batch_end
    return losses


def _plot(
    lrs: list[float], losses: list[float], smoothed: list[float], lr: float | None, index: int | None, path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(lrs, losses, color="lightgray", linewidth=0.8, label="loss per step")
    ax.plot(lrs, smoothed, color="tab:blue", label="smoothed")
    if lr is not None and index is not None:
        ax.plot([lr], [smoothed[index]], "o", color="red", markersize=8, label=f"suggestion {lr:.2e}")
    ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title(f"LR range test: suggestion {lr:.2e}" if lr else "LR range test: no suggestion")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def train_command(argv: list[str], lr: float) -> str:
    """The train command with the user's own experiments, flags and overrides, and `optim.lr` set."""
    kept = [a for a in argv if not a.startswith("optim.lr=")]
    return shlex.join(["python", "-m", "{{cookiecutter.module_name}}.train", *kept, f"optim.lr={lr:.2e}"])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser("python -m {{cookiecutter.module_name}}.lr_find", "Find a learning rate (LR range test).")
    cfg = load_or_report(parse(parser, argv))
    if cfg is None:
        return 2
    result = find_lr(cfg)
    lr = result["suggestion"]
    if lr:
        print(f"suggested learning rate: {lr:.3e} ({result['reason']})")
    else:
        print(f"no suggestion: {result['reason']}")
    print(f"plot: {result['plot']}")
    if lr:
        print(f"use it: {train_command(argv, lr)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
