"""Shape contracts in jaxtyping's string syntax, e.g. `"*b n {dim}"`, and their runtime checks.

A spec is a space-separated list of dimensions:
  `5`        a fixed size              `{param}`   a constructor argument (an int)
  `n`        a named size, equal wherever the same name appears in one call's inputs and outputs
  `*b`       any number of dims, named `...`       any number of dims, unnamed
  `_`        any single size           `h//{patch_size}`  an expression over named sizes and arguments

Checking is off by default (nothing is installed). With `LABBLOCKS_SHAPE_CHECK=hooks`, or
`set_shape_check("hooks")` before building, every built block gets forward pre/post hooks that check
each call and step aside while `torch.compile` traces.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any

from labblocks.errors import ShapeError

MODES = ("off", "hooks")
_mode: str | None = None
_PARAM_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DEFAULT_DIMS = {"b": 2, "h": 32, "w": 32}  # example sizes for named dims when a block gives none
OTHER_DIM = 5


def set_shape_check(mode: str) -> None:
    """Set the checking mode for blocks built from now on: `off` (default) or `hooks`."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"shape-check mode {mode!r} is not one of {', '.join(MODES)}")
    _mode = mode


def shape_check_mode() -> str:
    """The current mode: what `set_shape_check` set, else `$LABBLOCKS_SHAPE_CHECK`, else `off`."""
    if _mode is not None:
        return _mode
    mode = os.environ.get("LABBLOCKS_SHAPE_CHECK", "off").strip().lower() or "off"
    if mode not in MODES:
        raise ValueError(f"LABBLOCKS_SHAPE_CHECK={mode!r} (environment) is not one of {', '.join(MODES)}")
    return mode


# ---------------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class Dim:
    kind: str  # "fixed" | "name" | "var" | "any" | "expr"
    label: str  # what an error calls it: the param name, dim name or expression text
    value: Any = None  # int for fixed, name for var (None = `...`), compiled code for expr


def parse_spec(spec: str, args: dict[str, Any], where: str) -> tuple[Dim, ...]:
    """Parse one spec, filling `{param}` from `args`."""
    dims = []
    for token in spec.split():
        label = token[1:-1] if _PARAM_RE.fullmatch(token) else token
        filled = _PARAM_RE.sub(lambda m: _param(m.group(1), args, spec, where), token)
        if filled.isdigit():
            dims.append(Dim("fixed", label, int(filled)))
        elif filled == "...":
            dims.append(Dim("var", "...", None))
        elif filled.startswith("*") and _NAME_RE.match(filled[1:]):
            dims.append(Dim("var", filled[1:], filled[1:]))
        elif filled == "_":
            dims.append(Dim("any", "_"))
        elif _NAME_RE.match(filled):
            dims.append(Dim("name", filled))
        else:
            try:
                code = compile(filled, f"<spec {spec!r}>", "eval")
            except SyntaxError as e:
                raise ValueError(f"{where}: bad dimension {token!r} in shape spec {spec!r}") from e
            dims.append(Dim("expr", token, code))
    if sum(d.kind == "var" for d in dims) > 1:
        raise ValueError(f"{where}: shape spec {spec!r} has more than one variadic dimension")
    return tuple(dims)


