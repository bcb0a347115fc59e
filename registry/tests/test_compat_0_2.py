"""Checkpoints written by labblocks 0.2.0 (`fixtures/labblocks_0_2`, made by its `make.py`) pass the checks
before a resume, rebuild their network, and resume to the very weights 0.2.0 resumed them to."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import labblocks
from labblocks.train.callbacks import CallbackGroup, LoaderPosition, RNGState, RunMetadata
from labblocks.train.checkpoints import checkpoint_problem, scan_checkpoints

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labblocks_0_2"
CHECKPOINTS = ("epoch.ckpt", "mid.ckpt")
pytestmark = pytest.mark.multisecond


def project():  # the fixture's project module, loaded from its file
    spec = importlib.util.spec_from_file_location("labblocks_0_2_project", FIXTURES / "project.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_checkpoints_were_written_by_0_2() -> None:
    for name in CHECKPOINTS:
        ckpt = torch.load(FIXTURES / name, map_location="cpu", weights_only=True)
        assert ckpt["labblocks"]["version"] == "0.2.0" and ckpt["callbacks"]["RNGState"]["format"] == "per_rank/v1"
    assert labblocks.__version__ != "0.2.0"


def test_they_pass_the_checks_before_a_resume() -> None:
    assert [checkpoint_problem(FIXTURES / name) for name in CHECKPOINTS] == [None, None]
    scan = scan_checkpoints(FIXTURES)
    assert scan.problems == {} and scan.newest == FIXTURES / "mid.ckpt"  # step 11 is newer than step 6


def test_the_network_rebuilds_from_the_checkpoint_alone() -> None:
    ckpt = torch.load(FIXTURES / "mid.ckpt", map_location="cpu", weights_only=True)
    meta = ckpt["labblocks"]["modules"]["net"]
    net = labblocks.rebuild(meta)
    net.load_state_dict({k.removeprefix("net."): v for k, v in ckpt["state_dict"].items()}, strict=True)
    again = labblocks.metadata(net)
    assert again["key"] == meta["key"] == "core/mlp@v1" and again["args"] == meta["args"]
    assert again["labblocks_version"] == labblocks.__version__
    x = torch.randn(4, 6)
    net.eval()
    trained = project().Module()
    trained.load_state_dict(ckpt["state_dict"])
    trained.eval()
    with torch.no_grad():
        assert torch.equal(net(x), trained.net(x))


@pytest.mark.parametrize("grouped", [False, True], ids=["separate", "grouped"])
@pytest.mark.parametrize("name", CHECKPOINTS)
def test_resuming_gives_the_weights_0_2_resumed_to(tmp_path: Path, name: str, grouped: bool) -> None:
    """End of epoch and mid-epoch (with the loader's position): the RNG states, the optimizer, the schedule and
    the loader come back, so the dropout masks and batches after the resume are those of 0.2.0's own resume.
    Also with the three callbacks in one `CallbackGroup`, as the run's trainer has them."""
    callbacks = [RNGState(), LoaderPosition(), RunMetadata({"fixture": "resumed by 0.3"}, seed=7, git_commit=None)]
    if grouped:
        callbacks = [CallbackGroup(callbacks)]
    resumed = project().fit(tmp_path, callbacks, FIXTURES / name).state_dict()
    expected = load_file(str(FIXTURES / "resumed.safetensors"))
    assert sorted(resumed) == sorted(expected)
    different = [k for k in expected if not torch.equal(resumed[k], expected[k])]
    assert different == []


def test_without_the_rng_states_the_resume_would_differ(tmp_path: Path) -> None:
    """The check above can fail: resumed without `RNGState`, the dropout masks after the resume differ."""
    resumed = project().fit(tmp_path, [LoaderPosition()], FIXTURES / "mid.ckpt").state_dict()
    expected = load_file(str(FIXTURES / "resumed.safetensors"))
    assert any(not torch.equal(resumed[k], expected[k]) for k in expected)
