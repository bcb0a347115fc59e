"""Sanity checks that catch most training bugs in seconds, for any LightningModule.

The checks that train take a `fit` callable from the project, so they exercise the project's real
module, data, callbacks and trainer settings:

- `assert_initial_loss`: an untrained classifier's loss is close to ln(K).
- `assert_overfits_one_batch`: the model can memorise a single batch.
- `assert_checkpoint_roundtrip`: a checkpoint restores weights, optimizer, scheduler and RNG state.
- `assert_resume_equivalent`: interrupted after 1 epoch and resumed equals uninterrupted, bitwise.
- `assert_seed_deterministic`: the same seed gives the same weights; another seed does not.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks.train.rng import capture_rng, preserved_rng

LossFn = Callable[[LightningModule, Any], torch.Tensor]


def default_loss(module: LightningModule, batch: Any) -> torch.Tensor:
    """`module.shared_step(batch)["loss"]`: the convention of modules generated from the template."""
    out = module.shared_step(batch)
    return out["loss"] if isinstance(out, Mapping) else out


# -- comparing states --------------------------------------------------------------------------------


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, (list, tuple)):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): obj}


def state_differences(a: Any, b: Any) -> list[str]:
    """Where two nested states (state_dicts, optimizer states, RNG states) differ, bit for bit."""
    fa, fb = _flatten(a), _flatten(b)
    diffs = [f"{k}: only in one of them" for k in sorted(set(fa) ^ set(fb))]
    for k in sorted(set(fa) & set(fb)):
        x, y = fa[k], fb[k]
        if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
            if x.shape != y.shape or x.dtype != y.dtype:
                diffs.append(f"{k}: {tuple(x.shape)} {x.dtype} vs {tuple(y.shape)} {y.dtype}")
            elif not torch.equal(x, y):
                delta = (x.double() - y.double()).abs().max().item() if x.is_floating_point() else "n/a"
                diffs.append(f"{k}: values differ (max |a-b| = {delta})")
        elif x != y:
            diffs.append(f"{k}: {x!r} vs {y!r}")
    return diffs


def training_state(trainer: Trainer) -> dict[str, Any]:
    """Weights, optimizer and LR-scheduler states of a trainer's module."""
    return {
        "weights": trainer.lightning_module.state_dict(),
        "optimizers": [o.state_dict() for o in trainer.optimizers],
        "schedulers": [c.scheduler.state_dict() for c in trainer.lr_scheduler_configs],
    }


def assert_state_equal(a: Any, b: Any, what: str = "states") -> None:
    """Fail with the first differences if `a` and `b` are not bitwise equal."""
    diffs = state_differences(a, b)
    if diffs:
        shown = "\n  ".join(diffs[:8])
        raise AssertionError(f"{what} differ in {len(diffs)} place(s):\n  {shown}")


# -- initial loss and overfitting ----------------------------------------------------------------------


def initial_loss(module: LightningModule, batch: Any, loss_fn: LossFn = default_loss) -> float:
    """Loss of the untrained module on `batch` in train mode, on a copy, without moving any RNG."""
    m = copy.deepcopy(module).train()
    with torch.no_grad(), preserved_rng():
        return float(loss_fn(m, batch))


def assert_initial_loss(
    module: LightningModule, batch: Any, num_classes: int, rel_tol: float = 0.15, loss_fn: LossFn = default_loss
) -> float:
    """Cross-entropy of an untrained K-class classifier should be about ln(K): the model starts unsure.

    Far above means overconfident initial logits (bad init or scaling); far below means the labels
    leak into the inputs or the loss is wrong. Returns the measured loss.
    """
    expected = math.log(num_classes)
    loss = initial_loss(module, batch, loss_fn)
    if abs(loss - expected) > rel_tol * expected:
        raise AssertionError(
            f"initial loss {loss:.4f} is not within {rel_tol:.0%} of ln({num_classes}) = {expected:.4f}: "
            "check the output layer's init and scale, the number of classes, and the loss"
        )
    return loss


class _OneBatch:
    """An epoch of exactly one, always the same, batch."""

    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def __iter__(self) -> Any:
        yield self.batch

    def __len__(self) -> int:
        return 1


class _LossRecorder(Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, Mapping) else outputs
        self.losses.append(float(loss))


