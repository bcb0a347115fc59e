"""`RNGState`: every rank's RNG states saved, each rank's restored; old checkpoints still load."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny import TinyData, TinyModel, quiet_trainer

from labblocks.train.callbacks import RNGState
from labblocks.train.rng import capture_rng


def draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def fake_trainer(world_size: int = 1, global_rank: int = 0) -> types.SimpleNamespace:
    return types.SimpleNamespace(world_size=world_size, global_rank=global_rank)


def restored(state: dict, trainer: types.SimpleNamespace) -> tuple[float, float, list[float]]:
    callback = RNGState()
    callback.load_state_dict(state)
    callback.on_train_start(trainer, None)  # type: ignore[arg-type]
    return draws()


def test_single_process_state_round_trip() -> None:
    torch.manual_seed(3)
    state = RNGState().state_dict()
    assert state["format"] == "per_rank/v1" and len(state["ranks"]) == 1
    expected = draws()
    torch.manual_seed(4)
    assert restored(state, fake_trainer()) == expected


def test_checkpoint_of_labblocks_0_1_still_restores() -> None:
    old = capture_rng()  # what RNGState.state_dict returned in 0.1
    expected = draws()
    assert restored(old, fake_trainer(world_size=2, global_rank=1)) == expected


def test_another_world_size_restores_rank_zero_with_a_warning() -> None:
    torch.manual_seed(5)
    rank0 = capture_rng()
    expected = draws()
    state = {"format": "per_rank/v1", "ranks": [rank0, capture_rng()]}
    with pytest.warns(UserWarning, match=r"holds RNG states of 2 rank\(s\), but this run has 1; every rank"):
        assert restored(state, fake_trainer(world_size=1)) == expected


def test_states_travel_in_a_real_checkpoint(tmp_path: Path) -> None:
    from lightning.pytorch.callbacks import ModelCheckpoint

    trainer = quiet_trainer(
        max_epochs=1, enable_checkpointing=True, callbacks=[RNGState(), ModelCheckpoint(dirpath=tmp_path)]
    )
    trainer.fit(TinyModel(), datamodule=TinyData())
    (path,) = tmp_path.glob("*.ckpt")
    saved = torch.load(path, weights_only=True)["callbacks"]["RNGState"]
    assert saved["format"] == "per_rank/v1" and len(saved["ranks"]) == 1
    assert torch.equal(saved["ranks"][0]["torch"], torch.get_rng_state())  # nothing drew since the save


WORKER = """
import random, sys
import torch, torch.distributed as dist
from labblocks.train.rng import RNG_FORMAT, gather_rng, restore_rng, rng_for_rank
rank, folder = int(sys.argv[1]), sys.argv[2]
dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
torch.manual_seed(100 + rank)
random.seed(100 + rank)
state = {"format": RNG_FORMAT, "ranks": gather_rng()}  # RNGState.state_dict, called on every rank
expected = [random.random(), *torch.rand(3).tolist()]
if rank == 0:
    torch.save(state, f"{folder}/rng.pt")
dist.barrier()
torch.manual_seed(999)
random.seed(999)
states, warning = rng_for_rank(torch.load(f"{folder}/rng.pt", weights_only=True), rank, 2)  # RNGState's restore
restore_rng(states)
got = [random.random(), *torch.rand(3).tolist()]
torch.save({"expected": expected, "got": got, "saved": len(state["ranks"]), "warning": warning}, f"{folder}/r{rank}.pt")
dist.destroy_process_group()
"""


@pytest.mark.multisecond
def test_two_gloo_ranks_each_get_their_own_states_back(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(WORKER), str(rank), str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:  # a rank left waiting for a dead peer would wait 30 minutes
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [torch.load(tmp_path / f"r{rank}.pt", weights_only=True) for rank in range(2)]
    assert [(r["saved"], r["warning"]) for r in results] == [(2, None), (2, None)]
    for r in results:
        assert r["got"] == r["expected"]
    assert results[0]["expected"] != results[1]["expected"]  # the ranks' streams differ
