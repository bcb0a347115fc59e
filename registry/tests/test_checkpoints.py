"""Checkpoints on disk: atomic saves (a process killed while saving), problems found before a resume,
unreadable files set aside, the newest resumable checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from _tiny import TinyData, TinyModel, quiet_trainer

from labblocks.train.checkpoints import (
    atomic_torch_save,
    checkpoint_problem,
    newest_resumable,
    remove_stale_partials,
    resumable_checkpoints,
    scan_checkpoints,
    set_aside,
)
from labblocks.train.checkpoints.lightning_io import AtomicCheckpointIO


def lightning_like(step: int, size: int = 4) -> dict:
    return {"state_dict": {"w": torch.full((size,), float(step))}, "global_step": step, "epoch": step // 10}


# -- a kill while saving ---------------------------------------------------------------------------------

SAVER = """
import io, sys, time, torch
from labblocks.train.checkpoints import atomic_torch_save
path, how = sys.argv[1], sys.argv[2]
first = {"state_dict": {"w": torch.zeros(4)}, "global_step": 1, "epoch": 0}
atomic_torch_save(first, path)
real_save = torch.save

def slow_save(obj, f):  # a slow disk: the bytes arrive in small pieces
    buf = io.BytesIO()
    real_save(obj, buf)
    data = buf.getvalue()
    out = open(f, "wb") if isinstance(f, str) else f
    for i in range(0, len(data), 4096):
        out.write(data[i:i + 4096])
        out.flush()
        time.sleep(0.01)

torch.save = slow_save
second = {"state_dict": {"w": torch.ones(200_000)}, "global_step": 2, "epoch": 1}
print("saving", flush=True)
if how == "atomic":
    atomic_torch_save(second, path)
else:
    torch.save(second, path)
print("saved", flush=True)
"""


def _kill_mid_save(folder: Path, how: str) -> subprocess.Popen:
    folder.mkdir()
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SAVER), str(folder / "last.ckpt"), how],
        stdout=subprocess.PIPE, text=True,
    )


def _wait_for_bytes(folder: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until a file other than the first checkpoint is being written (some bytes, not all)."""
    assert proc.stdout is not None and proc.stdout.readline().strip() == "saving"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        growing = [p for p in folder.iterdir() if p.name != "last.ckpt" or p.stat().st_size > 2000]
        if growing and growing[0].stat().st_size > 50_000:
            return
        time.sleep(0.01)
    raise AssertionError(f"no save in progress in {folder}: {list(folder.iterdir())}")


