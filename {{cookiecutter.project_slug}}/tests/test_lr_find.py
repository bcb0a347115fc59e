"""The LR finder runs Lightning's Tuner, saves the loss-vs-lr plot and suggests a rate."""

from __future__ import annotations

import json
from pathlib import Path

from {{cookiecutter.module_name}}.lr_find import find_lr


def test_lr_find_saves_plot_and_suggests(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("lr_find.num_training=20", "trainer.limit_train_batches=1.0")
    result = find_lr(cfg, tmp_path)
    assert result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curve = json.loads(result["curve"].read_text())
    assert len(curve["lr"]) == len(curve["loss"]) > 5 and curve["lr"] == sorted(curve["lr"])
    assert result["suggestion"] is not None and cfg.lr_find.min_lr <= result["suggestion"] <= cfg.lr_find.max_lr
