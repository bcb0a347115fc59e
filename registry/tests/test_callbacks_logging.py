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
from typing import Any

import numpy as np
import pytest
import torch
from _tiny import CLASSES, TinyData, TinyModel, image, quiet_trainer, val_probabilities
from PIL import Image

from labblocks.testing import wandb_offline
from labblocks.train.callbacks import PredictionHistograms, SampleTable, ValidationPredictions
from labblocks.train.logs.media import to_uint8

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
            ValidationPredictions(data.render_samples, CLASSES, rows=ROWS, bins=10),
        ]
        trainer = quiet_trainer(logger=loggers, callbacks=callbacks, max_epochs=EPOCHS, num_sanity_val_steps=1)
        trainer.fit(model, datamodule=data)
        loggers[0].experiment.finish()
        runs = list((root / "wandb").glob("offline-run-*"))
        assert len(runs) == 1, f"expected one offline W&B run in {root / 'wandb'}, found {runs}"
        run = runs[0]
        wandb_offline.wait_until_complete(run)
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
    assert len(tables) == 1 + EPOCHS  # the samples, and one predictions table per validation epoch


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


# -- validation predictions ----------------------------------------------------------------------------


def test_wandb_prediction_tables_per_epoch(fit: Fit) -> None:
    tables = wandb_offline.tables(fit.wandb_run, "val/predictions")
    assert len(tables) == EPOCHS  # after each epoch, not after the sanity check
    columns = ["image", "label", "prediction", "confidence", *(f"p_{c}" for c in CLASSES)]
    assert all(t["columns"] == columns for t in tables)
    last = tables[-1]["data"]
    want = val_probabilities(fit.model, fit.data)[:ROWS]  # the final weights, eval mode (no dropout)
    for i, row in enumerate(last):
        cell, label, pred, conf, *probs = row
        np.testing.assert_allclose(probs, want[i], atol=1e-4)
        assert pred == CLASSES[int(np.argmax(want[i]))] and conf == pytest.approx(want[i].max(), abs=1e-4)
        assert label == CLASSES[(1000 + i) % 3]
        assert_same_pixels(png(fit.wandb_run / "files" / cell["path"]), i, offset=1000)
    assert [r[0]["path"] for r in tables[0]["data"]] == [r[0]["path"] for r in last]  # images written once


def test_wandb_probability_histograms(fit: Fit) -> None:
    rows = [r for r in wandb_offline.history(fit.wandb_run) if "val/prob/cat" in r]
    assert len(rows) == EPOCHS
    for name in CLASSES:
        hist = rows[-1][f"val/prob/{name}"]
        assert hist["_type"] == "histogram" and sum(hist["values"]) == fit.data.n_val
        assert hist["bins"][0] == 0 and hist["bins"][-1] == 1 and len(hist["bins"]) == 11
    assert sum(rows[-1]["val/pred_class"]["values"]) == fit.data.n_val


def test_tensorboard_predictions_and_histograms(fit: Fit) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(fit.tensorboard), size_guidance={"images": 0, "tensors": 0, "histograms": 0})
    events.Reload()
    texts = events.Tensors("val/predictions/text_summary")
    assert len(texts) == EPOCHS
    last = texts[-1].tensor_proto.string_val[0].decode().splitlines()
    assert last[0].split("|")[2:-1] == [f" {c} " for c in ["label", "prediction", "confidence"]] + [
        f" p_{c} " for c in CLASSES
    ]
    images = [t for t in events.Tags()["images"] if t.startswith("val/predictions/")]
    assert len(images) == ROWS and all(len(events.Images(t)) == 1 for t in images)  # once, not every epoch
    probs = val_probabilities(fit.model, fit.data)
    for k, name in enumerate(CLASSES):
        values = events.Histograms(f"val/prob/{name}")
        assert len(values) == EPOCHS
        final = values[-1].histogram_value
        assert final.num == fit.data.n_val
        assert final.sum == pytest.approx(probs[:, k].sum(), abs=1e-3)


