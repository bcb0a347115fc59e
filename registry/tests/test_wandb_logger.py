"""`labblocks.run.trainer.wandb_logger`: the W&B run it starts says nothing nobody asked for, logs against
Lightning's step axis, and a second start with the same id continues the same offline run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labblocks.testing import wandb_offline

SCRIPT = """
import sys
from labblocks.run.trainer import wandb_logger
logger = wandb_logger(sys.argv[1], project="labblocks-test", id="fixedid1", resume="allow", mode="offline")
logger.log_metrics({"train/loss": 0.5, "trainer/global_step": 3}, step=3)
print("VERSION", logger.version)
logger.experiment.finish()
"""


def _start(save_dir: Path) -> subprocess.CompletedProcess[str]:
    """In a fresh process: W&B prints a warning once per process, so an earlier start here would hide it."""
    env = {k: v for k, v in os.environ.items() if k != "WANDB_MODE"}
    return subprocess.run([sys.executable, "-c", SCRIPT, str(save_dir)], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.multisecond
def test_the_run_starts_quietly_on_the_step_axis_and_resumes_by_id(tmp_path: Path) -> None:
    first = _start(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "VERSION fixedid1" in first.stdout
    assert "WARNING" not in first.stderr and "anonymous" not in first.stderr, first.stderr
    (run,) = (tmp_path / "wandb").glob("offline-run-*-fixedid1")
    wandb_offline.wait_until_complete(run)
    metrics = {(r.metric.name or r.metric.glob_name, r.metric.step_metric) for r in wandb_offline.records(run)
               if r.WhichOneof("record_type") == "metric"}
    assert {("trainer/global_step", ""), ("*", "trainer/global_step")} <= metrics
    assert any(row.get("train/loss") == 0.5 for row in wandb_offline.history(run))
    second = _start(tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(list((tmp_path / "wandb").glob("offline-run-*-fixedid1"))) == 2  # the same run id, continued
