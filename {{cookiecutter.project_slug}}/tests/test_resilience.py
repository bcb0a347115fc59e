"""Faults a cluster produces every week, through the train command: signals and kills mid-epoch, damaged
checkpoints, a second process on the same run directory. Nothing is lost and nothing is cryptic."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from labblocks.run.fit import train
from labblocks.testing.sanity import assert_state_equal
from processes import NICE, global_step, interrupt, wait_for_checkpoint

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import CONFIG_DIR, PROJECT

TRAIN = [sys.executable, "-m", "{{cookiecutter.module_name}}", "train"]
# The project's small network (what is tested does not depend on its size), two epochs of 6 batches, last.ckpt
# also every 2 steps (mid-epoch), CSV logs.
STEPS = 40  # two epochs of 20 batches
OVERRIDES = ["trainer.max_epochs=2", "trainer.limit_train_batches=20", "checkpoint.every_n_train_steps=2"]
RUN = ["-e", "tiny", "-e", "fast", *OVERRIDES, "logger.kind=csv"]


def start(tmp_path: Path, name: str, *extra: str) -> subprocess.Popen:
    """`python -m {{cookiecutter.module_name}} train` in the background, as a user would start it."""
    cmd = [*TRAIN, *RUN, "--name", name, f"run.output_dir={tmp_path}", *extra]
    return subprocess.Popen(
        [*NICE, *cmd], cwd=CONFIG_DIR.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow  # four train processes
def test_signals_and_kill_mid_epoch_lose_nothing(tmp_path: Path, tiny_cfg) -> None:
    """SIGUSR1 (a cluster's warning), SIGKILL (no warning) and Ctrl-C, each mid-epoch, then the same command
    again: training continues from where it stopped, and the final weights equal an uninterrupted run's."""
    reference = train(PROJECT, tiny_cfg(*OVERRIDES, "logger.kind=csv", name="straight"), test=False)
    last = tmp_path / "r" / "checkpoints" / "last.ckpt"

    run = start(tmp_path, "r")
    wait_for_checkpoint(last, run, after=0)
    first_stop = interrupt(run.pid, signal.SIGUSR1, last, before_step=STEPS)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 128 + signal.SIGUSR1, err[-3000:]
    assert "stopped:" in out and "by SIGUSR1 at step" in out and "run the same command to resume" in out
    assert first_stop < global_step(last) < STEPS // 2  # saved at the next step, mid-way through the first epoch

    run = start(tmp_path, "r")
    wait_for_checkpoint(last, run, after=last.stat().st_mtime)
    interrupt(run.pid, signal.SIGKILL, last, before_step=STEPS)  # no warning: the last step checkpoint is all
    run.wait(timeout=60)

    run = start(tmp_path, "r")
    wait_for_checkpoint(last, run, after=last.stat().st_mtime)
    interrupt(run.pid, signal.SIGINT, last, before_step=STEPS)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 128 + signal.SIGINT and "by SIGINT at step" in out
    assert "Traceback" not in err and "KeyboardInterrupt" not in err

    done = subprocess.run(
        [*TRAIN, *RUN, "--name", "r", f"run.output_dir={tmp_path}"],
        cwd=CONFIG_DIR.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resumed from:" in done.stdout
    assert_state_equal(reference.module.state_dict(), final_weights(tmp_path / "r"), "interrupted thrice vs straight")


def test_a_damaged_last_checkpoint_is_set_aside_and_an_older_one_used(tiny_cfg, capsys) -> None:
    """A job killed while writing (before writes were atomic), or a full disk: last.ckpt is truncated."""
    cfg = tiny_cfg("trainer.max_epochs=1", name="damaged")
    first = train(PROJECT, cfg, test=False)
    last = first.run_dir / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:4096])  # truncated
    flags = ["--name", "damaged", f"run.output_dir={cfg.run.output_dir}", "--max-epochs", "2"]
    args = ["-e", "tiny", "-e", "fast", *flags]
    assert main(["train", *args]) == 0
    out = capsys.readouterr().out
    assert "unreadable checkpoint set aside:" in out and "last.ckpt" in out
    assert "resumed from:" in out and "epoch000" in out  # the top-k checkpoint of epoch 0
    aside = list(last.parent.glob("last.ckpt.unreadable-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == 4096  # moved, not deleted


def test_fresh_moves_the_earlier_run_aside_and_starts_a_new_wandb_run(tiny_cfg, capsys) -> None:
    """--fresh after a longer run: without the move, a later rerun would resume the earlier run's more
    advanced checkpoint, and W&B would merge the two runs under one id."""
    cfg = tiny_cfg("trainer.max_epochs=2", name="again")
    first = train(PROJECT, cfg, test=False)
    earlier = sorted(p.name for p in (first.run_dir / "checkpoints").iterdir())
    (first.run_dir / "wandb_run_id").write_text("earlier1\n")
    args = ["-e", "tiny", "-e", "fast", "--name", "again", f"run.output_dir={cfg.run.output_dir}", "logger.kind=csv"]
    assert main(["train", *args, "--fresh"]) == 0
    assert "the earlier run's checkpoints moved to" in capsys.readouterr().out
    (moved,) = first.run_dir.glob("checkpoints.before-fresh-*")
    assert sorted(p.name for p in moved.iterdir()) == earlier  # nothing lost
    assert global_step(first.run_dir / "checkpoints" / "last.ckpt") < global_step(moved / "last.ckpt")
    assert not (first.run_dir / "wandb_run_id").exists()  # the next W&B logger makes a new id
    assert main(["train", *args]) == 0  # a plain rerun resumes the new run, not the earlier one
    resumed = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("resumed from:"))
    assert "checkpoints/last.ckpt" in resumed and "before-fresh" not in resumed


def test_no_readable_checkpoint_stops_with_what_to_do(tiny_cfg, capsys) -> None:
    cfg = tiny_cfg("trainer.max_epochs=1", name="empty")
    first = train(PROJECT, cfg, test=False)
    for ckpt in (first.run_dir / "checkpoints").glob("*.ckpt"):
        ckpt.write_bytes(b"")  # zero bytes
    args = ["-e", "tiny", "-e", "fast", "--name", "empty", f"run.output_dir={cfg.run.output_dir}", "logger.kind=csv"]
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert "holds no readable checkpoint" in err and "--fresh" in err
    assert main(["train", *args, "--fresh"]) == 0  # starting over is the user's choice


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "not a checkpoint", "unsafe pickle"])
def test_bad_ckpt_path_stops_before_training(tmp_path: Path, make_cfg, capsys, kind: str) -> None:
    path = tmp_path / "given.ckpt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        torch.save({"state_dict": {"w": torch.zeros(1000)}, "global_step": 1, "epoch": 0}, path)
        path.write_bytes(path.read_bytes()[:2000])
    elif kind == "not a checkpoint":
        path.write_text("epoch,loss\n0,1.0\n")
    elif kind == "unsafe pickle":
        marker = tmp_path / "code-ran"
        torch.save({"state_dict": {}, "payload": _Malicious(str(marker))}, path)
    cfg = make_cfg(name="bad-ckpt")
    args = ["-e", "fast", "--name", "bad-ckpt", f"run.output_dir={cfg.run.output_dir}", "--ckpt-path", str(path)]
    assert main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --ckpt-path:") and str(path) in err
    assert not (Path(cfg.run.output_dir) / "bad-ckpt" / "checkpoints").exists()  # stopped before building anything
    if kind == "unsafe pickle":
        assert not (tmp_path / "code-ran").exists()


