"""Read what an offline W&B run wrote, from its run folder alone (`wandb/offline-run-*`).

For tests: which files the run refers to and whether they all lie inside the run folder (a run folder
copied to another machine and synced must not lose anything), and the tables it logged.

The run's `.wandb` file is a LevelDB-style log (7-byte header, 32 KiB blocks, records of
checksum(4) length(2) type(1) + data) of `wandb_internal_pb2.Record` messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

_BLOCK = 32768
_HEADER = 7  # b":W&B" + magic (2 bytes) + version (1 byte)
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _chunks(data: bytes) -> Iterator[bytes]:
    pos, pending = _HEADER, b""
    while pos + 7 <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < 7:  # the rest of a block too short for a record header is padding
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk


def records(run_dir: str | Path) -> Iterator[Any]:
    """Every record of the run's `.wandb` file, as `wandb_internal_pb2.Record` messages."""
    from wandb.proto import wandb_internal_pb2 as pb

    files = sorted(Path(run_dir).glob("*.wandb"))
    if not files:
        raise FileNotFoundError(f"{run_dir}: no *.wandb file; expected an offline W&B run folder")
    data = files[0].read_bytes()
    if not data.startswith(b":W&B"):
        raise ValueError(f"{files[0]}: not a W&B run file (header {data[:4]!r})")
    for chunk in _chunks(data):
        record = pb.Record()
        record.ParseFromString(chunk)
        yield record


def wait_until_complete(run_dir: str | Path, timeout: float = 60.0) -> None:
    """Wait until the run's `.wandb` file holds its exit record. `run.finish()` can return before W&B's
    service process has written the file out (seen on a loaded machine), so read after this."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if any(r.WhichOneof("record_type") == "exit" for r in records(run_dir)):
                return
        except (FileNotFoundError, DecodeError):  # not written yet, or its last record only in part
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run_dir}: no exit record after {timeout:.0f} s; did the run call finish()?")
        time.sleep(0.1)


def history(run_dir: str | Path) -> list[dict[str, Any]]:
    """The logged history rows, each `{key: value}` with nested values (e.g. a table's JSON) as dicts."""
    rows = []
    for record in records(run_dir):
        if record.WhichOneof("record_type") != "history":
            continue
        row: dict[str, Any] = {}
        for item in record.history.item:
            path = [item.key] if item.key else list(item.nested_key)
            target = row
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = json.loads(item.value_json)
        rows.append(row)
    return rows


def tables(run_dir: str | Path, key: str) -> list[dict[str, Any]]:
    """Every table logged under `key`, as its JSON file in the run folder (`{"columns", "data"}`)."""
    out = []
    for row in history(run_dir):
        value = row.get(key)
        if isinstance(value, dict) and value.get("_type") == "table-file":
            out.append(json.loads((Path(run_dir) / "files" / value["path"]).read_text(encoding="utf-8")))
    return out


def referenced_files(run_dir: str | Path) -> list[Path]:
    """Every file the run refers to: files it publishes (`files/...`), files of artifacts it logs
    (wherever they were staged), and media that its table files point to."""
    run = Path(run_dir)
    found: list[Path] = []
    for record in records(run):
        kind = record.WhichOneof("record_type")
        if kind == "files":
            found += [run / "files" / f.path for f in record.files.files]
        elif kind == "artifact":
            found += [Path(e.local_path) for e in record.artifact.manifest.contents if e.local_path]
    for table_file in sorted((run / "files" / "media" / "table").rglob("*.table.json")):
        table = json.loads(table_file.read_text(encoding="utf-8"))
        for row in table.get("data", []):
            for cell in row:
                if isinstance(cell, dict) and "path" in cell:
                    found.append(run / "files" / cell["path"])
                elif cell in ("Image", "Audio", "Video"):  # what wandb writes for media it staged elsewhere
                    found.append(Path(f"<{cell} in {table_file.name}, stored outside the run>"))
    return found


def files_outside_run(run_dir: str | Path) -> list[str]:
    """References (see `referenced_files`) that are not files inside the run folder; [] when complete."""
    run = Path(run_dir).resolve()
    bad = []
    for path in referenced_files(run):
        if not path.is_absolute() or not path.resolve().is_relative_to(run) or not path.is_file():
            bad.append(str(path))
    return sorted(set(bad))
