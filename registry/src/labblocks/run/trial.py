"""One trial of the `search` command: sample the space, build and validate the trial's config, train it in
its own run directory, return the metric. Imports Lightning (the search loads it only once every input has
been checked)."""

from __future__ import annotations

import math
import os
import socket
import sys
import time
import traceback
from typing import Any

import optuna
import yaml
from omegaconf import DictConfig
from optuna_integration import PyTorchLightningPruningCallback

from labblocks.run.config import Request, run_dir, to_plain
from labblocks.run.errors import ConfigError, RunError, shown
from labblocks.run.fit import train
from labblocks.run.project import Project
from labblocks.run.search_space import Space
from labblocks.run.study import Interrupted, OverBudget, Settings, TrialFailed, frozen, over_budget


def _finish_wandb(exit_code: int) -> None:
    """End a W&B run left open by a trial that raised (Lightning leaves it open on errors), so the next
    trial does not log into it."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.run.finish(exit_code=exit_code)


class Objective:
    """Runs one trial: sample the space, build and validate the trial's config, train, return the metric."""

    def __init__(self, project: Project, request: Request, space: Space, settings: Settings, base: DictConfig):
        self.project, self.request, self.space, self.settings = project, request, space, settings
        self.search_layer: dict[str, Any] = {
            "checkpoint.monitor": settings.metric,  # the trial's best checkpoint and value are the study's metric
            "checkpoint.mode": "max" if settings.direction == "maximize" else "min",
        }
        if base.logger.group is None:
            self.search_layer["logger.group"] = settings.study  # one W&B group per study
        if base.trainer.devices == "auto":
            self.search_layer["trainer.devices"] = 1  # one device per trial (see search.settings_for)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.number: int | None = None  # the trial this worker runs now (or ran last)
        self.stopped: int | None = None  # the trial a signal stopped

    def trial_config(self, number: int, values: dict[str, Any]) -> DictConfig:
        """The config of the trial in `trial-<number>`: the command line's, the sampled values, the search's."""
        search = {**self.search_layer, "run.name": f"{self.settings.study}/trial-{number:03d}"}
        layers = [(f"{self.space.path} (trial {number})", values), ("search", search)]
        return self.project.load(self.request, extra=layers)

    def __call__(self, trial: optuna.Trial) -> float:
        self.number = trial.number
        try:
            return self.run(trial)
        except (TrialFailed, OverBudget) as e:
            trial.set_user_attr("error", str(e))
            raise
        except Interrupted as e:
            self.stopped = trial.number
            trial.set_user_attr("error", f"{e}; queued again")
            raise
        except KeyboardInterrupt:
            self.stopped = trial.number
            raise

    def run(self, trial: optuna.Trial) -> float:
        s = self.settings
        if over_budget(trial.study, trial.number, s.trials):
            trial.set_user_attr("over_budget", True)
            raise OverBudget(f"another worker took the study's last trial; trial {trial.number} was not run")
        record = frozen(trial.study, trial.number)
        original = record.system_attrs.get("failed_trial")  # set on a retry, which copies the user attributes
        if record.user_attrs.get("error"):
            trial.set_user_attr("error", "")
        values = {p.key: p.suggest(trial) for p in self.space.params}
        where = trial.number if original is None else original  # a retry continues in its original's directory
        try:
            cfg = self.trial_config(where, values)
        except ConfigError as e:
            raise TrialFailed(f"config error: {e}") from None
        rd = run_dir(cfg)
        trial.set_user_attr("config", to_plain(cfg))
        trial.set_user_attr("run_dir", str(rd))
        trial.set_user_attr("worker", self.worker)
        if original is None and rd.is_dir() and any(rd.iterdir()):
            raise TrialFailed(
                f"{rd} exists, but trial {trial.number} is new to the study: it was left by another "
                "study of this name (a deleted database?). Remove it, or use another --name"
            )
        again = f", retry of trial {original}" if original is not None else ""
        sampled = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        print(f"\n[search] trial {trial.number} started ({shown(rd)}{again}): {sampled}", flush=True)
        callbacks = [PyTorchLightningPruningCallback(trial, monitor=s.metric)] if s.prune else []
        start = time.perf_counter()
        try:
            # Not tested: a search selects on validation only; `train -c best.yaml` tests the winner.
            result = train(self.project, cfg, extra_callbacks=callbacks, test=False)
        except optuna.TrialPruned as e:
            _finish_wandb(0)
            print(f"[search] trial {trial.number} pruned: {e}", flush=True)
            raise
        except RunError as e:
            _finish_wandb(1)
            raise TrialFailed(str(e)) from None
        except Exception as e:
            _finish_wandb(1)
            traceback.print_exc()
            raise TrialFailed(f"{type(e).__name__}: {e}") from None
        if result.interrupted is not None:
            raise Interrupted(result.interrupted.signum, str(result.interrupted))
        value = result.best_score
        if value is None or not math.isfinite(value):
            raise TrialFailed(f"no finite {s.metric} was logged (best: {value})")
        recorded = rd / "config.yaml"  # the config as the run recorded it (with what the network and data decided)
        trial.set_user_attr("config", yaml.safe_load(recorded.read_text(encoding="utf-8")))
        seconds = time.perf_counter() - start
        print(f"[search] trial {trial.number} complete: {s.metric} {value:.4f} in {seconds:.0f} s", flush=True)
        return value
