"""Under a W&B sweep agent, train applies wandb.config as a validated config layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from {{cookiecutter.module_name}}.config import CONFIG_DIR, ConfigError, load_config


def test_sweep_values_reach_the_run(tmp_path: Path) -> None:
    """What `wandb agent` does for each run: a fresh process with the sweep id and a file of sampled
    values in the environment (no W&B server needed offline)."""
    params = tmp_path / "sweep-params.yaml"
    params.write_text(yaml.safe_dump({"optim.lr": {"value": 0.0123}, "data.batch_size": {"value": 8}}))
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SWEEP_ID": "testsweep", "WANDB_SWEEP_PARAM_PATH": str(params)}
    cmd = [sys.executable, "-m", "{{cookiecutter.module_name}}.train", "-e", "fast", f"run.output_dir={tmp_path}"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=CONFIG_DIR.parent, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = [p for p in tmp_path.glob("sweep-*") if p.is_dir()]
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert recorded["optim"]["lr"] == 0.0123 and recorded["data"]["batch_size"] == 8


def test_bad_sweep_value_is_a_config_error_naming_the_sweep() -> None:
    with pytest.raises(ConfigError, match=r"wandb.config \(sweep\): optim.learning_rate: unknown key"):
        load_config(experiment="fast", extra=(("wandb.config (sweep)", {"optim.learning_rate": 0.1}),))
