"""The `search` command: hyperparameter search with Optuna, `<prog> search [--name STUDY] [--trials N]`.

Needs no server: the study lives in a database, by default an SQLite file `<run.output_dir>/<study>/study.db`;
`--storage URL` (PostgreSQL, MySQL) lets workers on many machines share one study. The search space is the
project's `configs/sweep.yaml`, the W&B sweep file (same dotted keys and distributions; see
labblocks.run.search_space), so one file serves both backends. Every trial is a normal training run in
`<run.output_dir>/<study>/trial-<n>/` (checkpoints, logger run; the W&B group is the study), its sampled
values one more config layer, validated like any override. The space, the flags and the database are checked
before torch loads.

Rerunning the same command continues the study: finished trials are kept, `--trials` is the study's
total. A trial whose worker died (heartbeat older than the grace period) or was stopped by a signal is
marked failed and retried with the same values, resuming from its run directory's last checkpoint. At the
end (or with `--report` alone) the best config, a table of trials and plots go to the study's folder.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import optuna
from omegaconf import DictConfig

from labblocks.run.cli import request
from labblocks.run.config import value_of
from labblocks.run.project import Project
from labblocks.run.search_space import SAMPLERS, SearchError, Space, load_space
from labblocks.run.study import (
    Interrupted,
    OverBudget,
    Settings,
    TrialFailed,
    budget_used,
    counts,
    frozen,
    given_back,
    load_study,
    open_study,
    report,
    requeue,
    said,
    shown_url,
    state,
)

DEFAULT_TRIALS = 20
FAILURES_IN_A_ROW = 3  # a worker stops after this many failed trials in a row (a bug, not a bad sample)


def space_path(project: Project, args: argparse.Namespace) -> Path:
    """`--space`, else the project's configs/sweep.yaml."""
    return Path(args.space) if args.space else project.config_dir / "sweep.yaml"


def refused(args: argparse.Namespace, base: DictConfig) -> list[str]:
    """What a search does not take: each trial resumes from its own run directory."""
    problems = []
    if args.fresh or not base.run.resume:
        what = "--fresh" if args.fresh else "run.resume=false"
        problems.append(f"{what}: not for a search (a rerun continues the study); start a new one with another --name")
    if base.run.ckpt_path:
        problems.append("run.ckpt_path: not for a search (each trial resumes from its own run directory)")
    return problems


def settings_for(project: Project, args: argparse.Namespace, base: DictConfig, space: Space | None) -> Settings:
    """The study's settings from the flags, the space file and the base config (`space` None: `--report`)."""
    study = args.name or "search"
    study_dir = Path(base.run.output_dir) / study
    storage = args.storage or f"sqlite:///{study_dir / 'study.db'}"
    if args.heartbeat < 1:
        raise SearchError(f"--heartbeat {args.heartbeat}: must be >= 1 (seconds)")
    if space is None:
        return Settings(study, storage, 0, "random", "", "maximize", False, args.heartbeat, study_dir)
    problems = refused(args, base)
    metric = args.metric or space.metric or base.checkpoint.monitor
    if metric not in project.metrics:
        source = "--metric" if args.metric else f"{space.path}: metric.name"
        problems.append(f"{source} {metric!r}: not a logged metric; choose one of {', '.join(project.metrics)}")
    mode = value_of(base.checkpoint.mode)
    direction = args.direction or space.goal or ("maximize" if mode == "max" else "minimize")
    trials = args.trials if args.trials is not None else space.run_cap or DEFAULT_TRIALS
    if trials < 1:
        problems.append(f"--trials {trials}: must be >= 1")
    sampler = args.sampler or SAMPLERS[space.method]
    if sampler == "grid":
        ranges = [p.key for p in space.params if p.kind not in ("categorical", "constant")]
        if ranges:
            problems.append(f"{space.path}: the grid sampler needs values lists; ranges: {', '.join(ranges)}")
    t = base.trainer
    devices = len(t.devices) if not isinstance(t.devices, (int, str)) else t.devices
    if (isinstance(devices, int) and devices > 1) or t.num_nodes > 1:
        problems.append(
            f"trainer.devices {t.devices!r}, trainer.num_nodes {t.num_nodes}: a search runs each trial "
            "on one device in its own worker; start one worker per device instead "
            "(e.g. CUDA_VISIBLE_DEVICES=1 ... search)"
        )
    if problems:
        raise SearchError(problems)
    return Settings(study, storage, trials, sampler, metric, direction, args.prune, args.heartbeat, study_dir)


