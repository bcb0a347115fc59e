"""Submit training to SLURM: `python -m {{cookiecutter.module_name}}.submit [train args] [--nodes 2 ...]`.

The job runs the same `train` command with the same config and overrides, in one task (process) per GPU
on every node; Lightning's SLURM environment wires them into DDP. Cluster settings come from the config's
`cluster:` section, or from the flags below (which set `cluster.*` keys). SLURM sends USR2 (submitit's
preemption and time-limit signal) `cluster.signal_delay_s` before the end: training saves a checkpoint at
the next step and the job requeues itself; the requeued job resumes from that step in the same run
directory and W&B run. `--dry-run` prints the job's settings and the sbatch script without a cluster;
`--local` runs the same job on this machine (submitit's local executor), preemption included.
"""

from __future__ import annotations

import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from {{cookiecutter.module_name}}.cli import build_parser, load_or_report, parse

# flags that set the cluster.* key of the same name
CLUSTER_FLAGS = ("nodes", "gpus_per_node", "cpus_per_task", "mem_gb", "time", "partition", "account", "qos")


def minutes(text: str | int) -> int:
    """A SLURM time limit ("MM", "HH:MM:SS", "D-HH:MM:SS", "D-HH") in whole minutes."""
    text = str(text).strip()
    found = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if not found:
        raise ValueError(f"{text!r} is not a SLURM time such as 90, 04:00:00 or 2-00:00:00")
    days, a, b, c = found.groups()
    if days is not None:  # D-HH[:MM[:SS]]
        hours, mins, secs = int(a), int(b or 0), int(c or 0)
        total = int(days) * 1440 + hours * 60 + mins + (secs > 0)
    elif b is None:  # MM
        total = int(a)
    elif c is None:  # MM:SS
        total = int(a) + (int(b) > 0)
    else:  # HH:MM:SS
        total = int(a) * 60 + int(b) + (int(c) > 0)
    return max(total, 1)


def train_overrides(cfg: Any) -> list[str]:
    """What the job adds to the train command: one process per GPU on every node, wired by Lightning."""
    c = cfg.cluster
    out = [f"trainer.num_nodes={c.nodes}"]
    if c.gpus_per_node > 0:
        out += ["trainer.accelerator=gpu", f"trainer.devices={c.gpus_per_node}"]
    if c.nodes * max(c.gpus_per_node, 1) > 1 and str(getattr(cfg.trainer.strategy, "value", "auto")) == "auto":
        out.append("trainer.strategy=ddp")
    return out


def slurm_parameters(cfg: Any) -> dict[str, Any]:
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
    """The callable submitit runs in every task: the train command. On submitit's preemption signal
    training saves a checkpoint at the next step; the job then hands the signal back to submitit, which
    requeues it (`checkpoint` returns the same job, and train resumes from the run directory)."""

    argv: list[str] = field(default_factory=list)

    def __call__(self) -> int:
        import submitit

        from {{cookiecutter.module_name}}.train import main

        code = main(self.argv)
        requeue_signal = getattr(signal, "SIG" + submitit.JobEnvironment.USR_SIG)
        if code == 128 + requeue_signal:
            signal.raise_signal(requeue_signal)  # submitit's handler (restored after training) requeues
        if code != 0:
            raise RuntimeError(f"train exited with {code}")
        return code

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(TrainJob(self.argv))


def job_argv(args: Any, cfg: Any) -> list[str]:
    """The train command's arguments for the job: the user's, plus what the cluster decides."""
    argv = []
    if args.config:
        argv += ["-c", args.config]
    for name in args.experiment or []:
        argv += ["-e", name]
    if args.name:
        argv += ["--name", args.name]
    if args.max_epochs is not None:
        argv += ["--max-epochs", str(args.max_epochs)]
    if args.ckpt_path:
        argv += ["--ckpt-path", args.ckpt_path]
    if args.fresh:
        argv.append("--fresh")
    overrides = [o for o in args.overrides if not o.startswith("cluster.")]  # the submitter's, not the job's
    return [*argv, *overrides, *(train_overrides(cfg) if not args.local else [])]


def job_folder(cfg: Any) -> Path:
    """Where submitit keeps each job's script, pickles and logs: <run dir>/submitit/<job id>/."""
    from {{cookiecutter.module_name}}.config import run_dir

    return run_dir(cfg).absolute() / "submitit" / "%j"


def submit(cfg: Any, argv: list[str], local: bool = False, folder: Path | None = None) -> Any:
    """Submit `TrainJob(argv)`; returns the submitit job. `local` runs it on this machine."""
    import submitit

    folder = folder or job_folder(cfg)
    if local:
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=minutes(cfg.cluster.time), signal_delay_s=cfg.cluster.signal_delay_s)
    else:
        executor = submitit.SlurmExecutor(folder=folder, max_num_timeout=cfg.cluster.max_requeues)
        executor.update_parameters(**slurm_parameters(cfg))
    return executor.submit(TrainJob(argv))


def dry_run(cfg: Any, argv: list[str]) -> str:
    """The job's settings and the sbatch script submitit would submit, without a cluster."""
    import shlex

    import yaml
    from submitit.slurm.slurm import _make_sbatch_string  # submitit's own script writer (it has no dry run)

    folder = job_folder(cfg)
    params = slurm_parameters(cfg)
    command = f"{shlex.quote(sys.executable)} -u -m submitit.core._submit {shlex.quote(str(folder))}"
    script = _make_sbatch_string(command=command, folder=folder, **params)
    spec = {"job": params, "train": ["python -m {{cookiecutter.module_name}}.train", *argv]}
    return f"# job spec\n{yaml.safe_dump(spec, sort_keys=False)}\n# sbatch script\n{script}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser("python -m {{cookiecutter.module_name}}.submit", "Submit training to SLURM (submitit).")
    parser.add_argument("--nodes", type=int, help="number of nodes (cluster.nodes)")
    parser.add_argument("--gpus-per-node", type=int, help="GPUs, and so processes, per node (cluster.gpus_per_node)")
    parser.add_argument("--cpus-per-task", type=int, help="CPUs per process (cluster.cpus_per_task)")
    parser.add_argument("--mem-gb", type=int, help="memory per node in GB (cluster.mem_gb)")
    parser.add_argument("--time", help="time limit, e.g. 04:00:00 or 2-00:00:00 (cluster.time)")
    parser.add_argument("--partition", help="SLURM partition (cluster.partition)")
    parser.add_argument("--account", help="SLURM account (cluster.account)")
    parser.add_argument("--qos", help="SLURM quality of service (cluster.qos)")
    parser.add_argument("--dry-run", action="store_true", help="print the job spec and sbatch script; submit nothing")
    parser.add_argument("--local", action="store_true", help="run the job on this machine (submitit local executor)")
    parser.add_argument("--wait", action="store_true", help="wait for the job to end and print its result")
    args = parse(parser, argv)
    args.overrides += [f"cluster.{k}={getattr(args, k)}" for k in CLUSTER_FLAGS if getattr(args, k) is not None]
    cfg = load_or_report(args)
    if cfg is None:
        return 2
    job_args = job_argv(args, cfg)
    if args.dry_run:
        print(dry_run(cfg, job_args))
        return 0
    job = submit(cfg, job_args, local=args.local)
    print(f"submitted job {job.job_id}: logs in {job.paths.folder}")
    if args.wait:
        job.result()
        print(f"job {job.job_id} finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
