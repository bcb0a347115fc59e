"""GPU smoke test: a few bf16-mixed steps on CUDA. Skipped (with the reason) where there is no CUDA."""

from __future__ import annotations

import math
import time

import pytest
import torch
from lightning.pytorch import Callback

from {{cookiecutter.module_name}}.runner import train

STEPS = 30


class _Recorder(Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []
        self.start = 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        torch.cuda.reset_peak_memory_stats()
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))
        self.device = next(pl_module.parameters()).device


@pytest.mark.gpu
def test_gpu_smoke_bf16(make_cfg) -> None:
    if not torch.cuda.is_available():
        pytest.skip("CUDA is not available: the GPU smoke test needs an NVIDIA GPU (run `make test-gpu` on one)")
    cfg = make_cfg(
        "trainer.accelerator=gpu", "trainer.devices=1", "trainer.precision=bf16-mixed", f"trainer.max_steps={STEPS}",
        "trainer.max_epochs=100", "trainer.limit_train_batches=1.0", "data.batch_size=64",
    )
    rec = _Recorder()
    result = train(cfg, extra_callbacks=[rec], test=False)
    elapsed = time.perf_counter() - rec.start
    assert rec.device.type == "cuda" and next(result.module.parameters()).is_cuda
    assert len(rec.losses) == STEPS and all(math.isfinite(v) for v in rec.losses)
    first, last = sum(rec.losses[:5]) / 5, sum(rec.losses[-5:]) / 5
    assert last < first, f"loss did not decrease: {first:.3f} -> {last:.3f}"
    peak = torch.cuda.max_memory_allocated() / 2**20
    print(f"\nGPU smoke ({torch.cuda.get_device_name()}): {STEPS / elapsed:.1f} it/s, peak memory {peak:.0f} MiB, "
          f"loss {first:.3f} -> {last:.3f}")
