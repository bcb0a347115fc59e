"""The Optuna search (labblocks.run.search) through this project's `search` command: the
W&B sweep file as its space, errors before torch loads, an exact trial total under concurrent workers,
pruning through Lightning, and, as real processes (marked slow), a search that writes a best config that
trains, a search killed mid-trial and rerun, and two workers sharing one SQLite study."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from labblocks.run.cli import parse, request
from labblocks.run.search import make_pruner, settings_for, space_path
from labblocks.run.search_space import load_space
from labblocks.run.study import budget_used, over_budget
from labblocks.run.trial import Objective

from {{cookiecutter.module_name}}.__main__ import main
from {{cookiecutter.module_name}}.config import PROJECT

MODULE = "{{cookiecutter.module_name}}"
# Trials of a few seconds: the fast experiment with fewer batches and no sample table.
TINY = (
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "logger.sample_rows=0",
    "logger.kind=csv",
)
# Runs the search command and reports which heavy modules it imported (none, for errors and the report).
CHECK_IMPORTS = (
    "import json, sys\n"
    f"from {MODULE}.__main__ import main\n"
    "code = main(['search', *sys.argv[1:]])\n"
    "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'timm', 'transformers'))\n"
    "print('heavy modules: ' + json.dumps(heavy), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def search_cli(*args: str, check_imports: bool = False, wandb: str = "disabled") -> subprocess.CompletedProcess:
    """The search command in its own process (exit code and messages as a user sees them)."""
    head = ["-c", CHECK_IMPORTS] if check_imports else ["-m", MODULE, "search"]
    env = {**os.environ, "WANDB_MODE": wandb}
    return subprocess.run(
        [sys.executable, *head, *args], capture_output=True, text=True, env=env, cwd=PROJECT.root, timeout=900
    )


def heavy_modules(stderr: str) -> list[str]:
    found = re.search(r"^heavy modules: (.*)$", stderr, re.MULTILINE)
    assert found, stderr[-2000:]
    return json.loads(found.group(1))


def lr_space(folder: Path) -> Path:
    """A one-parameter space (continuous, so two trials never draw the same value by chance)."""
    path = folder / "lr.yaml"
    path.write_text(
        "metric: {name: val/acc, goal: maximize}\n"
        "parameters:\n  optim.lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
    )
    return path


def storage(out: Path, study: str) -> str:
    return f"sqlite:///{out / study / 'study.db'}"


# -- the space -----------------------------------------------------------------------------------------


SPACE = """\
method: bayes
metric: {name: val/loss, goal: minimize}
run_cap: 7
parameters:
  optim.lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}
  optim.weight_decay: {distribution: log_uniform, min: -9.2, max: -2.3}
  data.batch_size: {values: [16, 32]}
  scheduler.warmup_steps: {distribution: int_uniform, min: 0, max: 10}
  model.label_smoothing: {distribution: q_uniform, min: 0.0, max: 0.2, q: 0.05}
  trainer.max_epochs: {distribution: q_uniform, min: 2, max: 8, q: 2}
  optim.betas: {values: [[0.9, 0.99], [0.9, 0.999]]}
  trainer.gradient_clip_val: {values: [null, 0.5]}
  optim.momentum: {value: 0.8}