def assert_overfits_one_batch(
    module: LightningModule,
    batch: Any,
    steps: int = 60,
    max_loss: float = 0.05,
    trainer_kwargs: dict[str, Any] | None = None,
) -> list[float]:
    """Train on one fixed batch for `steps` optimizer steps (the module's own optimizer and schedule);
    the final loss must fall to `max_loss` or below. Returns the loss curve.

    A model that cannot memorise one batch has a bug: labels misaligned with inputs, a frozen or
    detached part, a wrong loss, or an unusable learning rate. Pass a batch without augmentation.
    """
    recorder = _LossRecorder()
    kwargs: dict[str, Any] = dict(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, max_steps=steps, max_epochs=-1,
    )
    kwargs.update(trainer_kwargs or {})
    kwargs["callbacks"] = [*kwargs.get("callbacks", []), recorder]
    Trainer(**kwargs).fit(module, train_dataloaders=_OneBatch(batch))
    losses = recorder.losses
    if not losses or losses[-1] > max_loss:
        first = f"{losses[0]:.4f}" if losses else "n/a"
        last = f"{losses[-1]:.4f}" if losses else "n/a"
        raise AssertionError(
            f"could not overfit one batch: loss {first} -> {last} after {len(losses)} steps (want <= {max_loss}); "
            "look for misaligned labels, frozen or detached parameters, a wrong loss or learning rate"
        )
    return losses


# -- checkpoints, resume, determinism ------------------------------------------------------------------


class _Snapshot(Callback):
    """Saves a checkpoint after `save_after` optimizer steps and stops, or (save_to=None) records the
    state the trainer starts from."""

    def __init__(self, save_to: Path | None = None, save_after: int = 2) -> None:
        self.save_to, self.save_after = save_to, save_after
        self.state: dict[str, Any] | None = None
        self.checkpoint_keys: list[str] = []

    def _record(self, trainer: Trainer) -> None:
        state = {**training_state(trainer), "rng": capture_rng(), "global_step": trainer.global_step}
        self.state = copy.deepcopy(state)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.save_to is None:
            self._record(trainer)
            trainer.should_stop = True

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.save_to is not None and self.state is None and trainer.global_step >= self.save_after:
            trainer.save_checkpoint(self.save_to)
            self._record(trainer)
            trainer.should_stop = True


def assert_checkpoint_roundtrip(
    fit: Callable[[list[Callback], str | None], Trainer], ckpt_path: str | Path, steps: int = 2
) -> dict[str, Any]:
    """Train `steps` steps, save a checkpoint, start a fresh run from it, and require the weights,
    optimizer state, scheduler state, RNG states and step count to come back bitwise.

    `fit(extra_callbacks, ckpt_path)` must build the project's module, data and trainer (adding the
    extra callbacks) and call `trainer.fit(..., ckpt_path=ckpt_path)`. Run this before a long job: a
    checkpoint that does not restore is found in seconds, not after the first crash. Returns the
    checkpoint as loaded with `weights_only=True`.
    """
    ckpt_path = Path(ckpt_path)
    saver, loader = _Snapshot(save_to=ckpt_path, save_after=steps), _Snapshot()
    fit([saver], None)
    if saver.state is None:
        raise AssertionError(f"no checkpoint was saved: the run stopped before {steps} optimizer steps")
    fit([loader], str(ckpt_path))
    assert_state_equal(saver.state, loader.state, "state after the checkpoint round-trip")
    return torch.load(ckpt_path, map_location="cpu", weights_only=True)


class _Interrupt(Callback):
    """Stops training after `epochs` epochs, once their checkpoint is written: a simulated crash."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


def assert_resume_equivalent(
    fit: Callable[[Path, list[Callback]], Trainer], workdir: str | Path, interrupt_after: int = 1
) -> None:
    """A run interrupted after `interrupt_after` epochs and then resumed must end bitwise equal to an
    uninterrupted run: weights, optimizer and LR-scheduler states.

    `fit(run_dir, extra_callbacks)` runs the project's training with its full config in `run_dir`,
    resuming from the run directory's last checkpoint when there is one, and returns the trainer.
    """
    workdir = Path(workdir)
    straight = training_state(fit(workdir / "straight", []))
    interrupted = fit(workdir / "resumed", [_Interrupt(interrupt_after)])
    if interrupted.current_epoch != interrupt_after:
        raise AssertionError(f"the interrupted run stopped at epoch {interrupted.current_epoch}, not {interrupt_after}")
    resumed = training_state(fit(workdir / "resumed", []))
    assert_state_equal(straight, resumed, f"a run resumed after {interrupt_after} epoch(s) vs an uninterrupted run")


def assert_seed_deterministic(
    fit: Callable[[int, Path], Trainer], workdir: str | Path, seeds: tuple[int, int] = (0, 1)
) -> None:
    """Two runs with one seed must end bitwise equal, and a run with another seed must not."""
    workdir = Path(workdir)
    a = training_state(fit(seeds[0], workdir / "a"))
    b = training_state(fit(seeds[0], workdir / "b"))
    assert_state_equal(a, b, f"two runs with seed {seeds[0]}")
    c = training_state(fit(seeds[1], workdir / "c"))
    if not state_differences(a["weights"], c["weights"]):
        raise AssertionError(f"seeds {seeds[0]} and {seeds[1]} gave identical weights: the seed is not used")
