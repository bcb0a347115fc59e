"""Data plumbing shared by every task: fixed stratified splits, and a DataModule base whose loaders
never touch the global RNG (so a resumed run sees the same batches as an uninterrupted one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler


def stratified_split(
    labels: Sequence[int], val_fraction: float, test_fraction: float, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """Indices of train, val and test, each with the class proportions of `labels`; fixed by `seed`."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    held = val_fraction + test_fraction
    train, rest = train_test_split(idx, test_size=held, stratify=labels, random_state=seed)
    val, test = train_test_split(
        rest, test_size=test_fraction / held, stratify=[labels[i] for i in rest], random_state=seed
    )
    return train.tolist(), val.tolist(), test.tolist()


def seeded_loader(
    dataset: Any,
    batch_size: int,
    seed: int,
    train: bool,
    trainer: Any = None,
    num_workers: int = 0,
    collate_fn: Callable | None = None,
) -> DataLoader:
    """A DataLoader whose shuffling depends only on (seed, epoch): Lightning calls the sampler's
    set_epoch, and the loader has its own generator. Sharded when training on several devices."""
    sampler = None
    if train:
        world, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=collate_fn,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
        generator=torch.Generator().manual_seed(seed),
    )


class SplitDataModule(L.LightningDataModule):
    """Loaders over fixed splits: subclasses fill `self.splits` ({"train", "val", "test"} -> dataset) and
    set `cfg` (with batch_size and num_workers), `seed` and, if batches need one, `collate_fn`."""

    cfg: Any
    seed: int
    splits: dict[str, Any]
    collate_fn: Callable | None = None

    def _loader(self, name: str) -> DataLoader:
        return seeded_loader(self.splits[name], self.cfg.batch_size, self.seed, train=name == "train",
                             trainer=self.trainer, num_workers=self.cfg.num_workers, collate_fn=self.collate_fn)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
