"""A baked project's Lightning run vs a hand-written PyTorch loop doing the same work, per step and per epoch.

Run with the baked project's interpreter (bench_template.py does this):

    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab [--epochs 3] [KEY=VALUE ...]
    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab --memory lightning|plain
    <baked>/.venv/bin/python benchmarks/step_ratio.py --module digits_lab --vs-floor [--bare] [--epochs 1 --rounds 6]

Both sides use the project's own model, DataModule and optimizer (`configure_optimizers`: the same AdamW,
parameter groups and LR schedule) and gradient clipping as configured. The Lightning side is the project's
real run with the default config: the configured logger (W&B offline by default), progress bar,
callbacks, metrics, validation and checkpoints. The plain side, per epoch, trains on the same batches
(summing the training loss and correct predictions, as the project's epoch metrics train/loss and
train/acc do), then validates (loss and accuracy over the validation split) and saves what the project's
run keeps, as a hand-written loop would (plain torch.save: no temporary file, no fsync): the last state
(model, optimizer and scheduler) every epoch, and the best `checkpoint.save_top_k` by `checkpoint.monitor`.

The two run interleaved in one process, so both see the same machine speed at the same moment (on a
shared 2-core VM the same step took 138 ms in one run and 192 ms in the next): at the start of each
Lightning batch a callback runs one plain step, and at the end of each Lightning epoch the plain epoch's
validation and checkpoint. A Lightning step is the wall time between two plain steps. A Lightning epoch
runs from its start to the next epoch's start (or the end of training), minus the plain work run inside
it: Lightning saves its end-of-epoch checkpoints after every other callback's epoch-end hook, so an epoch
that ended at this callback's hook would leave them out. Prints one JSON line: the median and the spread
(min, max) of the per-step ratio (after `--warmup` steps) and of the per-epoch ratio.

`--bare` runs the Lightning side as Lightning's floor instead: the project's LightningModule (metrics
included) in a Trainer with no logger, checkpoints, progress bar, model summary or callbacks, so the
full run's ratio over the bare one is what the project's features add on top of Lightning's own loop.
`--floor` goes one further: in that bare Trainer, a LightningModule whose training step is the hand-written
step's forward and loss and nothing else (no metrics), with the project's network, optimizer and schedule:
what Lightning's loop itself costs, before anything of the project's. Its validation step is the forward
and loss too, and it saves no checkpoint, so only its step ratio compares like with like.

`--vs-floor` runs the full run and the floor in this one process, `--rounds` times (in turn first), and
prints what the project costs per step over the floor: the ratio of the two step ratios minus one
(`project_over_floor`) and the same in microseconds per step (`project_us_per_step`: the difference of the
step ratios times the hand-written step); with `--bare` also a bare run per round, for the module's share
(`module_over_floor`, `module_us_per_step`). On a busy machine, `--threads 1 --clock cpu` times each side
by this thread's CPU time (steps as if the machine were idle), and many short rounds (`--epochs 1`) cancel
the machine's drift better than a few long ones. The module layout of the baked project is found out
(`project_api`): before the labblocks.run redesign (template c17cc8c) its build functions and `train` were
in `<module>.runner`; bench_template.py --against measures a bake of each in one run.

`--memory SIDE` trains only that side for `--epochs` in this process and prints its peak RSS (and, on a
GPU, its peak CUDA memory), to compare the two sides' memory (run once per side, each in a fresh process).

On a GPU (`--device cuda`, with the config's GPU settings, e.g. `-e gpu` passed as `--experiment gpu`) both
sides run there, the plain loop under the same autocast and memory format; throughput is reported as
samples/s and, for text, tokens/s (real tokens, padding excluded).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import importlib.util
import json
import os
import resource
import statistics
import tempfile
import time
import types

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


def peak_memory() -> dict[str, float]:
    """This process's peak resident memory and, where CUDA was used, its peak CUDA memory, in MiB."""
    import torch

    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def project_api(module: str) -> types.SimpleNamespace:
    """What this benchmark calls of the baked project, whichever layout it has: `load_config`,
    `build_datamodule(cfg)`, `build_model(cfg, dm)`, `trainer_kwargs(cfg)` and `train(cfg, extra_callbacks,
    test)`. Projects baked before the labblocks.run redesign (template c17cc8c and older) have them in
    `<module>.runner`; later ones in `<module>.train` (the wiring) and labblocks.run."""
    config = importlib.import_module(f"{module}.config")
    if importlib.util.find_spec(f"{module}.runner") is not None:
        runner = importlib.import_module(f"{module}.runner")
        return types.SimpleNamespace(layout="runner", load_config=config.load_config, train=runner.train,
                                     build_datamodule=runner.build_datamodule, build_model=runner.build_model,
                                     trainer_kwargs=runner.trainer_kwargs)
    from labblocks.run import fit, trainer

    wiring = config.PROJECT.build()
    return types.SimpleNamespace(layout="labblocks.run", load_config=config.load_config,
                                 train=functools.partial(fit.train, config.PROJECT),
                                 build_datamodule=wiring.build_datamodule, build_model=wiring.build_model,
                                 trainer_kwargs=trainer.trainer_kwargs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=10, help="steps left out of the per-step ratio")
    parser.add_argument("--memory", choices=("lightning", "plain"), help="train one side only; print its peak RSS")
    parser.add_argument("--bare", action="store_true",
                        help="the project's module in a bare Trainer (with --vs-floor: also, in each round)")
    parser.add_argument("--floor", action="store_true", help="a forward-and-loss module in a bare Trainer")
    parser.add_argument("--vs-floor", action="store_true",
                        help="the full run and the floor in this one process: the project's cost over the floor")
    parser.add_argument("--rounds", type=int, default=1, help="with --vs-floor: full and floor runs, alternating")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--experiment", action="append", default=[], help="config experiments, e.g. gpu")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own, one per core)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this thread's CPU time (with --threads 1: steps as if the machine were idle)")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (other threads' work would not be counted)")
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter

    import lightning as L
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    api = project_api(args.module)
    out_root = tempfile.mkdtemp(prefix="step-ratio-")

    device = torch.device(args.device)
    accelerator = ["trainer.accelerator=gpu", "trainer.devices=1"] if args.device == "cuda" else []

    def make_cfg(out_dir: str, name: str):
        overrides = [f"run.output_dir={out_dir}", f"run.name={name}", f"trainer.max_epochs={args.epochs}",
                     "early_stopping.enabled=false", *accelerator, *args.overrides]
        return api.load_config(experiment=args.experiment or None, overrides=overrides)

    def nhwc(inputs: list) -> list:
        """Images (B, C, H, W) in NHWC memory order, as the project's module does with model.channels_last."""
        return [t.contiguous(memory_format=torch.channels_last) if t.ndim == 4 else t for t in inputs]

    class PlainLoop:
        """The hand-written loop on its own model, optimizer and loaders: a step per call, and the
        end-of-epoch work (validation, checkpoint) per `end_epoch` call."""

        def __init__(self, out_dir: str) -> None:
            cfg = make_cfg(out_dir, "plain")
            L.seed_everything(cfg.run.seed)
            self.dm = api.build_datamodule(cfg)
            module = api.build_model(cfg, self.dm)
            self.dm.setup("fit")
            steps = args.epochs * len(self.dm.train_dataloader())

            class Steps:  # all that configure_optimizers reads of the trainer
                estimated_stepping_batches = steps
                precision = str(getattr(cfg.trainer.precision, "value", cfg.trainer.precision))
                gradient_clip_val = cfg.trainer.gradient_clip_val

            module._trainer = Steps()
            opt_cfg = module.configure_optimizers()
            self.opt, self.sched = opt_cfg["optimizer"], opt_cfg["lr_scheduler"]["scheduler"]
            self.criterion, self.clip = module.criterion, cfg.trainer.gradient_clip_val
            self.net = module.net.to(device).train()
            self.channels_last = cfg.model.channels_last
            precision = str(getattr(cfg.trainer.precision, "value", cfg.trainer.precision))
            dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
            self.autocast = (torch.autocast(device.type, dtype=dtype) if dtype is not None and device.type == "cuda"
                             else contextlib.nullcontext())
            self.samples = self.tokens = 0
            self.loss_sum = torch.zeros((), device=device)  # the epoch's train/loss and train/acc, kept on device
            self.correct = torch.zeros((), dtype=torch.long, device=device)
            self.epoch = 0
            self.batches = self.new_epoch()
            self.out_dir = out_dir
            self.ckpt = os.path.join(out_dir, "plain.ckpt")
            ck = cfg.checkpoint
            self.monitor = (str(ck.monitor), str(getattr(ck.mode, "value", ck.mode)), int(ck.save_top_k))
            self.best: list[tuple[float, str]] = []  # (score, higher is better; path) of the kept top k

        def new_epoch(self):
            loader = self.dm.train_dataloader()
            loader.sampler.set_epoch(self.epoch)
            return iter(loader)

        def step(self) -> None:
            batch = next(self.batches, None)
            if batch is None:
                self.epoch += 1
                self.batches = self.new_epoch()
                batch = next(self.batches)
            *inputs, y = (t.to(device, non_blocking=True) for t in batch)
            if self.channels_last:
                inputs = nhwc(inputs)
            self.samples += len(y)
            if len(inputs) == 2:  # text: (input_ids, attention_mask)
                self.tokens += int(inputs[1].sum())
            with self.autocast:
                logits = self.net(*inputs)  # (B, K)
                loss = self.criterion(logits, y)
            self.loss_sum += loss.detach() * len(y)
            self.correct += (logits.detach().argmax(-1) == y).sum()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip:
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
            self.opt.step()
            self.sched.step()

        def end_epoch(self) -> None:
            train_loss, train_acc = float(self.loss_sum), int(self.correct)  # one sync per epoch
            self.loss_sum.zero_(), self.correct.zero_()
            self.net.eval()
            correct = total = 0
            loss_sum = 0.0
            with torch.no_grad(), self.autocast:
                for batch in self.dm.val_dataloader():
                    *inputs, y = (t.to(device) for t in batch)
                    logits = self.net(*inputs)
                    loss_sum += float(self.criterion(logits, y)) * len(y)
                    correct += int((logits.argmax(-1) == y).sum())
                    total += len(y)
            self.net.train()
            scores = {"val/acc": correct / max(total, 1), "val/loss": loss_sum / max(total, 1)}
            state = {"model": self.net.state_dict(), "optimizer": self.opt.state_dict(),
                     "scheduler": self.sched.state_dict(), "epoch": self.epoch, **scores,
                     "train_loss": train_loss, "train_correct": train_acc}
            torch.save(state, self.ckpt)  # the last state, every epoch
            self.keep_top_k(scores, state)

        def keep_top_k(self, scores: dict[str, float], state: dict) -> None:
            """Also the best `checkpoint.save_top_k` by `checkpoint.monitor`, as the project's run keeps them: a
            new file when the score enters the top k (ties do not), the one it pushes out deleted."""
            name, mode, k = self.monitor
            if name not in scores:
                raise SystemExit(f"step_ratio: checkpoint.monitor={name!r}; the plain loop computes {list(scores)}")
            score = scores[name] if mode == "max" else -scores[name]
            if k == 0 or (0 < k <= len(self.best) and score <= min(self.best)[0]):
                return
            path = os.path.join(self.out_dir, f"plain-best-epoch{self.epoch:03d}.ckpt")
            torch.save(state, path)
            self.best.append((score, path))
            if 0 < k < len(self.best):
                self.best.sort()
                os.remove(self.best.pop(0)[1])

    class Interleave(L.Callback):
        """Runs the plain loop inside the Lightning run and times both sides, per step and per epoch."""

        def __init__(self, plain: PlainLoop) -> None:
            self.plain = plain
            self.mark: float | None = None
            self.lightning_steps: list[float] = []
            self.plain_steps: list[float] = []
            self.epoch_start: float | None = None
            self.plain_in_epoch = 0.0
            self.lightning_epochs: list[float] = []
            self.plain_epochs: list[float] = []

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self.close_epoch()
            self.epoch_start, self.plain_in_epoch, self.mark = clock(), 0.0, None

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = clock()
            if self.mark is not None:
                self.lightning_steps.append(start - self.mark)  # one Lightning step since the last plain step
            self.plain.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            self.mark = clock()
            self.plain_steps.append(self.mark - start)
            self.plain_in_epoch += self.mark - start

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            # Lightning's validation ran before this hook; now the plain loop's validation and checkpoint.
            start = clock()
            self.plain.end_epoch()
            self.plain_in_epoch += clock() - start

        def on_train_end(self, trainer, pl_module) -> None:
            self.close_epoch()

        def close_epoch(self) -> None:
            """Ends the epoch in progress, if any. Lightning runs checkpoint callbacks after every other
            callback's `on_train_epoch_end`, so its end-of-epoch checkpoints are only done by the next
            epoch's start (or the end of training): the epoch is measured up to there."""
            if self.epoch_start is None:
                return
            self.lightning_epochs.append(clock() - self.epoch_start - self.plain_in_epoch)
            self.plain_epochs.append(self.plain_in_epoch)
            self.epoch_start = None

    if args.memory == "plain":
        plain = PlainLoop(out_root)
        for _ in range(args.epochs):
            for _ in range(len(plain.dm.train_dataloader())):
                plain.step()
            plain.end_epoch()
        print(json.dumps({"side": "plain", **peak_memory()}))
        return
    if args.memory == "lightning":
        api.train(make_cfg(out_root, "lightning"), test=False)
        print(json.dumps({"side": "lightning", **peak_memory()}))
        return

    class Floor(L.LightningModule):
        """The hand-written step in Lightning: forward and loss; the project's network, optimizer, schedule."""

        def __init__(self, project_module: L.LightningModule) -> None:
            super().__init__()
            self.project = project_module  # its configure_optimizers reads the trainer, attached through this one

        def training_step(self, batch, batch_idx):
            *inputs, y = batch
            if self.project.channels_last:
                inputs = nhwc(inputs)
            return self.project.criterion(self.project.net(*inputs), y)  # inputs -> (B, K) -> loss

        def validation_step(self, batch, batch_idx):
            return self.training_step(batch, batch_idx)

        def configure_optimizers(self):
            return self.project.configure_optimizers()

    def measure(kind: str) -> dict:
        """One Lightning run of `kind` ("full", "bare" or "floor") with a fresh plain loop interleaved, in a
        run directory of its own: its step and epoch timings."""
        out_dir = tempfile.mkdtemp(dir=out_root)
        plain_loop = PlainLoop(out_dir)
        timer = Interleave(plain_loop)
        if kind == "full":
            api.train(make_cfg(out_dir, "lightning"), extra_callbacks=[timer], test=False)
        else:
            cfg = make_cfg(out_dir, "lightning")
            L.seed_everything(cfg.run.seed)
            dm = api.build_datamodule(cfg)
            kw = api.trainer_kwargs(cfg)  # the device, precision, clipping and profiler of the full run
            keys = ("accelerator", "devices", "precision", "gradient_clip_val", "gradient_clip_algorithm", "profiler")
            same = {k: kw[k] for k in keys if k in kw}  # (newer labblocks leaves out Lightning's defaults)
            bare = L.Trainer(**same, max_epochs=args.epochs, num_sanity_val_steps=0,
                             logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, callbacks=[timer])
            module = api.build_model(cfg, dm)
            bare.fit(Floor(module) if kind == "floor" else module, dm)
        step_pairs = list(zip(timer.lightning_steps, timer.plain_steps))[args.warmup:]  # noqa: B905
        step_ratios = [a / b for a, b in step_pairs]
        epoch_ratios = [a / b for a, b in zip(timer.lightning_epochs, timer.plain_epochs, strict=True)]
        return {
            "step_ratio_median": statistics.median(step_ratios),
            "step_ratio_spread": [min(step_ratios), max(step_ratios)],
            "step_ratio_iqr": statistics.quantiles(step_ratios, n=4)[::2],
            "step_ratio_mean": statistics.fmean(step_ratios),
            "epoch_ratio_median": statistics.median(epoch_ratios),
            "epoch_ratio_spread": [min(epoch_ratios), max(epoch_ratios)],
            "plain_s_per_step": statistics.median(b for _, b in step_pairs),
            "lightning_s_per_step": statistics.median(a for a, _ in step_pairs),
            "plain_s_per_epoch": statistics.median(timer.plain_epochs),
            "lightning_s_per_epoch": statistics.median(timer.lightning_epochs),
            "plain_samples_per_s": plain_loop.samples / sum(timer.plain_steps),
            "plain_tokens_per_s": plain_loop.tokens / sum(timer.plain_steps) if plain_loop.tokens else None,
            "bare": kind == "bare",
            "floor": kind == "floor",
            "steps": len(step_pairs),
            "epochs": len(epoch_ratios),
            "threads": torch.get_num_threads(),
            "layout": api.layout,
            "clock": args.clock,
        }

    if not args.vs_floor:
        print(json.dumps(measure("floor" if args.floor else "bare" if args.bare else "full")))
        return
    kinds = ("full", "bare", "floor") if args.bare else ("full", "floor")
    rounds = [{kind: measure(kind) for kind in kinds[r % len(kinds):] + kinds[:r % len(kinds)]}  # rotated
              for r in range(args.rounds)]
    print(json.dumps(versus_floor(rounds, api.layout)))


def versus_floor(rounds: list[dict[str, dict]], layout: str) -> dict:
    """What the project adds per step over Lightning's floor, per round (a full run and a floor run, in turn
    first): the ratio of their median step ratios minus one (`project_over_floor`: 0.01 is 1 %), and their
    difference of step ratios times the round's median hand-written step, in microseconds
    (`project_us_per_step`); the medians over rounds and each round's figures. Both runs are timed against
    the same interleaved hand-written step, so a slower or faster machine between the two cancels out; many
    short rounds (`--epochs 1 --rounds 6`) cancel the drift of a busy machine better than a few long ones.
    The median step leaves out the occasional step that logs or redraws; `project_us_per_step_mean` (from
    mean step ratios) includes them, and is noisier. With a bare run in each round (`--bare`), the same for
    the project's module alone (`module_over_floor`, `module_us_per_step`)."""

    def ratios(kind: str) -> list[float]:
        return [r[kind]["step_ratio_median"] / r["floor"]["step_ratio_median"] - 1 for r in rounds]

    def micros(kind: str, stat: str) -> list[float]:
        plain = [statistics.median(run["plain_s_per_step"] for run in r.values()) for r in rounds]
        return [(r[kind][stat] - r["floor"][stat]) * p * 1e6 for r, p in zip(rounds, plain, strict=True)]

    result = {"layout": layout, "rounds": len(rounds)}
    for kind, name in (("full", "project"), ("bare", "module")):
        if kind not in rounds[0]:
            continue
        pct, us = ratios(kind), micros(kind, "step_ratio_median")
        result |= {
            f"{name}_over_floor": statistics.median(pct),
            f"{name}_over_floor_rounds": pct,
            f"{name}_us_per_step": statistics.median(us),
            f"{name}_us_per_step_rounds": us,
            f"{name}_us_per_step_mean": statistics.median(micros(kind, "step_ratio_mean")),
        }
    result |= {
        **{f"{kind}_step_ratio_medians": [r[kind]["step_ratio_median"] for r in rounds] for kind in rounds[0]},
        "full_epoch_ratio_medians": [r["full"]["epoch_ratio_median"] for r in rounds],
        "plain_s_per_step": statistics.median(run["plain_s_per_step"] for r in rounds for run in r.values()),
        "steps": rounds[0]["full"]["steps"],
        "threads": rounds[0]["full"]["threads"],
        "clock": rounds[0]["full"]["clock"],
        "runs": rounds,  # each round's runs, as `measure` gives them
    }
    return result


if __name__ == "__main__":
    main()
