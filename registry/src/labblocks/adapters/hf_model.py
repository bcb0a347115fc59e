"""`hf/model@v1`: any Hugging Face Transformers model type with one of its heads, built from a config
(`model_type` + `config`, no download) or loaded from pretrained weights: a local directory, or a hub name
read from the local Hugging Face cache (what `HF_HUB_OFFLINE=1` on a compute node allows).

Text models take token ids and a padding mask; vision models take images. `pretrained_dir` and
`pretrained_tokenizer` give the folder and the tokenizer that come with the same pretrained weights.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Literal

import torch
from huggingface_hub.constants import HF_HUB_CACHE
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn
from transformers import (
    CONFIG_MAPPING,
    MODEL_FOR_CAUSAL_LM_MAPPING,
    MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING,
    MODEL_FOR_MASKED_LM_MAPPING,
    MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING,
    MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING,
    MODEL_MAPPING,
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForImageClassification,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)

from labblocks.adapters._hf import check_model_type, field_problems, resolved_config
from labblocks.adapters._hub import cached_file, fetch_hint, offline_var
from labblocks.errors import BlockArgumentError, DownloadDisabledError
from labblocks.registry import REGISTRY
from labblocks.shapes import Contract

KEY = "hf/model@v1"
Head = Literal["none", "sequence_classification", "token_classification", "causal_lm", "masked_lm",
               "image_classification"]
# head -> (Auto class, transformers' mapping of the config classes that have it)
HEADS: dict[Head, tuple[Any, Any]] = {
    "none": (AutoModel, MODEL_MAPPING),  # hidden states
    "sequence_classification": (AutoModelForSequenceClassification, MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING),
    "token_classification": (AutoModelForTokenClassification, MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING),
    "causal_lm": (AutoModelForCausalLM, MODEL_FOR_CAUSAL_LM_MAPPING),
    "masked_lm": (AutoModelForMaskedLM, MODEL_FOR_MASKED_LM_MAPPING),
    "image_classification": (AutoModelForImageClassification, MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING),
}
LABELLED = ("sequence_classification", "token_classification", "image_classification")  # heads with num_labels
INPUTS = ("input_ids", "pixel_values")  # text and vision models; audio and multimodal ones take others
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "tokenizer.model",
                   "spiece.model", "sentencepiece.bpe.model")
_PLACEHOLDER_LABEL = re.compile(r"LABEL_\d+")


def heads_of(model_type: str) -> list[str]:
    """The heads of HEADS that transformers has a model class for, for `model_type` (imports no model code)."""
    config_class = CONFIG_MAPPING[model_type]
    return [head for head, (_, mapping) in HEADS.items() if config_class in mapping]


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def pretrained_dir(pretrained: str) -> Path | None:
    """The local folder of `pretrained`: the directory itself, or a hub name's snapshot in the Hugging Face
    cache; None when it is neither (nothing downloads)."""
    path = Path(pretrained).expanduser()
    if path.is_dir():
        return path
    if _looks_like_path(pretrained):
        return None
    found = cached_file(pretrained, "config.json")
    return found.parent if found is not None else None


def _source(pretrained: str, allow_download: bool) -> tuple[str, dict[str, Any]]:
    """Where `from_pretrained` reads `pretrained` from, and its keywords: a local folder (directory or cache),
    the hub (only with allow_download, online), or a DownloadDisabledError saying what would work."""
    if (folder := pretrained_dir(pretrained)) is not None:
        return str(folder), {"local_files_only": True}
    if _looks_like_path(pretrained):
        raise BlockArgumentError(KEY, [f"pretrained: {pretrained!r} is not a directory (one written by "
                                       "save_pretrained, holding config.json)"])
    offline = offline_var()
    if allow_download and not offline:
        return pretrained, {}
    why = f"{offline}=1 is set" if offline and allow_download else "downloads are off"
    raise DownloadDisabledError(
        f"{KEY}: pretrained={pretrained!r} is not a local directory, and it is not in the Hugging Face cache "
        f"({HF_HUB_CACHE}) and {why}. To fix: {fetch_hint(pretrained)}; or pass a directory written by "
        "save_pretrained; or allow_download=True on a machine with internet."
    )


def pretrained_tokenizer(pretrained: str, allow_download: bool = False) -> Any | None:
    """The tokenizer saved with `pretrained` (AutoTokenizer, from the same folder or cache), or None when the
    weights came without one."""
    src, local = _source(pretrained, allow_download)
    folder = pretrained_dir(src)
    if folder is not None and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        return None  # AutoTokenizer would make an empty one of the model type
    try:
        return AutoTokenizer.from_pretrained(src, **local)
    except (OSError, ValueError):  # no tokenizer files there
        return None


def _config(model_type: str | None, overrides: dict[str, Any], labels: dict[str, int],
            pretrained: str | None, allow_download: bool) -> tuple[PretrainedConfig, str | None, dict[str, Any]]:
    """The model's config (the type's defaults or the pretrained one, with `overrides`), and where
    `from_pretrained` reads the weights (None: build from the config)."""
    if pretrained is None:
        if model_type is None:
            raise BlockArgumentError(KEY, ["model_type: required unless pretrained is set (`labblocks archs hf` "
                                           "lists the model types)"])
        check_model_type(KEY, model_type)
        if problems := field_problems(CONFIG_MAPPING[model_type](), overrides):
            raise BlockArgumentError(KEY, problems)
        return AutoConfig.for_model(model_type, **labels, **overrides), None, {}
    src, local = _source(pretrained, allow_download)
    try:
        config = AutoConfig.from_pretrained(src, **local)
    except OSError as e:
        raise DownloadDisabledError(f"{KEY}: cannot read the config of pretrained={pretrained!r} ({e})") from e
    if model_type is not None and model_type != config.model_type:
        raise BlockArgumentError(KEY, [f"model_type: {model_type!r}, but pretrained={pretrained!r} is a "
                                       f"{config.model_type!r} model; remove model_type"])
    if problems := field_problems(config, overrides):
        raise BlockArgumentError(KEY, problems)
    config.update({**overrides, **labels})
    return config, src, local


def _check_head(config: PretrainedConfig, head: str, num_labels: int | None) -> None:
    heads = heads_of(config.model_type)
    if head not in heads:
        raise BlockArgumentError(KEY, [f"head: transformers has no {head} model for {config.model_type!r} (its "
                                       f"heads: {', '.join(heads) or 'none'})"])
    if num_labels is not None and head not in LABELLED:
        with_labels = ", ".join(h for h in LABELLED if h in heads)
        raise BlockArgumentError(KEY, [f"num_labels: head {head} has no labels; set head to one of {with_labels}, "
                                       "or remove num_labels"])
    if head == "none" and config.is_encoder_decoder:
        raise BlockArgumentError(KEY, [f"head: {config.model_type} is an encoder-decoder model, whose hidden "
                                       "states need decoder inputs; choose one of "
                                       f"{', '.join(h for h in heads if h != 'none')}"])


def _load_weights(auto: Any, src: str, cfg: PretrainedConfig, local: dict[str, Any], pretrained: str
                  ) -> PreTrainedModel:
    """`from_pretrained`, where a new num_labels may replace a head of another size but nothing else may
    change shape: a body weight that no longer fits (a config override such as vocab_size) is an error."""
    try:
        net, info = auto.from_pretrained(src, config=cfg, **local, ignore_mismatched_sizes=True,
                                         output_loading_info=True)
    except OSError as e:
        raise DownloadDisabledError(f"{KEY}: cannot load the weights of pretrained={pretrained!r} ({e})") from e
    body = sorted(f"{k} {tuple(saved)} -> {tuple(now)}" for k, saved, now in info["mismatched_keys"]
                  if k.startswith(f"{net.base_model_prefix}."))
    if body:
        raise BlockArgumentError(KEY, [f"config: the overrides change weights of pretrained={pretrained!r} "
                                       f"({'; '.join(body)}); remove them, and use the tokenizer that came with "
                                       "the weights when vocab_size differs"])
    return net


def _class_names(config: PretrainedConfig) -> list[str] | None:
    """A kept pretrained head's class names, when its config names them (not LABEL_0, LABEL_1, ...)."""
    names = [str(config.id2label[i]) for i in range(config.num_labels)]
    return None if all(_PLACEHOLDER_LABEL.fullmatch(n) for n in names) else names


