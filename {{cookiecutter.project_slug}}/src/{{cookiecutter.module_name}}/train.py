"""Train: `python -m {{cookiecutter.module_name}}.train [-e EXPERIMENT] [--name NAME] [KEY=VALUE ...]`.

Validates the config first (no torch yet), then trains with validation sanity steps, tests the best
checkpoint and prints where everything went. Rerunning the same command resumes the run from
`runs/<name>/checkpoints/last.ckpt` and continues the same W&B run. Under a W&B sweep agent the
sweep's values (`wandb.config`) are applied as a last config layer.
"""

from __future__ import annotations

import os
import sys

from {{cookiecutter.module_name}}.cli import build_parser, load, load_or_report


def main(argv: list[str] | None = None) -> int:
    args = build_parser("python -m {{cookiecutter.module_name}}.train", "Train the model.").parse_args(argv)
    cfg = load_or_report(args)
    if cfg is None:
        return 2
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(cfg))
        return 0

    from {{cookiecutter.module_name}} import runner
    from {{cookiecutter.module_name}}.config import ConfigError

    logger = None
    if os.environ.get("WANDB_SWEEP_ID"):
        try:
            cfg, logger = runner.apply_sweep(cfg, lambda values: load(args, (("wandb.config (sweep)", values),)))
        except ConfigError as e:
            print(f"config error: {e}", file=sys.stderr)
            return 2
    result = runner.train(cfg, logger=logger)
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
