"""The shared commands' own logic, on a tiny project with no data or model: a checkpoint's recorded config
as the base layer, a request written back as arguments (lr-find's train command, submit's job), submit's
job spec, export's errors and the data state it reads."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from _project import Schema

from labblocks.run.cli import arguments, main, parse, request
from labblocks.run.config import Request
from labblocks.run.export_command import data_state
from labblocks.run.lr_find import train_command
from labblocks.run.project import Project
from labblocks.run.trainer import trainer_kwargs

try:
    from labblocks.run import submit
except ImportError:  # submitit is in the `run` extra
    submit = None
needs_submitit = pytest.mark.skipif(submit is None, reason="needs submitit (labblocks[run])")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    configs = tmp_path / "configs"
    (configs / "experiment").mkdir(parents=True)
    (configs / "default.yaml").write_text("optim:\n  lr: 0.1\n")
    (configs / "experiment" / "fast.yaml").write_text("trainer:\n  max_epochs: 1\n")
    return Project("tiny_lab", "tiny-lab", Schema, configs, ("val/acc", "val/loss"), "tiny_lab.wiring")


def test_a_recorded_config_replaces_default_yaml_and_the_command_line_goes_on_top(project: Project) -> None:
    recorded = {"optim": {"lr": 0.5}, "run": {"name": "rec"}, "checkpoint": {"mode": "max"}}
    cfg = project.load(Request(experiments=["fast"], base=recorded))
    assert (cfg.optim.lr, cfg.run.name, cfg.trainer.max_epochs) == (0.5, "rec", 1)  # not default.yaml's 0.1
    assert project.load(Request(base=recorded, overrides=["optim.lr=0.7"])).optim.lr == 0.7
    assert recorded == {"optim": {"lr": 0.5}, "run": {"name": "rec"}, "checkpoint": {"mode": "max"}}  # untouched
    with pytest.raises(Exception, match="recorded config: optim.lrr: unknown key"):
        project.load(Request(base={"optim": {"lrr": 1}}))


def test_arguments_ask_for_the_same_request(project: Project) -> None:
    given = ["-c", "base.yaml", "-e", "fast", "--name", "x", "--devices", "0,", "--max-epochs", "3", "--fresh"]
    first = request(parse(project, ["train", *given, "--ckpt-path", "a.ckpt", "optim.lr=1"]))
    again = request(parse(project, ["train", *arguments(first)]))
    assert again == first and first.flags["trainer.devices"] == [0]


def test_lr_find_use_line_repeats_the_users_arguments_with_the_suggested_rate(project: Project) -> None:
    req = request(parse(project, ["lr-find", "optim.lr=1e-4", "-e", "fast", "--name", "lr", "logger.kind=csv"]))
    line = train_command(project, req, 3e-3)
    assert line == "tiny-lab train -e fast --name lr logger.kind=csv optim.lr=3.00e-03"


def test_export_reads_the_data_state_holding_the_preprocessing() -> None:
    ckpt = {"state_dict": {}, "callbacks": {"x": {}}, "MyData": {"preprocessing": {"size": 8}, "tokenizer": "t"}}
    assert data_state(ckpt)["preprocessing"] == {"size": 8} and data_state({"state_dict": {}}) == {}


@pytest.mark.parametrize(("command", "kind"), [("export", "export error"), ("evaluate", "error")])
def test_a_run_without_checkpoints_is_one_line_with_the_commands_kind(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture, command: str, kind: str
) -> None:
    assert main(project, [command, "--name", "never", f"run.output_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{kind}: ") and "no checkpoints/last.ckpt" in err and "Traceback" not in err


def test_export_refuses_another_projects_checkpoint(project: Project, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}, "global_step": 3, "epoch": 0, "config": {}, "project": "someone_else"}, other)
    assert main(project, ["export", "--which", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("export error: --which: ") and "someone_else" in err and "tiny_lab" in err


# -- submit ----------------------------------------------------------------------------------------------


@needs_submitit
@pytest.mark.parametrize(
    ("text", "expected"), [("90", 90), ("04:00:00", 240), ("2-00:00:00", 2880), ("1-12", 2160), ("00:30", 1)]
)
def test_slurm_time_limits(text: str, expected: int) -> None:
    assert submit.minutes(text) == expected


@needs_submitit
def test_the_job_runs_the_users_train_command_with_the_clusters_layout(project: Project, capsys) -> None:
    argv = ["submit", "-e", "fast", "--name", "big", "--nodes", "2", "--gpus-per-node", "4", "--time", "1-12"]
    assert main(project, [*argv, "--dry-run", "cluster.account=lab", "optim.lr=3e-4"]) == 0
    out = capsys.readouterr().out
    for line in ("#SBATCH --nodes=2", "#SBATCH --gpus-per-node=4", "#SBATCH --time=2160", "#SBATCH --account=lab"):
        assert line in out, line
    train = ["tiny-lab", "train", "-e", "fast", "--name", "big", "optim.lr=3e-4", "trainer.num_nodes=2"]
    assert "\n".join(f"- {arg}" for arg in train) in out and "- cluster." not in out
    job = pickle.loads(pickle.dumps(submit.TrainJob(project, ["--name", "big"])))  # submitit pickles it
    assert job.project == project and job.argv == ["--name", "big"]


@needs_submitit
def test_bad_cluster_flags_are_config_errors(project: Project, capsys) -> None:
    assert main(project, ["submit", "--dry-run", "--time", "soon", "--nodes", "0"]) == 2
    err = capsys.readouterr().err
    assert "cluster.time: 'soon' is not a SLURM time" in err and "cluster.nodes: 0 must be >= 1" in err


# -- the command table ---------------------------------------------------------------------------------


def test_help_lists_every_command_with_one_line(project: Project, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(project, ["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("usage: tiny-lab")
    for name in ("train", "evaluate", "export", "lr-find", "search", "submit"):
        assert f"    {name} " in out


@pytest.mark.parametrize(
    ("command", "has", "lacks"),
    [
        ("train", ("--fresh", "--ckpt-path", "--max-epochs"), ("--which", "--trials")),
        ("export", ("--which", "--out"), ("--fresh", "--max-epochs", "--devices")),
        ("evaluate", ("--ckpt", "--split"), ("--fresh", "--max-epochs")),
        ("search", ("--trials", "--storage"), ("--ckpt-path", "--which")),
    ],
)
def test_each_command_takes_its_own_flags_only(project: Project, capsys, command: str, has, lacks) -> None:
    with pytest.raises(SystemExit):
        main(project, [command, "--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in has) and not any(flag in out for flag in lacks), out


def test_flags_and_overrides_mix_in_any_order(project: Project) -> None:
    args = parse(project, ["train", "optim.lr=0.3", "--name", "x", "-e", "fast", "trainer.max_epochs=4"])
    req = request(args)
    assert (req.experiments, req.flags, req.overrides) == (
        ["fast"],
        {"run.name": "x"},
        ["optim.lr=0.3", "trainer.max_epochs=4"],
    )
    cfg = project.load(req)
    assert (cfg.optim.lr, cfg.run.name, cfg.trainer.max_epochs) == (0.3, "x", 4)  # overrides after -e still win


def test_print_config_shows_each_key_with_the_documentation_beside_its_field(project: Project, capsys) -> None:
    assert main(project, ["train", "--print-config", "-e", "fast"]) == 0
    out = capsys.readouterr().out
    assert "  max_epochs: 1  #" not in out  # no documentation written for it in the schema
    assert "  name: default  # run directory: <output_dir>/<name>" in out  # from RunConfig's comment
    assert "  lr: 0.1\n" in out  # default.yaml's value; Optim.lr has no comment


def test_a_config_error_is_one_message_without_traceback_unless_asked(project: Project, capsys) -> None:
    assert main(project, ["train", "optim.lrr=1", "trainer.max_epochs=0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: 2 problems:") and "did you mean 'optim.lr'" in err
    assert "Traceback" not in err
    assert main(project, ["--traceback", "train", "optim.lrr=1"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_the_trainer_gets_only_what_differs_from_lightnings_own_behaviour(project: Project) -> None:
    """An argument passed at its default still prints a line in Lightning, so defaults are left out; a value of
    another type is not a default (1 batch is not 100 % of them)."""
    kwargs = trainer_kwargs(project.load())
    assert not {"limit_train_batches", "val_check_interval", "devices", "precision"} & set(kwargs)
    assert {"max_epochs", "deterministic", "profiler", "gradient_clip_val"} <= set(kwargs)
    one = trainer_kwargs(project.load(Request(overrides=["trainer.limit_train_batches=1"])))
    assert one["limit_train_batches"] == 1 and type(one["limit_train_batches"]) is int
