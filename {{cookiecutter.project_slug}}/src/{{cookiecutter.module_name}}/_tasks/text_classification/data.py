"""Text classification data: the generated negation/contrast reviews (default) or your CSV/JSONL file.

Batches are `(input_ids, attention_mask, y)`: input_ids (B, T) int64 token ids starting with [CLS] and
ending with [SEP], attention_mask (B, T) bool (True for real tokens), y (B,) int64 class indices. T is
the longest sequence in the batch, or data.max_length with `padding: max_length`.

Each split is tokenized once, when its first loader is made (`EncodedTexts`), and batches are gathered
from those token ids, so no step tokenizes again and the tokenizer's threads never compete with the
model's for the same cores. The token ids take 4 bytes per
token of the padded split, e.g. 200 MB for a million texts of 48 tokens.

The tokenizer (BPE or WordPiece, Hugging Face `tokenizers`) is trained on the training split only and
saved as `<run dir>/tokenizer.json`; a resumed run loads it from there, and it also travels inside every
checkpoint (the DataModule's state), so export and rebuilds use the exact same vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from labblocks.run.errors import DataError
from labblocks.train.loaders import SplitDataModule, stratified_split
from omegaconf import DictConfig
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from torch.utils.data import Dataset

from {{cookiecutter.module_name}} import text_files
from {{cookiecutter.module_name}}.data_config import DataConfig, Padding, TextSource, TokenizerKind
from {{cookiecutter.module_name}}.synthetic import CLASS_NAMES, generate

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TOKENIZER_FILE = "tokenizer.json"


def train_tokenizer(
    texts: list[str], kind: TokenizerKind, vocab_size: int, min_frequency: int, lowercase: bool
) -> Tokenizer:
    """A WordPiece or BPE tokenizer fitted to `texts`, adding [CLS] ... [SEP] around each sequence.

    Token ids are made canonical (special tokens first, then the rest in sorted order), so equal
    vocabularies get equal ids. BPE fits are deterministic; WordPiece breaks ties between equally
    frequent merges arbitrarily, so two WordPiece fits of the same texts can differ (a run always
    reuses the tokenizer saved in its run directory).
    """
    if kind == TokenizerKind.wordpiece:
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS, show_progress=False
        )
        tok.decoder = decoders.WordPiece()
    else:
        tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=SPECIAL_TOKENS,
            end_of_word_suffix="</w>",
            show_progress=False,
        )
        tok.decoder = decoders.BPEDecoder(suffix="</w>")
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    order = SPECIAL_TOKENS + sorted(t for t in vocab if t not in SPECIAL_TOKENS)
    spec["model"]["vocab"] = {token: i for i, token in enumerate(order)}
    for added in spec["added_tokens"]:
        added["id"] = spec["model"]["vocab"][added["content"]]
    tok = Tokenizer.from_str(json.dumps(spec))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tok


def run_data_config(cfg: DictConfig) -> DictConfig:
    """A run's data section: nothing in it depends on the network (the network follows the tokenizer)."""
    return cfg.data


class EncodedTexts(Dataset):
    """A split of `(text, label)` pairs, tokenized once: the loader gathers whole batches from it.

    ids (N, L) int32 is padded to the split's longest sequence (or max_length); a batch is cut to its own
    longest, unless `fixed_length`, so batches equal those of tokenizing each batch on its own."""

    def __init__(self, tokenizer: Tokenizer, items: list[tuple[str, int]], fixed_length: bool) -> None:
        encoded = tokenizer.encode_batch([text for text, _ in items])
        ids = [e.ids for e in encoded] or [[]]  # an empty split still has a (0, 0) shape
        self.ids = torch.tensor(ids, dtype=torch.int32)[: len(items)]  # (N, L)
        self.lengths = torch.tensor([sum(e.attention_mask) for e in encoded], dtype=torch.long)  # (N,)
        self.labels = torch.tensor([label for _, label in items], dtype=torch.long)  # (N,)
        self.fixed_length = fixed_length

    def __len__(self) -> int:
        return len(self.labels)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The batch of `indices` (the DataLoader asks for a whole batch at once)."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        lengths = self.lengths[idx]  # (B,)
        t = self.ids.shape[1] if self.fixed_length else int(lengths.max())
        ids = self.ids[idx, :t].long()  # (N, L) -> (B, T)
        mask = torch.arange(t) < lengths[:, None]  # (B, T), True for real tokens
        return ids, mask, self.labels[idx]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ids, mask, y = self.__getitems__([i])
        return ids[0], mask[0], y[0]  # (T,), (T,), ()


def whole_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """The loader's collate_fn: EncodedTexts already returns the batch."""
    return batch


