"""`timm/model@v1`: declared shapes against real outputs over many timm families, compile, pretrained weights
from a local file, a directory and the Hugging Face cache (offline), and the errors of bad names and arguments."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from _hub_cache import run_offline, snapshot
from safetensors.torch import save_file

import labblocks
from labblocks.errors import BlockArgumentError, DownloadDisabledError
from labblocks.registry import REGISTRY
from labblocks.run.export import export_module, load_module

KEY = "timm/model@v1"
VIT = {"img_size": 32, "model_args": {"patch_size": 8}}  # fixed-size transformers, sized for 32x32 inputs
# name -> extra arguments; 30 architectures of 21 timm families (module), each small enough for a CPU test
ARCHS: dict[str, dict[str, Any]] = {
    "resnet10t": {}, "resnet18d": {}, "seresnext26d_32x4d": {},  # resnet
    "resnext26ts": {}, "mobilevit_xxs": {},  # byobnet
    "convnext_atto": {}, "convnextv2_atto": {},  # convnext
    "efficientnet_b0": {}, "tinynet_e": {},  # efficientnet
    "mobilenetv3_small_050": {}, "mobilenetv4_conv_small": {}, "lcnet_050": {},  # mobilenetv3
    "ghostnet_050": {}, "regnetx_002": {}, "regnety_002": {}, "densenet121": {}, "dla34": {}, "rexnet_100": {},
    "edgenext_xx_small": {}, "fastvit_t8": {}, "efficientvit_b0": {}, "repvit_m0_9": {}, "cspresnet50": {},
    "hgnetv2_b0": {}, "poolformer_s12": {},
    "vit_tiny_patch16_224": VIT, "deit_tiny_patch16_224": VIT,  # vision_transformer
    "swin_tiny_patch4_window7_224": {
        "img_size": 32, "model_args": {"window_size": 4, "embed_dim": 48, "depths": (2, 2), "num_heads": (2, 4)},
    },
    "levit_128s": {"img_size": 32}, "coatnet_nano_rw_224": {"img_size": 32},
}


def _run(net: torch.nn.Module, b: int = 2, side: int = 32) -> tuple[torch.Tensor, Any]:
    bound = REGISTRY.contract(net)
    x = bound.example_inputs({"b": b, "h": side, "w": side})["x"]
    out = net(x)
    bound.check_outputs(out, bound.check_inputs({"x": x}))
    return x, out


@pytest.mark.parametrize("name", list(ARCHS))
def test_declared_shape_is_the_real_one_and_it_trains(name: str) -> None:
    torch.manual_seed(0)
    net = labblocks.build(KEY, name=name, num_classes=5, in_chans=3, **ARCHS[name])
    x, out = _run(net)
    assert x.shape == (2, 3, 32, 32) and out.shape == (2, 5)
    out.square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.requires_grad]
    assert grads and all(g is not None for g in grads[:1]) and any(g.abs().sum() > 0 for g in grads if g is not None)


def test_families_counted() -> None:
    """The list above holds at least 25 architectures of at least 10 timm families (timm's model modules)."""
    import timm

    families = {m for m in timm.list_modules() for n in set(timm.list_models(module=m)) & set(ARCHS)}
    assert len(ARCHS) >= 25 and len(families) >= 10, sorted(families)


@pytest.mark.parametrize("name,pooled", [("convnext_atto", 320), ("vit_tiny_patch16_224", 192)])
def test_pooled_unpooled_and_features(name: str, pooled: int) -> None:
    extra = ARCHS[name]
    _, out = _run(labblocks.build(KEY, name=name, num_classes=0, **extra))
    assert out.shape == (2, pooled)
    _, out = _run(labblocks.build(KEY, name=name, num_classes=0, global_pool="", **extra))
    assert out.shape[:2] == (2, pooled) if out.ndim == 4 else out.shape[::2] == (2, pooled)
    features = labblocks.build(KEY, name=name, features_only=True, out_indices=(1, 2), **extra)
    _, maps = _run(features)
    assert [m.shape[1] for m in maps] == features.feature_info.channels() and len(maps) == 2


@pytest.mark.parametrize("name", ["convnext_atto", "vit_tiny_patch16_224"])
def test_compiles_with_fullgraph(name: str) -> None:
    torch.manual_seed(0)
    extra = {**ARCHS[name], "model_args": {**ARCHS[name].get("model_args", {}), "depth": 2}} if "vit" in name else {}
    net = labblocks.build(KEY, name=name, num_classes=3, **extra).eval()
    x = torch.randn(2, 3, 32, 32)
    compiled = torch.compile(net, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), net(x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("in_chans", [1, 3])
def test_data_config_from_the_pretrained_config(in_chans: int) -> None:
    from labblocks.adapters._timm import name_data_config

    net = labblocks.build(KEY, name="convnext_atto", in_chans=in_chans, num_classes=2)
    assert net.data_config == name_data_config("convnext_atto", in_chans)
    assert net.data_config["interpolation"] == "bicubic" and net.data_config["crop_pct"] == 0.875
    assert len(net.data_config["mean"]) == in_chans
    vit = labblocks.build(KEY, name="vit_tiny_patch16_224", in_chans=in_chans, num_classes=2, **VIT)
    resolved = name_data_config("vit_tiny_patch16_224", in_chans, 32)
    assert vit.data_config["input_size"] == (in_chans, 32, 32) == resolved["input_size"]
    assert vit.data_config["mean"] == (0.5,) * in_chans  # this ViT's weights were trained with mean 0.5


# -- pretrained weights --------------------------------------------------------------------------------------


def _saved(tmp_path: Path, num_classes: int, filename: str = "model.safetensors") -> tuple[Path, dict]:
    torch.manual_seed(0)
    source = labblocks.build(KEY, name="convnext_atto", num_classes=num_classes)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    path = tmp_path / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path, state


def test_local_weights_file_loads_exactly_and_a_new_head_is_fresh(tmp_path: Path) -> None:
    path, state = _saved(tmp_path, num_classes=7)
    torch.manual_seed(1)
    same = labblocks.build(KEY, name="convnext_atto", num_classes=7, weights=str(path))
    assert all(torch.equal(same.state_dict()[k], v) for k, v in state.items())
    assert same.class_names is None  # 7 classes are not a timm dataset's: nothing to name them by
    tuned = labblocks.build(KEY, name="convnext_atto", num_classes=3, weights=str(tmp_path))  # the directory
    assert tuned.head.fc.out_features == 3
    assert all(torch.equal(tuned.state_dict()[k], v) for k, v in state.items() if not k.startswith("head.fc."))
    assert labblocks.metadata(tuned)["init"] == {"weights": str(tmp_path)}


def test_kept_imagenet_head_brings_its_class_names_into_the_export(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path / "weights", num_classes=1000)
    net = labblocks.build(KEY, name="convnext_atto", num_classes=1000, weights=str(path))
    assert len(net.class_names) == 1000 and net.class_names[0].startswith("tench")
    loaded = load_module(export_module(net, tmp_path / "export"))
    assert loaded.class_names == net.class_names
    assert json.loads((tmp_path / "export" / "labblocks.json").read_text())["class_names"][1].startswith("goldfish")


HUB_SCRIPT = """
import hashlib, sys, labblocks
from labblocks.errors import DownloadDisabledError
try:
    net = labblocks.build("timm/model@v1", name="convnext_atto.d2_in1k", num_classes=1000, pretrained=True)
except DownloadDisabledError as e:
    print("REFUSED", e)
    sys.exit(3)
digest = hashlib.sha256(b"".join(net.state_dict()[k].numpy().tobytes() for k in sorted(net.state_dict())))
print("LOADED", digest.hexdigest(), net.class_names[0])
"""


def test_pretrained_from_the_hugging_face_cache_offline(tmp_path: Path) -> None:
    """What a compute node has: the hub cache, filled once on a login node, and HF_HUB_OFFLINE=1."""
    _, state = _saved(snapshot(tmp_path / "hub", "timm/convnext_atto.d2_in1k"), num_classes=1000)
    done = run_offline(HUB_SCRIPT, tmp_path / "hub")
    assert done.returncode == 0, done.stdout + done.stderr
    expected = hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()
    assert f"LOADED {expected} tench" in done.stdout


def test_pretrained_not_in_the_cache_says_how_to_get_it(tmp_path: Path) -> None:
    done = run_offline(HUB_SCRIPT, tmp_path / "empty")
    assert done.returncode == 3, done.stdout + done.stderr
    message = done.stdout
    assert "timm/convnext_atto.d2_in1k is not in the Hugging Face cache" in message
    assert str(tmp_path / "empty") in message
    assert "hf download timm/convnext_atto.d2_in1k" in message and "weights=" in message


def test_pretrained_with_download_but_offline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadDisabledError, match="HF_HUB_OFFLINE=1 is set"):
        labblocks.build(KEY, name="convnext_atto.d2_in1k", pretrained=True, allow_download=True)


def test_missing_weights_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a file or directory"):
        labblocks.build(KEY, name="convnext_atto", weights=str(tmp_path / "nope.safetensors"))


# -- bad names and arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        ({"name": "convnext_atoo"}, r"name: 'convnext_atoo' is not a timm architecture; did you mean convnext_atto"),
        ({"name": "convnext_atto.in22k"}, r"name: convnext_atto has no pretrained tag 'in22k' \(its tags: d2_in1k\)"),
        ({"name": "convnext_atto", "img_size": 64}, r"img_size: convnext_atto does not take 'img_size' \(its input"),
        ({"name": "vgg11", "drop_path_rate": 0.1}, r"drop_path_rate: vgg11 does not take 'drop_path_rate'"),
        ({"name": "resnet10t", "model_args": {"depth": 3}}, r"model_args.depth: resnet10t does not take 'depth'"),
        ({"name": "mixer_s16_224", "model_args": {"patch_size": 8}}, r"model_args.patch_size: mixer_s16_224 sets"),
    ],
)
def test_bad_names_and_arguments(args: dict[str, Any], message: str) -> None:
    with pytest.raises(BlockArgumentError, match=message):
        labblocks.build(KEY, **args)
