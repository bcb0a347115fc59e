"""Steady-state training step of a baked project's Lightning run vs a hand-written PyTorch loop.

Run with the baked project's interpreter (bench_template.py does this):

    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab [--steps 30] [--rounds 2]

Both sides use the project's own model, DataModule and optimizer (`configure_optimizers`, so the same
AdamW, parameter groups and LR schedule), gradient clipping as configured, and the same batches. The
Lightning side is the project's real trainer (callbacks, logging, checkpointing, W&B disabled). A step is
the wall time from one batch's start to the next one's, data loading included; each side reports the
median step after `--warmup` steps, so the once-per-epoch work (checkpoints, validation) that a
hand-written loop would also have to do is not counted as step time. Sides alternate over `--rounds`
rounds, alternating which goes first. Prints one JSON line.
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
    parser.add_argument("--rounds", type=int, default=6)
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
        def __init__(self) -> None:
            self.starts: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.starts.append(time.process_time())

    def steady_step(starts: list[float]) -> float:
        steps = [b - a for a, b in zip(starts[args.warmup:], starts[args.warmup + 1:])]  # noqa: B905
        return statistics.median(steps)

    def lightning_run(i: int) -> float:
        clock = Clock()
        cfg = make_cfg(f"lightning{i}")
        runner.train(cfg, extra_callbacks=[clock], test=False)
        return steady_step(clock.starts)

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
        starts: list[float] = []
        for _epoch in range(total):
            loader = dm.train_dataloader()
            loader.sampler.set_epoch(_epoch)
            batches = iter(loader)
            while True:
                starts.append(time.process_time())
                batch = next(batches, None)
                if batch is None or len(starts) > total:
                    break
                *inputs, y = batch
                loss = criterion(net(*inputs), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
                opt.step()
                sched.step()
            if len(starts) > total:
                break
            starts.pop()  # the end-of-epoch probe is not a batch start
        return steady_step(starts[:total])

    lightning, plain = [], []
    for i in range(args.rounds):  # alternate which side goes first, so drift in machine speed cancels
        if i % 2 == 0:
            lightning.append(lightning_run(i))
            plain.append(plain_run(i))
        else:
            plain.append(plain_run(i))
            lightning.append(lightning_run(i))
    paired = [a / b for a, b in zip(lightning, plain)]  # noqa: B905
    result = {
        "lightning_s_per_step": statistics.median(lightning),
        "plain_s_per_step": statistics.median(plain),
        "ratio": statistics.median(paired),  # median over rounds of the ratio within a round
        "ratio_of_medians": statistics.median(lightning) / statistics.median(plain),
        "rounds": {"lightning": lightning, "plain": plain},
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
