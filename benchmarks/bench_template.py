"""Benchmark of baked projects: start-up, test-suite time, training-step overhead, and accuracy.

    python benchmarks/bench_template.py [--tasks image_classification text_classification]
                                        [--skip-accuracy] [--workdir DIR] [--against REF [--step-ratio-only]]

For each task it bakes a project with the real cookiecutter CLI (labblocks from this checkout), installs
it with `uv sync`, and measures, printing ratios against baselines taken in the same run:

- `train --help` and a config error, wall time (median of 7) next to `python -c pass`;
- the generated test suite, wall time of `make test` (two pytest-xdist workers; target <= 60 s on 2
  cores), and of `pytest -q` in one process for reference;
- Lightning vs a hand-written PyTorch loop doing the same work, interleaved in one process
  (benchmarks/step_ratio.py), three runs of the default config with W&B offline: the per-step ratio
  (target <= 1.03) and the per-epoch ratio with validation and checkpoints (target <= 1.05), medians with
  their spread; in the same process, Lightning's own floor (a module whose step is only the forward and
  loss), and what the project costs per step over it (target <= 1 %, and in microseconds); after each, the
  project's module in a bare Trainer; and the peak memory of each side, each in a process of its own;
- accuracy of the default config (image: >= 95% val acc; text: >= 90% for both backbones) and, for
  text, a bag-of-words baseline on the same split.

`--against REF` also bakes the template at another commit (a clone of this checkout at REF, labblocks from
that clone's registry/, as bench_feedback.py does) and measures both bakes' cost per step over Lightning's
floor in alternating rounds of the same run (`--rounds`), e.g. `--against c17cc8c`, the last commit whose
baked project had `<module>.runner`; `--step-ratio-only` leaves out everything else.

Takes several minutes per task. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = {"image_classification": "bench_image", "text_classification": "bench_text"}
ROWS: list[tuple[str, str, str, str]] = []  # (check, measured, target, result)
UV = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")  # `make` bootstraps uv into .tools/ when missing


def run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: int = 1800) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode not in (0, 2):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done


def wall(cmd: list[str], cwd: Path, env: dict | None = None, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=120)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def record(check: str, value: float, fmt: str, target: float | None, higher_is_better: bool = False) -> None:
    if target is None:
        ROWS.append((check, fmt.format(value), "info", "-"))
        return
    ok = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    ROWS.append((check, fmt.format(value), f"{sign} {fmt.format(target)}", "PASS" if ok else "FAIL"))


def bake(task: str, workdir: Path, template: Path = REPO) -> Path:
    """The task baked from `template` (this checkout, or a clone at another commit) into workdir, with
    labblocks from that template's registry/, installed."""
    module = MODULES[task]
    slug = module.replace("_", "-")
    shutil.rmtree(workdir / slug, ignore_errors=True)
    answers = [f"project_name={slug}", f"task={task}", "labblocks_source=path",
               f"labblocks_path={template / 'registry'}"]
    run([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(workdir), str(template), *answers], cwd=workdir)
    project = workdir / slug
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for git in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "baked"]):
        run(["git", *git], cwd=project)
    start = time.perf_counter()
    run([UV, "sync", "--quiet"], cwd=project)
    if template == REPO:
        record(f"{task}: uv sync (install)", time.perf_counter() - start, "{:.1f} s", None)
    return project


def clone_at(ref: str, workdir: Path) -> Path:
    """This repository cloned at `ref` into workdir (this checkout's own .git is left alone)."""
    clone = workdir / f"template-{ref}"
    shutil.rmtree(clone, ignore_errors=True)
    run(["git", "clone", "-q", str(REPO), str(clone)], cwd=workdir)
    run(["git", "checkout", "-q", ref], cwd=clone)
    return clone


def vs_floor(script: list[str], project: Path, env: dict) -> dict:
    """step_ratio.py --vs-floor: the full run and Lightning's floor in one process (see its versus_floor)."""
    return json.loads(run([*script, "--vs-floor"], cwd=project, env=env).stdout.strip().splitlines()[-1])


