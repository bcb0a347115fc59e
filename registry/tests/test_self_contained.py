"""Metadata that rebuilds a module with no file outside it: pretrained weights paths are recorded under
`init` for people, the architecture under `args` (for Hugging Face, the resolved config)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from test_adapters import HF_ARGS, VOCAB
from torch import nn

import labblocks
from labblocks.run.export import export_module, load_module

TIMM = {"variant": "resnet10t", "num_classes": 4, "in_chans": 1}


def assert_same_outputs(a: nn.Module, b: nn.Module, *inputs: torch.Tensor) -> None:
    a.eval(), b.eval()
    with torch.no_grad():
        assert torch.equal(a(*inputs), b(*inputs))


def _timm_with_local_weights(tmp_path: Path) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    source = labblocks.build("timm/resnet@v1", **TIMM)
    weights = tmp_path / "weights" / "model.safetensors"
    weights.parent.mkdir()
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(weights))
    torch.manual_seed(1)
    return labblocks.build("timm/resnet@v1", **TIMM, weights=str(weights)), weights


def test_timm_rebuilds_after_its_weights_file_is_gone(tmp_path: Path) -> None:
    net, weights = _timm_with_local_weights(tmp_path)
    meta = labblocks.metadata(net)
    assert meta["init"] == {"weights": str(weights)}
    assert meta["args"] == {**meta["args"], "weights": None, "pretrained": False, **TIMM}
    exported = export_module(net, tmp_path / "export")
    shutil.rmtree(weights.parent)
    torch.manual_seed(2)
    again = labblocks.rebuild(meta)
    again.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(2, 1, 32, 32)
    assert_same_outputs(net, again, x)
    assert_same_outputs(net, load_module(exported), x)  # export -> load on "another machine"
    assert labblocks.metadata(again)["args"] == meta["args"] and "init" not in labblocks.metadata(again)


def test_timm_metadata_of_0_1_with_a_missing_weights_file_still_rebuilds(tmp_path: Path) -> None:
    net, weights = _timm_with_local_weights(tmp_path)
    old = {"key": "timm/resnet@v1", "labblocks_version": "0.1.0",
           "args": {**labblocks.metadata(net)["args"], "weights": str(weights)}}  # how 0.1 recorded it
    weights.unlink()
    again = labblocks.rebuild(old)
    again.load_state_dict(net.state_dict(), strict=True)
    assert_same_outputs(net, again, torch.randn(2, 1, 32, 32))


def _hf_pretrained(tmp_path: Path, dtype: torch.dtype = torch.float32) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    source = labblocks.build("hf/encoder@v1", **HF_ARGS)
    folder = tmp_path / "pretrained"
    source.model.to(dtype).save_pretrained(folder)
    torch.manual_seed(1)
    return labblocks.build("hf/encoder@v1", pretrained=str(folder), num_labels=3), folder


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_hf_rebuilds_from_the_recorded_config_after_the_directory_is_gone(tmp_path: Path, dtype: torch.dtype) -> None:
    net, folder = _hf_pretrained(tmp_path, dtype)
    meta = labblocks.metadata(net)
    assert meta["init"] == {"pretrained": str(folder)}
    args = meta["args"]
    assert args["pretrained"] is None and args["model_type"] == "bert" and args["num_labels"] == 3
    assert {k: args["config"][k] for k in HF_ARGS["config"]} == HF_ARGS["config"]
    assert args["config"]["dtype"] == str(dtype).removeprefix("torch.")  # the loaded dtype, kept
    shutil.rmtree(folder)
    again = labblocks.rebuild(meta)
    assert next(again.parameters()).dtype == dtype
    again.load_state_dict(net.state_dict(), strict=True)
    ids = torch.randint(1, VOCAB, (3, 7))
    assert_same_outputs(net, again, ids, torch.ones(3, 7, dtype=torch.bool))


def test_hf_metadata_of_0_1(tmp_path: Path) -> None:
    net, folder = _hf_pretrained(tmp_path)
    old: dict[str, Any] = {
        "key": "hf/encoder@v1", "labblocks_version": "0.1.0",
        "args": {"model_type": "bert", "config": None, "num_labels": 3, "pretrained": str(folder),
                 "allow_download": False},
    }
    assert_same_outputs(net, labblocks.rebuild(old), torch.randint(1, VOCAB, (2, 5)))  # the directory is there
    shutil.rmtree(folder)
    with pytest.raises(labblocks.LabblocksError, match=r"records pretrained='.*pretrained', which is not a dir"):
        labblocks.rebuild(old)


class Loaded(nn.Module):
    """t/loaded@v1: a linear layer, optionally initialised from a saved tensor file."""

    def __init__(self, dim: int, weights: str | None = None):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        if weights is not None:
            self.fc.load_state_dict(torch.load(weights, weights_only=True))


class Wrap(nn.Module):
    """t/wrap@v1: holds another block."""

    def __init__(self, inner: nn.Module, layers: list[nn.Module] | None = None):
        super().__init__()
        self.inner, self.layers = inner, nn.ModuleList(layers or [])


def _weights_only(module: Any, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return {**args, "weights": None}, ({"weights": args["weights"]} if args["weights"] else {})


def test_nested_blocks_record_portable_arguments(registry: labblocks.Registry, tmp_path: Path) -> None:
    registry.register("t/loaded@v1", summary="l", inputs={}, outputs=None, portable=_weights_only)(Loaded)
    registry.register("t/wrap@v1", summary="w", inputs={}, outputs=None)(Wrap)
    path = tmp_path / "fc.pt"
    torch.save(nn.Linear(3, 3).state_dict(), path)
    node = {"block": "t/loaded@v1", "dim": 3, "weights": str(path)}
    wrap = registry.build({"block": "t/wrap@v1", "inner": node, "layers": [node, {**node, "weights": None}]})
    meta = labblocks.metadata(wrap)
    plain = {"block": "t/loaded@v1", "dim": 3, "weights": None}
    assert meta["args"] == {"inner": plain, "layers": [plain, plain]}
    assert meta["init"] == {"inner": {"weights": str(path)}, "layers": [{"weights": str(path)}, {}]}
    path.unlink()
    again = registry.rebuild(meta)
    again.load_state_dict(wrap.state_dict())
    assert torch.equal(again.inner.fc.weight, wrap.inner.fc.weight)
