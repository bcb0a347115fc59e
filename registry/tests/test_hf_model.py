"""`hf/model@v1`: declared shapes against real outputs over text and vision model types and every head,
compile, pretrained weights from a local directory and from the Hugging Face cache (offline), kept heads'
class names through the export, the tokenizer that comes with the weights, and the errors of bad arguments."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, get_args

import pytest
import torch
from _hub_cache import run_offline, snapshot
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

import labblocks
from labblocks.adapters.hf_model import HEADS, Head, heads_of, pretrained_dir, pretrained_tokenizer
from labblocks.errors import BlockArgumentError, DownloadDisabledError
from labblocks.registry import REGISTRY
from labblocks.run.export import export_module, load_module

KEY = "hf/model@v1"
V = 100  # vocabulary of the text models
BERTISH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
           "vocab_size": V}
DECODER = {**BERTISH, "num_key_value_heads": 1, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}
GPT2 = {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 64, "vocab_size": V, "bos_token_id": 1,
        "eos_token_id": 2}
VIT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "image_size": 32,
       "patch_size": 8}
CONVNEXT = {"hidden_sizes": [8, 16, 32, 64], "depths": [1, 1, 1, 1]}
# (model_type, head, tiny config, num_labels): 16 model types, text and vision, every head
CASES: list[tuple[str, str, dict[str, Any], int | None]] = [
    ("bert", "sequence_classification", BERTISH, 3),
    ("bert", "none", BERTISH, None),
    ("roberta", "masked_lm", {**BERTISH, "max_position_embeddings": 66}, None),
    ("roberta", "token_classification", {**BERTISH, "max_position_embeddings": 66}, 4),
    ("distilbert", "sequence_classification", {"dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64,
                                               "vocab_size": V}, 2),
    ("deberta-v2", "sequence_classification", BERTISH, 3),
    ("electra", "token_classification", {**BERTISH, "embedding_size": 16}, 5),
    ("albert", "masked_lm", {**BERTISH, "embedding_size": 16}, None),
    ("gpt2", "causal_lm", GPT2, None),
    ("gpt2", "sequence_classification", {**GPT2, "pad_token_id": 0}, 3),
    ("llama", "causal_lm", DECODER, None),
    ("qwen2", "causal_lm", DECODER, None),
    ("mistral", "none", DECODER, None),
    ("vit", "image_classification", VIT, 5),
    ("vit", "none", VIT, None),
    ("deit", "image_classification", VIT, 5),
    ("convnext", "image_classification", CONVNEXT, 5),
    ("resnet", "none", {"embedding_size": 8, "hidden_sizes": [8, 16, 32, 64], "depths": [1, 1, 1, 1]}, None),
    ("swin", "image_classification", {"image_size": 32, "patch_size": 4, "embed_dim": 16, "depths": [1, 1],
                                      "num_heads": [1, 2], "window_size": 4}, 5),
]


def _build(model_type: str, head: str, config: dict[str, Any], num_labels: int | None) -> torch.nn.Module:
    torch.manual_seed(0)
    return labblocks.build(KEY, model_type=model_type, config=config, head=head, num_labels=num_labels)


def _run(net: torch.nn.Module, t: int = 7) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """A forward on inputs made from the declared input shapes, checked against the declared output."""
    bound = REGISTRY.contract(net)
    inputs = bound.example_inputs({"b": 2, "t": t, "h": 32, "w": 32})
    if "attention_mask" in inputs:
        inputs["input_ids"] = torch.randint(3, V, (2, t))
        inputs["attention_mask"][1, t - 2:] = False  # the second row is padded
    out = net(**inputs)
    bound.check_outputs(out, bound.check_inputs(inputs))
    return inputs, out


@pytest.mark.parametrize("model_type,head,config,num_labels", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_declared_shape_is_the_real_one_and_it_trains(
    model_type: str, head: str, config: dict[str, Any], num_labels: int | None
) -> None:
    net = _build(model_type, head, config, num_labels)
    inputs, out = _run(net)
    expected = {
        "sequence_classification": (2, num_labels), "image_classification": (2, num_labels),
        "token_classification": (2, 7, num_labels), "causal_lm": (2, 7, V), "masked_lm": (2, 7, V),
    }
    if head in expected:
        assert out.shape == expected[head]
    elif "input_ids" in inputs:
        assert out.shape == (2, 7, 32)
    else:
        assert out.shape[0] == 2 and out.ndim in (3, 4)
    out.float().square().mean().backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)


def test_types_counted() -> None:
    """At least 8 model types, text and vision, and every head at least once."""
    types = {c[0] for c in CASES}
    assert len(types) >= 8 and {"vit", "convnext", "bert", "gpt2"} <= types
    assert {c[1] for c in CASES} == {"none", "sequence_classification", "token_classification", "causal_lm",
                                     "masked_lm", "image_classification"}


def test_padding_does_not_change_a_text_models_output() -> None:
    net = _build("roberta", "sequence_classification", {**BERTISH, "max_position_embeddings": 66}, 3).eval()
    ids = torch.randint(3, V, (1, 6))
    mask = torch.ones(1, 6, dtype=torch.bool)
    padded, padded_mask = torch.cat([ids, torch.ones(1, 3, dtype=torch.long)], 1), torch.cat([mask, ~mask[:, :3]], 1)
    with torch.no_grad():
        torch.testing.assert_close(net(padded, padded_mask), net(ids, mask))  # (1, 9) and (1, 6) -> (1, 3)


def test_causal_lm_logits_do_not_see_the_future() -> None:
    net = _build("llama", "causal_lm", DECODER, None).eval()
    ids = torch.randint(3, V, (1, 8))
    changed = ids.clone()
    changed[0, 5:] = 3
    mask = torch.ones(1, 8, dtype=torch.bool)
    with torch.no_grad():
        torch.testing.assert_close(net(ids, mask)[:, :5], net(changed, mask)[:, :5])  # (1, 8) -> (1, 8, V)


@pytest.mark.parametrize("model_type,head,config", [("bert", "sequence_classification", BERTISH),
                                                   ("vit", "image_classification", VIT)])
def test_compiles_with_fullgraph(model_type: str, head: str, config: dict[str, Any]) -> None:
    net = _build(model_type, head, config, 3).eval()
    bound = REGISTRY.contract(net)
    inputs = bound.example_inputs({"b": 2, "t": 7, "h": 32, "w": 32})
    if "input_ids" in inputs:
        inputs["input_ids"] = torch.randint(3, V, (2, 7))
    compiled = torch.compile(net, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(**inputs), net(**inputs), atol=1e-5, rtol=1e-4)


def test_heads_of_a_model_type() -> None:
    assert tuple(HEADS) == get_args(Head)  # the argument's choices are the heads built
    assert heads_of("gpt2") == ["none", "sequence_classification", "token_classification", "causal_lm"]
    assert "image_classification" in heads_of("vit") and "causal_lm" not in heads_of("vit")


# -- pretrained weights --------------------------------------------------------------------------------------


def _saved_classifier(folder: Path, labels: list[str] | None = None) -> torch.nn.Module:
    """A sequence classifier saved with save_pretrained, with a tokenizer beside it."""
    net = _build("bert", "sequence_classification", BERTISH, len(labels or [0, 1, 2]))
    if labels:
        net.model.config.id2label = dict(enumerate(labels))
        net.model.config.label2id = {n: i for i, n in enumerate(labels)}
    net.model.save_pretrained(folder)
    vocab = {"[PAD]": 0, "[UNK]": 1, **{f"w{i}": i + 2 for i in range(V - 2)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(folder)
    return net


def _digest(state: dict[str, torch.Tensor]) -> str:
    return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()


def test_local_directory_keeps_a_pretrained_head_and_its_class_names(tmp_path: Path) -> None:
    source = _saved_classifier(tmp_path / "weights", ["negative", "neutral", "positive"])
    net = labblocks.build(KEY, pretrained=str(tmp_path / "weights"), head="sequence_classification")
    assert _digest(net.state_dict()) == _digest(source.state_dict())
    assert net.class_names == ["negative", "neutral", "positive"]
    loaded = load_module(export_module(net, tmp_path / "export"))  # rebuilt without the weights folder
    assert loaded.class_names == net.class_names and _digest(loaded.state_dict()) == _digest(net.state_dict())
    meta = json.loads((tmp_path / "export" / "labblocks.json").read_text())
    assert meta["args"]["pretrained"] is None and meta["args"]["config"]["hidden_size"] == 32
    assert meta["init"] == {"pretrained": str(tmp_path / "weights")}


def test_a_new_num_labels_replaces_the_head_and_keeps_the_body(tmp_path: Path) -> None:
    source = _saved_classifier(tmp_path)
    tuned = labblocks.build(KEY, pretrained=str(tmp_path), head="sequence_classification", num_labels=5)
    assert tuned.model.classifier.out_features == 5 and tuned.class_names is None
    body = {k: v for k, v in source.state_dict().items() if ".classifier." not in k}
    assert all(torch.equal(tuned.state_dict()[k], v) for k, v in body.items())
    encoder = labblocks.build(KEY, pretrained=str(tmp_path))  # head none: the hidden states of the same body
    _, out = _run(encoder)
    assert out.shape == (2, 7, 32)


def test_an_override_that_reshapes_pretrained_weights_is_refused(tmp_path: Path) -> None:
    _saved_classifier(tmp_path)
    with pytest.raises(BlockArgumentError, match=r"config: the overrides change weights of pretrained=.*"
                                                 r"word_embeddings.weight \(100, 32\) -> \(120, 32\)"):
        labblocks.build(KEY, pretrained=str(tmp_path), head="sequence_classification", config={"vocab_size": 120})


def test_the_tokenizer_comes_from_the_same_place(tmp_path: Path) -> None:
    _saved_classifier(tmp_path / "with")
    tok = pretrained_tokenizer(str(tmp_path / "with"))
    assert tok is not None and tok("w1 w5")["input_ids"] == [3, 7]
    _build("bert", "none", BERTISH, None).model.save_pretrained(tmp_path / "without")
    assert pretrained_tokenizer(str(tmp_path / "without")) is None


HUB_SCRIPT = """
import hashlib, sys, labblocks
from labblocks.adapters.hf_model import pretrained_dir, pretrained_tokenizer
from labblocks.errors import DownloadDisabledError
try:
    net = labblocks.build("hf/model@v1", pretrained="lb-test-org/tiny-bert", head="sequence_classification")
