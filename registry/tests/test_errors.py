"""One test per class of bad input, each checking what the message says."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf
from torch import nn

import labblocks

# -- unknown keys ------------------------------------------------------------------------------------


def test_unknown_name_suggests_close_matches_in_the_namespace() -> None:
    with pytest.raises(labblocks.UnknownKeyError) as info:
        labblocks.build("core/mpl@v1")
    message = str(info.value)
    assert message.startswith("unknown block key 'core/mpl@v1'.")
    assert "did you mean: core/mlp@v1" in message
    assert "in namespace 'core': " in message and "core/transformer_block" in message
    assert "`labblocks list`" in message


def test_unknown_version_lists_the_available_versions() -> None:
    with pytest.raises(labblocks.UnknownKeyError) as info:
        labblocks.build({"block": "core/mlp@v7", "in_dim": 1}, path="model.mlp")
    message = str(info.value)
    assert "unknown block key 'core/mlp@v7' (at model.mlp.block)" in message
    assert "'core/mlp' has versions: v1 (latest v1)" in message
    assert "did you mean" not in message


def test_unknown_namespace_lists_the_namespaces() -> None:
    with pytest.raises(labblocks.UnknownKeyError) as info:
        labblocks.describe("vision/resnet@v1")
    message = str(info.value)
    assert "namespace 'vision' does not exist; namespaces: core, hf, timm" in message
    assert "did you mean: timm/resnet@v1" in message


def test_unknown_unversioned_key(registry: labblocks.Registry) -> None:
    registry.register("t/net@v1", summary="s", inputs={}, outputs=None)(nn.Identity)
    with pytest.raises(
        labblocks.UnknownKeyError, match=r"unknown block key 't/nte'\.\n  did you mean: t/net@v1"
    ):
        registry.build("t/nte")


# -- module import failures --------------------------------------------------------------------------


def _manifest_entry(target: str) -> dict[str, Any]:
    """A manifest record for a key whose module has not been imported."""
    return {"target": target, "summary": "s", "params": [], "inputs": {}, "outputs": None, "tags": []}


def _registry_for(target: str) -> labblocks.Registry:
    return labblocks.Registry(manifest={"entries": {"t/ext@v1": _manifest_entry(target)}, "removed": {}})


def test_missing_module_gives_a_block_import_error() -> None:
    reg = _registry_for("labblocks_no_such_module_xyz:Block")
    with pytest.raises(labblocks.BlockImportError) as info:
        reg.build("t/ext@v1")
    message = str(info.value)
    assert "t/ext@v1: its module labblocks_no_such_module_xyz failed to import" in message
    assert "ModuleNotFoundError: No module named 'labblocks_no_such_module_xyz'" in message
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_module_raising_import_error_is_reported_and_chained(make_module: Callable[..., Any]) -> None:
    make_module(
        "lb_broken_mod", 'raise ImportError("libfoo.so.3: cannot open shared object file")', load=False
    )
    reg = _registry_for("lb_broken_mod:Block")
    with pytest.raises(labblocks.BlockImportError) as info:
        reg.build("t/ext@v1")
    assert "its module lb_broken_mod failed to import" in str(info.value)
    assert "ImportError: libfoo.so.3: cannot open shared object file" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)
    assert str(info.value.__cause__) == "libfoo.so.3: cannot open shared object file"


def test_missing_optional_dependency_names_the_extra(make_module: Callable[..., Any]) -> None:
    make_module(
        "lb_needs_timm", 'raise ModuleNotFoundError("No module named \'timm\'", name="timm")', load=False
    )
    with pytest.raises(labblocks.BlockImportError, match=r"Install it with: pip install 'labblocks\[timm\]'"):
        _registry_for("lb_needs_timm:Block").build("t/ext@v1")


def test_stale_manifest_entry_is_reported(make_module: Callable[..., Any]) -> None:
    make_module("lb_registers_nothing", "VALUE = 1", load=False)
    with pytest.raises(labblocks.LabblocksError, match=r"did not register it; the manifest is stale"):
        _registry_for("lb_registers_nothing:Block").build("t/ext@v1")


# -- bad arguments -----------------------------------------------------------------------------------


class Recorder(nn.Module):
    """t/rec@v1: records every construction, to show that none happens on bad arguments."""

    constructed: list[dict[str, Any]] = []

    def __init__(self, in_dim: int, hidden_dim: int, inner: nn.Module | None = None, act: str = "relu"):
        super().__init__()
        Recorder.constructed.append({"in_dim": in_dim, "hidden_dim": hidden_dim})
        self.fc = nn.Linear(in_dim, hidden_dim)
        self.inner = inner


class Picky(nn.Module):
    """t/picky@v1: validates its arguments itself and raises BlockArgumentError."""

    def __init__(self, size: int = 1):
        super().__init__()
        if size > 10:
            raise labblocks.BlockArgumentError("t/picky@v1", [f"size: must be <= 10, got {size}"])


@pytest.fixture
def rec_registry(registry: labblocks.Registry) -> labblocks.Registry:
    Recorder.constructed.clear()
    registry.register("t/rec@v1", summary="s", inputs={}, outputs=None)(Recorder)
    registry.register("t/picky@v1", summary="s", inputs={}, outputs=None)(Picky)
    return registry


def test_all_bad_arguments_are_reported_at_once_with_paths(rec_registry: labblocks.Registry) -> None:
    cfg = OmegaConf.create(
        {
            "model": {
                "net": {
                    "block": "t/rec@v1",
                    "in_dim": "wide",
                    "hiden_dim": 8,
                    "inner": {"block": "t/rec@v1", "in_dim": 3, "hidden_dim": 2.5, "colour": 1},
                }
            }
        }
    )
    with pytest.raises(labblocks.BlockArgumentError) as info:
        rec_registry.build(cfg.model.net, path="model.net")  # OmegaConf has no public API for a node's path
    err = info.value
    assert err.key == "t/rec@v1"
    assert sorted(err.problems) == sorted(
        [
            "model.net.in_dim: expected int, got str 'wide'",
            "model.net.hiden_dim: unknown argument 'hiden_dim' for t/rec@v1; did you mean 'hidden_dim'? "
            "(accepted: in_dim, hidden_dim, inner, act)",
            "model.net.inner.hidden_dim: expected int, got float 2.5",
            "model.net.inner.colour: unknown argument 'colour' for t/rec@v1 "
            "(accepted: in_dim, hidden_dim, inner, act)",
            "model.net.hidden_dim: missing required argument (int)",
        ]
    )
    assert str(err).startswith("t/rec@v1: 5 bad arguments:\n  - ")
    assert Recorder.constructed == []  # no constructor ran, not even the inner one


def test_bad_arguments_of_a_plain_dict_use_the_given_path(rec_registry: labblocks.Registry) -> None:
    with pytest.raises(labblocks.BlockArgumentError) as info:
        rec_registry.build({"block": "t/rec@v1", "in_dim": 2}, path="model.net")
    assert info.value.problems == ["model.net.hidden_dim: missing required argument (int)"]
    with pytest.raises(labblocks.BlockArgumentError, match=r"  - hidden_dim: expected int, got str 'x'"):
        rec_registry.build("t/rec@v1", in_dim=2, hidden_dim="x")
    assert Recorder.constructed == []
    rec_registry.build("t/rec@v1", in_dim=2, hidden_dim=3)  # the recorder does record a good build
    assert Recorder.constructed == [{"in_dim": 2, "hidden_dim": 3}]


def test_constructor_argument_errors_get_the_node_path(rec_registry: labblocks.Registry) -> None:
    with pytest.raises(labblocks.BlockArgumentError) as info:
        rec_registry.build(
            {"block": "t/rec@v1", "in_dim": 1, "hidden_dim": 1, "inner": {"block": "t/picky@v1", "size": 11}},
            path="model",
        )
    assert info.value.problems == ["model.inner.size: must be <= 10, got 11"]


def test_constructor_exceptions_name_the_key_and_path() -> None:
    with pytest.raises(ValueError, match=r"dim \(10\) must be divisible by num_heads \(3\)") as info:
        labblocks.build({"block": "core/mhsa@v1", "dim": 10, "num_heads": 3}, path="encoder.attn")
    assert "while building core/mhsa@v1 at encoder.attn" in info.value.__notes__


# -- duplicate registration ---------------------------------------------------------------------------

BLOCK_SOURCE = """
from torch import nn
from labblocks_test_registry import REG


