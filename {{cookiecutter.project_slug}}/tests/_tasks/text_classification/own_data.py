"""A small dataset in the form users bring their own (a CSV with text and label columns), made by the tests."""

from __future__ import annotations

import csv
from pathlib import Path

from {{cookiecutter.module_name}}.synthetic import CLASS_NAMES, generate


def make_own_data(root: Path, rows: int = 120) -> list[str]:
    """Write <root>/reviews.csv with string labels; returns the overrides that point the config at it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "reviews.csv"
    texts, labels = generate(rows, seed=1)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows((text, CLASS_NAMES[label]) for text, label in zip(texts, labels, strict=True))
    return [f"data.path={path}"]


def add_rare_class(root: Path) -> None:
    """A row of a label no other row has: too rare for a stratified split."""
    with (root / "reviews.csv").open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["an odd one out", "sarcastic"])
