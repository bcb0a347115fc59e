"""Command-line arguments shared by the entry points. Imports only argparse, so `--help` is instant."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="Config layers, later ones win: configs/default.yaml < --experiment file < flags < KEY=VALUE "
        "overrides. Flags and overrides may come in any order. Example: %(prog)s -e fast --name try1 optim.lr=3e-4",
    )
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. optim.lr=3e-4")
    parser.add_argument("-c", "--config", help="base config file (default: configs/default.yaml)")
    parser.add_argument(
        "-e", "--experiment", action="append", help="configs/experiment/NAME.yaml, or a path to one (repeatable)"
    )
    parser.add_argument("-n", "--name", help="run name; the run directory is <run.output_dir>/<name>")
    parser.add_argument("--devices", help="auto, a device count, or ids such as 0,1")
    parser.add_argument("--max-epochs", type=int, help="number of epochs to train")
    parser.add_argument("--ckpt-path", help="resume from this checkpoint (default: the run directory's newest)")
    parser.add_argument("--fresh", action="store_true", help="do not resume from the run directory's checkpoints")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse flags and KEY=VALUE overrides in any order (`optim.lr=1e-3 --name x` works too)."""
    return parser.parse_intermixed_args(argv)


def _devices(text: str) -> Any:
    if text == "auto":
        return "auto"
    if "," in text:
        return [int(t) for t in text.split(",") if t]
    return int(text)


def flags(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, as dotted config keys."""
    out: dict[str, Any] = {}
    if args.name:
        out["run.name"] = args.name
    if args.devices:
        try:
            out["trainer.devices"] = _devices(args.devices)
        except ValueError:
            raise SystemExit(f"--devices {args.devices!r}: expected auto, a count, or ids such as 0,1") from None
    if args.max_epochs is not None:
        out["trainer.max_epochs"] = args.max_epochs
    if args.ckpt_path:
        out["run.ckpt_path"] = args.ckpt_path
    if args.fresh:
        out["run.resume"] = False
    return out


def load(args: argparse.Namespace, extra: tuple = ()) -> Any:
    """The validated config for parsed arguments (raises config.ConfigError)."""
    from {{cookiecutter.module_name}}.config import load_config

    return load_config(args.config, args.experiment, flags(args), args.overrides, extra)


def load_or_report(args: argparse.Namespace, extra: tuple = ()) -> Any | None:
    """The validated config, or None after printing the config error (the caller exits with 2)."""
    from {{cookiecutter.module_name}}.config import ConfigError

    try:
        return load(args, extra)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return None
