"""Building from keys, dict nodes and OmegaConf nodes; nested nodes; latest-version resolution; pin()."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

import labblocks
from labblocks.blocks.embedding import TokenEmbedding
from labblocks.blocks.mlp import MLP


class Lin(nn.Module):
    """t/lin@v1: one Linear layer."""

    def __init__(self, dim: int, out_dim: int | None = None, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(dim, out_dim or dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class Wrap(nn.Module):
    """t/wrap@v1: a block that takes another block as an argument."""

    def __init__(self, inner: nn.Module, scale: float = 2.0):
        super().__init__()
        self.inner = inner
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.scale


class Stack(nn.Module):
    """t/stack@v1: a list of blocks applied in order."""

    def __init__(self, layers: list[nn.Module], final_scale: float = 1.0):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.final_scale = final_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x * self.final_scale


class NetV1(nn.Module):
    """t/net@v1."""

    def __init__(self, width: int = 4):
        super().__init__()
        self.fc = nn.Linear(width, width)


class NetV2(nn.Module):
    """t/net@v2: a renamed argument, a new default."""

    def __init__(self, dim: int = 8, depth: int = 1):
        super().__init__()
        self.fcs = nn.ModuleList(nn.Linear(dim, dim) for _ in range(depth))


@pytest.fixture
def reg(registry: labblocks.Registry) -> labblocks.Registry:
    """The test registry with t/lin, t/wrap, t/stack, t/net@v1 and t/net@v2."""
    x = {"x": "*b {dim}"}
    registry.register("t/lin@v1", summary="linear", inputs=x, outputs="*b _")(Lin)
    registry.register("t/wrap@v1", summary="wrap", inputs={"x": "..."}, outputs="...")(Wrap)
    registry.register("t/stack@v1", summary="stack", inputs={"x": "..."}, outputs="...")(Stack)
    registry.register("t/net@v1", summary="net v1", inputs={"x": "b {width}"}, outputs="b {width}")(NetV1)
    registry.register("t/net@v2", summary="net v2", inputs={"x": "b {dim}"}, outputs="b {dim}")(NetV2)
    return registry


# -- keys, dicts, OmegaConf -------------------------------------------------------------------------


def test_build_from_key_and_kwargs() -> None:
    mlp = labblocks.build("core/mlp@v1", in_dim=6, hidden_dim=12, out_dim=3, num_layers=3)
    assert isinstance(mlp, MLP)
    assert [tuple(layer.weight.shape) for layer in mlp.layers] == [(12, 6), (12, 12), (3, 12)]
    assert mlp(torch.randn(5, 6)).shape == (5, 3)


def test_build_from_a_dict_node_with_kwargs_overriding_it() -> None:
    node = {"block": "core/mlp@v1", "in_dim": 6, "hidden_dim": 12, "out_dim": 3}
    before = copy.deepcopy(node)
    mlp = labblocks.build(node, out_dim=5)
    assert mlp.layers[-1].out_features == 5
    assert mlp.layers[0].in_features == 6
    assert node == before  # the caller's node is not modified


def test_build_from_an_omegaconf_node_resolves_interpolations() -> None:
    cfg = OmegaConf.create(
        {
            "data": {"vocab": 50},
            "width": 16,
            "model": {
                "embed": {"block": "core/token_embed@v1", "vocab_size": "${data.vocab}", "dim": "${width}"},
                "head": {"block": "core/mlp", "in_dim": "${model.embed.dim}", "hidden_dim": 24, "out_dim": 3},
            },
        }
    )
    embed = labblocks.build(cfg.model.embed)
    head = labblocks.build(cfg.model.head)
    assert isinstance(embed, TokenEmbedding)
    assert tuple(embed.embed.weight.shape) == (50, 16)
    assert head.layers[0].in_features == 16
    assert labblocks.metadata(embed)["args"]["vocab_size"] == 50  # stored resolved, not as "${data.vocab}"
    assert labblocks.metadata(head)["key"] == "core/mlp@v1"


def test_build_rejects_something_that_is_not_a_node() -> None:
    with pytest.raises(labblocks.InvalidKeyError, match="expected a key or a block node"):
        labblocks.build([1, 2])
    with pytest.raises(labblocks.InvalidKeyError, match="expected a block node with a 'block' key"):
        labblocks.build({"in_dim": 3})


# -- nested nodes ------------------------------------------------------------------------------------


def test_nested_node_is_built_first_and_passed_as_a_module(reg: labblocks.Registry) -> None:
    wrap = reg.build({"block": "t/wrap@v1", "inner": {"block": "t/lin@v1", "dim": 3}, "scale": 0.5})
    assert isinstance(wrap, Wrap) and isinstance(wrap.inner, Lin)
    assert labblocks.metadata(wrap.inner)["key"] == "t/lin@v1"
    x = torch.randn(2, 3)
    torch.testing.assert_close(wrap(x), wrap.inner.fc(x) * 0.5)
    meta = labblocks.metadata(wrap)
    assert meta["args"] == {
        "inner": {"block": "t/lin@v1", "dim": 3, "out_dim": None, "bias": True},
        "scale": 0.5,
    }


def test_nested_omegaconf_nodes_with_interpolation_and_lists(reg: labblocks.Registry) -> None:
    cfg = OmegaConf.create(
        {
            "d": 5,
            "net": {
                "block": "t/stack@v1",
                "layers": [
                    {"block": "t/lin", "dim": "${d}", "out_dim": 7},
                    {"block": "t/wrap", "inner": {"block": "t/lin", "dim": 7, "bias": False}},
                ],
            },
        }
    )
    stack = reg.build(cfg.net)
    first, second = stack.layers
    assert tuple(first.fc.weight.shape) == (7, 5)
    assert isinstance(second, Wrap) and second.inner.fc.bias is None
    assert stack(torch.randn(4, 5)).shape == (4, 7)
    layers_meta = labblocks.metadata(stack)["args"]["layers"]
    assert [node["block"] for node in layers_meta] == ["t/lin@v1", "t/wrap@v1"]
    assert layers_meta[1]["inner"]["block"] == "t/lin@v1"


def test_unversioned_key_resolves_to_the_latest_version(reg: labblocks.Registry) -> None:
    net = reg.build("t/net")
    assert isinstance(net, NetV2)
    assert labblocks.metadata(net)["key"] == "t/net@v2"
    assert isinstance(reg.build("t/net@v1"), NetV1)
    assert reg.describe("t/net").key == "t/net@v2"
    assert reg.describe("t/net@v1").versions == ["v1", "v2"]
    assert reg.list("t/net@v*") == ["t/net@v1", "t/net@v2"]


def test_registry_lists_by_pattern_and_tag(registry: labblocks.Registry) -> None:
    registry.register("t/a@v1", summary="a", inputs={}, outputs=None, tags=("x", "y"))(NetV1)
    registry.register("t/b@v1", summary="b", inputs={}, outputs=None, tags=("x",))(NetV2)
    assert registry.list() == ["t/a@v1", "t/b@v1"]
    assert registry.list("t/a") == ["t/a@v1"]
    assert registry.list("*", tags=["x"]) == ["t/a@v1", "t/b@v1"]
    assert registry.list("*", tags=["x", "y"]) == ["t/a@v1"]
    assert registry.list("u/*") == []


def test_global_list_blocks_by_pattern_and_tag() -> None:
    core = labblocks.list_blocks("core/*")
    assert "core/mlp@v1" in core and all(k.startswith("core/") for k in core)
    assert labblocks.list_blocks("*/resnet") == ["timm/resnet@v1"]
    assert labblocks.list_blocks("core/mlp@v*") == ["core/mlp@v1"]
    tagged = labblocks.list_blocks(tags=["transformer", "attention"])
    assert "core/mhsa@v1" in tagged and "core/mlp@v1" not in tagged
    for key in tagged:
        assert {"transformer", "attention"} <= set(labblocks.describe(key).tags)


# -- pin ---------------------------------------------------------------------------------------------


def _assert_fully_pinned(reg: labblocks.Registry, value: Any, path: str = "") -> int:
    """Every node under `value` has a pinned key and every parameter of that key; returns the node count."""
    if isinstance(value, dict) and "block" in value:
        assert re.fullmatch(r"[a-z_0-9]+/[a-z_0-9]+@v\d+", value["block"]), f"{path}: {value['block']}"
        info = reg.describe(value["block"])
        missing = [p["name"] for p in info.params if p["name"] not in value]
        assert not missing, f"{path}: {missing} not filled in"
        return 1 + sum(_assert_fully_pinned(reg, v, f"{path}.{k}") for k, v in value.items() if k != "block")
    if isinstance(value, dict):
        return sum(_assert_fully_pinned(reg, v, f"{path}.{k}") for k, v in value.items())
    if isinstance(value, list):
        return sum(_assert_fully_pinned(reg, v, f"{path}[{i}]") for i, v in enumerate(value))
    return 0


NESTED_CONFIG = {
    "seed": 3,
    "model": {
        "encoder": {"block": "t/wrap", "inner": {"block": "t/net"}},
        "stack": {"block": "t/stack@v1", "layers": [{"block": "t/lin", "dim": 2}, {"block": "t/net@v1"}]},
    },
    "extra": [{"block": "t/net", "depth": 2}],
}


def test_pin_pins_every_version_and_fills_every_default_at_any_depth(reg: labblocks.Registry) -> None:
    pinned = reg.pin(NESTED_CONFIG)
    assert _assert_fully_pinned(reg, pinned) == 6
    assert pinned["seed"] == 3
    assert pinned["model"]["encoder"] == {
        "block": "t/wrap@v1",
        "inner": {"block": "t/net@v2", "dim": 8, "depth": 1},
        "scale": 2.0,
    }
    assert pinned["model"]["stack"]["layers"] == [
        {"block": "t/lin@v1", "dim": 2, "out_dim": None, "bias": True},
        {"block": "t/net@v1", "width": 4},
    ]
    assert pinned["model"]["stack"]["final_scale"] == 1.0
    assert pinned["extra"] == [{"block": "t/net@v2", "dim": 8, "depth": 2}]
    assert reg.pin(pinned) == pinned  # idempotent
    assert NESTED_CONFIG["model"]["encoder"] == {
        "block": "t/wrap",
        "inner": {"block": "t/net"},
    }  # not mutated


def test_pin_fills_the_defaults_that_describe_reports() -> None:
    pinned = labblocks.pin({"block": "core/transformer_block", "dim": 16})
    info = labblocks.describe("core/transformer_block@v1")
    expected = {"block": "core/transformer_block@v1", "dim": 16}
    expected.update({p["name"]: p["default"] for p in info.params if not p["required"]})
    assert pinned == expected
    assert pinned["num_heads"] == 8 and pinned["mlp_ratio"] == 4.0


def test_pin_keeps_the_omegaconf_type(reg: labblocks.Registry) -> None:
    cfg = OmegaConf.create({"d": 6, "net": {"block": "t/lin", "dim": "${d}"}})
    pinned = reg.pin(cfg)
    assert isinstance(pinned, DictConfig)
    assert OmegaConf.to_container(pinned) == {
        "d": 6,
        "net": {"block": "t/lin@v1", "dim": 6, "out_dim": None, "bias": True},
    }
    as_list = reg.pin(OmegaConf.create([{"block": "t/net"}]))
    assert isinstance(as_list, ListConfig)
    assert as_list[0].block == "t/net@v2" and as_list[0].dim == 8
    assert isinstance(reg.pin({"block": "t/net"}), dict)


def test_pinned_config_builds_the_same_module(reg: labblocks.Registry) -> None:
    pinned = reg.pin(NESTED_CONFIG)
    torch.manual_seed(0)
    a = reg.build(NESTED_CONFIG["model"]["encoder"])
    torch.manual_seed(0)
    b = reg.build(pinned["model"]["encoder"])
    assert labblocks.metadata(a) == labblocks.metadata(b)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_strict_pin_refuses_an_unpinned_key_naming_key_and_path(reg: labblocks.Registry) -> None:
    with pytest.raises(labblocks.UnpinnedKeyError) as info:
        reg.pin({"model": {"encoder": {"block": "t/wrap@v1", "inner": {"block": "t/net"}}}}, strict=True)
    message = str(info.value)
    assert "t/net" in message
    assert "model.encoder.inner.block" in message
    assert "t/net@v2" in message  # the suggested pin
    pinned = reg.pin(NESTED_CONFIG)
    assert reg.pin(pinned, strict=True) == pinned


def test_strict_build_refuses_an_unpinned_key() -> None:
    with pytest.raises(
        labblocks.UnpinnedKeyError, match=r"core/mlp: strict mode .*pin it, e\.g\. 'core/mlp@v1'"
    ):
        labblocks.build("core/mlp", strict=True, in_dim=1, hidden_dim=1, out_dim=1)


def test_pin_reports_bad_arguments(reg: labblocks.Registry) -> None:
    with pytest.raises(labblocks.BlockArgumentError, match=r"model\.net\.widht: unknown argument"):
        reg.pin({"model": {"net": {"block": "t/net@v1", "widht": 3}}})


# -- validate ----------------------------------------------------------------------------------------


def test_validate_accepts_a_good_node_and_supplied_arguments() -> None:
    labblocks.validate({"block": "core/mlp@v1", "in_dim": 4, "hidden_dim": 8, "out_dim": 2})
    labblocks.validate({"block": "core/mlp@v1", "in_dim": 4, "hidden_dim": 8}, supplied=["out_dim"])
    with pytest.raises(labblocks.BlockArgumentError, match=r"out_dim: missing required argument \(int\)"):
        labblocks.validate({"block": "core/mlp@v1", "in_dim": 4, "hidden_dim": 8})


def test_validate_checks_literal_and_container_types() -> None:
    with pytest.raises(labblocks.BlockArgumentError) as info:
        labblocks.validate(
            {"block": "timm/resnet@v1", "variant": "resnet18", "out_indices": [1, "2"], "in_chans": True},
            path="backbone",
        )
    problems = info.value.problems
    assert any(
        p == "backbone.out_indices: expected tuple[int, ...] | None, got list [1, '2']" for p in problems
    )
    assert any(p.startswith("backbone.in_chans: expected int, got bool True") for p in problems)
    with pytest.raises(labblocks.BlockArgumentError, match=r"act: expected Literal\['relu', 'gelu'"):
        labblocks.validate(
            {"block": "core/mlp@v1", "in_dim": 1, "hidden_dim": 1, "out_dim": 1, "act": "swish"}
        )
