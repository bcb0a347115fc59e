"""`RunMetadata`: make every checkpoint self-describing."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from labblocks._version import __version__
from labblocks.registry.build import META_ATTR


def labblocks_modules(module: Any) -> dict[str, dict[str, Any]]:
    """`{submodule name: labblocks metadata}` for every submodule built by `labblocks.build`."""
    return {
        name: dict(getattr(m, META_ATTR)) for name, m in module.named_modules() if hasattr(m, META_ATTR)
    }


class RunMetadata(Callback):
    """Adds to each checkpoint: the resolved config, the seed, the git commit, the project's name
    (`checkpoint["project"]`, when given, so a project can refuse another project's checkpoint: see
    `labblocks.train.checkpoints.checkpoint_problem(path, project=...)`), and the key, arguments and labblocks
    version of every labblocks block in the model (so `labblocks.rebuild` can recreate it)."""

    def __init__(
        self, config: dict[str, Any], seed: int, git_commit: str | None, project: str | None = None
    ) -> None:
        self.config, self.seed, self.git_commit, self.project = config, seed, git_commit, project

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        checkpoint["config"] = self.config
        checkpoint["seed"] = self.seed
        checkpoint["git_commit"] = self.git_commit
        if self.project is not None:
            checkpoint["project"] = self.project
        checkpoint["labblocks"] = {"version": __version__, "modules": labblocks_modules(pl_module)}
