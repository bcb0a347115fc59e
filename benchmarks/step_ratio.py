"""Steady-state training step of a baked project's Lightning run vs a hand-written PyTorch loop.

Run with the baked project's interpreter (bench_template.py does this):

    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab [--steps 150] [--warmup 10]

Both sides use the project's own model, DataModule and optimizer (`configure_optimizers`, so the same
AdamW, parameter groups and LR schedule), gradient clipping as configured, and batches of the same
shapes. The Lightning side is the project's real trainer (callbacks, metrics, logging, progress bar,
checkpointing; W&B disabled).

The two sides run in lockstep in one process: at the start of each Lightning batch, a callback runs one
step of the hand-written loop on its own copy of the model and data. So both sides see the same machine
speed at the same moment, which matters on shared machines: on a 2-core VM the same step took 138 ms in
one run and 192 ms in the next. A Lightning step is the wall time from the end of one interleaved plain
step to the start of the next, i.e. everything Lightning does for one batch, its data loading included; a
plain step is the wall time of one hand-written step, its data loading included. The ratio is the median
over steps of the per-step ratio, after `--warmup` steps; the once-per-epoch work (validation,
checkpoints) lands in a few outlier steps that the median leaves out, as a hand-written loop would also
have to do that work. Prints one JSON line.
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
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=10)
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

    class PlainLoop:
        """The hand-written loop, one step per call, on its own model, optimizer and loader."""

        def __init__(self) -> None:
            cfg = make_cfg("plain")
            L.seed_everything(cfg.run.seed)
            self.dm = runner.build_datamodule(cfg)
            module = runner.build_model(cfg, self.dm)
            self.dm.setup("fit")
            module._trainer = SimpleNamespace(estimated_stepping_batches=total)  # all configure_optimizers reads
            opt_cfg = module.configure_optimizers()
            self.opt, self.sched = opt_cfg["optimizer"], opt_cfg["lr_scheduler"]["scheduler"]
            self.criterion, self.clip = module.criterion, cfg.trainer.gradient_clip_val
            self.net = module.net.train()
            self.epoch = 0
            self.batches = self.new_epoch()

        def new_epoch(self):
            loader = self.dm.train_dataloader()
            loader.sampler.set_epoch(self.epoch)
            return iter(loader)

        def step(self) -> None:
            batch = next(self.batches, None)
            if batch is None:  # end of epoch: a new shuffle, as a hand-written loop would do
                self.epoch += 1
                self.batches = self.new_epoch()
                batch = next(self.batches)
            *inputs, y = batch
            loss = self.criterion(self.net(*inputs), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
            self.opt.step()
            self.sched.step()

    class Lockstep(L.Callback):
        """Runs one plain step at the start of each Lightning batch and times both sides."""

        def __init__(self, plain: PlainLoop) -> None:
            self.plain = plain
            self.mark: float | None = None
            self.lightning: list[float] = []
            self.plain_steps: list[float] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            start = time.perf_counter()
            if self.mark is not None:
                self.lightning.append(start - self.mark)  # one Lightning step since the last plain step ended
            self.plain.step()
            self.mark = time.perf_counter()
            self.plain_steps.append(self.mark - start)

    lockstep = Lockstep(PlainLoop())
    runner.train(make_cfg("lightning"), extra_callbacks=[lockstep], test=False)
    # lightning[i] is the Lightning step between plain steps i and i+1.
    pairs = list(zip(lockstep.lightning, lockstep.plain_steps))[args.warmup:]  # noqa: B905
    lightning = [a for a, _ in pairs]
    plain = [b for _, b in pairs]
    result = {
        "lightning_s_per_step": statistics.median(lightning),
        "plain_s_per_step": statistics.median(plain),
        "ratio": statistics.median(a / b for a, b in pairs),  # median over steps of the per-step ratio
        "ratio_of_medians": statistics.median(lightning) / statistics.median(plain),
        "steps": len(pairs),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
