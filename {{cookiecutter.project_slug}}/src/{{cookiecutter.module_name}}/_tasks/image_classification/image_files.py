"""Your images on disk (an ImageFolder: one folder per class), checked before training: a folder that is
not an image dataset, an empty or single class, or a file that is not a readable image is found at setup,
all at once with the paths, not in the middle of an epoch."""

from __future__ import annotations

from pathlib import Path

from labblocks.run.errors import DataError, listing
from PIL import Image, UnidentifiedImageError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
SKIP_HINT = "Fix or remove these files, or set data.skip_bad_images=true to leave unreadable files out."


def class_folders(root: Path) -> list[str]:
    """The class names (sub-folder names, sorted) of an ImageFolder; at least two."""
    if not root.is_dir():
        raise DataError(f"data.root: {root} is not a directory")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"data.root: {root} must hold one folder per class, at least two (found {classes or 'none'}); "
            "e.g. root/cat/1.jpg, root/dog/2.jpg"
        )
    return classes


def image_problem(path: Path) -> str | None:
    """Why `path` cannot be used as an image, or None (reads the header and, for PNG, the whole file)."""
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    try:
        with Image.open(path) as img:
            img.verify()  # structure and checksums, without decoding every pixel
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        return f"not a readable image ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'})"
    return None


def scan(folder: Path, class_names: list[str], check: bool, skip_bad: bool) -> tuple[list[Path], list[int]]:
    """Image files and labels under `folder/<class>/`, in a fixed order. Every problem is reported in one
    DataError; with `skip_bad`, unreadable files are left out with a count printed instead."""
    found = class_folders(folder)
    if found != class_names:
        raise DataError(f"data.root: {folder} has classes {found}, but the run's classes are {class_names}")
    paths: list[Path] = []
    labels: list[int] = []
    empty: list[str] = []
    bad: list[str] = []
    for label, name in enumerate(class_names):
        files = sorted(p for p in (folder / name).rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
        if not files:
            empty.append(f"{folder / name}: no image files ({', '.join(EXTENSIONS)})")
        for path in files:
            why = image_problem(path) if check else None
            if why is None:
                paths.append(path)
                labels.append(label)
            else:
                bad.append(f"{path}: {why}")
    problems = []  # all of them in one report
    if empty:
        problems.append(listing(empty, "empty class folder(s)", "Every class needs at least one image."))
    if bad and not skip_bad:
        problems.append(listing(bad, "unreadable image file(s)", SKIP_HINT))
    if problems:
        raise DataError("\n".join(problems))
    if bad:
        print(
            f"data: left out {len(bad)} unreadable image files under {folder} (data.skip_bad_images); "
            f"the first: {bad[0]}",
            flush=True,
        )
    return paths, labels


def load(path: Path, mode: str) -> Image.Image:
    """The image at `path` in PIL mode `mode`; a file that cannot be decoded raises a DataError naming it."""
    try:
        with Image.open(path) as img:
            return img.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: not a readable image ({type(e).__name__}: {e}). {SKIP_HINT}") from None
