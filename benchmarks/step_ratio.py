"""Steady-state training step of a baked project's Lightning run vs a hand-written PyTorch loop.

Run with the baked project's interpreter (bench_template.py does this):

    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab [--steps 30] [--rounds 2]

Both sides use the project's own model, DataModule and optimizer (`configure_optimizers`, so the same
AdamW, parameter groups and LR schedule), gradient clipping as configured, and the same batches. The
Lightning side is the project's real trainer (callbacks, logging, checkpointing, W&B disabled). Each
side times `--steps` steps after `--warmup` steps, wall clock, data loading included; sides alternate
over `--rounds` rounds. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import tempfile
import time
from types import SimpleNamespace

os.environ.setdefault("WANDB_MODE", "disabled")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    import lightning as L
    import torch

    config = importlib.import_module(f"{args.module}.config")
    runner = importlib.import_module(f"{args.module}.runner")
    total = args.warmup + args.steps
    out_dir = tempfile.mkdtemp(prefix="step-ratio-")

    def make_cfg(name: str):
        overrides = [f"run.output_dir={out_dir}", f"run.name={name}", f"trainer.max_steps={total}",
                     "trainer.max_epochs=1000", "early_stopping.enabled=false", *args.overrides]
        return config.load_config(overrides=overrides)

    class Clock(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if trainer.global_step == args.warmup:
                self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if trainer.global_step == total:
                self.seconds = time.perf_counter() - self.start

    def lightning_run(i: int) -> float:
        clock = Clock()
        cfg = make_cfg(f"lightning{i}")
        cfg.trainer.limit_val_batches = 0.0  # time training steps only; validation is not part of a step
        cfg.checkpoint.monitor = "train/loss"
        cfg.checkpoint.mode = "min"
        runner.train(cfg, extra_callbacks=[clock], test=False)
        return clock.seconds / args.steps

    def plain_run(i: int) -> float:
        cfg = make_cfg(f"plain{i}")
        L.seed_everything(cfg.run.seed)
        dm = runner.build_datamodule(cfg)
        module = runner.build_model(cfg, dm)
        dm.setup("fit")
        module._trainer = SimpleNamespace(estimated_stepping_batches=total)  # all configure_optimizers reads
        opt_cfg = module.configure_optimizers()
        opt, sched = opt_cfg["optimizer"], opt_cfg["lr_scheduler"]["scheduler"]
        criterion, clip = module.criterion, cfg.trainer.gradient_clip_val
        net = module.net.train()
        step, start = 0, 0.0
        while step < total:
            for x_and_y in dm.train_dataloader():
                if step == args.warmup:
                    start = time.perf_counter()
                *inputs, y = x_and_y
                loss = criterion(net(*inputs), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
                opt.step()
                sched.step()
                step += 1
                if step == total:
                    break
        return (time.perf_counter() - start) / args.steps

    lightning, plain = [], []
    for i in range(args.rounds):
        lightning.append(lightning_run(i))
        plain.append(plain_run(i))
    result = {
        "lightning_s_per_step": statistics.median(lightning),
        "plain_s_per_step": statistics.median(plain),
        "ratio": statistics.median(lightning) / statistics.median(plain),
        "rounds": {"lightning": lightning, "plain": plain},
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
