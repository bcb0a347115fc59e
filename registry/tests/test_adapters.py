"""The timm and Hugging Face adapters, and padding invariance of masked encoders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import labblocks
from labblocks.testing import check_contract

HF_ARGS: dict[str, Any] = {
    "model_type": "bert",
    "config": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "vocab_size": 60,
        "max_position_embeddings": 32,
    },
    "num_labels": 3,
}
VOCAB = 60


def _padded(
    ids: torch.Tensor, mask: torch.Tensor, extra: int, pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """`ids`/`mask` with `extra` padding positions appended (mask False)."""
    b = ids.shape[0]
    pad_ids = torch.full((b, extra), pad_id, dtype=ids.dtype)
    return torch.cat([ids, pad_ids], 1), torch.cat([mask, torch.zeros(b, extra, dtype=torch.bool)], 1)


def _batch(b: int = 3, t: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(5)
    ids = torch.randint(1, VOCAB, (b, t))
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 5:] = False  # one sequence already padded
    return ids, mask


# -- Hugging Face --------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_labels", [3, None])
def test_hf_encoder_is_padding_invariant(num_labels: int | None) -> None:
    torch.manual_seed(0)
    encoder = labblocks.build("hf/encoder@v1", **{**HF_ARGS, "num_labels": num_labels}).eval()
    ids, mask = _batch()
    ids2, mask2 = _padded(ids, mask, extra=6)
    with torch.no_grad():
        out, out2 = encoder(ids, mask), encoder(ids2, mask2)
    if num_labels:
        assert out.shape == (3, 3)
        torch.testing.assert_close(out2, out, atol=1e-5, rtol=0)
    else:
        assert out.shape == (3, 7, 32) and out2.shape == (3, 13, 32)
        torch.testing.assert_close(out2[:, :7][mask], out[mask], atol=1e-5, rtol=0)


def test_hf_padding_matters_without_the_mask() -> None:
    """The invariance above comes from the mask: without it the padding changes the logits."""
    torch.manual_seed(0)
    encoder = labblocks.build("hf/encoder@v1", **HF_ARGS).eval()
    ids, mask = _batch()
    ids2, _ = _padded(ids, mask, extra=6)
    with torch.no_grad():
        assert not torch.allclose(encoder(ids2), encoder(ids, mask), atol=1e-5)


def test_core_stack_is_padding_invariant() -> None:
    torch.manual_seed(0)
    embed = labblocks.build("core/token_embed@v1", vocab_size=VOCAB, dim=32)
    block = labblocks.build("core/transformer_block@v1", dim=32, num_heads=4)
    head = labblocks.build("core/cls_head@v1", in_dim=32, num_classes=5)
    stack = nn.ModuleList([embed, block, head]).eval()

    def logits(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return head(block(embed(ids), mask), mask)

    ids, mask = _batch()
    ids2, mask2 = _padded(ids, mask, extra=9, pad_id=7)  # a non-zero pad id: only the mask hides it
    with torch.no_grad():
        out, out2 = logits(ids, mask), logits(ids2, mask2)
        unmasked = head(block(embed(ids2)))
    assert out.shape == (3, 5) and len(list(stack.parameters())) > 0
    torch.testing.assert_close(out2, out, atol=1e-5, rtol=0)
    assert not torch.allclose(unmasked, out, atol=1e-3)


def test_hf_encoder_loads_a_local_pretrained_directory(tmp_path: Path) -> None:
    torch.manual_seed(0)
    original = labblocks.build("hf/encoder@v1", **HF_ARGS).eval()
    original.model.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file()
    torch.manual_seed(1)  # a different seed: equal outputs must come from the saved weights
    loaded = labblocks.build("hf/encoder@v1", pretrained=str(tmp_path), num_labels=3).eval()
    assert labblocks.metadata(loaded)["init"] == {"pretrained": str(tmp_path)}  # args: the resolved config
    ids, mask = _batch()
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids, mask), original(ids, mask), atol=0, rtol=0)
    fresh = labblocks.build("hf/encoder@v1", **HF_ARGS).eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(ids, mask), original(ids, mask))


def test_hf_contract_depends_on_the_head() -> None:
    assert check_contract("hf/encoder@v1", device="cpu", **HF_ARGS)["output"] == (2, 3)
    hidden = check_contract("hf/encoder@v1", device="cpu", **{**HF_ARGS, "num_labels": None})
    assert hidden["output"] == (2, 5, 32)


# -- timm ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("out_indices", [None, [1, 3]])
def test_timm_features_only_matches_its_contract(out_indices: list[int] | None) -> None:
    args = {"variant": "resnet10t", "features_only": True, "in_chans": 2, "out_indices": out_indices}
    net = labblocks.build("timm/resnet@v1", **args).eval()
    channels = net.feature_info.channels()
    assert len(channels) == (5 if out_indices is None else 2)
    result = check_contract("timm/resnet@v1", device="cpu", dims={"h": 64, "w": 64}, **args)
    assert result["inputs"] == {"x": (2, 2, 64, 64)}
    assert [shape[1] for shape in result["output"]] == channels
    assert all(shape[0] == 2 and len(shape) == 4 for shape in result["output"])
    reductions = net.feature_info.reduction()
    assert [shape[2] for shape in result["output"]] == [64 // r for r in reductions]


def test_timm_pooled_features_when_num_classes_is_zero() -> None:
    net = labblocks.build("timm/resnet@v1", variant="resnet10t", num_classes=0).eval()
    assert check_contract("timm/resnet@v1", device="cpu", variant="resnet10t", num_classes=0)["output"] == (
        2,
        net.num_features,
    )


@pytest.mark.parametrize("in_chans", [1, 3, 4])
def test_timm_data_config(in_chans: int) -> None:
    net = labblocks.build("timm/resnet@v1", variant="resnet10t", in_chans=in_chans, num_classes=2)
    cfg = net.data_config
    assert cfg["input_size"][0] == in_chans and len(cfg["input_size"]) == 3
    assert len(cfg["mean"]) == in_chans and len(cfg["std"]) == in_chans
    assert all(0 < s < 1 for s in cfg["std"]) and all(0 < m < 1 for m in cfg["mean"])
    if in_chans == 3:
        assert cfg["mean"] == pytest.approx((0.485, 0.456, 0.406))


@pytest.mark.parametrize("fmt", ["safetensors", "torch"])
def test_timm_loads_exactly_a_local_weights_file(tmp_path: Path, fmt: str) -> None:
    torch.manual_seed(0)
    source = labblocks.build("timm/resnet@v1", variant="resnet10t", num_classes=10)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if fmt == "safetensors":
        path = tmp_path / "model.safetensors"
        save_file(state, str(path))
    else:
        path = tmp_path / "weights.pt"
        torch.save(state, path)
    torch.manual_seed(1)
    loaded = labblocks.build("timm/resnet@v1", variant="resnet10t", num_classes=10, weights=str(path))
    loaded_state = loaded.state_dict()
    assert loaded_state.keys() == state.keys()
    differing = [k for k in state if not torch.equal(loaded_state[k], state[k])]
    assert differing == []


def test_timm_weights_directory_and_a_new_head(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = labblocks.build("timm/resnet@v1", variant="resnet10t", num_classes=10)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"))
    tuned = labblocks.build("timm/resnet@v1", variant="resnet10t", num_classes=4, weights=str(tmp_path))
    assert tuned.fc.out_features == 4  # the file's 10-class head is dropped for fine-tuning ...
    backbone = [k for k in state if not k.startswith("fc.")]
    assert all(torch.equal(tuned.state_dict()[k], state[k]) for k in backbone)  # ... the rest is loaded


def test_timm_weights_directory_without_weights(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no weights here")
    with pytest.raises(FileNotFoundError, match=r"holds none of model\.safetensors.*\(notes\.txt\)"):
        labblocks.build("timm/resnet@v1", variant="resnet10t", weights=str(tmp_path))
