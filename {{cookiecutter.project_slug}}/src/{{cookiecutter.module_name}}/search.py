"""Hyperparameter search with Optuna: `python -m {{cookiecutter.module_name}}.search [--name STUDY] [--trials N]`.

Needs no server: the study lives in a database, by default an SQLite file `runs/<study>/study.db`;
`--storage URL` (PostgreSQL, MySQL) lets workers on many machines share one study. The search space is
`configs/sweep.yaml`, the W&B sweep file (same dotted keys and distributions; see search_space.py), so one
file serves both backends. Every trial is a normal training run in `runs/<study>/trial-<n>/` (checkpoints,
logger run; the W&B group is the study), its sampled values applied as a last config layer and validated
like any override. The search space is checked against the config schema before torch loads.

Rerunning the same command continues the study: finished trials are kept, `--trials` is the study's
total. A trial whose worker died (heartbeat older than the grace period) or was stopped by a signal is
marked failed and retried with the same values, resuming from its run directory's last checkpoint. At the
end (or with `--report` alone) the best config, a table of trials and plots go to `runs/<study>/`.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import signal
import socket
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from {{cookiecutter.module_name}}.cli import build_parser, flags, parse
from {{cookiecutter.module_name}}.config import CONFIG_DIR, ConfigError, load_config, to_plain
from {{cookiecutter.module_name}}.search_space import (
    GOALS,
    SAMPLERS,
    SearchError,
    Space,
    load_space,
    shown_path,
    values_layer,
)

PROG = "python -m {{cookiecutter.module_name}}.search"
DEFAULT_SPACE = CONFIG_DIR / "sweep.yaml"
DEFAULT_TRIALS = 20
FAILURES_IN_A_ROW = 3  # a worker stops after this many failed trials in a row (a bug, not a bad sample)
MAX_RETRIES = 3  # a trial whose worker died is retried this many times at most

# -- the study: storage, budget, trials ----------------------------------------------------------------


@dataclass
class Settings:
    """What the command line decides about the study."""

    study: str
    storage: str
    trials: int
    sampler: str
    metric: str
    direction: str
    prune: bool
    heartbeat: int
    study_dir: Path


class Interrupted(Exception):
    """A trial stopped by a signal after saving its checkpoint; the worker stops (exit 128 + signal)."""

    def __init__(self, signum: int, message: str) -> None:
        self.signum = signum
        super().__init__(message)


class TrialFailed(Exception):
    """A trial that could not finish; the study records it as failed and the worker goes on."""


class OverBudget(Exception):
    """Another worker took the study's last trial first; this trial is given back without running."""


