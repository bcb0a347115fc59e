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
    """The console script's `train ARGS` with W&B offline; fails the test on a non-zero exit."""
    env = {**os.environ, "WANDB_MODE": "offline"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("{{cookiecutter.project_slug}}")), "train", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=CONFIG_DIR.parent,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


# What the first `-e fast` run prints: the seed, the logger's own lines, the devices, the model summary, the
# progress, the run summary. Anything else on the console is a warning nobody acted on.
EXPECTED = re.compile(
    r"^\s*$|^Seed set to \d+$|^wandb: (?!WARNING)|^(GPU|TPU) available: |^SampleTable: logged "
    r"|^`Trainer\.fit` stopped: "
    r"|^(Restoring states from the checkpoint path|Loaded model weights from the checkpoint) at "
    r"|^ *\d* *\| |^-+$|^[\d.]+ [KMGT]? *(Trainable|Non-trainable|Total) |^\d+ +Modules in |^[\d.]+ +Total estimated"
    r"|^(run directory|best \S+|test/\S+|tested|best checkpoint|last checkpoint|W&B run \(\w+\)|upload it with): +\S"
)


def reported(out: str, label: str) -> str:
    """The value the run's closing summary printed for `label`."""
    found = re.search(rf"^{re.escape(label)}:\s+(.*)$", out, re.MULTILINE)
    assert found, f"no {label!r} in the summary:\n{out[-1500:]}"
    return found.group(1)


def check_wandb_run(run: Path) -> None:
    """The offline run folder is complete on its own (a copy synced elsewhere loses nothing) and its
    tables hold the data: sample images that are not black, predictions for every class."""
    from labblocks.testing import wandb_offline

    wandb_offline.wait_until_complete(run)
    assert wandb_offline.files_outside_run(run) == []
    (samples,) = wandb_offline.tables(run, "samples/train")
    images = [run / "files" / cell["path"] for row in samples["data"] for cell in row if isinstance(cell, dict)]
    if images:  # image tasks: the pixels as logged, not a black square
        import numpy as np
        from PIL import Image

        assert max(int(np.asarray(Image.open(path)).max()) for path in images) > 100
    predictions = wandb_offline.tables(run, "val/predictions")
    assert predictions and {"label", "prediction"} <= set(predictions[-1]["columns"])


@pytest.mark.slow  # two train processes: about 20 s on 2 cores
def test_train_cli_runs_logs_checkpoints_and_resumes(tmp_path: Path) -> None:
    args = ["-e", "fast", "--name", "e2e", f"run.output_dir={tmp_path}"]
    first = train_cli(*args)
    rd = tmp_path / "e2e"
    last = rd / "checkpoints" / "last.ckpt"
    assert last.is_file() and list((rd / "checkpoints").glob("epoch000-val_acc*.ckpt"))
    assert float(reported(first.stdout, "best val/acc")) >= 0 and reported(first.stdout, "last checkpoint") == str(last)
    assert "Total Flops" in first.stdout + first.stderr  # the model summary counts parameters and FLOPs
    noise = [line for line in (first.stdout + first.stderr).splitlines() if not EXPECTED.search(line)]
    assert not noise, "the first run's console holds lines nobody asked for:\n" + "\n".join(noise)
    assert (rd / "config.yaml").read_text().count("@v1") >= 1  # the recorded block key is pinned
    if LOGGER == "wandb":
        run_id = (rd / "wandb_run_id").read_text().strip()
        offline = list((rd / "wandb").glob(f"offline-run-*-{run_id}"))
        assert len(offline) == 1, list((rd / "wandb").iterdir())
        assert reported(first.stdout, "upload it with") == f"wandb sync {offline[0]}"
        check_wandb_run(offline[0])
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
