"""Your text data on disk (CSV with a header row, or JSONL), checked before training: undecodable bytes,
invalid JSON, rows with a missing text or label, and labels outside `data.class_names` are all reported at
once with their line numbers, not one at a time, and not in the middle of training."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labblocks.run.errors import DataError, listing

FIELD_LIMIT = 1 << 24  # characters in one CSV field (Python's default, 131072, is less than some documents)
SKIP_HINT = "Fix these rows, or set data.skip_bad_rows=true to leave them out."


def _lines(path: Path, problems: list[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line that decodes as UTF-8; the others become problems."""
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(f"{path}:{n}: not UTF-8 (byte {raw[e.start]:#04x} at column {e.start + 1})")


def _records(path: Path, csv_format: bool, problems: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    lines = _lines(path, problems)
    if csv_format:
        numbers: list[int] = []

        def text() -> Iterator[str]:
            for n, line in lines:
                numbers.append(n)
                yield line

        csv.field_size_limit(FIELD_LIMIT)
        reader = csv.DictReader(text())
        first = 0
        try:
            _ = reader.fieldnames  # reads the header row
            while True:
                first = len(numbers)  # the row's first line: a quoted field may span lines
                row = next(reader, None)
                if row is None:
                    break
                yield numbers[first], row
        except csv.Error as e:  # the reader cannot go on past this row
            at = numbers[min(first, len(numbers) - 1)] if numbers else 1
            hint = ""
            if "field larger than field limit" in str(e):
                hint = f" (at most {FIELD_LIMIT} characters); an unclosed quote joins the lines after it into one field"
            problems.append(f"{path}:{at}: the CSV reader stopped here: {e}{hint}")
        return
    for n, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{n}: not valid JSON ({e.msg} at column {e.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}:{n}: a JSON {type(record).__name__}, not an object with fields")
            continue
        yield n, record


def read_labelled(
    path: Path, csv_format: bool, text_column: str, label_column: str, class_names: list[str] | None, skip_bad: bool
) -> tuple[list[str], list[str]]:
    """Texts and their labels (as strings). Every problem is reported in one DataError; with `skip_bad`,
    bad rows are left out with a count printed instead."""
    problems: list[str] = []
    texts: list[str] = []
    labels: list[str] = []
    allowed = None if class_names is None else {str(c) for c in class_names}
    for n, row in _records(path, csv_format, problems):
        missing = [c for c in (text_column, label_column) if row.get(c) in (None, "")]
        if missing:
            columns = ", ".join(map(str, row)) or "none"
            problems.append(f"{path}:{n}: no {' or '.join(repr(c) for c in missing)} (columns: {columns})")
        elif allowed is not None and str(row[label_column]) not in allowed:
            problems.append(
                f"{path}:{n}: label {str(row[label_column])!r} is not one of data.class_names {sorted(allowed)}"
            )
        else:
            texts.append(str(row[text_column]))
            labels.append(str(row[label_column]))
    if problems and not skip_bad:
        raise DataError(listing(problems, f"bad rows in {path}", SKIP_HINT))
    if problems:
        print(
            f"data: left out {len(problems)} bad rows of {path} (data.skip_bad_rows); the first: {problems[0]}",
            flush=True,
        )
    if not texts:
        raise DataError(
            f"{path}: no usable rows (columns {text_column!r} and {label_column!r} are needed; "
            "rename them with data.text_column / data.label_column)"
        )
    return texts, labels
