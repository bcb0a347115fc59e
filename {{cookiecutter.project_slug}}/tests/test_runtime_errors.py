"""Values only the libraries can judge (Lightning's Trainer settings, the network's arguments, data that a
split refuses), given to the real train command: each ends in one message that names the key and where its
value came from, exit code 2, no traceback, and no run directory or logger run left behind."""

from __future__ import annotations

from pathlib import Path

import lightning  # noqa: F401  (imported first: its log handlers keep the real stderr, not a test's capture)
import pytest
import torch
from own_data import add_rare_class, make_own_data

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import load_config

BLOCK = str(load_config().model.net.block)
NETWORK = {  # an argument the network's library refuses, by the default network's family
    "timm/": ("model.net.variant=convnext_atto", "model.net.variant: 'convnext_atto' is not a timm ResNet"),
    "hf/": ("model.net.config.num_attention_heads=3", "model.net (hf/encoder@v1): the network could not be built"),
}
MISSING_WEIGHTS = {  # pretrained weights that are not there, by the default network's family
    "timm/": ("model.net.weights={missing}", "model.net: weights not found: timm/resnet@v1: weights="),
    "hf/": ("model.net.pretrained={missing}", "is not a local directory, and downloads are off"),
}
TOO_SMALL = {  # an input the network cannot take, found by one forward before the run starts
    "timm/": (
        ["-e", "convnext", "data.image_size=16"],
        "model.net (timm/model@v1) cannot run on this data's input (1, 1, 16, 16)",
    ),
    "hf/": (
        ["data.max_length=160"],
        "model.net (hf/encoder@v1) cannot run on this data's input (1, 160), (1, 160); the sequence is longer than "
        "the network has positions for",
    ),
}
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a machine without a GPU says")
CASES = [
    ("trainer.devices=0", "command-line overrides: trainer.devices 0: a count >= 1"),
    pytest.param("trainer.accelerator=gpu", "trainer.accelerator 'gpu': no GPU here: drop `-e gpu`", marks=NO_GPU),
    pytest.param("trainer.strategy=fsdp", "trainer.strategy 'fsdp': fsdp needs GPUs", marks=NO_GPU),
    ("trainer.accelerator=tpu", "trainer.accelerator 'tpu': no TPU here"),
    next(case for prefix, case in NETWORK.items() if BLOCK.startswith(prefix)),
]


def refused(capsys, tmp_path: Path, *args: str) -> str:
    runs = tmp_path / "runs"
    code = main(["train", "-e", "fast", "--name", "bad", f"run.output_dir={runs}", "logger.kind=csv", *args])
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    assert not (runs / "bad").exists(), "a run that never started left its run directory"
    return err


@pytest.mark.parametrize(("override", "message"), CASES)
def test_a_value_the_libraries_refuse_is_one_message_naming_the_key(capsys, tmp_path, override, message) -> None:
    err = refused(capsys, tmp_path, override)
    assert message in err, err[-2000:]
    assert err.count("\n") <= 3, err  # one message (a line or two), not a log


def test_a_gpu_experiment_on_a_machine_without_one_names_the_experiment_file(capsys, tmp_path) -> None:
    if torch.cuda.is_available():
        pytest.skip("checks what a machine without a GPU says")
    err = refused(capsys, tmp_path, "-e", "gpu")
    assert "configs/experiment/gpu.yaml: trainer.accelerator" in err and "drop `-e gpu`" in err, err


def test_a_class_too_rare_to_split_is_a_data_error(capsys, tmp_path) -> None:
    data = tmp_path / "data"
    overrides = make_own_data(data)
    add_rare_class(data)
    experiment = "imagefolder" if BLOCK.startswith("timm/") else "files"
    err = refused(capsys, tmp_path, "-e", experiment, *overrides)
    assert err.startswith("data error: ") and "least populated class" in err, err


def test_traceback_shows_where_it_came_from_when_asked(capsys, tmp_path) -> None:
    args = ["-e", "fast", f"run.output_dir={tmp_path}", "logger.kind=csv", "trainer.accelerator=tpu"]
    assert main(["train", "--traceback", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "torch_xla" in err
    assert err.rstrip().splitlines()[-1].startswith("config error: ")


def test_pretrained_weights_that_are_not_there(capsys, tmp_path) -> None:
    override, message = next(case for prefix, case in MISSING_WEIGHTS.items() if BLOCK.startswith(prefix))
    err = refused(capsys, tmp_path, override.format(missing=tmp_path / "no-such-weights"))
    assert message in err and "no-such-weights" in err, err
    assert err.startswith("config error: command-line overrides: "), err


def test_an_input_the_network_cannot_take_is_refused_before_the_run(capsys, tmp_path) -> None:
    args, message = next(case for prefix, case in TOO_SMALL.items() if BLOCK.startswith(prefix))
    err = refused(capsys, tmp_path, *args)
    assert message in err, err
{%- if cookiecutter.task == "text_classification" %}


def test_a_csv_field_longer_than_the_reader_takes_names_its_line(capsys, tmp_path, monkeypatch) -> None:
    from {{cookiecutter.module_name}} import text_files

    data = tmp_path / "data"
    overrides = make_own_data(data)
    with (data / "reviews.csv").open("a", encoding="utf-8") as f:
        f.write('"an unclosed quote, pos\n' + "and the lines after it\n" * 40)
    monkeypatch.setattr(text_files, "FIELD_LIMIT", 500)
    err = refused(capsys, tmp_path, "-e", "files", *overrides)
    assert err.startswith("data error: "), err
    assert "reviews.csv:122: the CSV reader stopped here: field larger than field limit (500)" in err, err
    assert "an unclosed quote joins the lines after it" in err, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-e", "roberta", "data.max_length=160"],
            "model.net (hf/model@v1) cannot run on this data's input (1, 160), "
            "(1, 160); the sequence is longer than the network has positions for",
        ),
        (["-e", "distilbert", "model.net.head=causal_lm"], "model.net.head: transformers has no causal_lm model for"),
    ],
)
def test_what_a_transformers_model_type_cannot_do_is_refused_before_the_run(capsys, tmp_path, args, message) -> None:
    err = refused(capsys, tmp_path, *args)
    assert message in err, err
{%- endif %}