except DownloadDisabledError as e:
    print("REFUSED", e)
    sys.exit(3)
state = net.state_dict()
name = "lb-test-org/tiny-bert"
print("LOADED", hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest(),
      net.class_names, pretrained_tokenizer(name) is not None, pretrained_dir(name))
"""


def test_pretrained_from_the_hugging_face_cache_offline(tmp_path: Path) -> None:
    """What a compute node has: the hub cache, filled once on a login node, and HF_HUB_OFFLINE=1."""
    folder = snapshot(tmp_path / "hub", "lb-test-org/tiny-bert")
    source = _saved_classifier(folder, ["no", "yes", "maybe"])
    done = run_offline(HUB_SCRIPT, tmp_path / "hub")
    assert done.returncode == 0, done.stdout + done.stderr
    state = source.state_dict()
    assert f"LOADED {_digest(state)} ['no', 'yes', 'maybe'] True {folder}" in done.stdout


def test_pretrained_not_in_the_cache_says_how_to_get_it(tmp_path: Path) -> None:
    done = run_offline(HUB_SCRIPT, tmp_path / "empty")
    assert done.returncode == 3, done.stdout + done.stderr
    message = done.stdout
    assert "pretrained='lb-test-org/tiny-bert' is not a local directory" in message
    assert str(tmp_path / "empty") in message and "hf download lb-test-org/tiny-bert" in message
    assert pretrained_dir(str(tmp_path / "nowhere")) is None


def test_download_while_offline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadDisabledError, match="HF_HUB_OFFLINE=1 is set"):
        labblocks.build(KEY, pretrained="lb-test-org/no-such-model", allow_download=True)


# -- bad arguments ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        ({"model_type": "robreta"}, r"model_type: 'robreta' is not a transformers model type; did you mean roberta"),
        ({}, r"model_type: required unless pretrained is set"),
        ({"model_type": "bert", "config": {"hiden_size": 8}}, r"config.hiden_size: not a field of BertConfig; did you"),
        ({"model_type": "gpt2", "head": "masked_lm"}, r"head: transformers has no masked_lm model for 'gpt2' \(its "
                                                      r"heads: none, sequence_classification"),
        ({"model_type": "bert", "head": "classifier"}, r"head: expected Literal\['none', 'sequence_class"),
        ({"model_type": "gpt2", "head": "causal_lm", "num_labels": 3}, r"num_labels: head causal_lm has no labels"),
        ({"model_type": "t5"}, r"head: t5 is an encoder-decoder model"),
        ({"pretrained": "./no/such/dir"}, r"pretrained: './no/such/dir' is not a directory"),
    ],
)
def test_bad_arguments(args: dict[str, Any], message: str) -> None:
    with pytest.raises(BlockArgumentError, match=message):
        labblocks.build(KEY, **args)


def test_model_type_that_disagrees_with_the_pretrained_one(tmp_path: Path) -> None:
    _saved_classifier(tmp_path)
    with pytest.raises(BlockArgumentError, match=r"model_type: 'gpt2', but pretrained=.* is a 'bert' model"):
        labblocks.build(KEY, model_type="gpt2", pretrained=str(tmp_path))


def test_a_model_type_that_takes_neither_text_nor_images() -> None:
    tiny = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
            "conv_dim": [16, 16], "conv_kernel": [3, 3], "conv_stride": [2, 2], "num_conv_pos_embeddings": 4,
            "num_conv_pos_embedding_groups": 2}
    with pytest.raises(BlockArgumentError, match=r"wav2vec2 takes input_values; hf/model@v1 takes text"):
        labblocks.build(KEY, model_type="wav2vec2", config=tiny)
