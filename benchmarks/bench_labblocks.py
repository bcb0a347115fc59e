"""Benchmarks for labblocks, run on demand (not collected by pytest):

    python benchmarks/bench_labblocks.py [--budget SECONDS_PER_BLOCK]

1. Wall time of the `labblocks list` command next to `python -c pass` and `python -c "import torch"`.
2. Eager CPU forward time of every core block against a hand-written plain-torch equivalent that holds
   the same parameters (copied from the block's state_dict) and computes the same outputs.
3. The cost per call of the shape-checking hooks, and that `off` installs none.

Prints a table with each target and PASS/FAIL. Timings interleave the two sides over many rounds and
take the median of each side, so that drifts of the machine hit both alike; the median of the per-round
ratios is printed next to it as a check (the two disagree when the machine was busy with other work).
"""

from __future__ import annotations

import argparse
import gc
import math
import shutil
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import labblocks
import torch
import torch.nn.functional as F
from torch import Tensor, nn

THREADS = 1
B, N, D = 32, 64, 256  # tokens: batch, sequence length, width
IMAGES = (32, 3, 32, 32)  # images: batch, channels, height, width
CLI_RUNS = 10
FORWARD_TARGET = 1.02
HOOK_TARGET_US = 20.0


@dataclass
class Row:
    name: str
    measured: str
    target: str
    ok: bool | None  # None: informational


# ---------------------------------------------------------------------------------------------------
# Timing helpers


def interleaved(a: Callable[[], Any], b: Callable[[], Any], budget_s: float) -> tuple[float, float, float]:
    """Median seconds per call of `a` and of `b`, timed in alternating chunks for about `budget_s`,
    and the median of the per-round ratios a/b (a check: it differs from the ratio of the medians when
    the machine's load changed during the run)."""
    for _ in range(3):
        a(), b()
    start = time.perf_counter()
    a()
    one = max(time.perf_counter() - start, 1e-6)
    inner = max(1, math.ceil(0.01 / one))  # chunks of about 10 ms
    rounds = int(min(400, max(20, budget_s / (2 * inner * one))))
    times: dict[int, list[float]] = {0: [], 1: []}
    fns = (a, b)
    gc.disable()
    try:
        for r in range(rounds):
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                fn = fns[side]
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn()
                times[side].append((time.perf_counter() - t0) / inner)
    finally:
        gc.enable()
    paired = statistics.median(x / y for x, y in zip(times[0], times[1], strict=True))
    return statistics.median(times[0]), statistics.median(times[1]), paired


def time_commands(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall seconds of each command, run `runs` times in interleaved order (after one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        subprocess.run(argv, capture_output=True, check=True)
    for _ in range(runs):
        for name, argv in commands.items():
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


# ---------------------------------------------------------------------------------------------------
# Hand-written equivalents: plain torch with the same parameter names as the blocks and the same
# features (dropout included, as F.dropout, where the block has it; p=0 here as in the blocks' default)


class RefClsHead(nn.Module):
    def __init__(self, dim: int, num_classes: int, p: float = 0.0):
        super().__init__()
        self.p = p
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.fc(F.dropout(self.norm(pooled), self.p, self.training))


class RefConvNormAct(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.norm(self.conv(x)))


class RefAttention(nn.Module):
    def __init__(self, dim: int, heads: int, p: float = 0.0):
        super().__init__()
        self.heads, self.p = heads, p
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        return F.dropout(self.proj(out.transpose(1, 2).reshape(b, n, d)), self.p, self.training)


class RefMLP(nn.Module):
    def __init__(self, dim: int, hidden: int, p: float = 0.0):
        super().__init__()
        self.p = p
        self.layers = nn.ModuleList([nn.Linear(dim, hidden), nn.Linear(hidden, dim)])

    def forward(self, x: Tensor) -> Tensor:
        return self.layers[1](F.dropout(F.gelu(self.layers[0](x)), self.p, self.training))


class RefPatchEmbed(nn.Module):
    def __init__(self, cin: int, dim: int, patch: int):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, patch, patch)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class RefLearnedPos(nn.Module):
    def __init__(self, max_len: int, dim: int, p: float = 0.0):
        super().__init__()
        self.p = p
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x + self.pos[:, : x.shape[1]], self.p, self.training)


class RefSinCosPos(nn.Module):
    def __init__(self, max_len: int, dim: int, p: float = 0.0):
        super().__init__()
        self.p = p
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(max_len, dim)
        table[:, 0::2] = torch.sin(position * freq)
        table[:, 1::2] = torch.cos(position * freq)
        self.register_buffer("table", table[None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x + self.table[:, : x.shape[1]], self.p, self.training)


class RefResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(y)) + self.shortcut(x))


class RefTokenEmbed(nn.Module):
    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)

    def forward(self, ids: Tensor) -> Tensor:
        return self.embed(ids)


class RefTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, p: float = 0.0):
        super().__init__()
        self.p = p
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefAttention(dim, heads, p)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMLP(dim, 4 * dim, p)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x), mask)
        return x + F.dropout(self.mlp(self.norm2(x)), self.p, self.training)


class RefTextTransformer(nn.Module):
    def __init__(self, vocab: int, classes: int, dim: int, depth: int, heads: int, max_len: int, p: float):
        super().__init__()
        self.embed = RefTokenEmbed(vocab, dim)
        self.pos = RefLearnedPos(max_len, dim, p)
        self.blocks = nn.ModuleList(RefTransformerBlock(dim, heads, p) for _ in range(depth))
        self.head = RefClsHead(dim, classes, p)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        x = self.pos(self.embed(input_ids))
        for block in self.blocks:
            x = block(x, attention_mask)
        return self.head(x, attention_mask)


def _tokens() -> Tensor:
    return torch.randn(B, N, D)


def _mask() -> Tensor:
    mask = torch.ones(B, N, dtype=torch.bool)
    mask[::2, N // 2 :] = False  # half the batch padded to half length
    return mask


# key -> (block arguments, hand-written module, inputs)
CASES: dict[str, Callable[[], tuple[dict[str, Any], nn.Module, dict[str, Tensor]]]] = {
    "core/cls_head@v1": lambda: (
        {"in_dim": D, "num_classes": 10},
        RefClsHead(D, 10),
        {"x": _tokens(), "mask": _mask()},
    ),
    "core/conv_norm_act@v1": lambda: (
        {"in_chans": 3, "out_chans": 64},
        RefConvNormAct(3, 64),
        {"x": torch.randn(IMAGES)},
    ),
    "core/mhsa@v1": lambda: (
        {"dim": D, "num_heads": 8},
        RefAttention(D, 8),
        {"x": _tokens(), "mask": _mask()},
    ),
    "core/mlp@v1": lambda: (
        {"in_dim": D, "hidden_dim": 4 * D, "out_dim": D},
        RefMLP(D, 4 * D),
        {"x": _tokens()},
    ),
    "core/patch_embed@v1": lambda: (
        {"in_chans": 3, "embed_dim": D, "patch_size": 4},
        RefPatchEmbed(3, D, 4),
        {"x": torch.randn(IMAGES)},
    ),
    "core/pos_embed_learned@v1": lambda: ({"max_len": N, "dim": D}, RefLearnedPos(N, D), {"x": _tokens()}),
    "core/pos_embed_sincos@v1": lambda: ({"dim": D, "max_len": 512}, RefSinCosPos(512, D), {"x": _tokens()}),
    "core/residual_block@v1": lambda: (
        {"in_chans": 3, "out_chans": 32, "stride": 2},
        RefResidual(3, 32, 2),
        {"x": torch.randn(IMAGES)},
    ),
    "core/token_embed@v1": lambda: (
        {"vocab_size": 1000, "dim": D},
        RefTokenEmbed(1000, D),
        {"ids": torch.randint(0, 1000, (B, N))},
    ),
    "core/text_transformer@v1": lambda: (
        {"vocab_size": 1000, "num_classes": 10, "dim": D, "depth": 2, "num_heads": 8, "max_len": N},
        RefTextTransformer(1000, 10, D, 2, 8, N, p=0.1),  # the block's default dropout (inactive in eval)
        {"input_ids": torch.randint(1, 1000, (B, N)), "attention_mask": _mask()},
    ),
    "core/transformer_block@v1": lambda: (
        {"dim": D, "num_heads": 8},
        RefTransformerBlock(D, 8),
        {"x": _tokens(), "mask": _mask()},
    ),
}


# ---------------------------------------------------------------------------------------------------
# Benchmarks


def bench_cli() -> list[Row]:
    script = shutil.which("labblocks") or str(Path(sys.executable).with_name("labblocks"))
    times = time_commands(
        {
            "labblocks list": [script, "list"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        },
        CLI_RUNS,
    )
    lb, bare, torch_t = times["labblocks list"], times["python -c pass"], times["python -c 'import torch'"]
    print(f"CLI wall time, median of {CLI_RUNS} runs:")
    for name, t in times.items():
        print(f"  {name:<26} {t * 1e3:8.1f} ms")
    print(f"  {'labblocks list / python -c pass':<42} {lb / bare:6.2f}x")
    print(f"  {'labblocks list / python -c import torch':<42} {lb / torch_t:6.2f}x\n")
    return [
        Row("labblocks list wall time", f"{lb:.3f} s", "<= 0.30 s", lb <= 0.3),
        Row("labblocks list / import torch", f"{lb / torch_t:.2f}x", "info", None),
        Row("labblocks list / python -c pass", f"{lb / bare:.2f}x", "info", None),
    ]


def bench_blocks(budget_s: float) -> list[Row]:
    rows = []
    print(f"Eager CPU forward, torch.no_grad, {THREADS} thread(s); block vs hand-written, median per call.")
    print("  The checked figure is the paired ratio: the median over rounds of block/hand-written timed back")
    print("  to back, which cancels load that drifts during the run; the ratio of the two medians is shown too.")
    for key in labblocks.list_blocks("core/*"):
        if key not in CASES:
            rows.append(
                Row(f"{key} forward", "no hand-written equivalent", f"<= {FORWARD_TARGET:.2f}x", False)
            )
            continue
        args, ref, inputs = CASES[key]()
        torch.manual_seed(0)
        block = labblocks.build(key, **args).eval()
        ref.load_state_dict(block.state_dict(), strict=True)
        ref.eval()
        with torch.no_grad():
            out_block, out_ref = block(**inputs), ref(**inputs)
            torch.testing.assert_close(out_block, out_ref, rtol=1e-6, atol=1e-6)
            t_block, t_ref, paired = interleaved(
                lambda: block(**inputs),  # noqa: B023
                lambda: ref(**inputs),  # noqa: B023
                budget_s,
            )
        print(
            f"  {key:<27} block {t_block * 1e6:9.1f} us   hand-written {t_ref * 1e6:9.1f} us"
            f"   paired ratio {paired:.4f} (ratio of medians {t_block / t_ref:.4f})"
        )
        rows.append(
            Row(f"{key} forward", f"{paired:.4f}x", f"<= {FORWARD_TARGET:.2f}x", paired <= FORWARD_TARGET)
        )
    print()
    return rows


def bench_hooks(budget_s: float) -> list[Row]:
    args = {"in_dim": 8, "hidden_dim": 8, "out_dim": 4}
    labblocks.set_shape_check("off")
    off = labblocks.build("core/mlp@v1", **args).eval()
    hooks_when_off = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in off.modules())
    labblocks.set_shape_check("hooks")
    on = labblocks.build("core/mlp@v1", **args).eval()
    labblocks.set_shape_check("off")
    on.load_state_dict(off.state_dict())
    hooks_when_on = len(on._forward_hooks) + len(on._forward_pre_hooks)
    x = torch.randn(2, 8)
    with torch.no_grad():
        t_on, t_off, _ = interleaved(lambda: on(x), lambda: off(x), budget_s)
        # The per-call cost of a fixed overhead is best read from the fastest runs (timeit's advice):
        # medians on a shared 2-core machine wander by more than the overhead itself.
        best_on, best_off = float("inf"), float("inf")
        for _ in range(5):
            best_on = min(best_on, min(timeit.repeat(lambda: on(x), number=2000, repeat=5)) / 2000)
            best_off = min(best_off, min(timeit.repeat(lambda: off(x), number=2000, repeat=5)) / 2000)
    cost_us = (best_on - best_off) * 1e6
    print(
        f"Shape hooks on a tiny MLP ({tuple(x.shape)} -> (2, 4)), best of repeats: off {best_off * 1e6:.1f} us, "
        f"hooks {best_on * 1e6:.1f} us per call; cost {cost_us:.1f} us "
        f"(medians: off {t_off * 1e6:.1f} us, hooks {t_on * 1e6:.1f} us)"
    )
    print(f"Hooks installed: {hooks_when_on} with 'hooks', {hooks_when_off} with 'off'\n")
    return [
        Row(
            "hooks cost per call",
            f"{cost_us:.1f} us",
            f"<= {HOOK_TARGET_US:.0f} us",
            cost_us <= HOOK_TARGET_US,
        ),
        Row("'off' installs no hooks", f"{hooks_when_off} hooks", "0 hooks", hooks_when_off == 0),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=8.0, help="seconds of timing per block (default 8)")
    opts = parser.parse_args()
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    start = time.perf_counter()
    print(
        f"labblocks {labblocks.__version__}, torch {torch.__version__}, Python {sys.version.split()[0]}, "
        f"{THREADS} torch thread(s)\n"
    )
    rows = bench_cli() + bench_blocks(opts.budget) + bench_hooks(opts.budget / 2)
    width = max(len(r.name) for r in rows)
    print(f"{'check':<{width}}  {'measured':>22}  {'target':>10}  result")
    print("-" * (width + 46))
    for r in rows:
        result = "-" if r.ok is None else ("PASS" if r.ok else "FAIL")
        print(f"{r.name:<{width}}  {r.measured:>22}  {r.target:>10}  {result}")
    failed = sum(r.ok is False for r in rows)
    print(
        f"\n{failed} of {sum(r.ok is not None for r in rows)} checks failed;"
        f" total {time.perf_counter() - start:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
