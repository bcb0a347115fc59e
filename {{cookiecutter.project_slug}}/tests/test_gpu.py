"""GPU smoke tests: the default config in bf16-mixed and 16-mixed (with its gradient clipping), and the GPU
experiment (-e gpu: compile, channels-last, loader workers). Skipped with the reason where there is no CUDA.
One CPU test: the default networks compile with no graph breaks (torch.compile's speed depends on it)."""

from __future__ import annotations

import math
import time

import pytest
import torch
from labblocks.run.fit import train
from lightning.pytorch import Callback

from {{cookiecutter.module_name}}.config import PROJECT, load_config
from {{cookiecutter.module_name}}.train import build_datamodule, build_model

STEPS = 30
needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="CUDA is not available: GPU smoke tests need an NVIDIA GPU (make test-gpu)"
)


class _Recorder(Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []
        self.start = 0.0
        self.samples = 0

    def on_train_start(self, trainer, pl_module) -> None:
        torch.cuda.reset_peak_memory_stats()
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))
        self.samples += len(batch[-1])
        self.device = next(pl_module.parameters()).device


def run_on_gpu(tmp_path, *overrides: str, experiment: str | None = None) -> _Recorder:
    cfg = load_config(
        experiment=experiment,
        overrides=[
            f"run.output_dir={tmp_path}",
            "trainer.accelerator=gpu",
            "trainer.devices=1",
            f"trainer.max_steps={STEPS}",
            "trainer.max_epochs=100",
            "logger.kind=csv",
            "early_stopping.enabled=false",
            *overrides,
        ],
    )
    rec = _Recorder()
    train(PROJECT, cfg, extra_callbacks=[rec], test=False)
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - rec.start
    assert rec.device.type == "cuda"
    assert len(rec.losses) == STEPS and all(math.isfinite(v) for v in rec.losses)
    first, last = sum(rec.losses[:5]) / 5, sum(rec.losses[-5:]) / 5
    print(
        f"\nGPU smoke {' '.join(overrides) or experiment} ({torch.cuda.get_device_name()}): "
        f"{STEPS / elapsed:.1f} it/s, {rec.samples / elapsed:.0f} samples/s (first steps included), "
        f"peak memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB, loss {first:.3f} -> {last:.3f}"
    )
    return rec


@needs_cuda
@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_default_config_on_gpu(tmp_path, precision: str) -> None:
    """The default config, clipping included, in the mixed precisions a GPU run uses."""
    rec = run_on_gpu(tmp_path, f"trainer.precision={precision}")
    assert sum(rec.losses[-5:]) < sum(rec.losses[:5]), "the loss did not decrease"


@needs_cuda
@pytest.mark.gpu
def test_gpu_experiment(tmp_path) -> None:
    """-e gpu: bf16-mixed, torch.compile, channels-last (images), loader workers with pinned memory."""
    run_on_gpu(tmp_path, experiment="gpu")


@pytest.mark.slow  # dynamo traces the full default network
def test_default_networks_compile_without_graph_breaks(tmp_path) -> None:
    for experiment in (None, "tiny"):
        cfg = load_config(experiment=experiment, overrides=[f"run.output_dir={tmp_path}"])
        dm = build_datamodule(cfg)
        net = build_model(cfg, dm).net.train()
        example = [t.repeat(4, *[1] * (t.ndim - 1)) for t in dm.example_input()]  # batch norm needs > 1 sample
        explained = torch._dynamo.explain(net)(*example)
        torch._dynamo.reset()
        assert explained.graph_break_count == 0, (experiment, [str(b.reason) for b in explained.break_reasons])
