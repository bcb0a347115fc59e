"""What `SampleTable` and `ValidationPredictions` write, read back from each logger's own files: a real
offline W&B run folder, TensorBoard's event file, and the CSV logger's directory.

One two-epoch fit with all three loggers serves most tests (a few seconds: it starts W&B's service).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny import CLASSES, TinyData, TinyModel, image, quiet_trainer
from PIL import Image

from labblocks.callbacks import SampleTable
from labblocks.callbacks._media import to_uint8
from labblocks.testing import wandb_offline

ROWS, EPOCHS = 5, 2
pytestmark = pytest.mark.multisecond  # a real W&B offline run and Trainer fits


@dataclass
class Fit:
    root: Path
    wandb_run: Path
    wandb_data: Path
    tensorboard: Path
    csv: Path
    data: TinyData
    model: TinyModel


@pytest.fixture(scope="module")
def fit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fit]:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger

    root = tmp_path_factory.mktemp("fit")
    with pytest.MonkeyPatch.context() as mp:
        for var, sub in (("WANDB_DATA_DIR", "wandb-data"), ("WANDB_CACHE_DIR", "wandb-cache"),
                         ("WANDB_CONFIG_DIR", "wandb-config")):
            mp.setenv(var, str(root / sub))  # where wandb stages artifacts: must stay empty
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_SILENT", "true")
        torch.manual_seed(0)
        data, model = TinyData(), TinyModel()
        loggers = [
            WandbLogger(save_dir=str(root), offline=True, project="labblocks-test"),
            TensorBoardLogger(save_dir=str(root), name="tb", version=""),
            CSVLogger(save_dir=str(root), name="csv", version=""),
        ]
        callbacks = [
            SampleTable(data.render_samples, rows=ROWS),
        ]
        trainer = quiet_trainer(logger=loggers, callbacks=callbacks, max_epochs=EPOCHS, num_sanity_val_steps=1)
        trainer.fit(model, datamodule=data)
        loggers[0].experiment.finish()
        (run,) = (root / "wandb").glob("offline-run-*")
        yield Fit(root, run, root / "wandb-data", root / "tb", root / "csv", data, model)


def expected_pixels(i: int, offset: int = 0) -> np.ndarray:
    """Item i's image as 8-bit grey pixels (H, W)."""
    return (image(i + offset)[0].numpy() * 255).round().astype(np.uint8)


def assert_same_pixels(got: np.ndarray, i: int, offset: int = 0) -> None:
    want = expected_pixels(i, offset)
    if got.ndim == 3:  # TensorBoard stores grey images as RGB
        assert (got[..., 0] == got[..., 1]).all() and (got[..., 0] == got[..., 2]).all()
        got = got[..., 0]
    assert got.shape == want.shape
    assert abs(float(got.mean()) - float(want.mean())) <= 1.0, (got.mean(), want.mean())
    assert int(got.min()) == int(want.min()) and int(got.max()) == int(want.max())


def png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


# -- sample images: W&B, TensorBoard, CSV --------------------------------------------------------------


def test_wandb_sample_images_look_like_the_data(fit: Fit) -> None:
    (table,) = wandb_offline.tables(fit.wandb_run, "samples/train")
    assert table["columns"] == ["image", "label"]
    assert len(table["data"]) == ROWS
    for i, (cell, label) in enumerate(table["data"]):  # the first ROWS items of the dataset, in order
        assert isinstance(cell, dict) and cell.get("_type") == "image-file", cell  # wandb 0.31 writes "Image"
        assert_same_pixels(png(fit.wandb_run / "files" / cell["path"]), i)
        assert label == CLASSES[i % 3]


def test_wandb_run_folder_holds_every_file_it_refers_to(fit: Fit) -> None:
    assert wandb_offline.files_outside_run(fit.wandb_run) == []
    staged = [p for p in fit.wandb_data.rglob("*") if p.is_file()]
    assert staged == [], f"wandb staged files outside the run folder: {staged}"
    tables = list((fit.wandb_run / "files" / "media" / "table").rglob("*.table.json"))
    assert len(tables) == 1


def test_tensorboard_sample_images_look_like_the_data(fit: Fit) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(fit.tensorboard), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    tags = [t for t in events.Tags()["images"] if t.startswith("samples/train/")]
    assert sorted(tags) == sorted(f"samples/train/{i}/image" for i in range(ROWS))
    text = events.Tensors("samples/train/text_summary")[0].tensor_proto.string_val[0].decode()
    labels = [line.split("|")[2].strip() for line in text.splitlines()[2:]]
    assert labels == [CLASSES[i % 3] for i in range(ROWS)]
    for i in range(ROWS):
        (event,) = events.Images(f"samples/train/{i}/image")
        assert_same_pixels(np.asarray(Image.open(io.BytesIO(event.encoded_image_string))), i)


def test_csv_sample_images_look_like_the_data(fit: Fit) -> None:
    with (fit.csv / "samples_train.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == ROWS
    for i, row in enumerate(rows):
        assert_same_pixels(png(fit.csv / row["image"]), i)
        assert row["label"] == CLASSES[i % 3]


# -- errors -----------------------------------------------------------------


def test_bad_images_and_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"row 2 image: float pixels range over \[0, 255\]; expected \[0, 1\]"):
        to_uint8(np.linspace(0, 255, 64).reshape(8, 8), "row 2 image")
    with pytest.raises(ValueError, match=r"expected an image \(H, W\) or \(H, W, C\).*got shape \(2, 8, 8, 1\)"):
        to_uint8(np.zeros((2, 8, 8, 1)))
    assert to_uint8(np.full((8, 8, 1), 0.7)).max() == 178  # 0.7 * 255, not 0
    assert json.loads(json.dumps(to_uint8(np.ones((2, 2))).tolist())) == [[255, 255], [255, 255]]
