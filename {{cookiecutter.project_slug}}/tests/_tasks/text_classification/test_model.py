"""Every backbone honours the attention mask (padding never changes a sequence's logits), the core-block
model keeps its shape contracts with checking on, and hf/encoder@v1 loads pretrained weights from a
local directory."""

from __future__ import annotations

from pathlib import Path

import labblocks
import pytest
import torch

from {{cookiecutter.module_name}}.train import build_datamodule, build_model, net_node

BACKBONES = {"hf": (), "core": ("core",), "roberta": ("roberta",), "distilbert": ("distilbert",)}


@pytest.mark.parametrize("backbone", BACKBONES)
def test_padding_does_not_change_logits(make_cfg, backbone: str) -> None:
    cfg = make_cfg(experiments=BACKBONES[backbone])
    dm = build_datamodule(cfg)
    net = build_model(cfg, dm).net.eval()
    ids, mask, _ = next(iter(dm.val_dataloader()))  # (B, T), (B, T)
    extra = 7
    padded_ids = torch.cat([ids, torch.full((ids.shape[0], extra), dm.pad_id)], dim=1)  # (B, T + 7)
    padded_mask = torch.cat([mask, torch.zeros(mask.shape[0], extra, dtype=torch.bool)], dim=1)
    with torch.no_grad():
        plain, padded = net(ids, mask), net(padded_ids, padded_mask)  # (B, K) each
    torch.testing.assert_close(padded, plain, atol=1e-5, rtol=1e-5)
    # ...and the mask matters: without it the padding tokens do change the logits.
    with torch.no_grad():
        unmasked = net(padded_ids, torch.ones_like(padded_mask))
    assert not torch.allclose(unmasked, plain, atol=1e-4)


def test_core_model_contracts_hold_with_hooks(make_cfg) -> None:
    cfg = make_cfg(experiments=("core",))
    dm = build_datamodule(cfg)
    labblocks.set_shape_check("hooks")
    try:
        net = labblocks.build(net_node(cfg, dm))
        ids, mask, _ = next(iter(dm.train_dataloader()))
        logits = net(ids, mask)  # every inner block checks its own contract on this call
        assert logits.shape == (ids.shape[0], dm.num_classes)
        with pytest.raises(labblocks.ShapeError, match=r"core/text_transformer@v1 input attention_mask"):
            net(ids, mask[:, :-1])
    finally:
        labblocks.set_shape_check("off")


def test_hf_encoder_from_local_pretrained_directory(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    node = net_node(cfg, dm)
    trained = labblocks.build(node).eval()
    trained.model.save_pretrained(tmp_path / "pretrained")  # what a downloaded checkpoint looks like
    loaded = labblocks.build({**node, "pretrained": str(tmp_path / "pretrained")}).eval()
    ids, mask, _ = next(iter(dm.val_dataloader()))
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids, mask), trained(ids, mask), atol=0, rtol=0)
    with pytest.raises(labblocks.DownloadDisabledError, match="not a local directory"):
        labblocks.build({**node, "pretrained": "some-org/some-model"})