def record_vs_floor(label: str, out: dict, target: float | None) -> None:
    full, floor = (statistics.median(out[f"{kind}_step_ratio_medians"]) for kind in ("full", "floor"))
    record(f"{label}: the project's cost per step over Lightning's floor ({full:.3f}x / {floor:.3f}x)",
           out["project_over_floor"] * 100, "{:.2f} %", target)
    record(f"{label}: the project's cost per step over the floor, in time", out["project_us_per_step"], "{:.0f} us",
           None)
    if "module_over_floor" in out:  # step_ratio.py --bare: the project's LightningModule's share of it
        record(f"{label}: of which the project's module (bare Trainer over the floor)", out["module_over_floor"] * 100,
               "{:.2f} %", None)
        record(f"{label}: of which the project's module, in time", out["module_us_per_step"], "{:.0f} us", None)


def bench_against(task: str, projects: dict[str, Path], env: dict, rounds: int, extra: list[str]) -> None:
    """The project's cost per step over Lightning's floor (step_ratio.py --vs-floor) for each bake, in
    `rounds` alternating rounds of one run; then the medians over rounds, side by side."""
    env = {**env, "WANDB_MODE": "offline"}
    results: dict[str, list[dict]] = {label: [] for label in projects}
    for i in range(rounds):
        order = list(projects.items()) if i % 2 == 0 else list(reversed(projects.items()))
        for label, project in order:
            py = str(project / ".venv" / "bin" / "python")
            script = [py, str(REPO / "benchmarks" / "step_ratio.py"), "--module", MODULES[task], "--epochs", "3"]
            script += extra  # later options win (argparse)
            out = vs_floor(script, project, env)
            results[label].append(out)
            record_vs_floor(f"{task} [{label}, {out['layout']}] round {i + 1}", out,
                            1.0 if label == "this checkout" else None)
    for label, outs in results.items():  # every round of every step_ratio.py run
        over = [x * 100 for o in outs for x in o["project_over_floor_rounds"]]
        us = [x for o in outs for x in o["project_us_per_step_rounds"]]
        record(f"{task} [{label}]: cost over the floor, median of {len(over)} rounds (range {min(over):.2f}-"
               f"{max(over):.2f} %)", statistics.median(over), "{:.2f} %", None)
        record(f"{task} [{label}]: cost over the floor in time, median (range {min(us):.0f}-{max(us):.0f} us)",
               statistics.median(us), "{:.0f} us", None)


def bench_ratio(task: str, project: Path, py: str, env: dict, runs: int = 3) -> None:
    """Lightning vs a hand-written loop (benchmarks/step_ratio.py), the default config, W&B offline, `runs`
    times, each run followed by the project's module in a bare Trainer (`--bare`: no logger, checkpoints or
    callbacks), with Lightning's own floor (`--floor`: a forward-and-loss module in that bare Trainer) in the
    full run's process (`--vs-floor`); then each side's peak memory in a process of its own."""
    env = {**env, "WANDB_MODE": "offline"}
    script = [py, str(REPO / "benchmarks" / "step_ratio.py"), "--module", MODULES[task], "--epochs", "3"]
    for i in range(runs):
        both = vs_floor(script, project, env)
        (pair,) = both["runs"]
        r, floor = pair["full"], pair["floor"]
        bare = json.loads(run([*script, "--bare"], cwd=project, env=env).stdout.strip().splitlines()[-1])
        lo, hi = r["step_ratio_spread"]
        q1, q3 = r["step_ratio_iqr"]
        record(f"{task} run {i + 1}: step ratio, median (IQR {q1:.3f}-{q3:.3f}, range {lo:.2f}-{hi:.2f})",
               r["step_ratio_median"], "{:.3f}x", 1.03)
        lo, hi = r["epoch_ratio_spread"]
        record(f"{task} run {i + 1}: epoch ratio with validation and checkpoints, median (range {lo:.3f}-{hi:.3f})",
               r["epoch_ratio_median"], "{:.3f}x", 1.05)
        record(f"{task} run {i + 1}: hand-written step", r["plain_s_per_step"], "{:.4f} s", None)
        q1, q3 = bare["step_ratio_iqr"]
        record(f"{task} run {i + 1}: bare Lightning step ratio, median (IQR {q1:.3f}-{q3:.3f})",
               bare["step_ratio_median"], "{:.3f}x", None)
        record(f"{task} run {i + 1}: bare Lightning epoch ratio, median", bare["epoch_ratio_median"], "{:.3f}x", None)
        q1, q3 = floor["step_ratio_iqr"]
        record(f"{task} run {i + 1}: Lightning's floor, forward-and-loss module, step ratio (IQR {q1:.3f}-{q3:.3f})",
               floor["step_ratio_median"], "{:.3f}x", None)
        record_vs_floor(f"{task} run {i + 1}", both, 1.0)
    memory = {side: json.loads(run([*script, "--epochs", "1", "--memory", side], cwd=project, env=env)
                               .stdout.strip().splitlines()[-1])["peak_rss_mb"] for side in ("plain", "lightning")}
    record(f"{task}: peak RSS, hand-written loop", memory["plain"], "{:.0f} MiB", None)
    record(f"{task}: peak RSS, Lightning / hand-written", memory["lightning"] / memory["plain"], "{:.2f}x", None)


