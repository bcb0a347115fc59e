"""Evaluate a checkpoint: `python -m {{cookiecutter.module_name}}.evaluate --ckpt best|last|PATH [--split val]`.

Rebuilds the model and data from the config saved in the checkpoint (KEY=VALUE overrides on top, e.g.
data.batch_size=256 trainer.accelerator=gpu), runs the chosen split, prints the metrics, logs them with
the run's logger and writes them to `<run dir>/eval/<checkpoint>-<split>.json`. `best` and `last` are
looked up in the run directory named by --name / -e / run.name.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse


def saved_config(ckpt_path: Path, args: Any) -> Any:
    """The checkpoint's recorded config with the command line's experiments, flags and overrides on top."""
    import torch
    import yaml

    from {{cookiecutter.module_name}}.cli import load

    recorded = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)["config"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as f:
        yaml.safe_dump(recorded, f, sort_keys=False, allow_unicode=True)
    args.config = f.name
    try:
        return load(args)
    finally:
        Path(f.name).unlink()


def evaluate(cfg: Any, ckpt_path: Path, split: str = "test") -> dict[str, float]:
    """The metrics of `ckpt_path` on `split`, logged with the run's logger and written next to the run."""
    import torch

    from {{cookiecutter.module_name}} import runner
    from {{cookiecutter.module_name}}.config import run_dir
    from {{cookiecutter.module_name}}.data import DataModule

    rd = run_dir(cfg)
    dm = runner.build_datamodule(cfg)
    state = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True).get(DataModule.__qualname__)
    if state:
        dm.load_state_dict(state)  # fitted preprocessing (a tokenizer) before the model is sized from it
    module = runner.build_model(cfg, dm)
    logger = runner.build_logger(cfg, rd, runner.recorded_config(cfg, dm)) if runner.is_rank_zero() else None
    trainer = runner.build_trainer(cfg, rd, logger, callbacks=[])
    run = trainer.test if split == "test" else trainer.validate
    results = run(module, datamodule=dm, ckpt_path=str(ckpt_path), weights_only=True, verbose=False)
    metrics = {k: float(v) for k, v in (results[0] if results else {}).items()}
    if trainer.is_global_zero:
        out = rd / "eval" / f"{ckpt_path.stem}-{split}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"checkpoint": str(ckpt_path), "split": split, **metrics}, indent=2) + "\n")
    if type(logger).__name__ == "WandbLogger":
        logger.experiment.finish()
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("python -m {{cookiecutter.module_name}}.evaluate", "Evaluate a checkpoint.")
    parser.add_argument("--ckpt", default="best", help="best, last, or a checkpoint path (default: best)")
    parser.add_argument("--split", choices=("test", "val"), default="test", help="the split to evaluate")
    args = parse(parser, argv)
    cfg = load_or_report(args)
    if cfg is None:
        return 2
    from {{cookiecutter.module_name}} import runner
    from {{cookiecutter.module_name}}.config import ConfigError, run_dir

    try:
        ckpt = runner.find_checkpoint(run_dir(cfg), args.ckpt)
        runner.check_checkpoint(ckpt, "--ckpt")
        cfg = saved_config(ckpt, args)
        metrics = evaluate(cfg, ckpt, args.split)
    except (FileNotFoundError, runner.RunError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    if runner.is_rank_zero():
        width = max(len(k) for k in ["checkpoint", *metrics]) + 1
        print(f"{'checkpoint:':<{width}} {ckpt}")
        for key, value in sorted(metrics.items()):
            print(f"{key + ':':<{width}} {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