class TextModel(nn.Module):
    """Token ids (B, T) and a padding mask (B, T; True = real token) -> hidden states (B, T, D), or the
    head's logits: (B, num_labels), (B, T, num_labels) per token, or (B, T, vocab_size) for a language model."""

    def __init__(self, model: PreTrainedModel, head: str) -> None:
        super().__init__()
        self.model, self.head = model, head
        self.call_args = {"use_cache": False} if head == "causal_lm" else {}  # no key/value cache in training

    def forward(
        self, input_ids: Int[Tensor, "b t"], attention_mask: Bool[Tensor, "b t"] | None = None
    ) -> Float[Tensor, "b ..."]:
        mask = None if attention_mask is None else attention_mask.to(torch.long)
        out = self.model(input_ids=input_ids, attention_mask=mask, **self.call_args)
        return out.last_hidden_state if self.head == "none" else out.logits  # (B, T, D) or logits


class VisionModel(nn.Module):
    """Images (B, C, H, W) -> the last hidden states ((B, T, D) for a ViT, (B, D, H', W') for a convnet), or
    logits (B, num_labels) with head image_classification."""

    def __init__(self, model: PreTrainedModel, head: str) -> None:
        super().__init__()
        self.model, self.head = model, head

    def forward(self, pixel_values: Float[Tensor, "b c h w"]) -> Float[Tensor, "b ..."]:
        out = self.model(pixel_values=pixel_values)
        return out.last_hidden_state if self.head == "none" else out.logits


