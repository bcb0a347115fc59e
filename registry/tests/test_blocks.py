"""Every registered entry: builds from its example, keeps its contract (meta and CPU), matches its
annotations, and keeps its state_dict and signature for good (golden file)."""

from __future__ import annotations

import importlib
import json
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import torch

import labblocks
from labblocks.registry.sources import load_manifest
from labblocks.testing import check_contract

ALL_KEYS = labblocks.list_blocks()
CORE_KEYS = labblocks.list_blocks("core/*")
GOLDEN = Path(__file__).with_name("golden") / "state_dicts.json"
UPDATE_GOLDEN = os.environ.get("LABBLOCKS_UPDATE_GOLDEN") == "1"
JAXTYPING_KIND = {"float": "Float", "long": "Int", "bool": "Bool"}


def test_the_registry_is_not_empty() -> None:
    assert {"core/mlp@v1", "timm/resnet@v1", "hf/encoder@v1"} <= set(ALL_KEYS)
    assert len(CORE_KEYS) >= 10


@pytest.mark.parametrize("key", ALL_KEYS)
def test_contract_holds_on_meta(key: str) -> None:
    result = check_contract(key)
    assert result["inputs"] and result["output"]
    assert labblocks.describe(key).example, f"{key} registers no example arguments"


@pytest.mark.parametrize("key", ALL_KEYS)
def test_contract_holds_in_a_cpu_forward(key: str) -> None:
    result = check_contract(key, device="cpu")
    assert result["dropped"] == []  # on CPU every optional input is fed
    assert set(result["inputs"]) == set(labblocks.describe(key).inputs)


def test_check_contract_with_other_dims_and_args() -> None:
    result = check_contract(
        "core/patch_embed@v1",
        device="cpu",
        dims={"h": 24, "w": 8, "b": 3},
        in_chans=1,
        embed_dim=6,
        patch_size=4,
    )
    assert result["inputs"] == {"x": (3, 1, 24, 8)}
    assert result["output"] == (3, 12, 6)


def test_check_contract_catches_a_broken_contract(
    registry: labblocks.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Liar(torch.nn.Module):
        def __init__(self, dim: int = 4):
            super().__init__()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.sum(-1)

    registry.register(
        "t/liar@v1", summary="s", inputs={"x": "b {dim}"}, outputs="b {dim}", example={"dim": 4}
    )(Liar)
    monkeypatch.setattr("labblocks.testing.contract.REGISTRY", registry)
    with pytest.raises(
        labblocks.ShapeError, match=r"t/liar@v1 output: expected 2 dims 'b \{dim\}', got shape \(2,\)"
    ):
        check_contract("t/liar@v1", device="cpu")


# -- annotations ---------------------------------------------------------------------------------------


def _unwrap_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    return hint


def _plain(spec: str) -> str:
    """A registered spec as jaxtyping writes it: `{param}` becomes `param`."""
    return re.sub(r"\{([A-Za-z_]\w*)\}", r"\1", spec)


@pytest.mark.parametrize("key", CORE_KEYS)
def test_forward_annotations_match_the_registered_specs(key: str) -> None:
    info = labblocks.describe(key)
    module_name, qualname = info.target.split(":")
    cls = getattr(importlib.import_module(module_name), qualname)
    hints = typing.get_type_hints(cls.forward, include_extras=True)
    annotated = {n: _unwrap_optional(h) for n, h in hints.items() if hasattr(_unwrap_optional(h), "dim_str")}
    assert set(annotated) == set(info.inputs) | {"return"}
    for name, spec in info.inputs.items():
        assert annotated[name].dim_str == _plain(spec), name
        kind = JAXTYPING_KIND[info.dtypes.get(name, "float")]
        assert annotated[name].__name__.startswith(f"{kind}["), f"{name}: {annotated[name].__name__}"
    assert isinstance(info.outputs, str)
    assert annotated["return"].dim_str == _plain(info.outputs)


# -- golden state_dicts and signatures ----------------------------------------------------------------


def golden_record(key: str) -> dict[str, Any]:
    """What must never change for a key: its example state_dict (names, shapes) and its signature."""
    with torch.device("meta"):
        module = labblocks.build(key, **labblocks.describe(key).example)
    state = {name: str(list(t.shape)) for name, t in sorted(module.state_dict().items())}
    params = labblocks.describe(key).params
    signature = [p["name"] if p["required"] else f"{p['name']}={p['default']!r}" for p in params]
    return {"signature": signature, "state_dict": state}


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    """The committed golden records; rewritten first when LABBLOCKS_UPDATE_GOLDEN=1."""
    if UPDATE_GOLDEN:
        old = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.is_file() else {}
        removed = load_manifest()["removed"]
        data = {k: v for k, v in old.items() if k in removed}  # tombstoned keys keep their record
        data.update({key: golden_record(key) for key in ALL_KEYS})
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", ALL_KEYS)
def test_versions_are_immutable(key: str, golden: dict[str, Any]) -> None:
    assert key in golden, (
        f"{key} is new: run `LABBLOCKS_UPDATE_GOLDEN=1 pytest registry/tests` and commit the file"
    )
    assert golden_record(key) == golden[key], (
        f"{key} changed its state_dict or signature; a registered version must not change. "
        "Register a new version (@vN+1) instead."
    )


def test_no_golden_key_disappeared_without_a_tombstone(golden: dict[str, Any]) -> None:
    removed = load_manifest()["removed"]
    gone = [k for k in golden if k not in ALL_KEYS and k not in removed]
    assert not gone, f"keys removed without a tombstone in labblocks/legacy.py: {gone}"


@pytest.mark.parametrize("scale", [False, True])
def test_token_embed_scaling_and_padding_row(scale: bool) -> None:
    embed = labblocks.build("core/token_embed@v1", vocab_size=10, dim=16, scale=scale)
    ids = torch.tensor([[3, 0, 7]])
    out = embed(ids)
    factor = 4.0 if scale else 1.0  # sqrt(16)
    torch.testing.assert_close(out, embed.embed.weight[ids] * factor, rtol=0, atol=0)
    assert torch.count_nonzero(out[0, 1]) == 0  # the padding_idx row stays zero
