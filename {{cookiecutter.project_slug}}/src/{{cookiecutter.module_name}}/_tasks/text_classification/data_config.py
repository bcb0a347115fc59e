"""The data section of the config for text classification (no torch here: validated at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labblocks.run.config import Choice

USER_DATA_KEY = "data.path"  # the key that points at your own data


def supplied_net_args(block: str) -> tuple[str, ...]:
    """Arguments of `model.net` that the data sets at build time, per backbone (see DataModule.net_args)."""
    if block.startswith("hf/"):
        return ("num_labels",)  # and config.vocab_size / config.pad_token_id, merged into `config`
    return ("vocab_size", "num_classes", "padding_idx")


class TextSource(Choice):
    generated = "generated"  # sentiment with negation and contrast, made offline with a fixed seed
    csv = "csv"  # your data: a CSV file with text and label columns
    jsonl = "jsonl"  # your data: one JSON object per line with text and label fields


class TokenizerKind(Choice):
    bpe = "bpe"  # trained on the training split with Hugging Face tokenizers; deterministic
    wordpiece = "wordpiece"  # likewise, but ties between equal merges fall arbitrarily: fits can differ
    pretrained = "pretrained"  # loaded from tokenizer.pretrained_dir (a folder with tokenizer.json)


class Padding(Choice):
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
    max_length: int = 48  # tokens, [CLS] and [SEP] included
    padding: Padding = Padding.longest
    truncation: bool = True
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    split_seed: int = 0
    class_names: list[str] | None = None  # your data: the allowed labels; any other label is an error
    skip_bad_rows: bool = False  # leave rows with a missing or unknown label out (with a count printed)
    batch_size: int = 64
    num_workers: int | str = "auto"  # loader processes; auto: 0 on CPU, up to 8 per GPU process
    pin_memory: bool | str = "auto"  # auto: on when training on a GPU


def validate_data(cfg: DataConfig) -> list[tuple[str, str]]:
    """Checks the schema's types cannot express: (key, what is wrong and what would be right) pairs."""
    problems: list[tuple[str, str]] = []
    if cfg.source != TextSource.generated:
        if not cfg.path:
            kind = cfg.source.value
            problems.append((USER_DATA_KEY, f"required when data.source is {kind} (a .{kind} file)"))
        elif not Path(cfg.path).is_file():
            problems.append((USER_DATA_KEY, f"{cfg.path!r} is not a file"))
    if cfg.tokenizer.kind == TokenizerKind.pretrained:
        folder = Path(cfg.tokenizer.pretrained_dir or "")
        if not (folder / "tokenizer.json").is_file():
            problems.append(
                (
                    "data.tokenizer.pretrained_dir",
                    f"{cfg.tokenizer.pretrained_dir!r} holds no "
                    "tokenizer.json (save one with tokenizer.save_pretrained(dir))",
                )
            )
    if not (0 < cfg.val_fraction < 1 and 0 < cfg.test_fraction < 1 and cfg.val_fraction + cfg.test_fraction < 1):
        problems.append(
            (
                "data.val_fraction",
                f"{cfg.val_fraction} and data.test_fraction ({cfg.test_fraction}) must "
                "be in (0, 1) and sum to less than 1",
            )
        )
    if cfg.max_length < 4:
        problems.append(("data.max_length", f"{cfg.max_length} must be >= 4 (it counts [CLS] and [SEP])"))
    if cfg.batch_size < 1:
        problems.append(("data.batch_size", f"{cfg.batch_size} must be >= 1"))
    if cfg.class_names is not None and len(set(cfg.class_names)) < 2:
        problems.append(("data.class_names", f"{list(cfg.class_names)} must name at least 2 distinct classes"))
    return problems