@pytest.mark.multisecond
def test_a_kill_while_saving_leaves_the_previous_checkpoint(tmp_path: Path) -> None:
    atomic, plain = tmp_path / "atomic", tmp_path / "plain"
    procs = {atomic: _kill_mid_save(atomic, "atomic"), plain: _kill_mid_save(plain, "plain")}
    for folder, proc in procs.items():
        _wait_for_bytes(folder, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    # The plain torch.save (the control): half a file under the checkpoint's name.
    problem = checkpoint_problem(plain / "last.ckpt")
    assert problem is not None and "not a complete checkpoint" in problem
    # The atomic save: the first checkpoint intact under the name; the part is a hidden temporary file.
    target = atomic / "last.ckpt"
    assert checkpoint_problem(target) is None
    assert torch.load(target, weights_only=True)["global_step"] == 1
    partials = [p for p in atomic.iterdir() if p != target]
    assert len(partials) == 1 and partials[0].name.startswith(".last.ckpt.partial-")
    assert resumable_checkpoints(atomic) == [target]  # the temporary file is not taken for a checkpoint
    atomic_torch_save(lightning_like(3), target)  # the next save removes what the killed one left
    assert sorted(p.name for p in atomic.iterdir()) == ["last.ckpt"]
    assert torch.load(target, weights_only=True)["global_step"] == 3


def test_partials_of_live_processes_are_kept(tmp_path: Path) -> None:
    from labblocks.files import partial_name as _partial_name

    mine = _partial_name(tmp_path / "x.ckpt")
    mine.write_bytes(b"in progress")
    other_host = tmp_path / ".x.ckpt.partial-otherhost-1-abcd"
    other_host.write_bytes(b"?")
    assert remove_stale_partials(tmp_path) == []
    assert mine.exists() and other_host.exists()


def test_trainer_with_atomic_checkpoint_io_saves_and_resumes(tmp_path: Path) -> None:
    from lightning.pytorch.callbacks import ModelCheckpoint

    ckpts = tmp_path / "checkpoints"
    callback = ModelCheckpoint(
        dirpath=ckpts, save_last=True, save_top_k=-1, filename="e{epoch}", auto_insert_metric_name=False
    )
    trainer = quiet_trainer(
        max_epochs=1, plugins=[AtomicCheckpointIO()], callbacks=[callback], enable_checkpointing=True
    )
    trainer.fit(TinyModel(), datamodule=TinyData())
    assert sorted(p.name for p in ckpts.iterdir()) == ["e0.ckpt", "last.ckpt"]  # no temporary files left
    assert newest_resumable(ckpts) is not None and checkpoint_problem(ckpts / "last.ckpt") is None
    again = quiet_trainer(max_epochs=2, plugins=[AtomicCheckpointIO()], enable_checkpointing=False)
    again.fit(TinyModel(), datamodule=TinyData(), ckpt_path=str(newest_resumable(ckpts)), weights_only=True)
    assert again.current_epoch == 2 and again.global_step == 2 * trainer.global_step


# -- what is wrong with a file -----------------------------------------------------------------------------


class Evil:
    """Unpickling it would create a file: safe loading must refuse it without running anything."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_checkpoint_problems_in_plain_words(tmp_path: Path) -> None:
    good = atomic_torch_save(lightning_like(5), tmp_path / "good.ckpt")
    assert checkpoint_problem(good) is None
    (tmp_path / "empty.ckpt").write_bytes(b"")
    (tmp_path / "dir.ckpt").mkdir()
    (tmp_path / "cut.ckpt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    torch.save({"w": torch.zeros(2)}, tmp_path / "weights.ckpt")
    marker = tmp_path / "pwned"
    torch.save({**lightning_like(1), "extra": Evil(marker)}, tmp_path / "evil.ckpt")
    (tmp_path / "link.ckpt").symlink_to(tmp_path / "gone.ckpt")

    def why(name: str) -> str:
        problem = checkpoint_problem(tmp_path / name)
        assert problem is not None and problem.startswith(f"{tmp_path / name}: "), problem
        return problem.split(": ", 1)[1]

    assert why("missing.ckpt") == "no such file"
    assert why("link.ckpt") == "a link to a missing file"
    assert why("dir.ckpt").startswith("not a file")
    assert why("empty.ckpt") == "empty (0 bytes); its save was probably cut off"
    assert why("cut.ckpt").startswith("not a complete checkpoint (")
    assert why("text.ckpt").startswith("not a complete checkpoint (16 bytes)")
    assert why("weights.ckpt") == "not a Lightning checkpoint (no 'state_dict', 'global_step', 'epoch')"
    evil = why("evil.ckpt")
    assert evil.startswith("holds Python objects that safe loading (weights_only=True) refuses")
    assert "(it refers to io.open)" in evil and not marker.exists()  # refused, and nothing in it ran


def test_project_of_a_checkpoint(tmp_path: Path) -> None:
    path = atomic_torch_save({**lightning_like(1), "project": "digits_lab"}, tmp_path / "a.ckpt")
    old = atomic_torch_save(lightning_like(1), tmp_path / "old.ckpt")
    assert checkpoint_problem(path, project="digits_lab") is None
    assert checkpoint_problem(old, project="digits_lab") is None  # written before projects were recorded
    assert checkpoint_problem(path, project="text_lab") == (
        f"{path}: written by project 'digits_lab', not 'text_lab'; resume it from that project"
    )


def test_scan_orders_by_step_then_time_and_sets_aside(tmp_path: Path) -> None:
    late_low = atomic_torch_save(lightning_like(10), tmp_path / "a.ckpt")
    high = atomic_torch_save(lightning_like(20), tmp_path / "b.ckpt")
    tie_old = atomic_torch_save(lightning_like(20), tmp_path / "c.ckpt")
    os.utime(tie_old, (time.time() - 100, time.time() - 100))
    os.utime(late_low, (time.time() + 100, time.time() + 100))  # newest file, oldest state
    (tmp_path / "broken.ckpt").write_bytes(b"PK\x03\x04 cut")
    (tmp_path / "notes.txt").write_text("not matched")
    scan = scan_checkpoints(tmp_path)
    assert scan.resumable == [high, tie_old, late_low] and scan.newest == high
    assert list(scan.problems) == [tmp_path / "broken.ckpt"]
    moved = set_aside(tmp_path / "broken.ckpt")
    assert moved.name.startswith("broken.ckpt.unreadable-") and moved.read_bytes() == b"PK\x03\x04 cut"
    assert not (tmp_path / "broken.ckpt").exists()
    (tmp_path / "broken.ckpt").write_bytes(b"again")
    second = set_aside(tmp_path / "broken.ckpt")  # the same second: a different name, nothing overwritten
    assert second != moved and moved.exists() and second.read_bytes() == b"again"
    assert scan_checkpoints(tmp_path).problems == {}
    assert newest_resumable(tmp_path / "absent") is None


def test_run_metadata_records_the_project(tmp_path: Path) -> None:
    import labblocks
    from labblocks.train.callbacks import RunMetadata

    model = TinyModel()
    model.net[2] = labblocks.build("core/mlp@v1", in_dim=64, hidden_dim=8, out_dim=3)
    trainer = quiet_trainer(
        max_epochs=1, enable_checkpointing=True, plugins=[AtomicCheckpointIO()],
        callbacks=[RunMetadata({"lr": 0.5}, seed=7, git_commit=None, project="digits_lab")],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=TinyData())
    (path,) = tmp_path.rglob("*.ckpt")
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["project"] == "digits_lab" and ckpt["seed"] == 7 and ckpt["config"] == {"lr": 0.5}
    assert ckpt["labblocks"]["modules"]["net.2"]["key"] == "core/mlp@v1"
    assert checkpoint_problem(path, project="digits_lab") is None
    assert "written by project 'digits_lab', not 'other'" in str(checkpoint_problem(path, project="other"))


def test_checking_checkpoints_does_not_load_lightning() -> None:
    """A script that only looks at a run's checkpoints pays for torch, not for Lightning."""
    code = ("import sys; from labblocks.train.checkpoints import scan_checkpoints, atomic_torch_save; "
            "print(sorted(m for m in ('lightning', 'pytorch_lightning') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