def final_metric(stdout: str, name: str) -> float:
    match = re.search(rf"{re.escape(name)}:\s+([0-9.]+)", stdout)
    if not match:
        sys.exit(f"no {name} in the train output:\n{stdout[-2000:]}")
    return float(match.group(1))


def bench_task(task: str, workdir: Path, accuracy: bool) -> None:
    project = bake(task, workdir)
    module = MODULES[task]
    py = str(project / ".venv" / "bin" / "python")
    # the baked Makefile calls `uv`: the one found above, also where it is not on PATH
    env = {**os.environ, "WANDB_MODE": "disabled", "PATH": f"{Path(UV).parent}{os.pathsep}{os.environ['PATH']}"}

    base = wall([py, "-c", "pass"], project)
    helped = wall([py, "-m", module, "train", "--help"], project)
    failed = wall([py, "-m", module, "train", "optim.lrr=1"], project)
    record(f"{task}: python -c pass", base, "{:.3f} s", None)
    record(f"{task}: train --help", helped, "{:.3f} s", 0.5)
    record(f"{task}: config error", failed, "{:.3f} s", 0.5)

    # `make test` (two pytest-xdist workers) is the command the baked README gives; one process for reference.
    for label, cmd, target in [("make test", ["make", "--no-print-directory", "test"], 60.0),
                               ("pytest -q, one process", [py, "-m", "pytest", "-q"], None)]:
        start = time.perf_counter()
        suite = run(cmd, cwd=project, env=env, timeout=1800)
        seconds = time.perf_counter() - start
        # pytest's closing line, wherever it stands (make may print more after it)
        summary = next((line for line in reversed(suite.stdout.splitlines()) if re.search(r"\d+ passed", line)), "?")
        if suite.returncode != 0:
            sys.exit(f"the generated suite failed ({label}): {summary}\n{suite.stdout[-3000:]}")
        record(f"{task}: generated test suite, {label} ({summary})", seconds, "{:.1f} s", target)

    bench_ratio(task, project, py, env)

    if task == "image_classification":
        # The LR finder on the default config: within 10x of the default optim.lr (2e-3), which trains it to
        # 99.6% (the accuracy check below measures that); Lightning's own rule suggested 5.5e-05 here.
        code = (f"import json, tempfile; from {module}.config import PROJECT, load_config; "
                "from labblocks.run.lr_find import find_lr; "
                "d = tempfile.mkdtemp(); r = find_lr(PROJECT, load_config(overrides=[f'run.output_dir={d}']), d); "
                "print(json.dumps({'lr': r['suggestion'], 'reason': r['reason']}))")
        found = json.loads(run([py, "-c", code], cwd=project, env=env).stdout.strip().splitlines()[-1])
        if found["lr"] is None:
            sys.exit(f"the LR finder gave no suggestion on the default config: {found['reason']}")
        ROWS.append((f"{task}: LR finder suggestion, within 10x of 2e-3", f"{found['lr']:.2e}", "0.1-10x",
                     "PASS" if 0.1 <= found["lr"] / 2e-3 <= 10 else "FAIL"))
    if not accuracy:
        return
    experiments = [("default", [])] if task == "image_classification" else [("hf", []), ("core", ["-e", "core"])]
    target = 0.95 if task == "image_classification" else 0.90
    for name, args in experiments:
        start = time.perf_counter()
        out = run([py, "-m", module, "train", "--name", f"acc-{name}", "--fresh", *args,
                   "trainer.enable_progress_bar=false"], cwd=project, env=env).stdout
        minutes = (time.perf_counter() - start) / 60
        best = final_metric(out, "best val/acc")
        record(f"{task} [{name}]: best val/acc", best, "{:.4f}", target, higher_is_better=True)
        record(f"{task} [{name}]: test/acc", final_metric(out, "test/acc"), "{:.4f}", None)
        record(f"{task} [{name}]: wall time", minutes, "{:.1f} min", 5.0)
    if task == "text_classification":
        bow = run([py, "-c", BOW_BASELINE.format(module=module)], cwd=project).stdout.strip().splitlines()[-1]
        for name, value in json.loads(bow).items():
            record(f"{task}: bag-of-words baseline, {name} val acc", value, "{:.4f}", None)


