"""Under a W&B sweep agent, train applies wandb.config as a validated config layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from labblocks.run.errors import ConfigError

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import load_config


def test_sweep_values_reach_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `wandb agent` sets up for each run: the sweep id and a file of sampled values in the
    environment (offline, no W&B server needed). This is the only W&B run in the test process."""
    params = tmp_path / "sweep-params.yaml"
    params.write_text(yaml.safe_dump({"optim.lr": {"value": 0.0123}, "data.batch_size": {"value": 8}}))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SWEEP_ID", "testsweep")
    monkeypatch.setenv("WANDB_SWEEP_PARAM_PATH", str(params))
    assert main(["train", "-e", "fast", f"run.output_dir={tmp_path}"]) == 0
    (run_dir,) = [p for p in tmp_path.glob("sweep-*") if p.is_dir()]
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert recorded["optim"]["lr"] == 0.0123 and recorded["data"]["batch_size"] == 8
    assert recorded["logger"]["kind"] == "wandb" and list((run_dir.parent / "wandb").glob("offline-run-*"))


def test_bad_sweep_value_is_a_config_error_naming_the_sweep() -> None:
    with pytest.raises(ConfigError, match=r"wandb.config \(sweep\): optim.learning_rate: unknown key"):
        load_config(experiment="fast", extra=(("wandb.config (sweep)", {"optim.learning_rate": 0.1}),))
