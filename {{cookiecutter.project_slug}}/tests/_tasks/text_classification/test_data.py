"""The text data: the generated task needs word order, batches have the documented shapes, the
tokenizer is fitted on the training split, saved and reloaded, and CSV/JSONL files load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from labblocks.run.errors import ConfigError, DataError
from tokenizers import Tokenizer

from {{cookiecutter.module_name}}.config import load_config
from {{cookiecutter.module_name}}.data import TOKENIZER_FILE, train_tokenizer
from {{cookiecutter.module_name}}.synthetic import CLASS_NAMES, generate, label_of
from {{cookiecutter.module_name}}.train import build_datamodule


def test_generated_labels_need_word_order() -> None:
    texts, labels = generate(2000, seed=0)
    assert (texts, labels) == generate(2000, seed=0) and texts != generate(2000, seed=1)[0]
    assert 0.4 < sum(labels) / len(labels) < 0.6
    assert [label_of(t) for t in texts] == labels
    # Swapping the two clauses keeps the bag of words and changes the label about half the time, so
    # no bag-of-words model can be right on both a text and its swap.
    flipped = 0
    for text, label in zip(texts, labels, strict=True):
        first, second = text.split(" but ")
        flipped += label_of(f"{second} but {first}") != label
    assert 0.35 < flipped / len(texts) < 0.65


def test_batch_shapes_dtypes_and_ranges(make_cfg) -> None:
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    ids, mask, y = next(iter(dm.train_dataloader()))
    b = cfg.data.batch_size
    assert ids.dtype == torch.int64 and mask.dtype == torch.bool and y.dtype == torch.int64
    assert ids.shape == mask.shape and ids.shape[0] == b and y.shape == (b,)  # (B, T), (B, T), (B,)
    assert ids.shape[1] <= cfg.data.max_length
    vocab = dm.tokenizer.get_vocab_size()
    assert int(ids.min()) >= 0 and int(ids.max()) < vocab
    assert torch.all(ids[~mask] == dm.pad_id) and torch.all(ids[:, 0] == dm.tokenizer.token_to_id("[CLS]"))
    assert set(y.tolist()) <= {0, 1} and dm.class_names == ["negative", "positive"]


def test_padding_and_truncation_follow_config(make_cfg) -> None:
    dm = build_datamodule(make_cfg("data.padding=max_length", "data.max_length=12"))
    ids, mask, _ = next(iter(dm.val_dataloader()))
    assert ids.shape[1] == 12 and bool(mask[:, -1].any()) is True  # every text is longer than 12 tokens
    longest = build_datamodule(make_cfg("data.max_length=200"))
    ids, mask, _ = next(iter(longest.val_dataloader()))
    assert ids.shape[1] == int(mask.sum(1).max()) < 200  # padded to the longest in the batch


def test_tokenizer_fits_train_split_saves_and_reloads(make_cfg) -> None:
    cfg = make_cfg(name="tok")
    dm = build_datamodule(cfg)
    t = cfg.data.tokenizer
    train_texts = [text for text, _ in dm.splits["train"]]
    fitted = train_tokenizer(train_texts, t.kind, t.vocab_size, t.min_frequency, t.lowercase)
    assert Tokenizer.from_str(dm.state_dict()["tokenizer"]).get_vocab() == fitted.get_vocab()  # train split only
    saved = Path(cfg.run.output_dir) / "tok" / TOKENIZER_FILE
    assert saved.is_file()
    # A rerun in the same run directory loads the saved tokenizer instead of fitting a new one, even
    # if the tokenizer settings changed meanwhile.
    again = build_datamodule(make_cfg("data.tokenizer.vocab_size=60", name="tok"))
    assert again.tokenizer.get_vocab() == Tokenizer.from_file(str(saved)).get_vocab() == dm.tokenizer.get_vocab()
    # The DataModule's checkpoint state carries the tokenizer.
    other = build_datamodule(make_cfg("data.tokenizer.vocab_size=60", name="other"))
    assert other.tokenizer.get_vocab_size() != dm.tokenizer.get_vocab_size()
    other.load_state_dict(dm.state_dict())
    text = dm.splits["val"][0][0]
    assert other.tokenizer.encode(text).ids == dm.tokenizer.encode(text).ids


@pytest.mark.parametrize("source", ["csv", "jsonl"])
def test_your_own_file_loads(make_cfg, tmp_path: Path, source: str) -> None:
    rows = [
        {"text": f"sample number {i} is {'fine' if i % 3 else 'awful'}", "label": "ok" if i % 3 else "bad"}
        for i in range(60)
    ]
    path = tmp_path / f"data.{source}"
    if source == "csv":
        path.write_text("text,label\n" + "".join(f'"{r["text"]}",{r["label"]}\n' for r in rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = load_config(
        experiment=["files", "fast"],
        overrides=[f"data.source={source}", f"data.path={path}", f"run.output_dir={tmp_path / 'runs'}"],
    )
    dm = build_datamodule(cfg)
    assert dm.class_names == ["bad", "ok"] and sum(len(s) for s in dm.splits.values()) == 60
    ids, mask, y = next(iter(dm.train_dataloader()))
    assert ids.dtype == torch.int64 and set(y.tolist()) <= {0, 1}


def test_every_bad_row_is_reported_at_once_with_its_line(make_cfg, tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(
        b"text,label\n"
        b"the food was good but the room was bad,negative\n"
        b"the music was great,\n"  # line 3: no label
        b"caf\xe9 was fine but the staff was awful,negative\n"  # line 4: Latin-1, not UTF-8
        b"the plot was dull but the acting was superb,positive\n"
        b"the price was fine,neutral\n"  # line 6: a label outside data.class_names
    )
    cfg = make_cfg("data.source=csv", f"data.path={path}", "data.class_names=[negative,positive]")
    with pytest.raises(DataError) as err:
        build_datamodule(cfg)
    message = str(err.value)
    assert message.startswith(f"3 bad rows in {path}:") and "data.skip_bad_rows=true" in message
    for line, why in [(3, "no 'label'"), (4, "not UTF-8 (byte 0xe9"), (6, "label 'neutral' is not one of")]:
        assert f"{path}:{line}: {why}" in message, (line, message)


def test_bad_rows_can_be_skipped_with_a_count(make_cfg, tmp_path: Path, capsys) -> None:
    path = tmp_path / "reviews.jsonl"
    texts, labels = generate(60, seed=3)
    lines = [json.dumps({"text": t, "label": CLASS_NAMES[y]}) for t, y in zip(texts, labels, strict=True)]
    lines.insert(5, "{not json")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"{path}:6: not valid JSON"):
        build_datamodule(make_cfg("data.source=jsonl", f"data.path={path}"))
    dm = build_datamodule(make_cfg("data.source=jsonl", f"data.path={path}", "data.skip_bad_rows=true"))
    assert sum(len(s) for s in dm.splits.values()) == 60
    assert "left out 1 bad rows" in capsys.readouterr().out


def test_files_experiment_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="data.path: required when data.source is csv"):
        load_config(experiment="files")
