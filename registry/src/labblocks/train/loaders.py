"""Data plumbing every project shares: fixed stratified splits, and a DataModule base whose loaders never
touch the global RNG, shard across processes, and can be checkpointed mid-epoch."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torchdata.stateful_dataloader import StatefulDataLoader
from torchdata.stateful_dataloader.sampler import StatefulDistributedSampler

# torchdata calls an API this torch release deprecates, on every loader; nothing for a user to act on.
warnings.filterwarnings("ignore", message="'set_vital' is deprecated")


def stratified_split(
    labels: Sequence[int], val_fraction: float, test_fraction: float, seed: int
) -> tuple[list[int], list[int], list[int]]:
    """Indices of train, val and test, each with the class proportions of `labels`; fixed by `seed`."""
    idx = np.arange(len(labels))
    held = val_fraction + test_fraction
    train, rest = train_test_split(idx, test_size=held, stratify=labels, random_state=seed)
    val, test = train_test_split(
        rest, test_size=test_fraction / held, stratify=[labels[i] for i in rest], random_state=seed
    )
    return train.tolist(), val.tolist(), test.tolist()


def on_gpu(trainer: Any) -> bool:
    return trainer is not None and type(trainer.accelerator).__name__ == "CUDAAccelerator"


def loader_settings(num_workers: int | str, pin_memory: bool | str, trainer: Any) -> dict[str, Any]:
    """DataLoader worker and memory settings; `auto` picks by device: on CPU the main process loads the
    data (workers would compete with training for the same cores), on a GPU up to 8 workers per
    process feed pinned memory, and the workers stay alive between epochs."""
    gpu = on_gpu(trainer)
    if num_workers == "auto":
        per_process = (os.cpu_count() or 1) // max(getattr(trainer, "num_devices", 1) or 1, 1)
        num_workers = min(8, max(per_process - 1, 0)) if gpu else 0
    return {
        "num_workers": num_workers,
        "pin_memory": gpu if pin_memory == "auto" else bool(pin_memory),
        "persistent_workers": num_workers > 0,
    }


def seeded_loader(
    dataset: Any,
    batch_size: int,
    seed: int,
    train: bool,
    trainer: Any = None,
    num_workers: int | str = "auto",
    pin_memory: bool | str = "auto",
    collate_fn: Callable | None = None,
) -> StatefulDataLoader:
    """A loader whose shuffling depends only on (seed, epoch): Lightning calls the sampler's set_epoch,
    and the loader has its own generator. Each process gets its share of the data. The loader is
    stateful: checkpoints record its position, so a run resumed mid-epoch continues with the next batch."""
    world, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
    overfit = trainer is not None and trainer.overfit_batches > 0  # Lightning overfits on fixed batches
    sampler = None
    if train or world > 1:
        # Draws its order lazily, after Lightning's set_epoch, and records how far it got (mid-epoch resume).
        sampler = StatefulDistributedSampler(
            dataset, num_replicas=world, rank=rank, shuffle=train and not overfit, seed=seed
        )
    return StatefulDataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=collate_fn,
        generator=torch.Generator().manual_seed(seed),
        **loader_settings(num_workers, pin_memory, trainer),
    )


class SplitDataModule(L.LightningDataModule):
    """Loaders over fixed splits: subclasses fill `self.splits` ({"train", "val", "test"} -> dataset) and
    set `cfg` (with batch_size, num_workers and pin_memory), `seed` and, if batches need one, `collate_fn`
    (or `loader_dataset`, to load from another form of a split than `self.splits` holds)."""

    cfg: Any
    seed: int
    splits: dict[str, Any]
    collate_fn: Callable | None = None

    def _loader(self, name: str) -> StatefulDataLoader:
        c = self.cfg
        return seeded_loader(
            self.loader_dataset(name),
            c.batch_size,
            self.seed,
            train=name == "train",
            trainer=self.trainer,
            num_workers=c.num_workers,
            pin_memory=c.pin_memory,
            collate_fn=self.collate_fn,
        )

    def loader_dataset(self, name: str) -> Any:
        """The dataset the `name` split's loader reads."""
        return self.splits[name]

    def train_dataloader(self) -> StatefulDataLoader:
        return self._loader("train")

    def val_dataloader(self) -> StatefulDataLoader:
        return self._loader("val")

    def test_dataloader(self) -> StatefulDataLoader:
        return self._loader("test")
