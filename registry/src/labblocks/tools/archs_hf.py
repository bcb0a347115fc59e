"""`labblocks archs hf [PATTERN]` and `labblocks show hf/model@v1 --name NAME`: the model types and heads
`hf/model@v1` accepts, and the pretrained models in the local Hugging Face cache. Imports transformers and
torch."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Iterator

import torch
from huggingface_hub import scan_cache_dir
from huggingface_hub.errors import CacheNotFound
from transformers import CONFIG_MAPPING, AutoConfig, AutoModel, PretrainedConfig
from transformers.utils import logging as hf_logging

from labblocks.adapters._hf import check_model_type
from labblocks.adapters.hf_model import KEY, LABELLED, head_output, heads_of, pretrained_dir
from labblocks.tools._sizes import millions

SHOWN = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size",
         "vocab_size", "max_position_embeddings", "image_size", "patch_size", "num_channels", "hidden_sizes",
         "depths")  # the fields that size a model, where its config has them


def _on_meta(config: PretrainedConfig) -> torch.nn.Module | None:
    """The bare model (head none) on the meta device, or None when transformers cannot build it here. What
    transformers says while building a default config (deprecations, token ids) is not the listing's."""
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return AutoModel.from_config(config)
    except Exception:  # noqa: BLE001 - a model type needing another library, or without a bare model
        return None
    finally:
        hf_logging.set_verbosity(level)


def _cached() -> Iterator[tuple[str, PretrainedConfig]]:
    """Models in the local Hugging Face cache with a config (never downloads)."""
    try:
        repos = scan_cache_dir().repos
    except CacheNotFound:  # nothing was ever fetched on this machine
        return
    for repo in sorted(repos, key=lambda r: r.repo_id):
        if repo.repo_type == "model" and (folder := pretrained_dir(repo.repo_id)) is not None:
            yield repo.repo_id, AutoConfig.from_pretrained(str(folder), local_files_only=True)


def _input(net: torch.nn.Module) -> str:
    """What a model takes: text or images (what hf/model@v1 feeds), else the name of its input."""
    return {"input_ids": "text", "pixel_values": "images"}.get(net.main_input_name, net.main_input_name)


def rows(pattern: str, pretrained: bool = False) -> Iterator[str]:
    """One line per model type matching `pattern` (parameters at the type's default size, input, heads), or
    with `pretrained` per cached model (its model type and heads)."""
    if pretrained:
        for repo_id, config in _cached():
            if fnmatch.fnmatch(repo_id, pattern) or fnmatch.fnmatch(config.model_type, pattern):
                yield f"{repo_id}  {config.model_type}  {', '.join(heads_of(config.model_type))}"
        return
    names = fnmatch.filter(CONFIG_MAPPING.keys(), pattern)
    width = max((len(n) for n in names), default=0)
    for name in sorted(names):
        heads = heads_of(name)
        if heads:
            net = _on_meta(CONFIG_MAPPING[name]()) if "none" in heads else None
            size, takes = (millions(net), _input(net)) if net is not None else ("?", "?")
            yield f"{name:<{width}}  {size:>9}  {takes:<14}  {', '.join(heads)}"


def _shape(config: PretrainedConfig, head: str, vision: bool) -> str:
    """`head`'s output shape as text, e.g. (B, T, 768) or (B, num_labels)."""
    dims = [{"b": "B", "t": "T"}.get(d, d) for d in head_output(config, head, vision).split()]
    if head in LABELLED:
        dims[-1] = "num_labels"
    return f"({', '.join(dims)})"


def describe(name: str) -> str:
    """Default size, input, heads and output shapes of a model type, a local pretrained directory or a model
    in the Hugging Face cache."""
    folder = pretrained_dir(name) if name not in CONFIG_MAPPING else None
    if folder is not None:
        config, what, use = AutoConfig.from_pretrained(str(folder), local_files_only=True), str(folder), "pretrained"
    else:
        check_model_type(KEY, name)
        config, what, use = CONFIG_MAPPING[name](), "default size", "model_type"
    net = _on_meta(config)
    takes = _input(net) if net is not None else "text"
    vision = takes == "images"
    sizes = ", ".join(f"{f}={getattr(config, f)}" for f in SHOWN if hasattr(config, f))
    params = f", {millions(net)} parameters without a head" if net is not None else ""
    inputs = {"images": "pixel_values (B, C, H, W)", "text": "input_ids (B, T), attention_mask (B, T)"}.get(
        takes, f"{takes}: not one hf/model@v1 takes (text or images)")
    heads = heads_of(config.model_type)
    lines = [
        f"{name}: {type(config).__name__} ({what}{params})",
        f"  config   {sizes}",
        f"  input    {inputs}",
        "  heads    " + "; ".join(f"{h} -> {_shape(config, h, vision)}" for h in heads),
        f"  use: model.net.block={KEY} model.net.{use}={name} model.net.head={heads[-1] if heads else 'none'}",
    ]
    return "\n".join(lines)
