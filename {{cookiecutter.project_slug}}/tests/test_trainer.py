"""The Trainer as researchers switch it: every precision with clipping and accumulation, fast_dev_run,
accumulation, validation twice per epoch, train then evaluate, every experiment file, and last.ckpt as the
newest state whatever the monitored metric does. In-process runs of the train command's code (labblocks.run.fit)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml
from labblocks.run.config import experiment_names
from labblocks.run.fit import train
from labblocks.run.trainer import trainer_kwargs
from labblocks.train.callbacks import ProgressBar
from labblocks.train.profiler import NullProfiler
from lightning.pytorch import Callback
from own_data import make_own_data

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import CONFIG_DIR, PROJECT


class Losses(Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []
        self.validations = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.validations += 1


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed", "bf16-true"])
def test_every_cpu_precision_trains_with_clipping_and_accumulation(tiny_cfg, precision: str) -> None:
    """bf16-mixed with the default clipping crashed with a fused AdamW ("does not allow for gradient
    clipping"); Lightning raises that check on any device, so the CPU run catches what a GPU would hit."""
    rec = Losses()
    cfg = tiny_cfg(
        f"trainer.precision={precision}",
        "trainer.gradient_clip_val=0.5",
        "trainer.accumulate_grad_batches=2",
        "trainer.max_steps=2",
    )
    result = train(PROJECT, cfg, extra_callbacks=[rec], test=False)
    assert result.trainer.global_step == 2 and len(rec.losses) == 4
    assert all(math.isfinite(v) for v in rec.losses)
    optimizer = result.trainer.optimizers[0]
    if precision.endswith("-mixed"):  # Lightning unscales before clipping: not with a self-unscaling optimizer
        assert not optimizer.defaults.get("fused")


def test_fast_dev_run_touches_every_loop_and_writes_nothing(tiny_cfg) -> None:
    rec = Losses()
    result = train(PROJECT, tiny_cfg("trainer.fast_dev_run=true"), extra_callbacks=[rec])
    assert result.trainer.global_step == 1 and rec.validations == 1
    assert not list((result.run_dir / "checkpoints").glob("*.ckpt"))


def test_gradient_accumulation_steps_once_per_n_batches(tiny_cfg) -> None:
    rec = Losses()
    result = train(
        PROJECT,
        tiny_cfg("trainer.accumulate_grad_batches=2", "trainer.limit_train_batches=4"),
        extra_callbacks=[rec],
        test=False,
    )
    assert len(rec.losses) == 4 and result.trainer.global_step == 2


def test_validation_twice_per_epoch(tiny_cfg) -> None:
    rec = Losses()
    train(
        PROJECT,
        tiny_cfg("trainer.val_check_interval=0.5", "trainer.limit_train_batches=4"),
        extra_callbacks=[rec],
        test=False,
    )
    assert rec.validations == 2


def test_limit_train_batches_one_is_one_batch(tiny_cfg) -> None:
    """As in Lightning: an int is a number of batches (1 used to mean 100 % here). Also: the run has the
    cheap profiler and progress bar (benchmarks/step_ratio.py measures what they save)."""
    rec = Losses()
    cfg = tiny_cfg("trainer.limit_train_batches=1", "trainer.enable_progress_bar=true")
    result = train(PROJECT, cfg, extra_callbacks=[rec], test=False)
    assert len(rec.losses) == 1
    assert isinstance(result.trainer.profiler, NullProfiler)
    assert [type(c) for c in result.trainer.callbacks if isinstance(c, ProgressBar)] == [ProgressBar]


def test_trainer_profiler_none_is_the_null_profiler_and_others_pass_through(make_cfg) -> None:
    assert isinstance(trainer_kwargs(make_cfg())["profiler"], NullProfiler)
    assert trainer_kwargs(make_cfg(experiments=("debug/profiler",)))["profiler"] == "simple"


def test_train_then_evaluate_the_best_checkpoint(tiny_cfg, capsys: pytest.CaptureFixture) -> None:
    cfg = tiny_cfg("trainer.max_epochs=2", name="evaluated")
    result = train(PROJECT, cfg)
    out_dir = cfg.run.output_dir
    code = main(
        ["evaluate", "-e", "tiny", "-e", "fast", "--name", "evaluated", f"run.output_dir={out_dir}", "--ckpt", "best"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for key in ("test/acc", "test/loss"):
        assert f"{key}:" in printed
        assert float(printed.split(f"{key}:")[1].split()[0]) == pytest.approx(result.test_metrics[key], abs=1e-4)
    saved = result.run_dir / "eval" / f"{Path(result.checkpoint_callback.best_model_path).stem}-test.json"
    assert saved.is_file()


def test_evaluate_refuses_a_checkpoint_of_another_project(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    other = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}, "global_step": 3, "epoch": 0, "config": {}, "project": "someone_elses_lab"}, other)
    assert main(["evaluate", "--ckpt", str(other)]) == 2
    err = capsys.readouterr().err
    assert "someone_elses_lab" in err and "{{cookiecutter.module_name}}" in err and "Traceback" not in err
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    assert main(["evaluate", "--ckpt", str(text)]) == 2
    assert str(text) in capsys.readouterr().err


@pytest.mark.parametrize("experiment", experiment_names(CONFIG_DIR))
def test_every_experiment_trains_a_few_steps(make_cfg, tmp_path: Path, experiment: str) -> None:
    data = yaml.safe_load((CONFIG_DIR / "experiment" / f"{experiment}.yaml").read_text()) or {}
    if data.get("trainer", {}).get("accelerator") == "gpu" and not torch.cuda.is_available():
        pytest.skip("a GPU experiment; tests/test_gpu.py runs it where CUDA is available")
    own = make_own_data(tmp_path / "data") if "source" in data.get("data", {}) else []
    # The experiment first, then the tests' fast settings on top (an image size the experiment needs kept),
    # and one batch of each loop.
    size = data.get("data", {}).get("image_size")
    kept = [f"data.image_size={size}"] if size else []
    result = train(PROJECT, make_cfg(*own, *kept, "trainer.fast_dev_run=2", experiments=(experiment,)))
    assert result.trainer.global_step == 2


class WorseEveryEpoch(Callback):
    """Makes the monitored metric worse every epoch (it runs before the checkpoint callbacks)."""

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            trainer.callback_metrics["val/acc"] = torch.tensor(0.9 - 0.1 * trainer.current_epoch)


@pytest.mark.parametrize("link_last", [False, True])
def test_last_checkpoint_is_the_newest_state_when_the_metric_gets_worse(tiny_cfg, link_last: bool) -> None:
    """Lightning's save_last only refreshes last.ckpt with a new top-k checkpoint: after an epoch that did
    not improve, a rerun would have resumed from an older epoch. With link_last, last.ckpt was a link to the
    best file after epoch 0, and writing a newer last.ckpt must leave that file as it was."""
    cfg = tiny_cfg("trainer.max_epochs=3", "checkpoint.save_top_k=1", f"checkpoint.link_last={link_last}")
    result = train(PROJECT, cfg, extra_callbacks=[WorseEveryEpoch()], test=False)
    last_path = result.run_dir / "checkpoints" / "last.ckpt"
    last = torch.load(last_path, map_location="cpu", weights_only=True)
    assert last["epoch"] == 2 and last["global_step"] == result.trainer.global_step
    best_path = Path(result.checkpoint_callback.best_model_path)
    best = torch.load(best_path, map_location="cpu", weights_only=True)
    assert best_path.name.startswith("epoch000") and best["epoch"] == 0 and best["global_step"] < last["global_step"]
    assert best_path.stat().st_ino != last_path.stat().st_ino


@pytest.mark.parametrize("link_last", [False, True])
def test_link_last_writes_the_state_of_a_new_best_once(tiny_cfg, link_last: bool) -> None:
    result = train(PROJECT, tiny_cfg("trainer.max_epochs=1", f"checkpoint.link_last={link_last}"), test=False)
    best, last = Path(result.checkpoint_callback.best_model_path), result.run_dir / "checkpoints" / "last.ckpt"
    assert (best.stat().st_ino == last.stat().st_ino) is link_last  # one file under two names, or two files
    assert torch.load(last, map_location="cpu", weights_only=True)["global_step"] == result.trainer.global_step


class EpochEndReader(Callback):
    """A user's callback: reads the epoch's training metrics in its own on_train_epoch_end."""

    def __init__(self) -> None:
        self.seen: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seen.append({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")})


def test_train_metrics_reach_callbacks_at_epoch_end_and_name_the_checkpoints(tiny_cfg) -> None:
    """`train/loss` is logged before the callbacks' on_train_epoch_end (so a callback or a monitor finds it), and
    a best checkpoint's file name follows the monitored metric."""
    reader = EpochEndReader()
    cfg = tiny_cfg("trainer.max_epochs=2", "checkpoint.monitor=train/loss", "checkpoint.mode=min")
    result = train(PROJECT, cfg, extra_callbacks=[reader], test=False)
    assert len(reader.seen) == 2 and all({"train/loss", "train/acc"} <= set(seen) for seen in reader.seen)
    assert all(math.isfinite(seen["train/loss"]) for seen in reader.seen)
    assert Path(result.checkpoint_callback.best_model_path).name.startswith("epoch001-train_loss")
    best = result.checkpoint_callback.best_model_score
    assert best is not None and math.isclose(float(best), min(seen["train/loss"] for seen in reader.seen), rel_tol=1e-6)