def _param(name: str, args: dict[str, Any], spec: str, where: str) -> str:
    if name not in args:
        raise ValueError(f"{where}: shape spec {spec!r} names {{{name}}}, which is not an argument")
    value = args[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{where}: shape spec {spec!r} needs {{{name}}} to be an int, got {value!r}")
    return str(value)


# ---------------------------------------------------------------------------------------------------
# Matching


def match(dims: tuple[Dim, ...], spec: str, shape: tuple[int, ...], bound: dict, where: str) -> None:
    """Check `shape` against parsed `dims`, binding named sizes into `bound`; raise ShapeError."""
    n, ndim = len(dims), len(shape)
    var = next((i for i, d in enumerate(dims) if d.kind == "var"), -1)
    if (var < 0 and ndim != n) or (var >= 0 and ndim < n - 1):
        want = f"{n} dims" if var < 0 else f"at least {n - 1} dims"
        raise ShapeError(f"{where}: expected {want} '{spec}', got shape {tuple(shape)}")
    if var < 0:
        pairs = list(zip(dims, shape, strict=True))
    else:  # the dims before the variadic one, then those after it (aligned to the end of the shape)
        after = shape[ndim - (n - var - 1):]
        pairs = list(zip(dims[:var], shape[:var], strict=True))
        pairs += list(zip(dims[var + 1:], after, strict=True))
    exprs = []
    for d, size in pairs:
        if d.kind == "fixed":
            if size != d.value:
                _fail(where, d.label, d.value, size, shape, spec)
        elif d.kind == "name":
            want = bound.setdefault(d.label, size)
            if want != size:
                _fail(where, d.label, want, size, shape, spec)
        elif d.kind == "expr":
            exprs.append((d, size))
    if var >= 0 and dims[var].value is not None:
        middle = tuple(shape[var: ndim - (n - var - 1)])
        want = bound.setdefault("*" + dims[var].value, middle)
        if want != middle:
            _fail(where, "*" + dims[var].value, want, middle, shape, spec)
    for d, size in exprs:
        try:
            want = eval(d.value, {"__builtins__": {}}, bound)
        except NameError as e:
            raise ShapeError(f"{where}: cannot evaluate dim '{d.label}' in '{spec}': {e}") from None
        if want != size:
            _fail(where, d.label, want, size, shape, spec)


def _fail(where: str, label: str, want: object, got: object, shape: tuple, spec: str) -> None:
    raise ShapeError(
        f"{where}: dim '{label}' expected {want}, got {got} (shape {tuple(shape)}, spec '{spec}')"
    )


class Checker:
    """One parsed spec with its error prefix, ready to check shapes call after call.

    Specs of fixed sizes, names, `_` and at most one variadic dimension (nearly all) take a tight loop;
    specs with expressions, and every mismatch, go to `match`, which also writes the error.
    """

    __slots__ = ("spec", "dims", "where", "head", "tail", "var")

    def __init__(self, spec: str, dims: tuple[Dim, ...], where: str):
        self.spec, self.dims, self.where = spec, dims, where
        codes = {"fixed": 0, "name": 1, "any": 2}
        at = next((i for i, d in enumerate(dims) if d.kind == "var"), len(dims))
        fast = all(d.kind in codes for i, d in enumerate(dims) if i != at)
        self.head = tuple((codes[d.kind], d.label, d.value) for d in dims[:at]) if fast else None
        self.tail = tuple((codes[d.kind], d.label, d.value) for d in dims[at + 1:]) if fast else ()
        self.var = ("*" + dims[at].value if dims[at].value else "") if at < len(dims) else None

    def __call__(self, shape: tuple[int, ...], bound: dict) -> None:
        head, tail, var = self.head, self.tail, self.var
        n, k = len(shape), len(tail)
        if head is None or (n != len(head) + k if var is None else n < len(head) + k):
            match(self.dims, self.spec, tuple(shape), bound, self.where)
            return
        ok = _fits(head, shape, bound, 0) and _fits(tail, shape, bound, n - k)
        if ok and var:
            middle = tuple(shape[len(head): n - k])
            ok = bound.setdefault(var, middle) == middle
        if not ok:  # let the general matcher name the dimension
            match(self.dims, self.spec, tuple(shape), dict(bound), self.where)
            raise ShapeError(f"{self.where}: shape {tuple(shape)} does not fit '{self.spec}'")


def _fits(dims: tuple, shape: tuple[int, ...], bound: dict, start: int) -> bool:
    for j, (code, label, value) in enumerate(dims, start):
        size = shape[j]
        if code == 0:
            if size != value:
                return False
        elif code == 1 and bound.setdefault(label, size) != size:
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# Contracts


OutputSpec = str | tuple[str, ...] | dict[str, str] | None


@dataclass
class Contract:
    """A block's declared shapes, with `{param}` still unfilled. `dtypes` maps input names to
    `float` (default), `long` or `bool`."""

    inputs: dict[str, str]
    outputs: OutputSpec
    dtypes: dict[str, str] = field(default_factory=dict)

    def bind(self, key: str, args: dict[str, Any]) -> BoundContract:
        """Fill `{param}` from the resolved constructor arguments."""

        def checker(spec: str, where: str) -> Checker:
            return Checker(spec, parse_spec(spec, args, where), where)

        ins = {k: checker(s, f"{key} input {k}") for k, s in self.inputs.items()}
        outs: Any
        if self.outputs is None:
            outs = None
        elif isinstance(self.outputs, str):
            outs = checker(self.outputs, f"{key} output")
        elif isinstance(self.outputs, dict):
            outs = {k: checker(s, f"{key} output {k}") for k, s in self.outputs.items()}
        else:
            outs = [checker(s, f"{key} output {i}") for i, s in enumerate(self.outputs)]
        return BoundContract(key, ins, outs, dict(self.dtypes))


@dataclass
class BoundContract:
    """A contract with its arguments filled in; checks one call at a time."""

    key: str
    inputs: dict[str, Checker]
    outputs: Checker | dict[str, Checker] | list[Checker] | None
    dtypes: dict[str, str]

    def check_inputs(self, values: dict[str, Any]) -> dict:
        """Check the given input tensors (None is skipped); returns the named sizes they bind."""
        bound: dict = {}
        for name, check in self.inputs.items():
            v = values.get(name)
            if v is not None:
                check(v.shape, bound)
        return bound

    def check_outputs(self, out: Any, bound: dict) -> None:
        o = self.outputs
        if o is None:
            return
        if isinstance(o, Checker):
            o(out.shape, bound)
        elif isinstance(o, dict):
            for name, check in o.items():
                check(out[name].shape, bound)
        else:
            if len(out) != len(o):
                raise ShapeError(f"{self.key} output: expected {len(o)} tensors, got {len(out)}")
            for check, t in zip(o, out, strict=True):
                check(t.shape, bound)

    def example_inputs(self, dims: dict[str, int] | None = None, device: Any = "cpu") -> dict[str, Any]:
        """Tensors that satisfy the input specs, with sizes from `dims` for named dimensions."""
        import torch

        sizes = {**DEFAULT_DIMS, **(dims or {})}
        out = {}
        for name, check in self.inputs.items():
            shape = []
            for d in check.dims:
                if d.kind == "fixed":
                    shape.append(d.value)
                elif d.kind == "var":
                    shape.extend([sizes["b"]] if d.value else [])
                elif d.kind == "expr":
                    shape.append(eval(d.value, {"__builtins__": {}}, sizes))
                else:
                    shape.append(sizes.setdefault(d.label, OTHER_DIM))
            dtype = self.dtypes.get(name, "float")
            if dtype == "long":
                out[name] = torch.zeros(shape, dtype=torch.long, device=device)
            elif dtype == "bool":
                out[name] = torch.ones(shape, dtype=torch.bool, device=device)
            else:
                out[name] = torch.randn(shape, device=device)
        return out


class ShapeHooks:
    """Forward pre/post hooks that check a BoundContract on every eager call: inputs before the forward
    runs (so a wrong shape fails with its name, not inside a matmul), outputs after it."""

    def __init__(self, contract: BoundContract, forward_params: list[str]):
        import torch

        self.contract = contract
        self.inputs = [
            (forward_params.index(n) if n in forward_params else -1, n, check) for n, check in contract.inputs.items()
        ]
        self._is_compiling = torch.compiler.is_compiling
        self._bound: dict = {}

    def pre(self, module: Any, args: tuple, kwargs: dict) -> None:
        if self._is_compiling():
            return None
        bound: dict = {}
        for i, name, check in self.inputs:
            v = args[i] if 0 <= i < len(args) else kwargs.get(name)
            if v is not None:
                check(v.shape, bound)
        self._bound = bound
        return None

    def post(self, module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        if self._is_compiling():
            return None
        self.contract.check_outputs(output, self._bound)
        return None


def install_hooks(module: Any, contract: BoundContract) -> ShapeHooks:
    """Attach checking hooks to `module`; returns the hook object (kept on the module too)."""
    params = [p for p in inspect.signature(module.forward).parameters]
    hooks = ShapeHooks(contract, params)
    module.register_forward_pre_hook(hooks.pre, with_kwargs=True)
    module.register_forward_hook(hooks.post, with_kwargs=True)
    module._labblocks_shape_hooks = hooks
    return hooks
