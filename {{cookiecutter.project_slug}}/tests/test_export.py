"""Export carries what inference needs: rebuilt with labblocks alone (this project's own block included),
the exported model reproduces the checkpoint's test accuracy from raw inputs, following only the exported
files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from labblocks.run.export import load_module
from labblocks.run.fit import train
from raw_inference import predict, raw_test_examples

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import CONFIG_DIR, PROJECT


def test_export_reproduces_the_test_accuracy_from_raw_inputs(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("trainer.max_epochs=2", "trainer.limit_test_batches=1.0", name="exp", experiments=("tiny",))
    result = train(PROJECT, cfg)  # tests the best checkpoint, which export exports
    out = tmp_path / "export"
    args = ["-e", "tiny", "-e", "fast", "--name", "exp", f"run.output_dir={cfg.run.output_dir}", "--out", str(out)]
    assert main(["export", *args]) == 0
    written = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "labblocks.json", "config.yaml", "preprocessing.json"} <= written
    meta = json.loads((out / "labblocks.json").read_text())
    block = "{{ 'tiny_cnn' if cookiecutter.task == 'image_classification' else 'conv_text' }}"
    assert meta["key"] == f"{{cookiecutter.module_name}}/{block}@v1"

    examples = raw_test_examples(result.datamodule)
    predicted = predict(out, [raw for raw, _ in examples])
    accuracy = sum(p == label for p, (_, label) in zip(predicted, examples, strict=True)) / len(examples)
    assert abs(accuracy - result.test_metrics["test/acc"]) < 1e-6, (accuracy, result.test_metrics)
    # and prediction for prediction, the same as the project's own evaluation pipeline
    module, dm = result.module.eval(), result.datamodule
    with torch.no_grad():
        ours = [dm.class_names[i] for *x, _ in dm.test_dataloader() for i in module(*x).argmax(-1).tolist()]
    assert predicted == ours
    assert all(t.device.type == "cpu" for t in load_module(out).state_dict().values())
    assert json.loads((out / "preprocessing.json").read_text())["class_names"] == result.datamodule.class_names


def test_labblocks_list_shows_this_projects_blocks_without_torch() -> None:
    code = (
        "import sys; from labblocks.tools.cli import main; main(['list']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning')))"
    )
    run = [sys.executable, "-c", code]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=CONFIG_DIR.parent)
    assert done.returncode == 0, done.stderr
    assert "{{cookiecutter.module_name}}/" in done.stdout and done.stdout.strip().endswith("[]")


def test_export_cli_reports_a_missing_run(tmp_path: Path, capsys) -> None:
    code = main(["export", "-e", "fast", "--name", "never-trained", f"run.output_dir={tmp_path}"])
    assert code == 2 and "no checkpoints/last.ckpt" in capsys.readouterr().err


def test_export_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "weights.ckpt"
    torch.save({"w": torch.zeros(2)}, bogus)
    assert main(["export", "-e", "fast", "--which", str(bogus), f"run.output_dir={tmp_path}"]) == 2
    assert "not a Lightning checkpoint" in capsys.readouterr().err
