"""Every config file validates; bad keys, values and files fail fast with the key and the source named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from {{cookiecutter.module_name}}.config import CONFIG_DIR, ConfigError, load_config
from {{cookiecutter.module_name}}.data_config import USER_DATA_KEY

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def test_default_config_validates() -> None:
    cfg = load_config()
    assert cfg.model.net.block.split("@")[0].count("/") == 1
    assert cfg.trainer.max_epochs >= 1


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_validates(experiment: str) -> None:
    data = yaml.safe_load(experiment_file(experiment).read_text()) or {}
    if "source" in data.get("data", {}):
        pytest.skip(f"points at your own data ({USER_DATA_KEY}); validated with real files in test_data.py")
    cfg = load_config(experiment=experiment)
    assert cfg.run.name


def experiment_file(name: str) -> Path:
    return CONFIG_DIR / "experiment" / f"{name}.yaml"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("optim:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(experiment=str(bad))
    message = str(err.value)
    assert str(bad) in message and "optim.lrr" in message and "did you mean 'optim.lr'" in message


def test_wrong_type_names_key_and_source() -> None:
    with pytest.raises(ConfigError, match=r"command-line overrides: optim.lr: .*'fast'"):
        load_config(overrides=["optim.lr=fast"])


def test_bad_enum_value_lists_choices() -> None:
    with pytest.raises(ConfigError, match=r"optim.name.*adamw"):
        load_config(overrides=["optim.name=lion"])


def test_unknown_block_key_is_caught_at_validation() -> None:
    expected = r"(?s)model.net.*unknown block key 'timm/resnett@v1'.*did you mean: timm/resnet@v1"
    with pytest.raises(ConfigError, match=expected):
        load_config(overrides=["model.net.block=timm/resnett@v1"])


def test_bad_block_argument_is_caught_at_validation() -> None:
    with pytest.raises(ConfigError, match=r"model.net.not_an_argument: unknown argument 'not_an_argument'"):
        load_config(overrides=["model.net.not_an_argument=1"])


def test_switching_block_replaces_its_arguments() -> None:
    # core/mlp@v1 cannot take this data: the error names the data-supplied arguments it lacks, and no
    # argument of the default node leaks into the new one.
    default_args = set(load_config().model.net) - {"block"}
    with pytest.raises(ConfigError) as err:
        load_config(overrides=["model.net={block: core/mlp@v1, in_dim: 256, hidden_dim: 64, out_dim: 10}"])
    message = str(err.value)
    assert "core/mlp@v1 has no argument" in message and "which the caller passes at build time" in message
    assert not any(f"'{name}'" in message for name in default_args)


def test_unmonitored_metric_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"checkpoint.monitor: 'val/accuracy' is not a logged metric"):
        load_config(overrides=["checkpoint.monitor=val/accuracy"])


def test_sweep_parameters_are_config_keys() -> None:
    sweep = yaml.safe_load((CONFIG_DIR / "sweep.yaml").read_text())
    assert sweep["method"] == "random" and sweep["metric"]["name"] == "val/acc"
    for key, spec in sweep["parameters"].items():
        value = spec["values"][0] if "values" in spec else spec["min"]
        cfg = load_config(overrides=[f"{key}={value}"])  # raises on an unknown key or a bad value
        assert float(cfg[key.split(".")[0]][key.split(".")[1]]) == float(value)
    assert "{{cookiecutter.module_name}}.train" in sweep["command"]


def _run(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "{{cookiecutter.module_name}}.train", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=CONFIG_DIR.parent)


def test_cli_help_and_config_errors_without_importing_torch() -> None:
    helped = _run("--help")
    assert helped.returncode == 0 and "KEY=VALUE" in helped.stdout
    failed = _run("optim.lrr=0.1")
    assert failed.returncode == 2
    assert "config error: command-line overrides: optim.lrr: unknown key" in failed.stderr
    check = "import sys, runpy; sys.argv = ['train', '--print-config']; "
    check += "import {{cookiecutter.module_name}}.train as t; t.main(['--print-config']); "
    check += "heavy = ('torch', 'lightning', 'timm', 'transformers'); "
    check += "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    cmd = [sys.executable, "-c", check]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=CONFIG_DIR.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("[]"), out.stdout[-300:]
