"""The data section of the config for text classification (no torch here: validated at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

USER_DATA_KEY = "data.path"  # the key that points at your own data


def supplied_net_args(block: str) -> tuple[str, ...]:
    """Arguments of `model.net` that the data sets at build time, per backbone (see DataModule.net_args)."""
    if block.startswith("hf/"):
        return ("num_labels",)  # and config.vocab_size / config.pad_token_id, merged into `config`
    return ("vocab_size", "num_classes", "padding_idx")


class TextSource(str, Enum):
    generated = "generated"  # sentiment with negation and contrast, made offline with a fixed seed
    csv = "csv"  # your data: a CSV file with text and label columns
    jsonl = "jsonl"  # your data: one JSON object per line with text and label fields


class TokenizerKind(str, Enum):
    bpe = "bpe"  # trained on the training split with Hugging Face tokenizers; deterministic
    wordpiece = "wordpiece"  # likewise, but ties between equal merges fall arbitrarily: fits can differ
    pretrained = "pretrained"  # loaded from tokenizer.pretrained_dir (a folder with tokenizer.json)


class Padding(str, Enum):
    longest = "longest"  # pad each batch to its longest sequence
    max_length = "max_length"  # pad every sequence to data.max_length


@dataclass
class TokenizerConfig:
    kind: TokenizerKind = TokenizerKind.bpe
    vocab_size: int = 1000
    min_frequency: int = 1
    lowercase: bool = True
    pretrained_dir: str | None = None


@dataclass
class GeneratedConfig:
    num_samples: int = 6000
    seed: int = 0  # fixed: the same dataset for every run


@dataclass
class DataConfig:
    source: TextSource = TextSource.generated
    path: str | None = None  # csv or jsonl file
    text_column: str = "text"
    label_column: str = "label"
    generated: GeneratedConfig = field(default_factory=GeneratedConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    max_length: int = 64  # tokens, [CLS] and [SEP] included
    padding: Padding = Padding.longest
    truncation: bool = True
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    split_seed: int = 0
    batch_size: int = 64
    num_workers: int = 0


def validate_data(cfg: DataConfig) -> None:
    """Checks the schema's types cannot express; raises the project's ConfigError."""
    from {{cookiecutter.module_name}}.config import ConfigError

    if cfg.source != TextSource.generated:
        if not cfg.path:
            kind = cfg.source.value
            raise ConfigError(f"{USER_DATA_KEY}: required when data.source is {kind} (a .{kind} file)")
        if not Path(cfg.path).is_file():
            raise ConfigError(f"{USER_DATA_KEY}: {cfg.path!r} is not a file")
    if cfg.tokenizer.kind == TokenizerKind.pretrained:
        folder = Path(cfg.tokenizer.pretrained_dir or "")
        if not (folder / "tokenizer.json").is_file():
            raise ConfigError(
                f"data.tokenizer.pretrained_dir: {cfg.tokenizer.pretrained_dir!r} holds no tokenizer.json "
                "(save one with tokenizer.save_pretrained(dir))"
            )
    if not (0 < cfg.val_fraction < 1 and 0 < cfg.test_fraction < 1 and cfg.val_fraction + cfg.test_fraction < 1):
        raise ConfigError(
            f"data.val_fraction ({cfg.val_fraction}) and data.test_fraction ({cfg.test_fraction}) must be in (0, 1) "
            "and sum to less than 1"
        )
    if cfg.max_length < 4:
        raise ConfigError(f"data.max_length: {cfg.max_length} must be >= 4 (it counts [CLS] and [SEP])")
    if cfg.batch_size < 1:
        raise ConfigError(f"data.batch_size: {cfg.batch_size} must be >= 1")
