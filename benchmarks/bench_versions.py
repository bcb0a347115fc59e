"""labblocks at another commit against this checkout, measured in one run (on demand, not collected by pytest):

    python benchmarks/bench_versions.py [--against 400608636ab9] [--rounds 7]

The other commit is checked out into a temporary git worktree; each side runs in its own processes with
`PYTHONPATH=<side>/registry/src`, in alternating rounds, so drifts of the machine hit both alike. Measured:

1. `labblocks list` and `labblocks show timm/resnet@v1`: wall time of the whole command, and whether it
   imported torch (budget: 0.1 s, no torch);
2. `labblocks.build` of the default image network (timm ResNet-18, 1 channel, 10 classes) per call, and the
   registry's own part of it: `labblocks.pin` of the same node (resolve, check, fill) per call;
3. the cost per call of the shape-checking hooks on a tiny MLP (best of repeats, hooks minus none).

Prints each figure for both sides and the ratio this checkout / the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE_0_2 = "400608636ab9261b1dbc16de7cee7594897e31d2"
NET = {"block": "timm/resnet@v1", "variant": "resnet18", "drop_rate": 0.1, "in_chans": 1, "num_classes": 10}
LIST_BUDGET_S = 0.1

# Runs inside a side's interpreter; prints one JSON object.
WORKER = r"""
import json, sys, time, timeit
mode, net = sys.argv[1], json.loads(sys.argv[2])
if mode == "cli":
    try:
        from labblocks.tools.cli import main
    except ImportError:  # 0.2 layout
        from labblocks.cli import main
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        main(sys.argv[3:])
    print(json.dumps({"torch": "torch" in sys.modules}), file=sys.stderr)
    sys.exit(0)
import torch, labblocks
torch.set_num_threads(1)
labblocks.build(net); labblocks.pin(net)  # warm: timm imported, caches filled
out = {}
builds = []
for _ in range(15):
    t0 = time.perf_counter(); labblocks.build(net); builds.append(time.perf_counter() - t0)
out["build_s"] = sorted(builds)[len(builds) // 2]
out["pin_us"] = min(timeit.repeat(lambda: labblocks.pin(net), number=200, repeat=5)) / 200 * 1e6
args = {"in_dim": 8, "hidden_dim": 8, "out_dim": 4}
labblocks.set_shape_check("off"); off = labblocks.build("core/mlp@v1", **args).eval()
labblocks.set_shape_check("hooks"); on = labblocks.build("core/mlp@v1", **args).eval()
x = torch.randn(2, 8)
with torch.no_grad():
    best_on = min(min(timeit.repeat(lambda: on(x), number=2000, repeat=5)) for _ in range(3)) / 2000
    best_off = min(min(timeit.repeat(lambda: off(x), number=2000, repeat=5)) for _ in range(3)) / 2000
out["hooks_us"] = (best_on - best_off) * 1e6
print(json.dumps(out))
"""


def side_env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "WANDB_MODE": "disabled"}


def cli_seconds(src: Path, argv: list[str]) -> tuple[float, bool]:
    """Wall time of one command, and whether it imported torch."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WORKER, "cli", "{}", *argv], env=side_env(src),
                          capture_output=True, text=True, check=True)
    took = time.perf_counter() - t0
    return took, json.loads(proc.stderr.strip().splitlines()[-1])["torch"]


def in_process(src: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", WORKER, "inproc", json.dumps(NET)], env=side_env(src),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=RELEASE_0_2, help="the other commit (default: the 0.2.0 release)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(other), opts.against],
                       check=True)
        try:
            sides = {"other": other / "registry" / "src", "this": ROOT / "registry" / "src"}
            results = run_rounds(sides, opts.rounds)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=True)
    report(results, opts.against)
    ok = all(results["this"][k + "_torch"] == [False] * opts.rounds for k in ("list", "show"))
    return 0 if ok and statistics.median(results["this"]["list_s"]) <= LIST_BUDGET_S else 1


def run_rounds(sides: dict[str, Path], rounds: int) -> dict[str, dict[str, list]]:
    results: dict[str, dict[str, list]] = {name: {} for name in sides}
    for src in sides.values():  # warm the file cache and compiled bytecode of both sides
        cli_seconds(src, ["list"])
    for r in range(rounds):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        for name, src in order:
            res = results[name]
            for cmd, argv in (("list", ["list"]), ("show", ["show", "timm/resnet@v1"])):
                took, torch_loaded = cli_seconds(src, argv)
                res.setdefault(f"{cmd}_s", []).append(took)
                res.setdefault(f"{cmd}_torch", []).append(torch_loaded)
            for key, value in in_process(src).items():
                res.setdefault(key, []).append(value)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return results


def report(results: dict[str, dict[str, list]], against: str) -> None:
    rows = [("labblocks list", "list_s", 1e3, "ms"), ("labblocks show timm/resnet@v1", "show_s", 1e3, "ms"),
            ("build default image network", "build_s", 1e3, "ms"),
            ("pin of that node (registry only)", "pin_us", 1, "us"),
            ("shape hooks, cost per call", "hooks_us", 1, "us")]
    print(f"\nthis checkout vs {against[:12]}, medians over {len(results['this']['list_s'])} alternating rounds")
    print(f"{'measure':<34} {'other':>10} {'this':>10} {'this/other':>11}")
    for label, key, scale, unit in rows:
        a, b = statistics.median(results["other"][key]), statistics.median(results["this"][key])
        print(f"{label:<34} {a * scale:>8.2f}{unit} {b * scale:>8.2f}{unit} {b / a:>11.3f}")
    for side in ("other", "this"):
        loaded = {c: any(results[side][f"{c}_torch"]) for c in ("list", "show")}
        print(f"torch imported by list/show ({side}): {loaded['list']}/{loaded['show']}")
    print(f"budget: labblocks list <= {LIST_BUDGET_S} s without torch")


if __name__ == "__main__":
    sys.exit(main())
