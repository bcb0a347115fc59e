"""The train command end to end through its CLI, with the configured logger (W&B offline), then a
rerun of the same command with one more epoch, which resumes. Each run is its own process, as for a
user (W&B keeps per-process state)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from {{cookiecutter.module_name}}.config import CONFIG_DIR, load_config

LOGGER = load_config().logger.kind.value


def train_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m {{cookiecutter.module_name}}.train ARGS` with W&B offline; fails the test on a non-zero exit."""
    env = {**os.environ, "WANDB_MODE": "offline"}
    done = subprocess.run([sys.executable, "-m", "{{cookiecutter.module_name}}.train", *args],
                          capture_output=True, text=True, env=env, cwd=CONFIG_DIR.parent, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def reported(out: str, label: str) -> str:
    """The value the run's closing summary printed for `label`."""
    found = re.search(rf"^{re.escape(label)}:\s+(.*)$", out, re.MULTILINE)
    assert found, f"no {label!r} in the summary:\n{out[-1500:]}"
    return found.group(1)


@pytest.mark.slow  # two train processes: about 20 s on 2 cores
def test_train_cli_runs_logs_checkpoints_and_resumes(tmp_path: Path) -> None:
    args = ["-e", "fast", "--name", "e2e", f"run.output_dir={tmp_path}"]
    first = train_cli(*args)
    rd = tmp_path / "e2e"
    last = rd / "checkpoints" / "last.ckpt"
    assert last.is_file() and list((rd / "checkpoints").glob("epoch000-acc*.ckpt"))
    assert float(reported(first.stdout, "best val/acc")) >= 0 and reported(first.stdout, "last checkpoint") == str(last)
    assert "Total Flops" in first.stdout + first.stderr  # the model summary counts parameters and FLOPs
    assert (rd / "config.yaml").read_text().count("@v1") >= 1  # the recorded block key is pinned
    if LOGGER == "wandb":
        run_id = (rd / "wandb_run_id").read_text().strip()
        offline = list((rd / "wandb").glob(f"offline-run-*-{run_id}"))
        assert len(offline) == 1, list((rd / "wandb").iterdir())
        assert reported(first.stdout, "upload it with") == f"wandb sync {offline[0]}"
    elif LOGGER == "tensorboard":
        assert list((rd / "tensorboard").glob("events.out.tfevents.*"))
    else:
        assert (rd / "csv" / "version_0" / "metrics.csv").read_text().count("val/acc") >= 1

    # The same command with one more epoch resumes from last.ckpt (and continues the same W&B run).
    first_steps = torch.load(last, map_location="cpu", weights_only=True)["global_step"]
    again = train_cli(*args, "--max-epochs", "2")
    assert reported(again.stdout, "resumed from") == str(last)
    assert f"Restored all states from the checkpoint at {last}" in again.stdout + again.stderr
    assert reported(again.stdout, "config changed on resume") == "trainer.max_epochs: 1 -> 2"
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 2 * first_steps and ckpt["config"]["trainer"]["max_epochs"] == 2
    if LOGGER == "wandb":
        assert len(list((rd / "wandb").glob(f"offline-run-*-{run_id}"))) == 2