BOW_BASELINE = """
import json
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from {module}.config import load_config
from {module}.train import build_datamodule
dm = build_datamodule(load_config(overrides=["run.output_dir=/tmp/bow-baseline"]))
(tr_x, tr_y), (va_x, va_y) = [tuple(zip(*dm.splits[s])) for s in ("train", "val")]
out = {{}}
for name, vec, model in [
    ("unigram logistic regression", CountVectorizer(), LogisticRegression(max_iter=2000)),
    ("uni+bigram logistic regression", CountVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000)),
    ("unigram MLP", CountVectorizer(), MLPClassifier((256,), max_iter=200, random_state=0)),
]:
    model.fit(vec.fit_transform(tr_x), tr_y)
    out[name] = float(model.score(vec.transform(va_x), va_y))
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(MODULES), choices=list(MODULES))
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the full training runs")
    parser.add_argument("--workdir", default=str(REPO / ".scratch" / "bench"))
    parser.add_argument("--against", metavar="REF", help="also bake the template at REF (e.g. c17cc8c) and compare "
                        "both bakes' cost per step over Lightning's floor in one run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of --against (default 3)")
    parser.add_argument("--step-ratio-only", action="store_true", help="with --against: only that comparison")
    parser.add_argument("--step-ratio-args", default="", help="with --against: more step_ratio.py options, e.g. "
                        "'--epochs 6 --threads 1 --clock cpu' (steady figures on a busy machine)")
    args = parser.parse_args()
    if args.step_ratio_only and not args.against:
        parser.error("--step-ratio-only goes with --against")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    other = clone_at(args.against, workdir) if args.against else None
    for task in args.tasks:
        if other is not None:
            (workdir / args.against).mkdir(exist_ok=True)
            projects = {"this checkout": bake(task, workdir), args.against: bake(task, workdir / args.against, other)}
            bench_against(task, projects, dict(os.environ), args.rounds, shlex.split(args.step_ratio_args))
        if not args.step_ratio_only:
            bench_task(task, workdir, accuracy=not args.skip_accuracy)
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'check':<{width}}  {'measured':>12}  {'target':>10}  result")
    print("-" * (width + 36))
    for check, measured, target, result in ROWS:
        print(f"{check:<{width}}  {measured:>12}  {target:>10}  {result}")
    failed = sum(r[3] == "FAIL" for r in ROWS)
    print(f"\n{failed} of {sum(r[3] != '-' for r in ROWS)} checks failed; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
