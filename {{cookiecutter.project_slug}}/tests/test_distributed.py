"""Beyond one process, on this CPU: two DDP processes (gloo) through the train command, and SLURM through
submitit (the job spec for a cluster, and the same job on this machine with a preemption signal)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from labblocks.run.fit import train
from labblocks.run.submit import minutes, submit
from labblocks.testing.sanity import assert_state_equal
from processes import NICE, global_step, interrupt, wait_for_checkpoint

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import CONFIG_DIR, PROJECT

# The project's small network (DDP, syncing and resume do not depend on its size), 2 epochs of 16 batches.
STEPS = 32
DDP = ["--devices", "2", "trainer.accelerator=cpu", "trainer.strategy=ddp"]
SCHEDULE = ["trainer.max_epochs=2", "trainer.limit_train_batches=16", "checkpoint.every_n_train_steps=1"]
TWO = ["-e", "tiny", "-e", "fast", *DDP, *SCHEDULE, "logger.kind=csv"]


def train_cli(
    tmp_path: Path, name: str, *args: str, wait: bool = True
) -> subprocess.CompletedProcess | subprocess.Popen:
    train = [sys.executable, "-m", "{{cookiecutter.module_name}}", "train"]
    cmd = [*train, *args, "--name", name, f"run.output_dir={tmp_path}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # two processes on two cores
    if not wait:
        return subprocess.Popen(
            [*NICE, *cmd], cwd=CONFIG_DIR.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    done = subprocess.run(cmd, cwd=CONFIG_DIR.parent, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def summary_value(out: str, label: str) -> float:
    found = re.findall(rf"^{re.escape(label)}:\s+([0-9.]+)$", out, re.MULTILINE)
    assert len(found) == 1, f"{label!r} printed {len(found)} times (once, by rank 0, is right):\n{out[-2000:]}"
    return float(found[0])


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow  # three two-process runs and one single-process run
def test_two_processes_train_agree_with_one_and_resume_bitwise(tmp_path: Path, tiny_cfg) -> None:
    """Each rank trains on its half of the data; validation and test metrics are averaged over both
    (printed once); a 2-process run stopped mid-epoch by a signal and rerun ends bitwise equal to an
    uninterrupted 2-process run."""
    two = train_cli(tmp_path, "two", *TWO)
    one = train(PROJECT, tiny_cfg(*SCHEDULE, "logger.kind=csv", name="one")).test_metrics  # one process, in this one
    for metric in ("test/acc", "test/loss"):
        # The same data and number of steps (2 x batch vs batch): the runs differ in the order of samples and in
        # the batch statistics, so their metrics are close but not equal.
        assert abs(summary_value(two.stdout, metric) - one[metric]) < 0.5, metric
    ckpt = torch.load(tmp_path / "two" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == STEPS and len(ckpt["callbacks"]["RNGState"]["ranks"]) == 2  # RNG of each rank

    run = train_cli(tmp_path, "resumed", *TWO, wait=False)
    last = tmp_path / "resumed" / "checkpoints" / "last.ckpt"
    wait_for_checkpoint(last, run, after=0)
    # To rank 0 only: the ranks agree on the next step and both stop.
    interrupt(run.pid, signal.SIGUSR1, last, before_step=STEPS)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 128 + signal.SIGUSR1, err[-3000:]
    assert 0 < global_step(last) < STEPS
    again = train_cli(tmp_path, "resumed", *TWO)
    assert "resumed from:" in again.stdout
    assert_state_equal(weights(tmp_path / "two"), weights(tmp_path / "resumed"), "2 processes: resumed vs straight")


def test_dry_run_prints_a_two_node_four_gpu_job(capsys) -> None:
    code = main(
        [
            "submit",
            "-e",
            "fast",
            "--name",
            "big",
            "--nodes",
            "2",
            "--gpus-per-node",
            "4",
            "--partition",
            "gpu",
            "--time",
            "1-12:00:00",
            "--account",
            "lab",
            "--dry-run",
            "optim.lr=3e-4",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=lab",
        "#SBATCH --time=2160",
        "#SBATCH --signal=USR2@120",
        "#SBATCH --job-name=big",
    ):
        assert line in out, line
    assert "srun" in out and "submitit.core._submit" in out
    for arg in (
        "trainer.num_nodes=2",
        "trainer.devices=4",
        "trainer.accelerator=gpu",
        "trainer.strategy=ddp",
        "optim.lr=3e-4",
    ):
        assert f"- {arg}" in out, arg


def test_dry_run_refuses_bad_cluster_settings(capsys) -> None:
    assert main(["submit", "--dry-run", "--time", "soon", "--nodes", "0"]) == 2
    err = capsys.readouterr().err
    assert "cluster.time: 'soon' is not a SLURM time" in err and "cluster.nodes: 0 must be >= 1" in err


@pytest.mark.parametrize(
    ("text", "expected"), [("90", 90), ("04:00:00", 240), ("2-00:00:00", 2880), ("1-12", 2160), ("00:30", 1)]
)
def test_slurm_time_limits(text: str, expected: int) -> None:
    assert minutes(text) == expected


@pytest.mark.slow  # a local submitit job that is preempted once and requeued
def test_local_job_is_requeued_on_preemption_and_finishes_like_a_straight_run(tmp_path: Path, tiny_cfg) -> None:
    """submitit's local executor runs the SLURM job's code path on this machine: the preemption signal (USR2)
    saves at the next step, submitit requeues the job, and the requeued job resumes to the same weights."""

    overrides = ["trainer.max_epochs=2", "trainer.limit_train_batches=20", "checkpoint.every_n_train_steps=2"]
    args = ["-e", "tiny", "-e", "fast", *overrides, "logger.kind=csv"]
    straight = train(PROJECT, tiny_cfg(*overrides, "logger.kind=csv", name="straight"), test=False)
    cfg = tiny_cfg(*overrides, "logger.kind=csv", name="job")
    job = submit(PROJECT, cfg, [*args, "--name", "job", f"run.output_dir={cfg.run.output_dir}"], local=True)
    last = Path(cfg.run.output_dir) / "job" / "checkpoints" / "last.ckpt"
    wait_for_checkpoint(last, None, after=0)
    owner = json.loads((last.parents[1] / ".lock").read_text())  # the training process holds the run's lock
    interrupt(owner["pid"], signal.SIGUSR2, last, before_step=40)  # what SLURM sends before the time limit
    assert job.result() == 0
    log = Path(job.paths.stdout).read_text() + Path(job.paths.stderr).read_text()
    assert "SIGUSR2: saved" in log and "Requeued job" in log and "resumed from:" in log
    assert_state_equal(
        straight.module.state_dict(), weights(Path(cfg.run.output_dir) / "job"), "preempted and requeued vs straight"
    )