"""


def test_wandb_distributions_sample_in_range_and_reach_the_config(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    args = parse(PROJECT, ["search", "-e", "fast", "--space", str(path)])
    base = PROJECT.load(request(args))
    space = load_space(path, PROJECT, request(args))
    settings = settings_for(PROJECT, args, base, space)
    assert (settings.metric, settings.direction, settings.sampler, settings.trials) == (
        "val/loss",
        "minimize",
        "tpe",
        7,
    )
    p = {param.key: param for param in space.params}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen: dict[str, set] = {key: set() for key in p}
    for _ in range(20):
        trial = study.ask()
        values = {key: param.suggest(trial) for key, param in p.items()}
        study.tell(trial, 0.0)
        assert 1e-4 <= values["optim.lr"] <= 1e-2
        assert math.exp(-9.2) <= values["optim.weight_decay"] <= math.exp(-2.3)
        assert isinstance(values["scheduler.warmup_steps"], int) and 0 <= values["scheduler.warmup_steps"] <= 10
        assert abs(values["model.label_smoothing"] / 0.05 - round(values["model.label_smoothing"] / 0.05)) < 1e-9
        assert values["trainer.max_epochs"] in (2, 4, 6, 8) and isinstance(values["trainer.max_epochs"], int)
        assert values["optim.momentum"] == 0.8
        for key, value in values.items():
            seen[key].add(json.dumps(value))
        cfg = PROJECT.load(request(args), extra=[("trial", values)])
        assert cfg.trainer.gradient_clip_val == values["trainer.gradient_clip_val"]  # null stays None, not "None"
        assert list(cfg.optim.betas) == values["optim.betas"] and cfg.data.batch_size == values["data.batch_size"]
    assert seen["optim.betas"] == {"[0.9, 0.99]", "[0.9, 0.999]"} and seen["trainer.gradient_clip_val"] == {
        "null",
        "0.5",
    }


def test_the_shipped_sweep_file_is_the_default_space() -> None:
    args = parse(PROJECT, ["search", "-e", "fast"])
    base = PROJECT.load(request(args))
    assert space_path(PROJECT, args) == PROJECT.config_dir / "sweep.yaml"
    space = load_space(space_path(PROJECT, args), PROJECT, request(args))
    settings = settings_for(PROJECT, args, base, space)
    assert {p.key for p in space.params} >= {"optim.lr", "data.batch_size"}
    assert (settings.metric, settings.direction, settings.sampler) == ("val/acc", "maximize", "random")


def test_bad_space_is_an_error_naming_file_and_key_before_torch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "parameters:\n"
        "  optim.lrr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}\n"
        "  optim.weight_decay: {distribution: log_uniformm, min: 1.0e-4, max: 1.0e-1}\n"
        "  data.batch_size: {values: [32, big]}\n"
    )
    done = search_cli("-e", "fast", "--space", str(bad), f"run.output_dir={tmp_path}", check_imports=True)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "search error: 3 problems" in done.stderr
    assert f"{bad} (parameters): optim.lrr: unknown key; did you mean 'optim.lr'?" in done.stderr
    assert f"{bad} (parameters): optim.weight_decay: unknown distribution 'log_uniformm'" in done.stderr
    assert f"{bad} (parameters): data.batch_size: Value 'big'" in done.stderr
    assert heavy_modules(done.stderr) == []
    assert not (tmp_path / "search").exists()  # nothing was created


def test_unreachable_storage_is_an_error_naming_the_url(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path}/no/such/folder/study.db"
    done = search_cli("-e", "fast", "--storage", missing, check_imports=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"search error: --storage {missing}: cannot open the study's database" in done.stderr
    assert heavy_modules(done.stderr) == []
    server = search_cli("-e", "fast", "--storage", "postgresql://me:secret@127.0.0.1:9/studies")
    assert server.returncode == 2 and "Traceback" not in server.stderr, server.stderr[-2000:]
    assert "--storage postgresql://me:***@127.0.0.1:9/studies: " in server.stderr and "secret" not in server.stderr


# -- the trial total -----------------------------------------------------------------------------------


def test_trial_total_is_exact_when_workers_ask_at_the_same_moment(tmp_path: Path) -> None:
    """Optuna numbers trials under a database lock; a trial runs only if fewer than --trials trials that count
    (finished, running, queued) come before it. A count of finished trials (MaxTrialsCallback) lets every
    worker that asks together run one more."""
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}", direction="maximize")
    first = study.ask()
    study.tell(first, 0.5)
    a, b = study.ask(), study.ask()  # two workers ask for the last of 2 trials at once
    assert not over_budget(study, a.number, 2)
    assert over_budget(study, b.number, 2)  # a is running: b would be a third trial, and is given back
    study.tell(b, state=optuna.trial.TrialState.FAIL)
    study.tell(a, state=optuna.trial.TrialState.FAIL)  # then a crashes: its place is free again
    c = study.ask()
    assert not over_budget(study, c.number, 2) and budget_used(study) == 2


# -- pruning -------------------------------------------------------------------------------------------


def test_pruning_goes_through_lightning_and_is_off_by_default(tmp_path: Path) -> None:
    """Optuna's Lightning callback (optuna-integration, on the `lightning` package) reports each validation
    and stops a trial that the pruner rejects. One short training in this process."""
    argv = ["-e", "fast", "--space", str(lr_space(tmp_path)), f"run.output_dir={tmp_path}", *TINY, "--name", "p"]
    default = parse(PROJECT, ["search", *argv])
    assert default.prune is False
    args = parse(PROJECT, ["search", *argv, "--prune"])
    base = PROJECT.load(request(args))
    space = load_space(args.space, PROJECT, request(args))
    settings = settings_for(PROJECT, args, base, space)
    assert isinstance(make_pruner(settings_for(PROJECT, default, base, space), space), optuna.pruners.NopPruner)
    rejects_all = optuna.pruners.ThresholdPruner(lower=2.0)  # val/acc is always below 2
    study = optuna.create_study(direction="maximize", pruner=rejects_all)
    study.optimize(Objective(PROJECT, request(args), space, settings, base), n_trials=1)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED and list(trial.intermediate_values) == [0]
    assert (tmp_path / "p" / "trial-000" / "config.yaml").is_file()


# -- whole searches, as processes ----------------------------------------------------------------------


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow  # a 3-trial search (W&B offline), the report, the best config trained: about 45 s
def test_search_writes_a_best_config_that_trains(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["-e", "fast", "--trials", "3", "--name", "s3", f"run.output_dir={out}", *TINY, "logger.kind=wandb"]
    done = search_cli(*args, wandb="offline")
    assert done.returncode == 0, done.stderr[-3000:]
    folder = out / "s3"
    rows = rows_of(folder / "trials.csv")
    assert [r["state"] for r in rows] == ["complete"] * 3 and [r["trial"] for r in rows] == ["0", "1", "2"]
    run_ids = {(out / "s3" / f"trial-00{i}" / "wandb_run_id").read_text() for i in range(3)}
    assert len(run_ids) == 3  # one W&B run per trial
    assert all(list((folder / f"trial-00{i}" / "wandb").glob("offline-run-*")) for i in range(3))

    best_path = folder / "best.yaml"
    header = best_path.read_text().splitlines()[0]
    number = int(re.search(r"trial (\d+)", header).group(1))
    row = rows[number]
    assert float(row["val/acc"]) == max(float(r["val/acc"]) for r in rows)
    best = yaml.safe_load(best_path.read_text())
    for key in [k for k in row if k.startswith(("optim.", "data.", "model.", "scheduler."))]:
        section, name = key.split(".", 1)
        assert str(best[section][name]) == row[key], key
    assert best["run"]["name"] == "s3-best" and best["logger"]["group"] == "s3"
    assert best["checkpoint"]["monitor"] == "val/acc"
    for plot in ("history.png", "importances.png"):
        assert (folder / plot).read_bytes()[:4] == b"\x89PNG", plot
    assert f"best trial:   {number}, val/acc" in done.stdout

    # The report alone: no training, no torch, the same table.
    report = search_cli("--report", "--name", "s3", f"run.output_dir={out}", check_imports=True)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "3 complete, 0 pruned, 0 running, 0 queued, 0 failed" in report.stdout
    assert heavy_modules(report.stderr) == []

    # The best config is a config the train command takes (in this process: torch is loaded already).
    assert main(["train", "-c", str(best_path), "logger.kind=csv"]) == 0
    recorded = yaml.safe_load((out / "s3-best" / "config.yaml").read_text())
    assert recorded["optim"]["lr"] == best["optim"]["lr"] and recorded["data"] == best["data"]


@pytest.mark.slow  # two search processes (one killed) and 3 s of heartbeat grace: about 40 s
def test_a_killed_search_resumes_on_rerun(tmp_path: Path) -> None:
    """SIGKILL in the middle of trial 1, after its first epoch's checkpoint; the same command again keeps
    trial 0, notices the dead trial once its heartbeat is 3 s old, and retries it in its run directory,
    resuming from that checkpoint (a trial's run directory is `trial-<number of the trial first tried>`)."""
    out = tmp_path / "runs"
    flags = f"-e fast --trials 2 --heartbeat 1 --name k --space {lr_space(tmp_path)} run.output_dir={out}"
    args = ["-m", MODULE, "search", *flags.split(), *TINY, "trainer.max_epochs=3"]
    env = {**os.environ, "WANDB_MODE": "disabled"}
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT.root
        )
    last = out / "k" / "trial-001" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 600
    while not last.is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert last.is_file(), (tmp_path / "first.log").read_text()[-3000:]
    study = optuna.load_study(study_name="k", storage=storage(out, "k"))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "RUNNING"]  # killed mid-trial
    kept = study.trials[0]

    again = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=PROJECT.root, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    trials = optuna.load_study(study_name="k", storage=storage(out, "k")).trials
    assert trials[0].datetime_complete == kept.datetime_complete and "trial 0 started" not in again.stdout
    assert trials[1].state.name == "FAIL"
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == 1]
    assert retry.state.name == "COMPLETE" and retry.params == trials[1].params
    assert retry.user_attrs["run_dir"] == str(out / "k" / "trial-001")
    assert f"Resuming from {last}" in again.stdout + again.stderr
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE"]


