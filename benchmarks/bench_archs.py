"""The architectures that the `timm/model@v1` and `hf/model@v1` tests build, run on demand (not collected by
pytest):

    python benchmarks/bench_archs.py [--rounds N] [--threads N]

For each architecture at its test size (the argument tables of registry/tests/test_timm_model.py and
test_hf_model.py): parameters, input and output shapes, and the median eager CPU forward time (no gradients)
over N rounds, next to its ratio to the first row of its table (resnet10t, bert), measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import labblocks
import torch
from labblocks.registry import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "registry" / "tests"))
from test_hf_model import CASES  # noqa: E402  (the tests' tables are the list of record)
from test_timm_model import ARCHS  # noqa: E402

SIZE = {"b": 2, "t": 32, "h": 32, "w": 32}  # batch, tokens, image side


def _median_ms(net: torch.nn.Module, inputs: dict[str, torch.Tensor], rounds: int) -> float:
    with torch.no_grad():
        for _ in range(3):
            net(**inputs)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            net(**inputs)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _row(label: str, net: torch.nn.Module, rounds: int) -> tuple[str, int, str, str, float]:
    net.eval()
    inputs = REGISTRY.contract(net).example_inputs(SIZE)
    if "input_ids" in inputs:
        inputs["input_ids"] = torch.randint(3, 100, inputs["input_ids"].shape)
    with torch.no_grad():
        out = net(**inputs)
    shape = tuple(next(iter(inputs.values())).shape)
    return label, sum(p.numel() for p in net.parameters()), str(shape), str(tuple(out.shape)), _median_ms(
        net, inputs, rounds)


def _print(title: str, rows: list[tuple[str, int, str, str, float]]) -> None:
    print(f"\n{title}\n{'architecture':<40} {'params':>9}  {'input':<16} {'output':<14} {'ms':>7}  ratio")
    base = rows[0][4]
    for label, params, shape, out, ms in rows:
        size = f"{params / 1e6:.2f}M" if params >= 100_000 else f"{params / 1e3:.1f}K"
        print(f"{label:<40} {size:>9}  {shape:<16} {out:<14} {ms:7.2f}  {ms / base:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    timm_rows = []
    for name, extra in ARCHS.items():
        net = labblocks.build("timm/model@v1", name=name, num_classes=5, in_chans=3, **extra)
        timm_rows.append(_row(name, net, args.rounds))
    _print(f"timm/model@v1: {len(timm_rows)} architectures, 5 classes, 32x32 images", timm_rows)
    hf_rows = []
    for model_type, head, config, num_labels in CASES:
        kwargs: dict[str, Any] = {"model_type": model_type, "config": config, "head": head, "num_labels": num_labels}
        hf_rows.append(_row(f"{model_type} {head}", labblocks.build("hf/model@v1", **kwargs), args.rounds))
    _print(f"hf/model@v1: {len({c[0] for c in CASES})} model types, 32 tokens or 32x32 images", hf_rows)


if __name__ == "__main__":
    main()
