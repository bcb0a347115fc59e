"""The command table every project shares: `<prog> <command> [flags] [-e EXPERIMENT] [KEY=VALUE ...]`.

Each command takes only its own flags; the config's layers come from the same arguments everywhere
(labblocks.run.config). A command's code is imported when it runs, so `--help` and a config error cost
no torch import. Errors that stop a command (labblocks.run.errors.RunError and its kinds) are printed
without a traceback and exit with 2; `--traceback` (or LABBLOCKS_TRACEBACK=1) shows it too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labblocks.run.config import Request, experiment_names
from labblocks.run.docs import commented_yaml
from labblocks.run.errors import ConfigError, RunError
from labblocks.run.project import Project
from labblocks.run.quiet import silence_known_noise

EPILOG = (
    "Config layers, later ones win: the schema's defaults < configs/default.yaml (or -c FILE) < -e files < flags "
    "< KEY=VALUE overrides. Flags and overrides may come in any order. --print-config shows every key with its "
    "value and documentation."
)


@dataclass(frozen=True)
class Command:
    help: str  # one line for `<prog> --help`
    target: str  # "module:function"; the function takes (project, args) and returns the exit code
    flags: Callable[[argparse.ArgumentParser], None]  # adds the command's own flags


def _run_flags(
    p: argparse.ArgumentParser, name_help: str = "run name; the run directory is <run.output_dir>/<name>"
) -> None:
    p.add_argument("-n", "--name", help=name_help)
    p.add_argument("--devices", help="auto, a device count, or ids such as 0,1")
    p.add_argument("--max-epochs", type=int, help="number of epochs to train")


def _train_flags(p: argparse.ArgumentParser) -> None:
    _run_flags(p)
    p.add_argument("--ckpt-path", help="resume from this checkpoint (default: the run directory's newest)")
    p.add_argument("--fresh", action="store_true", help="do not resume from the run directory's checkpoints")


def _checkpoint_flags(flag: str, what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("-n", "--name", help="the run whose checkpoint to use: <run.output_dir>/<name>")
        p.add_argument(flag, default="best", help=f"best, last, or a checkpoint path (default: best){what}")

    return add


def _evaluate_flags(p: argparse.ArgumentParser) -> None:
    _checkpoint_flags("--ckpt", "")(p)
    p.add_argument("--split", choices=("test", "val"), default="test", help="the split to evaluate")
    p.add_argument("--devices", help="auto, a device count, or ids such as 0,1")


def _export_flags(p: argparse.ArgumentParser) -> None:
    _checkpoint_flags("--which", "")(p)
    p.add_argument("--out", help="output directory (default: <run dir>/export)")


def _search_flags(p: argparse.ArgumentParser) -> None:
    _run_flags(p, "study name (default: search); trials run in <run.output_dir>/<name>/trial-<n>")
    p.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)  # refused with a message
    p.add_argument("--space", help="search space: a W&B sweep file (default: configs/sweep.yaml)")
    p.add_argument(
        "--trials",
        type=int,
        help="the study's total trials over every worker and rerun (default: the file's run_cap, else 20)",
    )
    p.add_argument(
        "--sampler",
        choices=("random", "tpe", "grid"),
        help="default from the file's method: random -> random, bayes -> tpe, grid -> grid",
    )
    p.add_argument("--metric", help="the metric to optimize (default: the file's metric.name)")
    p.add_argument("--direction", choices=("maximize", "minimize"), help="default: the file's metric.goal")
    p.add_argument(
        "--storage",
        help="database URL shared by the workers, e.g. postgresql://user@host/db "
        "(default: sqlite:///<run.output_dir>/<name>/study.db)",
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="stop bad trials early (Optuna's Lightning callback; Hyperband from the file's early_terminate)",
    )
    p.add_argument(
        "--heartbeat",
        type=int,
        default=10,
        metavar="SECONDS",
        help="a trial whose worker is silent for 3 heartbeats is failed and retried (default: 10)",
    )
    p.add_argument("--report", action="store_true", help="print the trials and write the report; no training")


def _submit_flags(p: argparse.ArgumentParser) -> None:
    _train_flags(p)
    for flag, kind, text in CLUSTER_FLAGS:
        p.add_argument(f"--{flag}", type=kind, help=text)
    p.add_argument("--dry-run", action="store_true", help="print the job spec and sbatch script; submit nothing")
    p.add_argument("--local", action="store_true", help="run the job on this machine (submitit local executor)")
    p.add_argument("--wait", action="store_true", help="wait for the job to end and print its result")


CLUSTER_FLAGS = (  # submit's flags that set the cluster.* key of the same name (with _ for -)
    ("nodes", int, "number of nodes (cluster.nodes)"),
    ("gpus-per-node", int, "GPUs, and so processes, per node (cluster.gpus_per_node)"),
    ("cpus-per-task", int, "CPUs per process (cluster.cpus_per_task)"),
    ("mem-gb", int, "memory per node in GB (cluster.mem_gb)"),
    ("time", str, "time limit, e.g. 04:00:00 or 2-00:00:00 (cluster.time)"),
    ("partition", str, "SLURM partition (cluster.partition)"),
    ("account", str, "SLURM account (cluster.account)"),
    ("qos", str, "SLURM quality of service (cluster.qos)"),
)

COMMANDS = {
    "train": Command(
        "train, then test the best checkpoint; rerun the same command to resume",
        "labblocks.run.fit:command",
        _train_flags,
    ),
    "evaluate": Command(
        "metrics of a checkpoint on the test or validation split",
        "labblocks.run.evaluate:command",
        _evaluate_flags,
    ),
    "export": Command(
        "CPU weights, config and preprocessing of a checkpoint, for inference",
        "labblocks.run.export_command:command",
        _export_flags,
    ),
    "lr-find": Command(
        "LR range test: a plot and a suggested learning rate", "labblocks.run.lr_find:command", _run_flags
    ),
    "search": Command(
        "hyperparameter search with Optuna, no server; rerun to continue the study",
        "labblocks.run.search:command",
        _search_flags,
    ),
    "submit": Command(
        "the train command as a SLURM job (submitit), requeued on preemption",
        "labblocks.run.submit:command",
        _submit_flags,
    ),
}


def build_parser(project: Project) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser (it lists the commands) and each command's own parser."""
    parser = argparse.ArgumentParser(prog=project.prog, description=f"{project.prog}: the project's commands.")
    parser.add_argument("--traceback", action="store_true", help="on an error, also show the Python traceback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parsers = {}
    for name, command in COMMANDS.items():
        text = command.help[:1].upper() + command.help[1:] + "."
        p = parsers[name] = sub.add_parser(name, help=command.help, description=text, epilog=EPILOG)
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. optim.lr=3e-4")
        p.add_argument("-c", "--config", help="base config file (default: configs/default.yaml)")
        p.add_argument(
            "-e",
            "--experiment",
            action="append",
            default=[],
            help=f"configs/experiment/NAME.yaml, or a path to one (repeatable): "
            f"{', '.join(experiment_names(project.config_dir))}",
        )
        p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
        p.add_argument(  # SUPPRESS: the top-level --traceback (before the command) is not reset by this one
            "--traceback", action="store_true", default=argparse.SUPPRESS, help="on an error, also show the traceback"
        )
        command.flags(p)
    return parser, parsers


def parse(project: Project, argv: list[str]) -> argparse.Namespace:
    """The command and its arguments; flags and KEY=VALUE overrides in any order (`optim.lr=1e-3 --name x`)."""
    parser, parsers = build_parser(project)
    top, _ = parser.parse_known_args(argv)  # the command (and --help, or an unknown command's message)
    args = parsers[top.command].parse_intermixed_args(argv[argv.index(top.command) + 1 :])
    args.command, args.traceback, args.argv = top.command, top.traceback or getattr(args, "traceback", False), argv
    return args


def request(args: argparse.Namespace) -> Request:
    """The config layers the arguments ask for."""
    flags: dict[str, Any] = {}
    if getattr(args, "name", None):
        flags["run.name"] = args.name
    if getattr(args, "devices", None):
        flags["trainer.devices"] = devices(args.devices)
    if getattr(args, "max_epochs", None) is not None:
        flags["trainer.max_epochs"] = args.max_epochs
    if getattr(args, "ckpt_path", None):
        flags["run.ckpt_path"] = args.ckpt_path
    if getattr(args, "fresh", False):
        flags["run.resume"] = False
    return Request(args.config, list(args.experiment), flags, list(args.overrides))


FLAG_KEYS = {  # the flags `request` reads, by the key each sets (and --fresh: run.resume=False)
    "run.name": "--name",
    "trainer.devices": "--devices",
    "trainer.max_epochs": "--max-epochs",
    "run.ckpt_path": "--ckpt-path",
}


def arguments(req: Request) -> list[str]:
    """The command-line arguments that ask for `req` (what `request` reads back): for a command to repeat."""
    out = ["-c", req.config] if req.config else []
    for name in req.experiments:
        out += ["-e", name]
    for key, value in req.flags.items():
        if key == "run.resume" and value is False:
            out.append("--fresh")
        elif key == "trainer.devices" and isinstance(value, (list, tuple)):
            out += ["--devices", ",".join(map(str, value)) + ("," if len(value) == 1 else "")]
        elif key in FLAG_KEYS:
            out += [FLAG_KEYS[key], str(value)]
        else:
            out.append(f"{key}={value}")  # a command's own key (submit's cluster flags) as an override
    return out + list(req.overrides)


def override_key(item: str) -> str:
    """The dotted key of a KEY=VALUE override."""
    return item.partition("=")[0].strip()


def devices(text: str) -> Any:
    """`--devices`: auto, a count, or comma-separated ids."""
    try:
        if text == "auto":
            return "auto"
        return [int(t) for t in text.split(",") if t] if "," in text else int(text)
    except ValueError:
        raise ConfigError(f"--devices {text!r}: expected auto, a count, or ids such as 0,1") from None


def main(project: Project, argv: list[str] | None = None) -> int:
    """Run one command; the exit code (2: it could not start or go on; 130: Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(project, argv)
    show_traceback = args.traceback or os.environ.get("LABBLOCKS_TRACEBACK") == "1"
    module, _, function = COMMANDS[args.command].target.partition(":")
    try:
        cfg = project.load(request(args))  # every config problem at once, before the command imports torch
        silence_known_noise()
        if args.print_config:
            print(commented_yaml(cfg, project.schema), end="")
            return 0
        return getattr(importlib.import_module(module), function)(project, args)
    except RunError as e:
        if show_traceback:
            traceback.print_exc()
        print(f"{e.kind}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{args.command}: stopped", file=sys.stderr)
        return 130
