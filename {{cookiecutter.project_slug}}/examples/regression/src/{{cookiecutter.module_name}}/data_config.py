"""The data section of the config for the regression example (no torch here: validated at start-up)."""

from __future__ import annotations

from dataclasses import dataclass


def supplied_net_args(block: str) -> tuple[str, ...]:
    """Arguments of `model.net` that the data sets at build time (see DataModule.net_args)."""
    return ("in_dim", "out_dim")


@dataclass
class DataConfig:
    # scikit-learn's diabetes data: 442 patients, 10 features, the disease progression a year later (ships offline)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    split_seed: int = 0  # fixed: the same split for every run and seed
    batch_size: int = 32
    num_workers: int | str = "auto"  # loader processes; auto: 0 on CPU, up to 8 per GPU process
    pin_memory: bool | str = "auto"  # auto: on when training on a GPU


def validate_data(cfg: DataConfig) -> list[tuple[str, str]]:
    """Checks the schema's types cannot express: (key, what is wrong and what would be right) pairs."""
    problems: list[tuple[str, str]] = []
    if not (0 < cfg.val_fraction < 1 and 0 < cfg.test_fraction < 1 and cfg.val_fraction + cfg.test_fraction < 1):
        problems.append(
            (
                "data.val_fraction",
                f"{cfg.val_fraction} and data.test_fraction ({cfg.test_fraction}) must be in (0, 1)"
                " and sum to less than 1",
            )
        )
    if cfg.batch_size < 1:
        problems.append(("data.batch_size", f"{cfg.batch_size} must be >= 1"))
    return problems
