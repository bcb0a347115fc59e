"""Deprecated and removed keys, and the metadata every built module carries (and rebuild from it)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from torch import nn

import labblocks

ALL_KEYS = labblocks.list_blocks()


class Old(nn.Module):
    """t/old@v1, deprecated."""

    def __init__(self, width: int = 3):
        super().__init__()
        self.fc = nn.Linear(width, width)


MIGRATION = "use t/new@v2 instead; rename width to dim"


@pytest.fixture
def reg(registry: labblocks.Registry) -> labblocks.Registry:
    registry.register(
        "t/old@v1", summary="old", inputs={"x": "b {width}"}, outputs="b {width}", deprecated=MIGRATION
    )(Old)
    return registry


# -- deprecated and removed ------------------------------------------------------------------------


def test_deprecated_key_refuses_to_build_and_says_how_to_migrate(reg: labblocks.Registry) -> None:
    with pytest.raises(labblocks.DeprecatedKeyError) as info:
        reg.build({"block": "t/old@v1", "width": 5}, path="model.head")
    message = str(info.value)
    assert "t/old@v1 (at model.head) is deprecated" in message
    assert f"To migrate: {MIGRATION}" in message
    assert "allow_deprecated=True" in message


def test_deprecated_key_builds_with_a_future_warning_when_allowed(reg: labblocks.Registry) -> None:
    with pytest.warns(FutureWarning, match=r"t/old@v1 is deprecated\. To migrate: use t/new@v2"):
        module = reg.build("t/old@v1", width=5, allow_deprecated=True)
    assert isinstance(module, Old) and module.fc.in_features == 5


def test_deprecated_key_still_rebuilds_from_metadata(reg: labblocks.Registry) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.manual_seed(1)
        module = reg.build("t/old@v1", width=5, allow_deprecated=True)
    with pytest.warns(FutureWarning):
        torch.manual_seed(1)
        again = reg.rebuild(labblocks.metadata(module))
    assert torch.equal(again.fc.weight, module.fc.weight)


def test_deprecated_key_is_marked_in_describe(reg: labblocks.Registry) -> None:
    info = reg.describe("t/old")
    assert info.deprecated == MIGRATION
    assert info.versions == ["v1 (deprecated)"]
    assert f"DEPRECATED: {MIGRATION}" in str(info)


def test_removed_key_fails_with_its_migration_text(registry: labblocks.Registry) -> None:
    with pytest.raises(labblocks.RemovedKeyError) as info:
        registry.build({"block": "t/gone@v1", "width": 3}, path="model.net")
    assert (
        str(info.value)
        == "t/gone@v1 (at model.net.block) was removed. To migrate: use t/net@v2 and rename width to dim"
    )
    with pytest.raises(labblocks.RemovedKeyError, match="To migrate: use t/net@v2"):
        registry.validate({"block": "t/gone@v1"})
    with pytest.raises(labblocks.RemovedKeyError, match="was removed"):
        registry.rebuild({"key": "t/gone@v1", "args": {}, "labblocks_version": "0.0.1"})


def test_removed_version_is_listed_next_to_live_ones(registry: labblocks.Registry) -> None:
    registry.register("t/gone@v2", summary="new", inputs={}, outputs=None)(Old)
    assert registry.describe("t/gone").versions == ["v2", "v1 (removed)"]
    assert registry.list() == ["t/gone@v2"]


# -- metadata and rebuild ----------------------------------------------------------------------------


def _example(key: str) -> dict[str, Any]:
    return dict(labblocks.describe(key).example)


def _inputs(module: nn.Module, key: str) -> dict[str, torch.Tensor]:
    """Inputs that satisfy the module's contract; token ids drawn from 1..49 (all example vocabularies)."""
    torch.manual_seed(123)
    inputs = labblocks.contract(module).example_inputs({"h": 32, "w": 32})
    for name, tensor in inputs.items():
        if tensor.dtype == torch.long:
            inputs[name] = torch.randint(1, 50, tensor.shape)
    return inputs


@pytest.mark.parametrize("key", ALL_KEYS)
def test_metadata_and_rebuild(key: str) -> None:
    args = _example(key)
    torch.manual_seed(0)
    module = labblocks.build(key, **args).eval()
    meta = labblocks.metadata(module)
    assert meta["key"] == key
    assert meta["labblocks_version"] == labblocks.__version__
    defaults = {p["name"]: p["default"] for p in labblocks.describe(key).params if not p["required"]}
    assert meta["args"] == {**defaults, **args}  # every default filled in
    torch.manual_seed(0)
    again = labblocks.rebuild(meta).eval()
    assert type(again) is type(module)
    assert labblocks.metadata(again) == meta
    sd, sd2 = module.state_dict(), again.state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == [(k, tuple(v.shape)) for k, v in sd2.items()]
    for name in sd:
        assert torch.equal(sd[name], sd2[name]), name
    inputs = _inputs(module, key)
    with torch.no_grad():
        out, out2 = module(**inputs), again(**inputs)
    if isinstance(out, torch.Tensor):
        out, out2 = [out], [out2]
    for a, b in zip(out, out2, strict=True):
        assert torch.equal(a, b)


def test_metadata_is_a_copy() -> None:
    mlp = labblocks.build("core/mlp@v1", in_dim=2, hidden_dim=3, out_dim=1)
    meta = labblocks.metadata(mlp)
    meta["args"]["in_dim"] = 99
    assert labblocks.metadata(mlp)["args"]["in_dim"] == 2


def test_metadata_of_a_module_not_built_by_labblocks() -> None:
    with pytest.raises(labblocks.LabblocksError, match="Linear was not built by labblocks.build"):
        labblocks.metadata(nn.Linear(2, 2))


@pytest.mark.parametrize(
    ("meta", "error", "pattern"),
    [
        (
            {"key": "core/mlp@v1"},
            labblocks.LabblocksError,
            r"metadata: expected labblocks metadata \{'key', 'args'",
        ),
        ("core/mlp@v1", labblocks.LabblocksError, "expected labblocks metadata"),
        (
            {"key": "core/mlp", "args": {}},
            labblocks.UnpinnedKeyError,
            r"core/mlp \(at metadata\.key\): strict mode needs a pinned key",
        ),
        (
            {"key": "core/mlp@v9", "args": {}, "labblocks_version": "9.0.0"},
            labblocks.UnknownKeyError,
            r"(?s)unknown block key 'core/mlp@v9'.*written by labblocks 9\.0\.0; installed",
        ),
        (
            {"key": "core/mlp@v1", "args": {"in_dim": 2, "hidden_dim": 2, "out_dims": 1}},
            labblocks.BlockArgumentError,
            r"metadata\.args\.out_dims: unknown argument 'out_dims' for core/mlp@v1; "
            r"did you mean 'out_dim'\?",
        ),
    ],
)
def test_rebuild_from_bad_metadata(meta: Any, error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        labblocks.rebuild(meta)
