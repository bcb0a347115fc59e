"""`check_contract`: run a block on example inputs and check its shape contract."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from labblocks.registry import REGISTRY


def check_contract(
    key: str, *, device: str = "meta", dims: dict[str, int] | None = None, **args: Any
) -> dict[str, Any]:
    """Build `key` with `args` (its registered example when none are given) on `device` ("meta" by
    default: no memory, no compute), feed it inputs that satisfy its input specs, and check the output.

    `dims` sets sizes of named dimensions (defaults: the block's example dims, b=2, h=w=32, others 5).
    On the meta device tensors have no values, so a block that branches on an optional input's values
    (Hugging Face checks `attention_mask.all()`) is run again without its optional inputs; those are
    listed under "dropped". Raises ShapeError on a broken contract; returns
    `{"inputs": shapes, "output": shapes, "dropped": [names]}`.
    """
    k = REGISTRY.resolve(key)
    if not args:
        args = dict(REGISTRY.describe(k).example)
    with torch.device(device):
        module = REGISTRY.build(str(k), **args)
    module.eval()
    bound = REGISTRY.contract(module)
    sizes = {**REGISTRY.sources.exact(k).example_dims, **(dims or {})}
    inputs = bound.example_inputs(sizes, device=device)
    dropped: list[str] = []
    with torch.no_grad():
        try:
            out = module(**inputs)
        except (RuntimeError, NotImplementedError) as e:
            params = inspect.signature(module.forward).parameters
            dropped = [n for n in inputs if params[n].default is None]
            if device != "meta" or "meta" not in str(e) or not dropped:
                raise
            inputs = {n: t for n, t in inputs.items() if n not in dropped}
            out = module(**inputs)
    bound.check_outputs(out, bound.check_inputs(inputs))
    shapes = {n: tuple(t.shape) for n, t in inputs.items()}
    return {"inputs": shapes, "output": _shapes(out), "dropped": dropped}


def _shapes(out: Any) -> Any:
    if hasattr(out, "shape"):
        return tuple(out.shape)
    if isinstance(out, dict):
        return {k: tuple(v.shape) for k, v in out.items()}
    return [tuple(t.shape) for t in out]
