"""The `submit` command: the `train` command as a SLURM job (submitit).

The job runs the same `train` command with the same config and overrides, in one task (process) per GPU
on every node; Lightning's SLURM environment wires them into DDP. Cluster settings come from the config's
`cluster:` section, or from the command's flags (which set `cluster.*` keys). SLURM sends USR2 (submitit's
preemption and time-limit signal) `cluster.signal_delay_s` before the end: training saves a checkpoint at
the next step and the job requeues itself; the requeued job resumes from that step in the same run
directory and W&B run. `--dry-run` prints the job's settings and the sbatch script without a cluster;
`--local` runs the same job on this machine (submitit's local executor), preemption included.
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit
import yaml
from omegaconf import DictConfig
from submitit.slurm.slurm import _make_sbatch_string  # submitit's own script writer (it has no dry run)

from labblocks.run.cli import CLUSTER_FLAGS, arguments, main, override_key, request
from labblocks.run.config import Request, run_dir, value_of
from labblocks.run.project import Project


def minutes(text: str | int) -> int:
    """A SLURM time limit ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM[:SS]") in whole minutes, at least 1."""
    text = str(text).strip()
    found = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if not found:
        raise ValueError(f"{text!r} is not a SLURM time such as 90, 04:00:00 or 2-00:00:00")
    days, a, b, c = found.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        total = int(days) * 1440 + int(a) * 60 + int(b or 0) + (int(c or 0) > 0)
    elif b is None:  # MM
        total = int(a)
    elif c is None:  # MM:SS
        total = int(a) + (int(b) > 0)
    else:  # HH:MM:SS
        total = int(a) * 60 + int(b) + (int(c) > 0)
    return max(total, 1)


def train_overrides(cfg: DictConfig) -> list[str]:
    """What the job adds to the train command: one process per GPU on every node, wired by Lightning."""
    c = cfg.cluster
    out = [f"trainer.num_nodes={c.nodes}"]
    if c.gpus_per_node > 0:
        out += ["trainer.accelerator=gpu", f"trainer.devices={c.gpus_per_node}"]
    if c.nodes * max(c.gpus_per_node, 1) > 1 and value_of(cfg.trainer.strategy) == "auto":
        out.append("trainer.strategy=ddp")
    return out


def slurm_parameters(cfg: DictConfig) -> dict[str, Any]:
    """submitit's SlurmExecutor parameters (sbatch options) for the config's cluster: section."""
    c = cfg.cluster
    params: dict[str, Any] = {
        "job_name": cfg.run.name,
        "nodes": c.nodes,
        "ntasks_per_node": max(c.gpus_per_node, 1),  # one task per GPU: Lightning's SLURM environment
        "cpus_per_task": c.cpus_per_task,
        "mem": f"{c.mem_gb}GB",
        "time": minutes(c.time),
        "signal_delay_s": c.signal_delay_s,
        "setup": list(c.setup),
        "additional_parameters": dict(c.additional),
    }
    if c.gpus_per_node > 0:
        params["gpus_per_node"] = c.gpus_per_node
    for key in ("partition", "account", "qos", "constraint"):
        if c[key]:
            params[key] = c[key]
    return params


@dataclass
class TrainJob:
    """The callable submitit runs in every task: the project's train command. On submitit's preemption signal
    training saves a checkpoint at the next step; the job then hands the signal back to submitit, which
    requeues it (`checkpoint` returns the same job, and train resumes from the run directory)."""

    project: Project
    argv: list[str] = field(default_factory=list)  # the train command's arguments

    def __call__(self) -> int:
        code = main(self.project, ["train", *self.argv])
        requeue_signal = getattr(signal, "SIG" + submitit.JobEnvironment.USR_SIG)
        if code == 128 + requeue_signal:
            signal.raise_signal(requeue_signal)  # submitit's handler (restored after training) requeues
        if code != 0:
            raise RuntimeError(f"train exited with {code}")
        return code

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        return submitit.helpers.DelayedSubmission(TrainJob(self.project, self.argv))


def job_argv(req: Request, cfg: DictConfig, local: bool = False) -> list[str]:
    """The train command's arguments for the job: the user's (without the cluster's keys, which are the
    submitter's), plus what the cluster decides unless the job runs here."""
    flags = {key: value for key, value in req.flags.items() if not key.startswith("cluster.")}
    overrides = [item for item in req.overrides if not override_key(item).startswith("cluster.")]
    argv = arguments(Request(req.config, req.experiments, flags, overrides))
    return [*argv, *(train_overrides(cfg) if not local else [])]


def job_folder(cfg: DictConfig) -> Path:
    """Where submitit keeps each job's script, pickles and logs: <run dir>/submitit/<job id>/."""
    return run_dir(cfg).absolute() / "submitit" / "%j"


def submit(
    project: Project, cfg: DictConfig, argv: list[str], local: bool = False, folder: Path | None = None
) -> submitit.Job:
    """Submit `TrainJob(project, argv)`; returns the submitit job. `local` runs it on this machine."""
    folder = folder or job_folder(cfg)
    executor: submitit.LocalExecutor | submitit.SlurmExecutor
    if local:
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=minutes(cfg.cluster.time), signal_delay_s=cfg.cluster.signal_delay_s)
    else:
        executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=cfg.cluster.max_requeues)
        executor.update_parameters(**slurm_parameters(cfg))
    return executor.submit(TrainJob(project, argv))


def dry_run(project: Project, cfg: DictConfig, argv: list[str]) -> str:
    """The job's settings, its train command and the sbatch script submitit would submit, without a cluster."""
    folder = job_folder(cfg)
    params = slurm_parameters(cfg)
    command = f"{shlex.quote(sys.executable)} -u -m submitit.core._submit {shlex.quote(str(folder))}"
    script = _make_sbatch_string(command=command, folder=folder, **params)
    spec = {"job": params, "train": [project.prog, "train", *argv]}
    return f"# job spec\n{yaml.safe_dump(spec, sort_keys=False)}\n# sbatch script\n{script}"


def command(project: Project, args: argparse.Namespace) -> int:
    """`submit`: print the dry run, or submit the job (and with --wait, wait for its end)."""
    req = request(args)
    for flag, _, _ in CLUSTER_FLAGS:
        key = flag.replace("-", "_")
        if getattr(args, key) is not None:
            req.flags[f"cluster.{key}"] = getattr(args, key)
    cfg = project.load(req)
    argv = job_argv(req, cfg, local=args.local)
    if args.dry_run:
        print(dry_run(project, cfg, argv))
        return 0
    job = submit(project, cfg, argv, local=args.local)
    print(f"submitted job {job.job_id}: logs in {job.paths.folder}")
    if args.wait:
        job.result()
        print(f"job {job.job_id} finished")
    return 0