@REG.register("t/dup@v1", summary="s", inputs={{}}, outputs=None)
class {name}(nn.Module):
    def __init__(self, width: int = {width}):
        super().__init__()
"""


def test_registering_a_different_object_under_a_taken_key_names_both_sources(
    registry: labblocks.Registry, make_module: Callable[..., Any]
) -> None:
    make_module("lb_dup_a", BLOCK_SOURCE.format(name="First", width=1))
    with pytest.raises(labblocks.DuplicateKeyError) as info:
        make_module("lb_dup_b", "\n\n" + BLOCK_SOURCE.format(name="Second", width=2))
    message = str(info.value)
    first = Path(importlib.import_module("lb_dup_a").__file__).resolve().as_posix()
    second = first.replace("lb_dup_a.py", "lb_dup_b.py")
    assert f"t/dup@v1 is already registered by lb_dup_a:First ({first}:6)" in message
    assert f"cannot register lb_dup_b:Second ({second}:8)" in message
    assert "e.g. 't/dup@v2'" in message
    assert registry.describe("t/dup@v1").target == "lb_dup_a:First"


def test_reregistering_the_same_object_on_reload_is_accepted(
    registry: labblocks.Registry, make_module: Callable[..., Any]
) -> None:
    module = make_module("lb_reloaded", BLOCK_SOURCE.format(name="Block", width=1))
    first_class = module.Block
    path = Path(module.__file__)
    path.write_text(path.read_text().replace("width: int = 1", "width: int = 5"))
    later = path.stat().st_mtime_ns + 2_000_000_000  # a cached .pyc of the same second and size would be used
    os.utime(path, ns=(later, later))
    importlib.invalidate_caches()
    module = importlib.reload(module)
    assert module.Block is not first_class
    built = registry.build("t/dup@v1")
    assert type(built) is module.Block
    assert labblocks.metadata(built)["args"] == {"width": 5}


def test_a_block_without_a_source_file_can_still_be_registered_and_built(
    registry: labblocks.Registry,
) -> None:
    namespace: dict[str, Any] = {"__name__": "lb_exec_defined"}
    exec(
        "from torch import nn\n"
        "class Dyn(nn.Module):\n"
        "    def __init__(self, d: int = 2):\n"
        "        super().__init__()\n",
        namespace,
    )
    registry.register("t/dyn@v1", summary="defined by exec", inputs={}, outputs=None)(namespace["Dyn"])
    assert isinstance(registry.build("t/dyn@v1", d=3), namespace["Dyn"])
    assert registry.describe("t/dyn@v1").source == "<lb_exec_defined>:?"


# -- adapter argument errors --------------------------------------------------------------------------


def test_timm_variant_typo_suggests_real_variants() -> None:
    with pytest.raises(labblocks.BlockArgumentError) as info:
        labblocks.build({"block": "timm/resnet@v1", "variant": "resnt18"}, path="backbone")
    (problem,) = info.value.problems
    assert problem.startswith("backbone.variant: 'resnt18' is not a timm ResNet; did you mean resnet18")


def test_hf_config_field_typo_suggests_the_field() -> None:
    with pytest.raises(labblocks.BlockArgumentError) as info:
        labblocks.build("hf/encoder@v1", model_type="bert", config={"hiden_size": 32, "num_hidden_layers": 1})
    assert info.value.problems == [
        "config.hiden_size: not a field of BertConfig; did you mean 'hidden_size'?"
    ]


def test_hf_model_type_typo_suggests_model_types() -> None:
    with pytest.raises(
        labblocks.BlockArgumentError,
        match=r"model_type: 'bertt' is not a transformers model type; did you mean .*bert",
    ):
        labblocks.build("hf/encoder@v1", model_type="bertt")


def test_timm_pretrained_without_local_weights_is_refused() -> None:
    with pytest.raises(labblocks.DownloadDisabledError) as info:
        labblocks.build("timm/resnet@v1", variant="resnet10t", pretrained=True)
    assert "would download resnet10t from the hub" in str(info.value)
    assert "weights=<file or directory>" in str(info.value)


def test_timm_missing_weights_file() -> None:
    with pytest.raises(
        FileNotFoundError, match=r"weights='/nonexistent/w.safetensors' is not a file or directory"
    ):
        labblocks.build("timm/resnet@v1", variant="resnet10t", weights="/nonexistent/w.safetensors")


def test_hf_pretrained_name_without_download_is_refused() -> None:
    with pytest.raises(
        labblocks.DownloadDisabledError, match=r"pretrained='bert-base-uncased' is not a local directory"
    ):
        labblocks.build("hf/encoder@v1", pretrained="bert-base-uncased")


def test_hf_allow_download_while_offline_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    importlib.import_module("labblocks.adapters.hf_encoder")  # transformers loads before the clock starts
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set after huggingface_hub read its settings at import
    start = time.perf_counter()
    with pytest.raises(labblocks.DownloadDisabledError) as info:
        labblocks.build("hf/encoder@v1", pretrained="lb-test-org/no-such-model", allow_download=True)
    assert time.perf_counter() - start < 5.0  # no network retries
    assert "HF_HUB_OFFLINE=1 is set" in str(info.value)
    assert "lb-test-org/no-such-model" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


def test_errors_are_labblocks_errors_and_builtin_kinds() -> None:
    assert issubclass(labblocks.UnknownKeyError, LookupError)
    assert issubclass(labblocks.BlockArgumentError, TypeError)
    assert issubclass(labblocks.ShapeError, ValueError)
    assert issubclass(labblocks.BlockImportError, ImportError)
    assert issubclass(labblocks.DownloadDisabledError, OSError)
    for name in (
        "UnknownKeyError",
        "BlockArgumentError",
        "ShapeError",
        "DuplicateKeyError",
        "UnpinnedKeyError",
    ):
        assert issubclass(getattr(labblocks, name), labblocks.LabblocksError)
