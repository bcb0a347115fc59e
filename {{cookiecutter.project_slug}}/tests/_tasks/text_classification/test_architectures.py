"""The architecture experiments (`-e roberta`, `-e distilbert`) train a few steps through the train command
and export: the export, rebuilt by labblocks alone, holds the best checkpoint's network and classifies a
tokenized batch. A local pretrained directory (weights and tokenizer) fine-tunes through the same command."""

from __future__ import annotations

import json
from pathlib import Path

import labblocks
import pytest
import torch
from labblocks.run.export import load_module
from tokenizers import Tokenizer

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.data import TOKENIZER_FILE
from {{cookiecutter.module_name}}.train import build_datamodule, build_model, net_node

KEY = "hf/model@v1"


@pytest.mark.parametrize("experiment", ["roberta", "distilbert"])
def test_architecture_experiment_trains_and_exports(experiment: str, tmp_path: Path) -> None:
    layers = ["-e", "fast", "-e", experiment, "--name", experiment, f"run.output_dir={tmp_path}"]
    assert main(["train", *layers, "logger.kind=csv", "trainer.limit_train_batches=2"]) == 0
    out = tmp_path / "export"
    assert main(["export", *layers, "--out", str(out)]) == 0
    meta = json.loads((out / "labblocks.json").read_text())
    assert meta["key"] == KEY and meta["args"]["model_type"] == experiment

    best = next((tmp_path / experiment / "checkpoints").glob("epoch*.ckpt"))
    saved = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    net = load_module(out)
    exported = net.state_dict()
    assert exported.keys() == {k.removeprefix("net.") for k in saved if k.startswith("net.")}
    assert all(torch.equal(v, saved[f"net.{k}"]) for k, v in exported.items())
    classes = json.loads((out / "preprocessing.json").read_text())["class_names"]
    tok = Tokenizer.from_file(str(out / TOKENIZER_FILE))
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"))
    encoded = tok.encode_batch(["the food was not good but the service was great", "fine"])
    ids = torch.tensor([e.ids for e in encoded])  # (2, T)
    mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.bool)  # (2, T)
    with torch.no_grad():
        assert net(ids, mask).shape == (2, len(classes))


def test_fine_tunes_a_local_pretrained_directory_with_its_tokenizer(make_cfg, tmp_path: Path) -> None:
    """What a downloaded model looks like: save_pretrained weights and the tokenizer.json beside them."""
    cfg = make_cfg(experiments=("roberta",))
    dm = build_datamodule(cfg)
    source = labblocks.build(net_node(cfg, dm))
    folder = tmp_path / "pretrained"
    source.model.save_pretrained(folder)
    dm.tokenizer.save(str(folder / TOKENIZER_FILE))
    tuned = make_cfg(
        f"model.net.pretrained={folder}",
        "data.tokenizer.kind=pretrained",
        f"data.tokenizer.pretrained_dir={folder}",
        experiments=("roberta",),
    )
    start = build_model(tuned, build_datamodule(tuned)).net.state_dict()
    body = {k: v for k, v in source.state_dict().items() if ".classifier." not in k}
    assert all(torch.equal(start[k], v) for k, v in body.items())  # the body starts from the saved weights

    layers = [
        "-e",
        "fast",
        "-e",
        "roberta",
        "--name",
        "tuned",
        f"run.output_dir={tmp_path / 'runs'}",
        f"model.net.pretrained={folder}",
        "data.tokenizer.kind=pretrained",
        f"data.tokenizer.pretrained_dir={folder}",
    ]
    assert main(["train", *layers, "logger.kind=csv", "trainer.limit_train_batches=2"]) == 0
    last = torch.load(tmp_path / "runs" / "tuned" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    node = last["labblocks"]["modules"]["net"]
    assert node["init"] == {"pretrained": str(folder)} and node["args"]["pretrained"] is None
