"""Benchmark of feedback times against the previous design, both measured in the same run:

    python benchmarks/bench_feedback.py [--baseline 578f866] [--skip-template-suite] [--workdir DIR]

It clones this checkout twice into the work folder: the baseline commit (default 578f866: labblocks pinned to
a tag, `[tool.uv] compile-bytecode = true` in baked projects, UV_COMPILE_BYTECODE exported by the top-level
Makefile, every option combination rendered) and the working tree (see tests/_helpers.clone_checkout). Each
bakes a project (the new design with every default answer from a git URL of its clone; the baseline, whose
default pin does not install, with labblocks_source=path) and reports, with ratios new / baseline:

- `uv sync` with a warm cache (median of --repeat runs, default 3; the .venv removed before each), and for
  the baseline's bake also without its `[tool.uv]` settings (the target: within 1.5x of the same without
  our settings);
- a no-op `uv run python -c pass` (median of 7), and `uv run --no-sync`, which the new Makefile uses;
- the generated suite, `make test` of the bake;
- the template suite, `make test` of each clone (minutes each; --skip-template-suite leaves it out).

Run it on an otherwise idle machine: the numbers are wall times.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from _helpers import clone_checkout, uv_env  # noqa: E402 - the tests' helpers, from this checkout

ROWS: list[tuple[str, float, float]] = []  # (measurement, baseline seconds, new seconds)


def sh(cmd: list[str], cwd: Path, timeout: float = 3600, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed in {cwd} ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def timed(cmd: list[str], cwd: Path, repeat: int = 1, before: list[str] | None = None) -> float:
    """Median wall time of `cmd` over `repeat` runs; `before` (e.g. removing .venv) runs untimed first."""
    times = []
    for _ in range(repeat):
        if before:
            sh(before, cwd)
        start = time.perf_counter()
        sh(cmd, cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bake(template: str, out: Path, *answers: str) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sh([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out), template, *answers], cwd=out)
    (project,) = [p for p in out.iterdir() if p.is_dir()]
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for args in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "baked"]):
        sh(["git", *args], cwd=project)
    return project


def summary(stdout: str) -> str:
    return next((line.strip("= ") for line in reversed(stdout.splitlines()) if re.search(r"\d+ passed", line)), "?")


def measure_bake(project: Path, uv: str, label: str, repeat: int) -> dict[str, float]:
    """uv sync (warm), no-op uv run, and the generated suite of one bake."""
    sh([uv, "sync", "--quiet"], cwd=project)  # fills the cache and the venv once
    result = {
        "sync": timed([uv, "sync", "--quiet"], project, repeat=repeat, before=["rm", "-rf", ".venv"]),
        "run": timed([uv, "run", "python", "-c", "pass"], project, repeat=7),
        "run-no-sync": timed([uv, "run", "--no-sync", "python", "-c", "pass"], project, repeat=7),
    }
    start = time.perf_counter()
    suite = sh(["make", "--no-print-directory", "test", f"UV={uv}"], cwd=project, timeout=3600)
    result["suite"] = time.perf_counter() - start
    print(f"[{label}] uv sync {result['sync']:.1f} s, uv run {result['run']:.2f} s, "
          f"make test {result['suite']:.0f} s ({summary(suite.stdout)})", flush=True)
    return result


def without_uv_settings(project: Path) -> Path:
    """A copy of a bake whose pyproject.toml lacks the `[tool.uv]` table (compile-bytecode)."""
    plain = project.with_name(project.name + "-plain")
    shutil.rmtree(plain, ignore_errors=True)
    shutil.copytree(project, plain, ignore=shutil.ignore_patterns(".venv"))
    text = (plain / "pyproject.toml").read_text(encoding="utf-8")
    (plain / "pyproject.toml").write_text(re.sub(r"\[tool\.uv\]\n(?:[^\[\n][^\n]*\n)*\n?", "", text), encoding="utf-8")
    return plain


def template_suite(clone: Path, uv: str, label: str) -> float:
    sh(["make", "--no-print-directory", ".venv/.synced", f"UV={uv}"], cwd=clone, timeout=3600)
    start = time.perf_counter()
    suite = sh(["make", "--no-print-directory", "test", f"UV={uv}"], cwd=clone, timeout=7200)
    seconds = time.perf_counter() - start
    print(f"[{label}] template make test {seconds:.0f} s ({summary(suite.stdout)})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="578f866", help="the previous design's commit")
    parser.add_argument("--skip-template-suite", action="store_true", help="leave out the template suites (minutes)")
    parser.add_argument("--workdir", default=str(REPO / ".scratch" / "bench-feedback"))
    parser.add_argument("--repeat", type=int, default=3, help="uv sync runs per bake (the median is reported)")
    args = parser.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")

    old = work / "baseline" / "research-template"
    old.parent.mkdir()
    sh(["git", "clone", "-q", str(REPO), str(old)], cwd=work)
    sh(["git", "checkout", "-q", args.baseline], cwd=old)
    new = clone_checkout(work / "new" / "research-template")

    old_bake = bake(str(old), work / "baseline" / "bake", "labblocks_source=path", f"labblocks_path={old / 'registry'}")
    new_bake = bake(f"git+{new.as_uri()}", work / "new" / "bake")  # every default answer
    base = measure_bake(old_bake, uv, "baseline", args.repeat)
    plain = without_uv_settings(old_bake)
    sh([uv, "sync", "--quiet"], cwd=plain)
    plain_sync = timed([uv, "sync", "--quiet"], plain, repeat=args.repeat, before=["rm", "-rf", ".venv"])
    plain_run = timed([uv, "run", "python", "-c", "pass"], plain, repeat=7)
    now = measure_bake(new_bake, uv, "new", args.repeat)
    ROWS.extend([
        ("uv sync of a bake, warm cache", base["sync"], now["sync"]),
        ("no-op `uv run python -c pass`", base["run"], now["run"]),
        ("no-op `uv run --no-sync` (new Makefile)", base["run"], now["run-no-sync"]),
        ("generated suite, make test", base["suite"], now["suite"]),
    ])
    if not args.skip_template_suite:
        ROWS.append(("template suite, make test", template_suite(old, uv, "baseline"), template_suite(new, uv, "new")))

    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'measurement':<{width}}  {'baseline':>9}  {'new':>9}  new/baseline")
    for name, before, after in ROWS:
        print(f"{name:<{width}}  {before:>8.2f}s  {after:>8.2f}s  {after / before:>8.2f}x")
    print(f"\nwithout our settings (the baseline bake, [tool.uv] removed): uv sync {plain_sync:.2f} s, "
          f"uv run {plain_run:.2f} s")
    print(f"new / without settings: uv sync {now['sync'] / plain_sync:.2f}x, uv run {now['run'] / plain_run:.2f}x "
          f"(target <= 1.5x); baseline / without settings: uv sync {base['sync'] / plain_sync:.2f}x, "
          f"uv run {base['run'] / plain_run:.2f}x")


ENV = uv_env()  # without settings that point uv elsewhere or compile bytecode; W&B disabled

if __name__ == "__main__":
    main()
