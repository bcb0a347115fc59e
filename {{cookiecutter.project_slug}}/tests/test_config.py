"""Every config file validates; bad keys, values and files fail fast, all at once, with the key, the source
and what is allowed; the trainer: section follows Lightning's Trainer."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from labblocks.run.config import experiment_names, to_plain
from labblocks.run.errors import ConfigError
from labblocks.run.schema import TRAINER_ARGS_LEFT_OUT, TrainerConfig
from omegaconf import OmegaConf

from {{cookiecutter.module_name}}.config import CONFIG_DIR, Config, load_config
from {{cookiecutter.module_name}}.data_config import USER_DATA_KEY


def own_data(experiment: str) -> bool:
    data = yaml.safe_load((CONFIG_DIR / "experiment" / f"{experiment}.yaml").read_text()) or {}
    return "source" in data.get("data", {})


def test_default_config_validates() -> None:
    cfg = load_config()
    assert cfg.model.net.block.split("@")[0].count("/") == 1
    assert cfg.trainer.max_epochs >= 1


@pytest.mark.parametrize("experiment", experiment_names(CONFIG_DIR))
def test_every_experiment_validates(experiment: str) -> None:
    if own_data(experiment):
        pytest.skip(f"points at your own data ({USER_DATA_KEY}); trained with real files in test_trainer.py")
    cfg = load_config(experiment=experiment)
    assert cfg.run.name


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("optim:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(experiment=str(bad))
    message = str(err.value)
    assert str(bad) in message and "optim.lrr" in message and "did you mean 'optim.lr'" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Type errors, unknown keys and range checks from several layers, in one error, each with its source."""
    layer = tmp_path / "mine.yaml"
    layer.write_text("trainer:\n  max_epoch: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(experiment=str(layer), overrides=["optim.lr=-1", "trainer.max_epochs=0", "data.batch_size=big"])
    problems = err.value.problems
    assert len(problems) == 4, problems
    assert any(
        p.startswith(f"{layer}: trainer.max_epoch: unknown key; did you mean 'trainer.max_epochs'") for p in problems
    )
    assert "command-line overrides: optim.lr: -1.0 must be > 0" in problems
    assert any(p.startswith("command-line overrides: trainer.max_epochs: 0 must be >= 1") for p in problems)
    assert any(p.startswith("command-line overrides: data.batch_size:") and "'big'" in p for p in problems)
    assert str(err.value).startswith("4 problems:")


def test_wrong_type_names_key_and_source() -> None:
    with pytest.raises(ConfigError, match=r"command-line overrides: optim.lr: .*'fast'"):
        load_config(overrides=["optim.lr=fast"])


def test_bad_choice_lists_the_values_users_type() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(overrides=["trainer.precision=fp8", "optim.name=lion"])
    message = str(err.value)
    assert "trainer.precision: 'fp8' is not one of 32-true, bf16-mixed, 16-mixed, bf16-true" in message
    assert "also accepted: 32, 16, bf16, 64" in message and "fp32" not in message
    assert "optim.name: 'lion' is not one of adamw, adam, sgd" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("32", "32-true"),
        ("16", "16-mixed"),
        ("bf16", "bf16-mixed"),
        ("BF16-Mixed", "bf16-mixed"),
        ("bf16-true", "bf16-true"),
    ],
)
def test_precision_in_every_spelling_lightning_accepts(given: str, expected: str) -> None:
    cfg = load_config(overrides=[f"trainer.precision={given}"])
    assert to_plain(cfg)["trainer"]["precision"] == expected


def test_on_off_choices_accept_yaml_booleans(tmp_path: Path) -> None:
    """YAML reads an unquoted `on`/`off` as a boolean, from a file and from the command line."""
    assert to_plain(load_config(overrides=["trainer.deterministic=on"]))["trainer"]["deterministic"] == "on"
    layer = tmp_path / "det.yaml"
    layer.write_text("trainer:\n  deterministic: off\n")
    assert to_plain(load_config(experiment=str(layer)))["trainer"]["deterministic"] == "off"


def test_batch_limits_are_ints_or_fractions_as_in_lightning() -> None:
    cfg = load_config(
        overrides=[
            "trainer.limit_train_batches=1",
            "trainer.limit_val_batches=0.25",
            "trainer.overfit_batches=3",
            "trainer.val_check_interval=0.5",
        ]
    )
    t = cfg.trainer
    assert (t.limit_train_batches, type(t.limit_train_batches)) == (1, int)  # one batch, not 100 %
    assert (t.limit_val_batches, type(t.limit_val_batches)) == (0.25, float)
    assert t.overfit_batches == 3 and t.val_check_interval == 0.5
    with pytest.raises(ConfigError, match=r"trainer.limit_val_batches: 1.5 must be a fraction in \[0, 1\]"):
        load_config(overrides=["trainer.limit_val_batches=1.5"])