class TextDataModule(SplitDataModule):
    """Loads and splits the texts, fits (or loads) the tokenizer, and batches with dynamic padding."""

    def __init__(self, cfg: DataConfig, seed: int, run_dir: Path | None = None):
        super().__init__()
        self.cfg, self.seed, self.run_dir = cfg, seed, run_dir
        if cfg.source == TextSource.generated:
            texts, labels = generate(cfg.generated.num_samples, cfg.generated.seed)
            self.class_names = list(CLASS_NAMES)
        else:
            texts, raw = text_files.read_labelled(
                Path(cfg.path),
                cfg.source == TextSource.csv,
                cfg.text_column,
                cfg.label_column,
                list(cfg.class_names) if cfg.class_names else None,
                cfg.skip_bad_rows,
            )
            self.class_names = [str(c) for c in cfg.class_names] if cfg.class_names else sorted(set(raw))
            labels = [self.class_names.index(r) for r in raw]
        if len(self.class_names) < 2:
            raise DataError(
                f"{cfg.path}: needs at least 2 classes in column {cfg.label_column!r}, found {self.class_names}"
            )
        self.num_classes = len(self.class_names)
        split = stratified_split(labels, cfg.val_fraction, cfg.test_fraction, cfg.split_seed)
        ids = dict(zip(("train", "val", "test"), split, strict=True))
        self.splits = {name: [(texts[i], labels[i]) for i in idx] for name, idx in ids.items()}
        self.tokenizer = self._tokenizer()
        self._encoded: dict[str, tuple[Tokenizer, EncodedTexts]] = {}  # split -> (tokenizer used, its ids)

    # -- tokenizer -------------------------------------------------------------------------------------

    def _tokenizer(self) -> Tokenizer:
        saved = self.run_dir / TOKENIZER_FILE if self.run_dir else None
        t = self.cfg.tokenizer
        if saved is not None and saved.is_file():
            tok = Tokenizer.from_file(str(saved))  # a resumed run keeps its vocabulary
        elif t.kind == TokenizerKind.pretrained:
            tok = Tokenizer.from_file(str(Path(t.pretrained_dir) / TOKENIZER_FILE))
        else:
            texts = [text for text, _ in self.splits["train"]]  # never the val or test split
            tok = train_tokenizer(texts, t.kind, t.vocab_size, t.min_frequency, t.lowercase)
        if saved is not None and not saved.is_file():
            saved.parent.mkdir(parents=True, exist_ok=True)
            tok.save(str(saved))
        return self._configure(tok)

    def _configure(self, tok: Tokenizer) -> Tokenizer:
        pad = next((p for p in ("[PAD]", "<pad>") if tok.token_to_id(p) is not None), None)
        if pad is None:
            raise ValueError("the tokenizer has no [PAD] or <pad> token")
        self.pad_id = tok.token_to_id(pad)
        if self.cfg.truncation:
            tok.enable_truncation(self.cfg.max_length)
        length = self.cfg.max_length if self.cfg.padding == Padding.max_length else None
        tok.enable_padding(pad_id=self.pad_id, pad_token=pad, length=length)
        return tok

    def preprocessing(self) -> dict[str, Any]:
        """How raw text becomes the model's input, as steps anyone can follow without this project's code
        (export writes it to preprocessing.json next to tokenizer.json)."""
        return {
            "input": "text",
            "tokenizer": TOKENIZER_FILE,  # Hugging Face tokenizers: Tokenizer.from_file; adds [CLS] ... [SEP]
            "max_length": self.cfg.max_length,
            "truncation": bool(self.cfg.truncation),
            "padding": getattr(self.cfg.padding, "value", self.cfg.padding),  # longest in the batch, or max_length
            "pad_id": self.pad_id,
            "inputs": ["input_ids (B, T) int64", "attention_mask (B, T) bool, True for real tokens"],
            "class_names": list(self.class_names),
        }

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint: the tokenizer (the exact vocabulary), the class names and the
        preprocessing, so a checkpoint rebuilds and exports without the data."""
        return {
            "tokenizer": self.tokenizer.to_str(),
            "class_names": list(self.class_names),
            "preprocessing": self.preprocessing(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("class_names")
        if saved is not None and list(saved) != self.class_names:
            raise DataError(
                f"the checkpoint was trained on classes {saved}, but the data now has {self.class_names}: "
                "resuming would mix up the labels (check data.path and data.label_column)"
            )
        self.tokenizer = self._configure(Tokenizer.from_str(state["tokenizer"]))

    # -- what the model needs from the data ------------------------------------------------------------

    def net_args(self, block: str) -> dict[str, Any]:
        """Arguments of `model.net` set by the data (see data_config.supplied_net_args)."""
        vocab = self.tokenizer.get_vocab_size()
        if block.startswith("hf/"):
            return {"num_labels": self.num_classes, "config": {"vocab_size": vocab, "pad_token_id": self.pad_id}}
        return {"vocab_size": vocab, "num_classes": self.num_classes, "padding_idx": self.pad_id}

    def example_input(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A longest sequence of real tokens (not padding: some models give padding no position)."""
        n, token = self.cfg.max_length, 1 if self.pad_id != 1 else 2
        return torch.full((1, n), token, dtype=torch.long), torch.ones(1, n, dtype=torch.bool)  # (1, T), (1, T)

    # -- batches ---------------------------------------------------------------------------------------

    collate_fn = staticmethod(whole_batch)

    def loader_dataset(self, name: str) -> EncodedTexts:
        """The split tokenized with the current tokenizer (again after a checkpoint brings another one)."""
        tok, encoded = self._encoded.get(name, (None, None))
        if tok is not self.tokenizer or encoded is None:
            encoded = EncodedTexts(self.tokenizer, self.splits[name], self.cfg.padding == Padding.max_length)
            self._encoded[name] = (self.tokenizer, encoded)
        return encoded

    def render_samples(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> list[dict[str, Any]]:
        """Rows of (text as the model sees it, after tokenization, and label)."""
        ids, _, y = batch
        texts = self.tokenizer.decode_batch(ids.tolist(), skip_special_tokens=True)
        return [{"text": t, "label": self.class_names[int(c)]} for t, c in zip(texts, y, strict=True)]


DataModule = TextDataModule