def make_sampler(name: str, space: Space) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(constant_liar=True)  # workers avoid what the others are running
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=random.randrange(2**31))
    return optuna.samplers.RandomSampler()  # unseeded: parallel workers draw different values


def make_pruner(settings: Settings, space: Space) -> optuna.pruners.BasePruner:
    """With --prune: the sweep file's early_terminate (Hyperband, W&B's min_iter, max_iter and eta), else the
    median rule; steps are epochs."""
    if not settings.prune:
        return optuna.pruners.NopPruner()
    if space.early_terminate:
        e = space.early_terminate
        return optuna.pruners.HyperbandPruner(
            min_resource=int(e.get("min_iter", 1)),
            max_resource=int(e.get("max_iter", 0)) or "auto",
            reduction_factor=int(e.get("eta", 3)),
        )
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


def run_search(study: Any, objective: Any, settings: Settings, budget: int) -> int:
    """Run trials until the study has `budget` of them finished (this worker and any others); then wait for
    the ones still running elsewhere, retrying those whose worker died. The exit code. `objective` is a
    labblocks.run.trial.Objective."""
    failures = 0
    waited = False
    while True:
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial: failed, queued again as waiting
        n = counts(study)
        if n["waiting"] == 0 and budget_used(study) >= budget:
            if n["running"] == 0:
                return 0
            if not waited:
                print(
                    f"[search] waiting for {n['running']} running trial(s) of other workers (a worker that "
                    f"died is noticed {3 * settings.heartbeat} s after its last heartbeat)",
                    flush=True,
                )
                waited = True
            time.sleep(settings.heartbeat)
            continue
        try:
            study.optimize(objective, n_trials=1, catch=(TrialFailed, OverBudget), gc_after_trial=True)
        except (Interrupted, KeyboardInterrupt) as e:
            if objective.stopped is not None:
                requeue(study, objective.stopped)
                print(
                    f"[search] stopped during trial {objective.stopped}; it is queued again with its checkpoint. "
                    "Run the same command to continue the study",
                    file=sys.stderr,
                    flush=True,
                )
            return 128 + getattr(e, "signum", signal.SIGINT)
        if objective.number is None:
            continue
        last = frozen(study, objective.number)
        if state(last) == "fail" and not given_back(last):
            failures += 1
            error = last.user_attrs.get("error", "see above")
            print(f"[search] trial {last.number} failed: {error}", file=sys.stderr, flush=True)
            if failures >= FAILURES_IN_A_ROW:
                print(f"[search] stopping: {failures} trials failed in a row", file=sys.stderr, flush=True)
                return 1
        elif state(last) in ("complete", "pruned"):
            failures = 0


def command(project: Project, args: argparse.Namespace) -> int:
    """`search`: check everything (no torch), open the study, run trials, report. The exit code (1: trials
    kept failing; 128 + signal number: stopped, the trial queued again)."""
    req = request(args)
    base = project.load(req)
    if args.report:
        settings = settings_for(project, args, base, None)
        report(load_study(settings), settings.study_dir, settings.storage, project.prog)
        return 0
    space = load_space(space_path(project, args), project, req)
    settings = settings_for(project, args, base, space)
    budget = min(settings.trials, space.grid_size()) if settings.sampler == "grid" else settings.trials
    if settings.storage.startswith("sqlite") and not args.storage:
        settings.study_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(settings, make_sampler(settings.sampler, space), make_pruner(settings, space))
    print(
        f"[search] study {settings.study} in {shown_url(settings.storage)}: {settings.direction} {settings.metric}, "
        f"{len(space.params)} parameter(s) from {space.path}, {settings.sampler} sampler"
        f"{', pruning' if settings.prune else ''}, {budget} trials ({said(counts(study))} so far)",
        flush=True,
    )
    # The trial runner imports Lightning; everything above ran without it, so bad input costs no torch import.
    from labblocks.run.trial import Objective

    objective = Objective(project, req, space, settings, base)
    try:
        code = run_search(study, objective, settings, budget)
    finally:
        report(study, settings.study_dir, settings.storage, project.prog)
    return code
