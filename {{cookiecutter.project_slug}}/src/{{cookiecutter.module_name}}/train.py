"""Train: `python -m {{cookiecutter.module_name}}.train [-e EXPERIMENT] [--name NAME] [KEY=VALUE ...]`.

Validates the config first (no torch yet), then trains with validation sanity steps, tests the best
checkpoint and prints where everything went. Rerunning the same command resumes the run from its newest
checkpoint and continues the same W&B run. SIGUSR1/SIGTERM (cluster preemption) and Ctrl-C save a
checkpoint at the next step and stop; the same command resumes from it. Under a W&B sweep agent the
sweep's values are applied as a last config layer.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load, load_or_report, parse


def run(cfg: Any, reload: Any = None) -> int:
    """Train a validated config and print the summary; the exit code (2: the run could not start;
    128 + signal number: stopped by a signal after saving)."""
    from {{cookiecutter.module_name}} import runner
    from {{cookiecutter.module_name}}.config import ConfigError

    try:
        if cfg.run.ckpt_path:
            runner.check_checkpoint(cfg.run.ckpt_path)  # before building anything: a bad file costs seconds
        logger = None
        if os.environ.get("WANDB_SWEEP_ID") and reload is not None:
            cfg, logger = runner.apply_sweep(cfg, reload)
        result = runner.train(cfg, logger=logger)
    except (runner.RunError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if runner.is_rank_zero():
        print(result.summary(), flush=True)
    return 128 + result.interrupted.signum if result.interrupted is not None else 0


def main(argv: list[str] | None = None) -> int:
    args = parse(build_parser("python -m {{cookiecutter.module_name}}.train", "Train the model."), argv)
    cfg = load_or_report(args)
    if cfg is None:
        return 2
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(cfg))
        return 0
    return run(cfg, reload=lambda values: load(args, (("wandb.config (sweep)", values),)))


if __name__ == "__main__":
    sys.exit(main())
