"""The Optuna study of the `search` command: its database, the trials that count towards `--trials`, the
retry of a trial whose worker died, and the report (a table of trials, `best.yaml`, `trials.csv`, plots).
Imports no torch or Lightning: `search --report` and every error before training stay light."""

from __future__ import annotations

import csv
import io
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import optuna
import yaml
from optuna.exceptions import ExperimentalWarning, StorageInternalError
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from labblocks.files import atomic_write
from labblocks.run.errors import shown
from labblocks.run.search_space import SearchError

MAX_RETRIES = 3  # a trial whose worker died is retried this many times at most
STATES = {"complete": "complete", "pruned": "pruned", "running": "running", "waiting": "queued", "fail": "failed"}


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


# -- the database --------------------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """The storage URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def open_storage(url: str, heartbeat: int) -> RDBStorage:
    """Optuna's RDB storage with heartbeats: a trial whose worker stops beating for 3 heartbeats is failed
    and retried (Optuna's RetryHeartbeatStaleTrialCallback) by the next worker that looks."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the search prints its own lines per trial
    warnings.filterwarnings("ignore", category=ExperimentalWarning)  # heartbeats, plots
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
    return isinstance(error, (StorageInternalError, IntegrityError)) or "already exists" in str(error)


def retry_callback() -> RetryHeartbeatStaleTrialCallback:
    """Optuna's callback that queues a failed trial again with the same values (and its attributes, so the
    retry knows its original trial and run directory), at most MAX_RETRIES times."""
    return RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES, inherit_intermediate_values=True)


def open_study(settings: Settings, sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner) -> Any:
    """Create or load the study; a study keeps the metric and direction it was created with."""
    study = optuna.create_study(
        study_name=settings.study,
        storage=open_storage(settings.storage, settings.heartbeat),
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


def load_study(settings: Settings) -> Any:
    """The existing study (`--report`)."""
    try:
        return optuna.load_study(study_name=settings.study, storage=open_storage(settings.storage, settings.heartbeat))
    except KeyError:
        raise SearchError(f"--report: no study {settings.study!r} in {shown_url(settings.storage)}") from None


# -- the trials ----------------------------------------------------------------------------------------


def state(trial: Any) -> str:
    """complete, pruned, running, waiting or fail."""
    return trial.state.name.lower()


def given_back(trial: Any) -> bool:
    """Whether the trial was given back unrun (OverBudget)."""
    return bool(trial.user_attrs.get("over_budget"))


def counts(study: Any) -> dict[str, int]:
    """Trials by state (complete, pruned, running, waiting, fail), leaving out ones given back unrun."""
    out = dict.fromkeys(STATES, 0)
    for t in study.get_trials(deepcopy=False):
        if not given_back(t):
            out[state(t)] += 1
    return out


def said(n: dict[str, int]) -> str:
    """Counts as words: `3 complete, 0 pruned, 1 running, 0 queued, 1 failed`."""
    return ", ".join(f"{n[k]} {word}" for k, word in STATES.items())


def budget_used(study: Any, before: int | None = None) -> int:
    """Trials that count towards --trials (finished, running or queued; not failed), optionally only those
    numbered below `before`."""
    return sum(
        1 for t in study.get_trials(deepcopy=False) if state(t) != "fail" and (before is None or t.number < before)
    )


def over_budget(study: Any, number: int, trials: int) -> bool:
    """Whether trial `number`, just created, would exceed the study's total. Optuna numbers trials in the order
    they are created, under a lock in the database; a trial runs only if fewer than `trials` trials that
    count come before it. So workers that ask at the same moment never run more than `trials` in all."""
    return budget_used(study, before=number) >= trials


def frozen(study: Any, number: int) -> Any:
    """The stored record of trial `number`."""
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)


def requeue(study: Any, number: int) -> None:
    """Queue a trial stopped by a signal again (as Optuna does for a dead worker's): same values, same run
    directory, so it resumes from the checkpoint it saved."""
    trial = frozen(study, number)
    if state(trial) == "fail" and not given_back(trial):
        retry_callback()(study, trial)


# -- the report ----------------------------------------------------------------------------------------


def trial_rows(study: Any, metric: str) -> list[dict[str, Any]]:
    """One row per trial (those given back unrun left out), parameters in the order first sampled."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if given_back(t):
            continue
        seconds = t.duration.total_seconds() if t.duration is not None else None
        retry_of = t.system_attrs.get("failed_trial")
        rows.append(
            {
                "trial": t.number,
                "state": state(t),
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

    text = io.StringIO()
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, lambda f: f.write(text.getvalue().encode("utf-8")))


def write_best(study: Any, metric: str, path: Path, prog: str) -> Any:
    """The best trial's full config as a file `train -c` takes (run.name `<study>-best`); the best trial."""
    best = study.best_trial
    config = best.user_attrs["config"]
    config["run"]["name"] = f"{study.study_name}-best"
    header = (
        f"# Best trial of study {study.study_name}: trial {best.number}, {metric} = {best.value:.6g} "
        f"(run directory {best.user_attrs.get('run_dir')}).\n"
        f"# Train it: {prog} train -c {shown(path)}\n"
    )
    text = header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return best


def write_plots(study: Any, metric: str, folder: Path) -> list[str]:
    """Optimization history and parameter importances as PNG files (Optuna's matplotlib plots); what was
    written, or why a plot was skipped."""
    matplotlib.use("Agg")  # files only, whatever display there is
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
        try:
            atomic_write(folder / name, lambda f, fig=fig: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))
        finally:
            plt.close(fig)
        out.append(shown(folder / name))
    return out


def report(study: Any, folder: Path, storage: str, prog: str) -> None:
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
        print(f"no complete trial yet; trials: {shown(folder / 'trials.csv')}")
        return
    best = write_best(study, metric, folder / "best.yaml", prog)
    plots = write_plots(study, metric, folder)
    width = 13
    print(f"{'best trial:':<{width}} {best.number}, {metric} {best.value:.4f} ({best.user_attrs.get('run_dir')})")
    for key, value in best.params.items():
        print(f"{'':<{width}} {key} = {value}")
    best_file = shown(folder / "best.yaml")
    print(f"{'best config:':<{width}} {best_file}  (train it: {prog} train -c {best_file})")
    print(f"{'trials:':<{width}} {shown(folder / 'trials.csv')}")
    print(f"{'plots:':<{width}} {', '.join(plots)}")
