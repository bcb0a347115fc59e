"""The first items of a loader's dataset as one batch, fetched the way the DataLoader fetches them."""

from __future__ import annotations

from typing import Any


def first_batch(loader: Any, n: int) -> Any:
    """The first `n` items of `loader.dataset`, collated with the loader's `collate_fn`: through
    `dataset.__getitems__(indices)` where the dataset has it (a dataset that returns whole batches), else
    item by item, as torch's DataLoader does."""
    indices = list(range(min(n, len(loader.dataset))))
    getitems = getattr(loader.dataset, "__getitems__", None)
    items = getitems(indices) if getitems is not None else [loader.dataset[i] for i in indices]
    return loader.collate_fn(items)
