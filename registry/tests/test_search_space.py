"""The `search` command's input, on a tiny project with no data or model: a W&B sweep file read as Optuna
distributions, its problems named by file and key, the flags a search refuses, and the report of a study,
all without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from _project import Schema

from labblocks.run.cli import main, parse, request
from labblocks.run.config import Request
from labblocks.run.project import Project
from labblocks.run.search import settings_for, space_path
from labblocks.run.search_space import SearchError, load_space, parse_param, read_space

SWEEP = """\
method: bayes
metric: {name: val/acc, goal: maximize}
parameters:
  optim.lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-2}
  optim.betas: {values: [[0.9, 0.99], [0.9, 0.999]]}
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    configs = tmp_path / "configs"
    (configs / "experiment").mkdir(parents=True)
    (configs / "default.yaml").write_text("checkpoint:\n  monitor: val/acc\n  mode: max\n")
    (configs / "sweep.yaml").write_text(SWEEP)
    return Project("tiny_lab", "tiny-lab", Schema, configs, ("val/acc", "val/loss"), "tiny_lab.wiring")


def test_wandb_distributions_become_bounded_optuna_params() -> None:
    cases = {
        "a": ({"values": [1, 2]}, ("categorical", None, None)),
        "b": ({"value": 3}, ("constant", None, None)),
        "c": ({"min": 1, "max": 4}, ("int", 1, 4)),
        "d": ({"min": 0.5, "max": 1}, ("float", 0.5, 1.0)),
        "e": ({"distribution": "q_uniform", "min": 2, "max": 8, "q": 2}, ("int", 2, 8)),
        "f": ({"distribution": "log_uniform", "min": 0.0, "max": 1.0}, ("float", 1.0, 2.718281828459045)),
    }
    for key, (spec, (kind, low, high)) in cases.items():
        param, problems = parse_param(key, spec, "s.yaml")
        assert problems == [] and param is not None and param.kind == kind, key
        if low is not None:
            assert (param.low, param.high) == pytest.approx((low, high)), key


def test_unsampled_and_misspelled_entries_are_named_with_the_file_and_key() -> None:
    assert parse_param("x", {"distribution": "normal", "mu": 0, "sigma": 1}, "s.yaml")[1] == [
        "s.yaml (parameters): x: distribution 'normal' is a W&B sweep distribution the Optuna search does not "
        "sample; use one of constant, categorical, int_uniform, uniform, q_uniform, log_uniform_values, log_uniform"
    ]
    (problem,) = parse_param("x", {"distribution": "unifrom", "min": 0, "max": 1}, "s.yaml")[1]
    assert "unknown distribution 'unifrom'; did you mean 'uniform'?" in problem
    (problem,) = parse_param("x", {"distrbution": "uniform"}, "s.yaml")[1]
    assert "unknown field 'distrbution' (did you mean 'distribution'?)" in problem
    assert "nested parameters are not supported" in parse_param("x", {"parameters": {}}, "s.yaml")[1][0]
    assert "min (2) must be below max (1)" in parse_param("x", {"min": 2, "max": 1}, "s.yaml")[1][0]


def test_a_sweep_files_own_problems_come_together(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("metric: {goal: up}\nmethod: hill\nrun_cap: 0\nparamters: {}\nparameters:\n  a: {values: []}\n")
    _, problems = read_space(path)
    assert len(problems) == 5 and all(p.startswith(str(path)) for p in problems), problems
    with pytest.raises(SearchError, match="no such file"):
        read_space(tmp_path / "missing.yaml")


def test_every_choice_and_bound_is_validated_against_the_projects_config(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("parameters:\n  optim.lrr: {values: [1]}\n  optim.lr: {values: [0.1, big]}\n")
    with pytest.raises(SearchError) as info:
        load_space(path, project, Request())
    assert info.value.kind == "search error" and len(info.value.problems) == 2
    assert f"{path} (parameters): optim.lrr: unknown key; did you mean 'optim.lr'?" in info.value.problems[0]
    assert f"{path} (parameters): optim.lr: Value 'big'" in info.value.problems[1]


def test_the_default_space_and_settings_come_from_the_sweep_file(project: Project) -> None:
    args = parse(project, ["search", "--name", "s"])
    base = project.load(request(args))
    space = load_space(space_path(project, args), project, request(args))
    settings = settings_for(project, args, base, space)
    assert space_path(project, args) == project.config_dir / "sweep.yaml"
    assert (settings.study, settings.metric, settings.direction, settings.sampler, settings.trials) == (
        "s",
        "val/acc",
        "maximize",
        "tpe",
        20,
    )
    assert settings.storage == f"sqlite:///{Path('runs') / 's' / 'study.db'}"
    unknown = parse(project, ["search", "--metric", "val/f1", "--trials", "0"])
    with pytest.raises(SearchError, match="--metric 'val/f1': not a logged metric; choose one of val/acc, val/loss"):
        settings_for(project, unknown, base, space)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fresh"], "search error: --fresh: not for a search (a rerun continues the study)"),
        (["run.ckpt_path=a.ckpt"], "search error: run.ckpt_path: not for a search"),
        (["--devices", "2"], "a search runs each trial on one device in its own worker"),
    ],
)
def test_what_a_search_refuses_stops_it_before_a_study_exists(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(project, ["search", f"run.output_dir={tmp_path / 'runs'}", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_the_report_of_a_study_writes_a_best_config_that_train_takes(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    study.set_user_attr("metric", "val/acc")
    for lr, acc in ((1e-3, 0.5), (1e-2, 0.7)):
        trial = study.ask({"optim.lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
        trial.set_user_attr("config", {"run": {"name": f"s/trial-{trial.number:03d}"}, "optim": {"lr": lr}})
        study.tell(trial, acc)
    argv = ["search", "--report", "--name", "s", "--storage", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(project, [*argv, f"run.output_dir={out}"]) == 0
    printed = capsys.readouterr().out
    assert "2 complete, 0 pruned, 0 running, 0 queued, 0 failed" in printed
    assert f"(train it: tiny-lab train -c {out / 's' / 'best.yaml'})" in printed
    best = yaml.safe_load((out / "s" / "best.yaml").read_text())
    assert best == {"run": {"name": "s-best"}, "optim": {"lr": 1e-2}}
    header = (out / "s" / "trials.csv").read_text().splitlines()[0]
    assert header == "trial,state,val/acc,optim.lr,seconds,retry_of,run_dir,worker,error"
    assert main(project, [*argv[:3], "t", *argv[4:], f"run.output_dir={out}"]) == 2
    assert "search error: --report: no study 't'" in capsys.readouterr().err


def test_the_search_modules_import_no_torch() -> None:
    code = (
        "import json, sys\n"
        "import labblocks.run.search, labblocks.run.search_space, labblocks.run.study\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(done.stdout) == []
