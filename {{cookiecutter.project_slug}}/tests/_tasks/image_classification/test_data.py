"""The data: batch shapes, dtypes and ranges, fixed splits, train vs eval transforms, ImageFolder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from labblocks.run.errors import DataError
from PIL import Image

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.train import build_datamodule, build_model


@pytest.fixture
def data(make_cfg):
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    dm.setup("fit")
    return cfg, dm


def test_batch_shapes_dtypes_and_ranges(data) -> None:
    cfg, dm = data
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (cfg.data.batch_size, dm.in_chans, cfg.data.image_size, cfg.data.image_size)  # (B, C, H, W)
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and y.shape == (cfg.data.batch_size,)
    assert int(y.min()) >= 0 and int(y.max()) < dm.num_classes == 10
    mean, std = dm.data_config["mean"][0], dm.data_config["std"][0]
    lo, hi = (0 - mean) / std, (1 - mean) / std  # normalised pixels of [0, 1] images
    assert lo - 1e-4 <= float(x.min()) < float(x.max()) <= hi + 1e-4


def test_splits_are_disjoint_stratified_and_fixed(make_cfg) -> None:
    def split_labels(cfg):
        dm = build_datamodule(cfg)
        dm.setup("fit")
        return {name: s.labels for name, s in dm.splits.items()}, {name: s.images for name, s in dm.splits.items()}

    labels, images = split_labels(make_cfg())
    n_images = sum(len(v) for v in labels.values())
    assert n_images == 1797  # all of scikit-learn's digits, each in exactly one split
    ids = {name: {id(img) for img in imgs} for name, imgs in images.items()}
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])
    assert len(set(labels["val"])) == 10 and len(set(labels["test"])) == 10
    again, _ = split_labels(make_cfg("run.seed=7"))  # the run seed does not move the split
    assert again == labels
    other, _ = split_labels(make_cfg("data.split_seed=1"))
    assert other["val"] != labels["val"]


def test_train_transform_augments_and_eval_transform_does_not(data) -> None:
    _, dm = data
    train, val = dm.transform(train=True), dm.transform(train=False)
    img = dm.splits["train"].images[0]
    torch.manual_seed(0)
    draws = [train(img) for _ in range(10)]
    assert all(d.shape == val(img).shape for d in draws)
    assert any(not torch.equal(draws[0], d) for d in draws[1:]), "training transform should be random"
    assert torch.equal(val(img), val(img)), "evaluation transform should be deterministic"
    assert any(not torch.equal(d, val(img)) for d in draws)


def test_imagefolder_source(make_cfg, tmp_path: Path) -> None:
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    cfg = make_cfg(
        "data.source=imagefolder",
        f"data.root={root}",
        "data.in_chans=3",
        "data.batch_size=4",
        "data.val_fraction=0.2",
        "data.test_fraction=0.2",
    )
    dm = build_datamodule(cfg)
    assert dm.class_names == ["cat", "dog"]
    assert dm.net_args(str(cfg.model.net.block)) == {"in_chans": 3, "num_classes": 2}
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 16, 16) and set(y.tolist()) <= {0, 1}
    assert len(dm.splits["train"]) == 12 and len(dm.splits["val"]) == 4 and len(dm.splits["test"]) == 4


def test_imagefolder_needs_class_folders(make_cfg, tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    cfg = make_cfg("data.source=imagefolder", f"data.root={tmp_path / 'flat'}")
    with pytest.raises(DataError, match="one folder per class"):
        build_datamodule(cfg)


def test_sample_rows_render_images_and_labels(data) -> None:
    _, dm = data
    batch = next(iter(dm.val_dataloader()))
    rows = dm.render_samples(batch)
    assert len(rows) == len(batch[1]) and rows[0]["label"] in dm.class_names
    img = rows[0]["image"]
    assert img.shape[-1] == dm.in_chans and img.min() >= 0.0 and img.max() <= 1.0


def test_imagefolder_experiment_validates(tmp_path: Path) -> None:
    from labblocks.run.errors import ConfigError

    from {{cookiecutter.module_name}}.config import load_config

    with pytest.raises(ConfigError, match="data.root: required when data.source is imagefolder"):
        load_config(experiment="imagefolder")
    cfg = load_config(experiment="imagefolder", overrides=[f"data.root={tmp_path}"])
    assert cfg.data.source.value == "imagefolder" and cfg.data.in_chans == 3


def _folder_with_bad_files(root: Path) -> list[Path]:
    """Two classes of good images plus three bad files: empty, text named .png, a PNG cut in half."""
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    bad = [root / "cat" / "empty.png", root / "dog" / "notes.png", root / "dog" / "cut.png"]
    bad[0].write_bytes(b"")
    bad[1].write_text("not an image")
    bad[2].write_bytes((root / "dog" / "0.png").read_bytes()[:200])
    return bad


def test_bad_images_are_all_found_at_setup_with_their_paths(make_cfg, tmp_path: Path) -> None:
    bad = _folder_with_bad_files(tmp_path / "images")
    cfg = make_cfg("data.source=imagefolder", f"data.root={tmp_path / 'images'}", "data.in_chans=3")
    dm = build_datamodule(cfg)
    with pytest.raises(DataError) as err:
        dm.setup("fit")
    message = str(err.value)
    assert message.startswith("3 unreadable image file(s):") and "data.skip_bad_images=true" in message
    assert all(str(path) in message for path in bad) and "empty file (0 bytes)" in message


def test_bad_images_can_be_skipped_with_a_count(make_cfg, tmp_path: Path, capsys) -> None:
    _folder_with_bad_files(tmp_path / "images")
    cfg = make_cfg(
        "data.source=imagefolder", f"data.root={tmp_path / 'images'}", "data.in_chans=3", "data.skip_bad_images=true"
    )
    dm = build_datamodule(cfg)
    dm.setup("fit")
    assert sum(len(s) for s in dm.splits.values()) == 24
    assert "left out 3 unreadable image files" in capsys.readouterr().out


def test_an_empty_class_folder_is_refused_through_the_train_command(tmp_path: Path, capsys) -> None:
    """With the unreadable files in the same report (and, with skip_bad_images, not in it)."""
    root = tmp_path / "images"
    bad = _folder_with_bad_files(root)
    (root / "bird").mkdir()
    args = ["-e", "fast", "-e", "imagefolder", f"data.root={root}", f"run.output_dir={tmp_path / 'runs'}"]
    assert main(["train", *args, "logger.kind=csv"]) == 2
    err = capsys.readouterr().err
    assert "1 empty class folder(s)" in err and str(root / "bird") in err and "Traceback" not in err
    assert not (tmp_path / "runs" / "default" / "csv").exists()  # found before the logger started a run
    assert "3 unreadable image file(s)" in err and all(str(path) in err for path in bad)
    assert main(["train", *args, "logger.kind=csv", "data.skip_bad_images=true"]) == 2
    err = capsys.readouterr().err
    assert "1 empty class folder(s)" in err and "unreadable" not in err


def test_preprocessing_follows_the_network_as_config_values(make_cfg) -> None:
    """Without building the network, the data takes interpolation, mean, std and crop from its timm pretrained
    config (as the network itself reports it once built); a `data.preprocess` value set in the config wins."""
    cfg = make_cfg()
    dm = build_datamodule(cfg)
    net = build_model(cfg, dm).net
    for key in ("interpolation", "crop_pct", "mean", "std"):
        assert dm.data_config[key] == pytest.approx(net.data_config[key]), key
    mine = build_datamodule(make_cfg("data.preprocess.mean=[0.25]", "data.preprocess.interpolation=nearest"))
    assert mine.data_config["mean"] == (0.25,) and mine.data_config["interpolation"] == "nearest"
    assert mine.data_config["std"] == pytest.approx(net.data_config["std"])  # the values left null still follow
