"""Export writes CPU safetensors weights plus the config, and loading them back reproduces the outputs."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from {{cookiecutter.module_name}}.export import export_checkpoint, load_exported, main, resolve_checkpoint
from {{cookiecutter.module_name}}.runner import train


def test_export_roundtrip_reproduces_outputs(make_cfg, tmp_path: Path) -> None:
    result = train(make_cfg(name="exp"), test=False)
    ckpt = resolve_checkpoint(result.run_dir, "best")
    out = export_checkpoint(ckpt, tmp_path / "export")
    written = {p.name for p in out.iterdir()}
    assert written >= {"model.safetensors", "labblocks.json", "config.yaml", "preprocessing.json"}
    dm = result.datamodule
    assert {f"{name}.json" for name in dm.state_dict()} <= written  # e.g. the tokenizer
    recorded = yaml.safe_load((out / "config.yaml").read_text())
    assert recorded["model"]["net"]["block"].split("@")[0] == str(make_cfg().model.net.block).split("@")[0]

    loaded = load_exported(out)
    module = result.module.eval()
    module.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"])
    *inputs, _ = next(iter(dm.val_dataloader()))
    with torch.no_grad():
        assert torch.equal(loaded(*inputs), module(*inputs))
    assert all(t.device.type == "cpu" for t in loaded.state_dict().values())


def test_export_cli_reports_missing_run(tmp_path: Path, capsys) -> None:
    code = main(["-e", "fast", "--name", "never-trained", f"run.output_dir={tmp_path}"])
    assert code == 2 and "no checkpoints/last.ckpt" in capsys.readouterr().err