class _Malicious:
    """Pickles into a call that would create a file, were the checkpoint loaded unsafely."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.mark.slow  # a train process (imports torch): the in-process tests above cover every kind of bad file
def test_bad_ckpt_path_from_the_command_line_exits_2_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "half.ckpt"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    started = time.monotonic()
    done = subprocess.run(
        [*TRAIN, "-e", "fast", "--ckpt-path", str(path), f"run.output_dir={tmp_path}"],
        cwd=CONFIG_DIR.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: --ckpt-path: {path}" in done.stderr
    assert time.monotonic() - started < 60  # no model, data or trainer is built first


def test_one_run_directory_one_writer(tmp_path: Path, capsys) -> None:
    """A second process on a run directory that is being trained refuses, naming the other process; the lock
    goes with the process that held it, even when it is killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from labblocks.train.runlock import RunLock; "
            "RunLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(600)",
            str(tmp_path / "busy"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["-e", "tiny", "-e", "fast", "--name", "busy", f"run.output_dir={tmp_path}", "logger.kind=csv"]
        assert main(["train", *args]) == 2
        err = capsys.readouterr().err
        assert str(holder.pid) in err and "busy" in err
    finally:
        holder.kill()  # a crash: the lock must not stay stuck
        holder.wait(timeout=30)
    assert main(["train", *args]) == 0


def test_interrupted_run_in_process_reports_the_signal(tiny_cfg) -> None:
    """The signal callback itself, without a subprocess: SIGUSR1 at step 2 stops after saving step 3."""

    from lightning.pytorch import Callback

    class Send(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if trainer.global_step == 2:
                os.kill(os.getpid(), signal.SIGUSR1)

    result = train(PROJECT, tiny_cfg("trainer.limit_train_batches=6", name="signalled"), extra_callbacks=[Send()])
    assert result.interrupted is not None and result.interrupted.step == 3
    assert result.test_metrics == {}  # no test after an interruption
    ckpt = torch.load(result.run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 3
