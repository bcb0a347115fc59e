"""`hf/encoder@v1`: a Hugging Face Transformers encoder built from a config (no download), or loaded from
a local directory, with an optional sequence-classification head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn
from transformers import (
    CONFIG_MAPPING,
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
)

from labblocks.adapters._hf import check_model_type, field_problems, resolved_config
from labblocks.adapters._hub import offline_var
from labblocks.errors import BlockArgumentError, DownloadDisabledError, LabblocksError
from labblocks.registry import REGISTRY
from labblocks.shapes import Contract

KEY = "hf/encoder@v1"


def _contract(module: HFEncoder, args: dict[str, Any]) -> Contract:
    inputs = {"input_ids": "b t", "attention_mask": "b t"}
    out = f"b {module.num_labels}" if module.num_labels else f"b t {module.hidden_size}"
    return Contract(inputs, out, {"input_ids": "long", "attention_mask": "bool"})


def _check_config(model_type: str, overrides: dict[str, Any]) -> None:
    check_model_type(KEY, model_type)
    if problems := field_problems(CONFIG_MAPPING[model_type](), overrides):
        raise BlockArgumentError(KEY, problems)


def _load_pretrained(cls: Any, pretrained: str, allow_download: bool, **kwargs: Any) -> nn.Module:
    if Path(pretrained).expanduser().is_dir():
        return cls.from_pretrained(str(Path(pretrained).expanduser()), local_files_only=True, **kwargs)
    if not allow_download:
        raise DownloadDisabledError(
            f"{KEY}: pretrained={pretrained!r} is not a local directory, and downloads are off. Save the "
            "model with save_pretrained(dir) and pass that directory, or pass allow_download=True when "
            "online."
        )
    offline = offline_var()
    try:  # offline: the hub cache only, so that no network retries are waited on
        return cls.from_pretrained(pretrained, **({"local_files_only": True} if offline else {}), **kwargs)
    except OSError as e:
        why = f"downloading it failed ({e})"
        if offline:
            why = f"{offline}=1 is set and it is not in the local cache"
        raise DownloadDisabledError(
            f"{KEY}: cannot load pretrained={pretrained!r}: {why}. Offline? Pass a local directory instead."
        ) from e


def _portable(module: HFEncoder | None, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """With `pretrained`, the architecture comes from that directory's config: record the resolved config
    instead, so a rebuild needs nothing but the metadata (the weights are in the checkpoint)."""
    pretrained = args.get("pretrained")
    if pretrained is None:
        return args, {}
    if module is None:  # metadata of labblocks 0.1: only the directory (or hub name) knows the architecture
        if Path(pretrained).expanduser().is_dir() or args.get("allow_download"):
            return args, {}
        raise LabblocksError(
            f"{KEY}: this metadata (written before labblocks 0.2) records pretrained={pretrained!r}, which is "
            "not a directory here, and only that directory's config.json says what the architecture is. Copy "
            "the directory to that path, or re-save the model with labblocks >= 0.2 (which records the "
            "resolved config)."
        )
    config = module.model.config
    portable = {**args, "model_type": config.model_type, "config": resolved_config(KEY, config), "pretrained": None,
                "allow_download": False}
    init = {"pretrained": pretrained, **({"allow_download": True} if args.get("allow_download") else {})}
    return portable, init


@REGISTRY.register(
    KEY,
    summary="Transformers encoder from AutoConfig.for_model(model_type, **config), or a local pretrained "
    "dir; optional sequence-classification head (num_labels).",
    inputs={"input_ids": "b t", "attention_mask": "b t"},
    outputs="b t _",
    dtypes={"input_ids": "long", "attention_mask": "bool"},
    tags=("hf", "text", "transformer", "backbone"),
    example={
        "model_type": "bert",
        "config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                   "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64},
        "num_labels": 3,
    },
    contract=_contract,
    portable=_portable,
)
class HFEncoder(nn.Module):
    """Token ids (B, T) and a padding mask (B, T; True/1 = real token) -> hidden states (B, T, D), or
    logits (B, num_labels) when `num_labels` is set (the model's own head, e.g. BERT's pooler + linear).

    `config` overrides fields of the model type's default config; unknown fields are an error.
    `pretrained` is a local directory from `save_pretrained`; a hub name downloads only with
    `allow_download=True`.
    """

    def __init__(
        self,
        model_type: str = "bert",
        config: dict[str, Any] | None = None,
        num_labels: int | None = None,
        pretrained: str | None = None,
        allow_download: bool = False,
    ):
        super().__init__()
        overrides = dict(config or {})
        cls = AutoModelForSequenceClassification if num_labels else AutoModel
        head = {"num_labels": num_labels} if num_labels else {}
        if pretrained is not None:
            self.model = _load_pretrained(cls, pretrained, allow_download, **head, **overrides)
        else:
            _check_config(model_type, overrides)
            cfg = AutoConfig.for_model(model_type, **head, **overrides)
            self.model = cls.from_config(cfg)
        self.num_labels = num_labels
        self.hidden_size = int(self.model.config.hidden_size)

    def forward(
        self, input_ids: Int[Tensor, "b t"], attention_mask: Bool[Tensor, "b t"] | None = None
    ) -> Float[Tensor, "b t _"]:
        mask = None if attention_mask is None else attention_mask.to(torch.long)
        out = self.model(input_ids=input_ids, attention_mask=mask)
        return out.logits if self.num_labels else out.last_hidden_state  # (B, K) or (B, T, D)
