"""The LR finder: Lightning's Tuner sweep, a suggestion read from the real per-step losses, the plot, and a
train command that repeats the user's own flags."""

from __future__ import annotations

import json
from pathlib import Path

from labblocks.run.lr_find import find_lr

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import PROJECT, load_config


def test_lr_find_writes_plot_curve_and_the_users_train_command(tmp_path: Path, capsys) -> None:
    flags = ["-e", "fast", "--name", "lr", f"run.output_dir={tmp_path}"]
    args = [*flags, "optim.lr=1e-4", "logger.kind=csv", "lr_find.num_training=20"]
    assert main(["lr-find", *args]) == 0
    out = capsys.readouterr().out
    plot, curve = tmp_path / "lr" / "lr_find.png", tmp_path / "lr" / "lr_find.json"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"plot: {plot}" in out
    data = json.loads(curve.read_text())
    assert len(data["lr"]) == len(data["loss"]) == len(data["smoothed"]) == 20 and data["lr"] == sorted(data["lr"])
    if data["suggestion"] is None:
        assert f"no suggestion: {data['reason']}" in out
    else:
        line = next(line for line in out.splitlines() if line.startswith("use it: "))
        prog = "{{cookiecutter.project_slug}}"
        assert line.startswith(f"use it: {prog} train -e fast --name lr")
        assert "optim.lr=1e-4" not in line and f"optim.lr={data['suggestion']:.2e}" in line  # the user's flags kept


def test_a_sweep_too_short_to_read_says_so(tmp_path: Path) -> None:
    cfg = load_config(experiment="fast", overrides=[f"run.output_dir={tmp_path}", "lr_find.num_training=8"])
    result = find_lr(PROJECT, cfg, tmp_path)
    assert result["suggestion"] is None and "fewer than" in result["reason"] and "num_training" in result["reason"]
{%- if cookiecutter.task == "text_classification" %}


def test_the_default_config_gets_a_reason_not_a_misleading_number(tmp_path: Path) -> None:
    """This task's loss sits at ln 2 for a few hundred steps before the model finds word order, so a sweep of
    100 steps sees no descent: the finder must say so, not read a number off noise."""
    result = find_lr(PROJECT, load_config(overrides=[f"run.output_dir={tmp_path}"]), tmp_path)
    assert result["suggestion"] is None and "hardly falls" in result["reason"]
{%- endif %}