@pytest.mark.slow  # two search processes at once: about 30 s
def test_two_workers_share_one_study(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    flags = f"-e fast --trials 3 --name two --space {lr_space(tmp_path)} run.output_dir={out}"
    args = ["-m", MODULE, "search", *flags.split(), *TINY]
    env = {**os.environ, "WANDB_MODE": "disabled"}
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = []
    for log in logs:
        with log.open("w") as f:  # files, not pipes: a worker blocked on a full pipe would hold the other
            workers.append(
                subprocess.Popen([sys.executable, *args], stdout=f, stderr=subprocess.STDOUT, env=env, cwd=PROJECT.root)
            )
    try:
        for w in workers:
            w.wait(timeout=600)
    finally:
        for w in workers:
            w.kill()  # no effect on a worker that ended
    outputs = [log.read_text() for log in logs]
    assert [w.returncode for w in workers] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    started = [set(map(int, re.findall(r"^\[search\] trial (\d+) started", o, re.MULTILINE))) for o in outputs]
    assert started[0] and started[1], f"one worker ran every trial: {started}"
    assert started[0].isdisjoint(started[1])  # no trial ran in both
    trials = optuna.load_study(study_name="two", storage=storage(out, "two")).trials
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3  # exactly the total asked for
    assert {t.number for t in complete} == started[0] | started[1]  # every trial that started finished
    assert len({t.params["optim.lr"] for t in complete}) == 3  # no values ran twice
    for t in complete:
        recorded = yaml.safe_load((Path(t.user_attrs["run_dir"]) / "config.yaml").read_text())
        assert recorded["optim"]["lr"] == t.params["optim.lr"]
    for t in trials:  # any other trial was given back by a worker that came second, and never ran
        assert t.state.name == "COMPLETE" or t.user_attrs.get("over_budget")