def test_trainer_section_follows_lightnings_trainer() -> None:
    """Every Trainer argument is a trainer: key of the same name, or left out with a reason; a Lightning
    upgrade that adds or renames an argument fails here."""
    import lightning as L

    lightning_args = set(inspect.signature(L.Trainer.__init__).parameters) - {"self"}
    ours = {f.name for f in dataclasses.fields(TrainerConfig)}
    assert not ours - lightning_args, f"trainer: keys that Lightning's Trainer does not take: {ours - lightning_args}"
    unaccounted = lightning_args - ours - set(TRAINER_ARGS_LEFT_OUT)
    assert not unaccounted, f"Trainer arguments neither in TrainerConfig nor in TRAINER_ARGS_LEFT_OUT: {unaccounted}"
    assert not set(TRAINER_ARGS_LEFT_OUT) & ours
    assert not set(TRAINER_ARGS_LEFT_OUT) - lightning_args, "a left-out argument Lightning no longer has"


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


def test_unknown_experiment_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match=r"--experiment 'fsat': no file .*did you mean 'fast'"):
        load_config(experiment="fsat")


def test_sweep_parameters_are_config_keys() -> None:
    sweep = yaml.safe_load((CONFIG_DIR / "sweep.yaml").read_text())
    assert sweep["method"] == "random" and sweep["metric"]["name"] == "val/acc"
    for key, spec in sweep["parameters"].items():
        value = spec["values"][0] if "values" in spec else spec["min"]
        cfg = load_config(overrides=[f"{key}={value}"])  # raises on an unknown key or a bad value
        assert float(cfg[key.split(".")[0]][key.split(".")[1]]) == float(value)
    assert sweep["command"][:5] == ["${env}", "python", "-m", "{{cookiecutter.module_name}}", "train"]


def _run(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "{{cookiecutter.module_name}}", "train", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=CONFIG_DIR.parent)


def test_cli_help_and_config_errors_without_importing_torch() -> None:
    helped = _run("--help")
    assert helped.returncode == 0 and "KEY=VALUE" in helped.stdout
    failed = _run("optim.lrr=0.1", "--name", "x", "trainer.max_epochs=0")  # overrides before and after a flag
    assert failed.returncode == 2
    assert "config error: 2 problems:" in failed.stderr
    assert "command-line overrides: optim.lrr: unknown key" in failed.stderr
    assert "Traceback" not in failed.stderr
    check = "import sys; from {{cookiecutter.module_name}}.__main__ import main; "
    check += "main(['train', '--print-config', 'optim.lr=3e-4', '-e', 'fast', 'trainer.deterministic=on']); "
    check += "codes = [main([command, 'optim.lrr=1']) for command in ('train', 'lr-find', 'search', 'submit')]; "
    check += "assert codes == [2, 2, 2, 2], codes; "  # refused before the command's own module is imported
    check += "heavy = ('torch', 'lightning', 'timm', 'transformers'); "
    check += "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    out = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, cwd=CONFIG_DIR.parent
    )
    assert out.returncode == 0, out.stderr
    assert "lr: 0.0003" in out.stdout and "max_epochs: 1" in out.stdout  # -e fast after an override still applies
    assert out.stdout.strip().endswith("[]"), out.stdout[-300:]


def test_default_yaml_holds_only_what_differs_from_the_schema() -> None:
    """The schema is the one place for defaults: a value in configs/default.yaml equal to the schema's
    default would be a second place that can silently disagree once one of them changes."""
    schema = to_plain(OmegaConf.structured(Config))
    repeated = [
        key
        for key, value in _leaves(yaml.safe_load((CONFIG_DIR / "default.yaml").read_text()))
        if _get(schema, key) == value
    ]
    assert not repeated, f"configs/default.yaml repeats the schema's defaults of {repeated}; remove them"


def _leaves(node: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in node.items():
        if isinstance(value, dict) and not (prefix + key).startswith("model.net"):
            out += _leaves(value, f"{prefix}{key}.")
        else:
            out.append((prefix + key, value))
    return out


def _get(node: dict, key: str) -> object:
    for part in key.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def test_the_old_train_module_still_trains_as_an_alias() -> None:
    helped = subprocess.run(
        [sys.executable, "-m", "{{cookiecutter.module_name}}.train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CONFIG_DIR.parent,
    )
    assert helped.returncode == 0 and "--fresh" in helped.stdout, helped.stderr