def fixed_image_size(net: VisionModel) -> int | None:
    """The input size of a vision model with absolute position embeddings (a ViT); None for any size."""
    size = getattr(net.model.config, "image_size", None)
    takes = "interpolate_pos_encoding" in inspect.signature(net.model.forward).parameters
    return size if takes and isinstance(size, int) else None


def head_output(config: PretrainedConfig, head: str, vision: bool) -> str:
    """The output spec of `head` on a model with `config`: text (B, T, ...) or vision (B, ...)."""
    if vision:
        return f"b {config.num_labels}" if head in LABELLED else "b ..."
    return {
        "none": f"b t {config.hidden_size}",
        "sequence_classification": f"b {config.num_labels}",
        "token_classification": f"b t {config.num_labels}",
    }.get(head, f"b t {config.vocab_size}")  # causal_lm, masked_lm


def _contract(net: TextModel | VisionModel, args: dict[str, Any]) -> Contract:
    config = net.model.config
    out = head_output(config, net.head, isinstance(net, VisionModel))
    if isinstance(net, VisionModel):
        size = fixed_image_size(net)
        return Contract({"pixel_values": f"b {config.num_channels} {f'{size} {size}' if size else 'h w'}"}, out)
    return Contract({"input_ids": "b t", "attention_mask": "b t"}, out, {"input_ids": "long", "attention_mask": "bool"})


def _portable(net: TextModel | VisionModel | None, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """With `pretrained`, record the resolved config instead, so a rebuild needs nothing but the metadata
    (the weights are in the checkpoint)."""
    if args.get("pretrained") is None or net is None:
        return args, {}
    config = net.model.config
    labels = {"num_labels": config.num_labels} if args.get("head") in LABELLED else {}
    portable = {**args, "model_type": config.model_type, "config": resolved_config(KEY, config), **labels,
                "pretrained": None, "allow_download": False}
    init = {"pretrained": args["pretrained"], **({"allow_download": True} if args.get("allow_download") else {})}
    return portable, init


@REGISTRY.register(
    KEY,
    summary="Any Transformers model type with a head (none, sequence/token classification, causal/masked LM, "
    "image classification), from a config or pretrained weights (a local dir or the offline HF cache).",
    inputs={"input_ids": "b t", "attention_mask": "b t"},
    outputs="b ...",
    dtypes={"input_ids": "long", "attention_mask": "bool"},
    tags=("hf", "text", "vision", "transformer", "backbone"),
    example={
        "model_type": "roberta",
        "config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
                   "vocab_size": 100, "max_position_embeddings": 66},
        "head": "sequence_classification",
        "num_labels": 3,
    },
    contract=_contract,
    portable=_portable,
)
def model(
    model_type: str | None = None,
    config: dict[str, Any] | None = None,
    head: Head = "none",
    num_labels: int | None = None,
    pretrained: str | None = None,
    allow_download: bool = False,
) -> nn.Module:
    """`AutoModel...` for `head`: token ids (B, T) and mask (B, T) -> hidden states (B, T, D) or logits (B, K),
    (B, T, K), (B, T, vocab_size); for vision models images (B, C, H, W) -> hidden states or logits (B, K).

    `config` overrides fields of the type's default config (or of the pretrained one); unknown fields are an
    error. `num_labels` sizes a classification head (None: the config's; a pretrained head and its class names
    are then kept). `pretrained` is a local directory from `save_pretrained` or a hub name in the local
    Hugging Face cache; a name that is not cached downloads only with `allow_download=True`.
    """
    labels = {"num_labels": num_labels} if num_labels is not None else {}
    cfg, src, local = _config(model_type, dict(config or {}), labels, pretrained, allow_download)
    _check_head(cfg, head, num_labels)
    auto, mapping = HEADS[head]
    classes = mapping[type(cfg)]
    if isinstance(classes, (list, tuple)) and not cfg.architectures:  # transformers picks one by architectures
        cfg.architectures = [classes[0].__name__]
    net = auto.from_config(cfg) if src is None else _load_weights(auto, src, cfg, local, pretrained)
    if net.main_input_name not in INPUTS:
        raise BlockArgumentError(KEY, [f"model_type: {cfg.model_type} takes {net.main_input_name}; hf/model@v1 "
                                       "takes text (input_ids) or images (pixel_values)"])
    wrapped = TextModel(net, head) if net.main_input_name == "input_ids" else VisionModel(net, head)
    kept = src is not None and head in LABELLED and not labels
    wrapped.class_names = _class_names(cfg) if kept else None
    return wrapped
