"""Inference from raw text by someone who has only the export folder: labblocks rebuilds the network,
tokenizer.json and preprocessing.json turn text into its input (Hugging Face tokenizers, no project code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from labblocks.run.export import load_module
from tokenizers import Tokenizer


def raw_test_examples(datamodule: Any) -> list[tuple[str, str]]:
    """The test split as users hold it: raw texts and class names."""
    return [(text, datamodule.class_names[y]) for text, y in datamodule.splits["test"]]


def predict(export_dir: Path, raws: list[str]) -> list[str]:
    """Class names predicted for raw texts, from the export folder alone."""
    p = json.loads((export_dir / "preprocessing.json").read_text())
    tok = Tokenizer.from_file(str(export_dir / p["tokenizer"]))
    if p["truncation"]:
        tok.enable_truncation(p["max_length"])
    tok.enable_padding(pad_id=p["pad_id"], length=p["max_length"] if p["padding"] == "max_length" else None)
    encoded = tok.encode_batch(raws)
    ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)  # (B, T)
    mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.bool)  # (B, T)
    net = load_module(export_dir)
    with torch.no_grad():
        return [p["class_names"][i] for i in net(ids, mask).argmax(-1).tolist()]