def test_csv_predictions_per_epoch(fit: Fit) -> None:
    folder = fit.csv / "val_predictions"
    files = sorted(folder.glob("epoch*.csv"))
    assert [f.name[:8] for f in files] == [f"epoch{e:03d}" for e in range(EPOCHS)]
    pngs = sorted((folder / "images").iterdir())
    assert len(pngs) == ROWS
    with files[-1].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    want = val_probabilities(fit.model, fit.data)[:ROWS]
    for i, row in enumerate(rows):
        assert_same_pixels(png(folder / row["image"]), i, offset=1000)
        got = [float(row[f"p_{c}"]) for c in CLASSES]
        np.testing.assert_allclose(got, want[i], atol=1e-4)
    hist_files = sorted((fit.csv / "val_probabilities").glob("histograms-*.csv"))
    assert len(hist_files) == EPOCHS
    with hist_files[-1].open(encoding="utf-8") as f:
        counts: dict[str, int] = {}
        for row in csv.DictReader(f):
            counts[row["class"]] = counts.get(row["class"], 0) + int(row["count"])
    assert counts == dict.fromkeys(CLASSES, fit.data.n_val)


# -- without W&B: text inputs, RNG, errors -----------------------------------------------------------------


def _csv_fit(tmp: Path, callbacks: list[Any], epochs: int = 2) -> TinyModel:
    from lightning.pytorch.loggers import CSVLogger

    torch.manual_seed(0)
    model = TinyModel()
    trainer = quiet_trainer(logger=CSVLogger(str(tmp), name="csv", version=""), callbacks=callbacks, max_epochs=epochs)
    trainer.fit(model, datamodule=TinyData())
    return model


def test_predictions_leave_training_unchanged(tmp_path: Path) -> None:
    """The fixed examples run in eval mode with the RNG states preserved: the same weights come out."""
    data = TinyData()

    def render(batch: Any) -> list[dict[str, Any]]:
        torch.rand(3)  # like a render or dataset that draws random numbers (augmentation)
        return data.render_samples(batch)

    plain = _csv_fit(tmp_path / "a", [])
    logged = _csv_fit(tmp_path / "b", [ValidationPredictions(render, CLASSES, rows=4)])
    for (name, a), b in zip(plain.state_dict().items(), logged.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert len(list((tmp_path / "b" / "csv" / "val_predictions").glob("*.csv"))) == 2


def test_text_inputs_and_old_histogram_callback(tmp_path: Path) -> None:
    def render(batch: Any) -> list[dict[str, Any]]:
        x, y = batch
        texts = [f"level {float(img.min()):.2f}, a | pipe" for img in x]
        return [{"text": t, "label": CLASSES[int(c)]} for t, c in zip(texts, y, strict=True)]

    _csv_fit(tmp_path, [ValidationPredictions(render, CLASSES, rows=3, key="val/text"), PredictionHistograms()], 1)
    with next((tmp_path / "csv" / "val_text").glob("*.csv")).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["text"] for r in rows] == [f"level {0.15 + 0.1 * ((1000 + i) % 7):.2f}, a | pipe" for i in range(3)]
    metrics = (tmp_path / "csv" / "metrics.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"val/pred_frac_0", "val/confidence_mean"} <= set(metrics)  # PredictionHistograms as before


def test_bad_images_and_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"row 2 image: float pixels range over \[0, 255\]; expected \[0, 1\]"):
        to_uint8(np.linspace(0, 255, 64).reshape(8, 8), "row 2 image")
    with pytest.raises(ValueError, match=r"expected an image \(H, W\) or \(H, W, C\).*got shape \(2, 8, 8, 1\)"):
        to_uint8(np.zeros((2, 8, 8, 1)))
    assert to_uint8(np.full((8, 8, 1), 0.7)).max() == 178  # 0.7 * 255, not 0
    with pytest.raises(ValueError, match="rows=4 needs render"):
        ValidationPredictions(None, CLASSES, rows=4)
    assert json.loads(json.dumps(to_uint8(np.ones((2, 2))).tolist())) == [[255, 255], [255, 255]]


class _WholeBatches(torch.utils.data.Dataset):
    """A dataset that returns whole batches (`__getitems__`), as a pre-tokenized text split does."""

    def __init__(self) -> None:
        self.x = torch.arange(20.0).reshape(10, 2)  # (N, 2)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> torch.Tensor:
        raise AssertionError("the DataLoader fetches whole batches from this dataset")

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[indices], torch.tensor(indices)  # (B, 2), (B,)


@pytest.mark.parametrize("dataset", ["items", "whole batches"])
def test_first_batch_is_what_the_loader_yields_first(dataset: str) -> None:
    """SampleTable and ValidationPredictions render the batch the DataLoader itself would make."""
    from labblocks.train.examples import first_batch

    if dataset == "items":
        loader = TinyData(batch_size=4).val_dataloader()
    else:
        loader = torch.utils.data.DataLoader(_WholeBatches(), batch_size=4, collate_fn=lambda batch: batch)
    expected = next(iter(loader))
    got = first_batch(loader, 4)
    assert len(got) == len(expected) and all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