def shown_url(url: str) -> str:
    """The storage URL without its password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def open_storage(url: str, heartbeat: int) -> Any:
    """Optuna's RDB storage with heartbeats: a trial whose worker stops beating for 3 heartbeats is failed
    and retried (Optuna's RetryHeartbeatStaleTrialCallback) by the next worker that looks."""
    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the search prints its own lines per trial
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats, plots
    engine: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine = {"connect_args": {"timeout": 60}}  # workers wait for each other's writes instead of failing
    last: Exception | None = None
    for _ in range(5):
        try:
            return RDBStorage(
                url,
                engine_kwargs=engine,
                heartbeat_interval=heartbeat,
                grace_period=3 * heartbeat,
                heartbeat_stale_trial_callback=retry_callback(),
            )
        except ImportError as e:
            raise SearchError(
                f"--storage {shown_url(url)}: the database driver is not installed ({e}); "
                "for PostgreSQL: uv add psycopg2-binary, for MySQL: uv add pymysql"
            ) from None
        except Exception as e:
            last = e
            if not _creation_race(e):
                break
            time.sleep(0.2 + random.random())  # workers that start together on a new database race on its tables
    reason = str(getattr(last, "orig", None) or last).splitlines()[0]
    raise SearchError(f"--storage {shown_url(url)}: cannot open the study's database: {reason}")


def _creation_race(error: Exception) -> bool:
    """Whether `error` is another worker creating the same new database's tables at the same moment."""
    from optuna.exceptions import StorageInternalError
    from sqlalchemy.exc import IntegrityError

    return isinstance(error, (StorageInternalError, IntegrityError)) or "already exists" in str(error)


def retry_callback() -> Any:
    """Optuna's callback that queues a failed trial again with the same values (and its attributes, so the
    retry knows its original trial and run directory), at most MAX_RETRIES times."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES, inherit_intermediate_values=True)


def _state(trial: Any) -> str:
    return trial.state.name.lower()


def _given_back(trial: Any) -> bool:
    return bool(trial.user_attrs.get("over_budget"))


def counts(study: Any) -> dict[str, int]:
    """Trials by state (complete, pruned, running, waiting, fail), leaving out ones given back unrun."""
    out = {"complete": 0, "pruned": 0, "running": 0, "waiting": 0, "fail": 0}
    for t in study.get_trials(deepcopy=False):
        if not _given_back(t):
            out[_state(t)] += 1
    return out


def said(n: dict[str, int]) -> str:
    """Counts as words: `3 complete, 0 pruned, 1 running, 0 queued, 1 failed`."""
    words = {"complete": "complete", "pruned": "pruned", "running": "running", "waiting": "queued", "fail": "failed"}
    return ", ".join(f"{n[k]} {w}" for k, w in words.items())


def budget_used(study: Any, before: int | None = None) -> int:
    """Trials that count towards --trials (finished, running or queued; not failed), optionally only those
    numbered below `before`."""
    return sum(
        1 for t in study.get_trials(deepcopy=False) if _state(t) != "fail" and (before is None or t.number < before)
    )


def over_budget(study: Any, number: int, trials: int) -> bool:
    """Whether trial `number`, just created, would exceed the study's total. Optuna numbers trials in the order
    they are created, under a lock in the database; a trial runs only if fewer than `trials` trials that
    count come before it. So workers that ask at the same moment never run more than `trials` in all."""
    return budget_used(study, before=number) >= trials


def frozen(study: Any, number: int) -> Any:
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def _finish_wandb(exit_code: int) -> None:
    """End a W&B run left open by a trial that raised (Lightning leaves it open on errors), so the next
    trial does not log into it."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.run.finish(exit_code=exit_code)


class Objective:
    """Runs one trial: sample the space, build and validate the trial's config, train, return the metric."""

    def __init__(self, args: argparse.Namespace, space: Space, settings: Settings, base: Any) -> None:
        self.args, self.space, self.settings = args, space, settings
        self.search_layer: dict[str, Any] = {
            "checkpoint.monitor": settings.metric,  # the trial's best checkpoint and value are the study's metric
            "checkpoint.mode": "max" if settings.direction == "maximize" else "min",
        }
        if base.logger.group is None:
            self.search_layer["logger.group"] = settings.study  # one W&B group per study
        if base.trainer.devices == "auto":
            self.search_layer["trainer.devices"] = 1  # one device per trial (see settings_for)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.number: int | None = None  # the trial this worker runs now (or ran last)
        self.stopped: int | None = None  # the trial a signal stopped

    def trial_config(self, number: int, values: dict[str, Any]) -> Any:
        search = {**self.search_layer, "run.name": f"{self.settings.study}/trial-{number:03d}"}
        return load_config(
            **base_args(self.args),
            extra=(
                (f"{self.space.path} (trial {number})", values_layer(values)),
                ("search", search),
            ),
        )

    def __call__(self, trial: Any) -> float:
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

    def run(self, trial: Any) -> float:
        import optuna

        from {{cookiecutter.module_name}} import runner
        from {{cookiecutter.module_name}}.config import run_dir

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
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        print(f"\n[search] trial {trial.number} started ({shown_path(rd)}{again}): {shown}", flush=True)
        callbacks = []
        if s.prune:
            from optuna_integration import PyTorchLightningPruningCallback

            callbacks.append(PyTorchLightningPruningCallback(trial, monitor=s.metric))
        start = time.perf_counter()
        try:
            # Not tested: a search selects on validation only; `train -c best.yaml` tests the winner.
            result = runner.train(cfg, extra_callbacks=callbacks, test=False)
        except optuna.TrialPruned as e:
            _finish_wandb(0)
            print(f"[search] trial {trial.number} pruned: {e}", flush=True)
            raise
        except (runner.RunError, ConfigError) as e:
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
        print(
            f"[search] trial {trial.number} complete: {s.metric} {value:.4f} in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        return value


def base_args(args: argparse.Namespace) -> dict[str, Any]:
    """load_config's arguments for the command line's config, experiments, flags and overrides."""
    return {"config": args.config, "experiment": args.experiment, "flags": flags(args), "overrides": args.overrides}


def make_sampler(name: str, space: Space) -> Any:
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(constant_liar=True)  # workers avoid what the others are running
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=random.randrange(2**31))
    return optuna.samplers.RandomSampler()  # unseeded: parallel workers draw different values


def make_pruner(settings: Settings, space: Space) -> Any:
    """With --prune: the sweep file's early_terminate (Hyperband, W&B's min_iter, max_iter and eta), else the
    median rule; steps are epochs."""
    import optuna

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


def open_study(settings: Settings, space: Space | None) -> Any:
    """Create or load the study; a study keeps the metric and direction it was created with."""
    import optuna

    storage = open_storage(settings.storage, settings.heartbeat)
    sampler = make_sampler(settings.sampler, space) if space is not None else None
    pruner = make_pruner(settings, space) if space is not None else None
    if space is None:  # --report: the study must exist
        try:
            return optuna.load_study(study_name=settings.study, storage=storage)
        except KeyError:
            raise SearchError(f"--report: no study {settings.study!r} in {shown_url(settings.storage)}") from None
    study = optuna.create_study(
        study_name=settings.study,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction=settings.direction,
        load_if_exists=True,
    )
    recorded = study.user_attrs.get("metric")
    if recorded is None:
        study.set_user_attr("metric", settings.metric)
    elif recorded != settings.metric or study.direction.name.lower() != settings.direction:
        raise SearchError(
            f"study {settings.study!r} {study.direction.name.lower()}s {recorded}; this command asks "
            f"to {settings.direction} {settings.metric}. Use another --name, or the study's metric"
        )
    return study


def run_search(study: Any, objective: Objective, settings: Settings, budget: int) -> int:
    """Run trials until the study has `budget` of them finished (this worker and any others); then wait for
    the ones still running elsewhere, retrying those whose worker died. The exit code."""
    import optuna

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
        if _state(last) == "fail" and not _given_back(last):
            failures += 1
            print(
                f"[search] trial {last.number} failed: {last.user_attrs.get('error', 'see above')}",
                file=sys.stderr,
                flush=True,
            )
            if failures >= FAILURES_IN_A_ROW:
                print(f"[search] stopping: {failures} trials failed in a row", file=sys.stderr, flush=True)
                return 1
        elif _state(last) in ("complete", "pruned"):
            failures = 0


def requeue(study: Any, number: int) -> None:
    """Queue a trial stopped by a signal again (as Optuna does for a dead worker's): same values, same run
    directory, so it resumes from the checkpoint it saved."""
    trial = frozen(study, number)
    if _state(trial) == "fail" and not _given_back(trial):
        retry_callback()(study, trial)


# -- results -------------------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file, so that two workers finishing together never leave a torn file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def trial_rows(study: Any, metric: str) -> list[dict[str, Any]]:
    """One row per trial (those given back unrun left out), parameters in the order first sampled."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if _given_back(t):
            continue
        seconds = t.duration.total_seconds() if t.duration is not None else None
        retry_of = t.system_attrs.get("failed_trial")
        rows.append(
            {
                "trial": t.number,
                "state": _state(t),
                metric: t.value,
                **t.params,
                "seconds": None if seconds is None else round(seconds, 1),
                "retry_of": "" if retry_of is None else retry_of,
                "run_dir": t.user_attrs.get("run_dir", ""),
                "worker": t.user_attrs.get("worker", ""),
                "error": t.user_attrs.get("error", ""),
            }
        )
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def table(rows: list[dict[str, Any]], leave_out: tuple[str, ...] = ("worker", "error")) -> str:
    """Rows as an aligned text table (columns empty in every row left out)."""
    columns = [
        c
        for c in dict.fromkeys(k for row in rows for k in row)
        if c not in leave_out and any(row.get(c) not in (None, "") for row in rows)
    ]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_best(study: Any, metric: str, path: Path) -> Any:
    """The best trial's full config as a file `train -c` takes (run.name `<study>-best`); the best trial."""
    best = study.best_trial
    config = best.user_attrs["config"]
    config["run"]["name"] = f"{study.study_name}-best"
    header = (
        f"# Best trial of study {study.study_name}: trial {best.number}, {metric} = {best.value:.6g} "
        f"(run directory {best.user_attrs.get('run_dir')}).\n"
        f"# Train it: {PROG.replace('.search', '.train')} -c {shown_path(path)}\n"
    )
    _atomic_write(path, header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return best


def write_plots(study: Any, metric: str, folder: Path) -> list[str]:
    """Optimization history and parameter importances as PNG files (Optuna's matplotlib plots); what was
    written, or why a plot was skipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances

    out = []
    for name, plot in (("history.png", plot_optimization_history), ("importances.png", plot_param_importances)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. importances from a few trials: "will be equal"
                ax = plot(study, target_name=metric)
        except Exception as e:  # e.g. importances need two complete trials and a parameter that varies
            out.append(f"{name} skipped ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
            continue
        fig = ax.figure
        fig.set_size_inches(8, 5)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        os.replace(tmp, folder / name)
        out.append(shown_path(folder / name))
    return out


def report(study: Any, folder: Path, storage: str) -> None:
    """Print the trials and the best one; write best.yaml, trials.csv and the plots into `folder`."""
    metric = study.user_attrs.get("metric", "value")
    folder.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study, metric)
    n = counts(study)
    print(f"\nstudy {study.study_name} ({shown_url(storage)}): {said(n)}")
    if rows:
        print(table(rows))
    for row in rows:
        if row["state"] == "fail":
            print(f"trial {row['trial']} failed: {row['error'] or 'its worker stopped (no heartbeat)'}")
    write_csv(rows, folder / "trials.csv")
    if n["complete"] == 0:
        print(f"no complete trial yet; trials: {shown_path(folder / 'trials.csv')}")
        return
    best = write_best(study, metric, folder / "best.yaml")
    plots = write_plots(study, metric, folder)
    width = 13
    print(f"{'best trial:':<{width}} {best.number}, {metric} {best.value:.4f} ({best.user_attrs.get('run_dir')})")
    for key, value in best.params.items():
        print(f"{'':<{width}} {key} = {value}")
    best_file = shown_path(folder / "best.yaml")
    print(f"{'best config:':<{width}} {best_file}  (train it: {PROG.replace('.search', '.train')} -c {best_file})")
    print(f"{'trials:':<{width}} {shown_path(folder / 'trials.csv')}")
    print(f"{'plots:':<{width}} {', '.join(plots)}")


# -- the command ---------------------------------------------------------------------------------------


def build_search_parser() -> argparse.ArgumentParser:
    parser = build_parser(
        PROG,
        "Hyperparameter search with Optuna: no server; an SQLite file, or a shared "
        "database for many workers. Rerun the same command to continue the study.",
    )
    for action in parser._actions:  # the shared parser's --name is the run's; here it names the study
        if action.dest == "name":
            action.help = "study name (default: search); trials run in <run.output_dir>/<name>/trial-<n>"
        if action.dest == "ckpt_path":
            action.help = argparse.SUPPRESS
    parser.add_argument("--space", help="search space: a W&B sweep file (default: configs/sweep.yaml)")
    parser.add_argument(
        "--trials",
        type=int,
        help=f"the study's total number of trials, over every worker and "
        f"rerun (default: the file's run_cap, else {DEFAULT_TRIALS})",
    )
    parser.add_argument(
        "--sampler",
        choices=("random", "tpe", "grid"),
        help="default from the file's method: random -> random, bayes -> tpe, grid -> grid",
    )
    parser.add_argument("--metric", help="the metric to optimize (default: the file's metric.name)")
    parser.add_argument("--direction", choices=GOALS, help="default: the file's metric.goal")
    parser.add_argument(
        "--storage",
        help="database URL shared by the workers, e.g. postgresql://user@host/db "
        "(default: sqlite:///<run.output_dir>/<name>/study.db)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="stop bad trials early (Optuna's Lightning callback; Hyperband from the file's early_terminate)",
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=10,
        metavar="SECONDS",
        help="a trial whose worker is silent for 3 heartbeats is failed and retried (default: 10)",
    )
    parser.add_argument("--report", action="store_true", help="print the trials and write the report; no training")
    return parser


def settings_for(args: argparse.Namespace, base: Any, space: Space | None) -> Settings:
    from {{cookiecutter.module_name}}.config import LOGGED_METRICS

    study = args.name or "search"
    study_dir = Path(base.run.output_dir) / study
    storage = args.storage or f"sqlite:///{study_dir / 'study.db'}"
    if args.heartbeat < 1:
        raise SearchError(f"--heartbeat {args.heartbeat}: must be >= 1 (seconds)")
    if space is None:
        return Settings(study, storage, 0, "random", "", "maximize", False, args.heartbeat, study_dir)
    problems = []
    metric = args.metric or space.metric or base.checkpoint.monitor
    if metric not in LOGGED_METRICS:
        source = "--metric" if args.metric else f"{space.path}: metric.name"
        problems.append(f"{source} {metric!r}: not a logged metric; choose one of {', '.join(LOGGED_METRICS)}")
    mode = getattr(base.checkpoint.mode, "value", base.checkpoint.mode)
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


def search(args: argparse.Namespace) -> int:
    """The command: validate everything (no torch), open the study, run trials, report. The exit code."""
    if args.ckpt_path:
        raise SearchError("--ckpt-path: not for a search (each trial resumes from its own run directory)")
    base = load_config(**base_args(args))
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(base))
        return 0
    if args.report:
        settings = settings_for(args, base, None)
        study = open_study(settings, None)
        report(study, settings.study_dir, settings.storage)
        return 0
    space = load_space(args.space or DEFAULT_SPACE, base_args(args))
    settings = settings_for(args, base, space)
    budget = settings.trials
    if settings.sampler == "grid":
        budget = min(budget, math.prod(len(p.choices) for p in space.params if p.kind == "categorical"))
    if settings.storage.startswith("sqlite") and not args.storage:
        settings.study_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(settings, space)
    n = counts(study)
    print(
        f"[search] study {settings.study} in {shown_url(settings.storage)}: {settings.direction} {settings.metric}, "
        f"{len(space.params)} parameter(s) from {space.path}, {settings.sampler} sampler"
        f"{', pruning' if settings.prune else ''}, {budget} trials ({said(n)} so far)",
        flush=True,
    )
    objective = Objective(args, space, settings, base)
    try:
        code = run_search(study, objective, settings, budget)
    finally:
        report(study, settings.study_dir, settings.storage)
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse(build_search_parser(), argv)
    try:
        return search(args)
    except SearchError as e:
        print(f"search error: {e}", file=sys.stderr)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("[search] stopped", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
