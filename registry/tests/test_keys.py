"""Key parsing: `namespace/name@vN`, and the messages for keys that are not of that form."""

from __future__ import annotations

import pytest

import labblocks
from labblocks.registry.keys import Key, parse_key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("core/mlp@v1", Key("core", "mlp", 1)),
        ("core/mlp", Key("core", "mlp", None)),
        ("timm/resnet@v12", Key("timm", "resnet", 12)),
        ("my_lab/block_2@v3", Key("my_lab", "block_2", 3)),
    ],
)
def test_parse_valid_keys(text: str, expected: Key) -> None:
    key = parse_key(text)
    assert key == expected
    assert str(key) == text
    assert key.base == f"{expected.namespace}/{expected.name}"
    assert key.pinned is (expected.version is not None)


def test_key_at_pins_a_version() -> None:
    assert str(parse_key("core/mlp").at(4)) == "core/mlp@v4"


@pytest.mark.parametrize(
    "text",
    [
        "mlp",
        "core/mlp@1",
        "core/mlp@v",
        "core/mlp@v0",
        "core/mlp@v01",
        "Core/MLP@v1",
        "core/mlp/extra@v1",
        "core/ mlp@v1",
        " core/mlp@v1",
        "core/mlp@v1\n",
        "1core/mlp@v1",
        "core/mlp-2@v1",
        "",
    ],
)
def test_invalid_keys_are_rejected_with_the_expected_form(text: str) -> None:
    with pytest.raises(labblocks.InvalidKeyError) as info:
        parse_key(text)
    message = str(info.value)
    assert repr(text) in message
    assert "namespace/name@vN" in message


@pytest.mark.parametrize("value", [None, 3, ["core/mlp@v1"]])
def test_non_string_keys_are_rejected(value: object) -> None:
    with pytest.raises(labblocks.InvalidKeyError, match="expected namespace/name@vN"):
        parse_key(value)


def test_invalid_key_in_a_config_names_its_path() -> None:
    with pytest.raises(labblocks.InvalidKeyError) as info:
        labblocks.validate({"block": "core/MLP"}, path="model.net")
    assert "model.net.block" in str(info.value)
    assert "'core/MLP'" in str(info.value)


def test_build_rejects_an_invalid_key() -> None:
    with pytest.raises(labblocks.InvalidKeyError, match=r"'core/mlp@1'.*namespace/name@vN"):
        labblocks.build("core/mlp@1")


def test_register_needs_a_pinned_key(registry: labblocks.Registry) -> None:
    with pytest.raises(labblocks.InvalidKeyError, match=r"needs a version, e\.g\. 't/net@v1'"):
        registry.register("t/net", summary="s", inputs={}, outputs=None)
