"""Shape specs, the checking hooks, the `off` mode, and torch.compile with hooks on."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

import labblocks
from labblocks.shapes import Contract, parse_spec
from labblocks.shapes import match as match_shape

CORE_KEYS = labblocks.list_blocks("core/*")


def check(spec: str, *shapes: tuple[int, ...], args: dict[str, Any] | None = None) -> dict:
    """Match each shape against `spec` in one call (named sizes shared); return the bound sizes."""
    dims = parse_spec(spec, args or {}, "t/x@v1 input x")
    bound: dict = {}
    for shape in shapes:
        match_shape(dims, spec, shape, bound, "t/x@v1 input x")
    return bound


# -- spec parsing and matching -------------------------------------------------------------------------


def test_parse_spec_kinds() -> None:
    dims = parse_spec("3 n *b _ {dim} h//{p}", {"dim": 8, "p": 4}, "where")
    assert [(d.kind, d.label) for d in dims] == [
        ("fixed", "3"),
        ("name", "n"),
        ("var", "b"),
        ("any", "_"),
        ("fixed", "dim"),
        ("expr", "h//{p}"),
    ]
    assert dims[4].value == 8
    assert parse_spec("... d", {}, "w")[0].kind == "var" and parse_spec("... d", {}, "w")[0].value is None


def test_fixed_dims() -> None:
    check("3 4", (3, 4))
    with pytest.raises(labblocks.ShapeError, match=r"t/x@v1 input x: dim '4' expected 4, got 5"):
        check("3 4", (3, 5))
    with pytest.raises(labblocks.ShapeError, match=r"expected 2 dims '3 4', got shape \(3, 4, 1\)"):
        check("3 4", (3, 4, 1))


def test_named_dims_must_agree() -> None:
    assert check("n n", (3, 3)) == {"n": 3}
    with pytest.raises(
        labblocks.ShapeError, match=r"dim 'n' expected 3, got 4 \(shape \(3, 4\), spec 'n n'\)"
    ):
        check("n n", (3, 4))
    with pytest.raises(labblocks.ShapeError, match=r"dim 'n' expected 2, got 5"):
        check("b n", (7, 2), (7, 5))  # across two tensors of one call


@pytest.mark.parametrize("leading", [(), (2,), (2, 3), (4, 1, 6)])
def test_named_variadic_dims(leading: tuple[int, ...]) -> None:
    bound = check("*b 5", (*leading, 5))
    assert bound["*b"] == leading
    with pytest.raises(labblocks.ShapeError, match=r"dim '\*b' expected"):
        check("*b 5", (*leading, 5), (*leading, 9, 5))


def test_anonymous_variadic_and_any_dims() -> None:
    check("... d", (4,), (1, 2, 3, 4))
    check("b _", (2, 7), (2, 9))
    with pytest.raises(labblocks.ShapeError, match=r"expected at least 1 dims"):
        check("... d", ())
    with pytest.raises(ValueError, match="more than one variadic dimension"):
        parse_spec("*a ... d", {}, "w")


def test_param_dims_come_from_the_arguments() -> None:
    check("b {dim}", (2, 8), args={"dim": 8})
    with pytest.raises(labblocks.ShapeError, match=r"dim 'dim' expected 8, got 7"):
        check("b {dim}", (2, 7), args={"dim": 8})
    with pytest.raises(ValueError, match=r"names \{dim\}, which is not an argument"):
        parse_spec("b {dim}", {}, "w")
    with pytest.raises(ValueError, match=r"needs \{dim\} to be an int, got '8'"):
        parse_spec("b {dim}", {"dim": "8"}, "w")


def test_expression_dims() -> None:
    bound = check("h w", (32, 24))
    out = parse_spec("(h//{p})*(w//{p}) h//{p}", {"p": 4}, "out")
    match_shape(out, "(h//{p})*(w//{p}) h//{p}", (48, 8), bound, "t/x@v1 output")
    with pytest.raises(labblocks.ShapeError, match=r"t/x@v1 output: dim 'h//\{p\}' expected 8, got 9"):
        match_shape(out, "(h//{p})*(w//{p}) h//{p}", (48, 9), bound, "t/x@v1 output")
    with pytest.raises(labblocks.ShapeError, match=r"cannot evaluate dim 'h//\{p\}'"):
        match_shape(parse_spec("h//{p}", {"p": 2}, "o"), "h//{p}", (4,), {}, "o")
    with pytest.raises(ValueError, match=r"bad dimension 'h//' in shape spec"):
        parse_spec("b h//", {}, "w")


def test_contract_example_inputs_satisfy_the_contract() -> None:
    bound = Contract({"x": "b {c} h w", "ids": "b n"}, "b (h//{p})*(w//{p}) {c}", {"ids": "long"}).bind(
        "t/x@v1", {"c": 3, "p": 4}
    )
    inputs = bound.example_inputs({"h": 16, "w": 8, "n": 6})
    assert inputs["x"].shape == (2, 3, 16, 8) and inputs["ids"].shape == (2, 6)
    assert inputs["ids"].dtype == torch.long
    sizes = bound.check_inputs(inputs)
    bound.check_outputs(torch.zeros(2, 8, 3), sizes)
    with pytest.raises(
        labblocks.ShapeError, match=r"t/x@v1 output: dim '\(h//\{p\}\)\*\(w//\{p\}\)' expected 8"
    ):
        bound.check_outputs(torch.zeros(2, 9, 3), sizes)


# -- modes and hooks -----------------------------------------------------------------------------------


def _hook_count(module: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in module.modules())


def test_off_is_the_default_and_installs_no_hooks() -> None:
    assert labblocks.shape_check_mode() == "off"
    mlp = labblocks.build("core/mlp@v1", in_dim=64, hidden_dim=8, out_dim=2)
    assert _hook_count(mlp) == 0
    assert not hasattr(mlp, "_labblocks_shape_hooks")
    mlp(torch.randn(3, 64))
    with pytest.raises(RuntimeError):  # only torch's own error, from the Linear
        mlp(torch.randn(3, 32))
    labblocks.set_shape_check("off")
    assert _hook_count(labblocks.build("core/mhsa@v1", dim=8, num_heads=2)) == 0


def test_hooks_reject_a_wrong_input_naming_key_argument_dim_expected_and_actual(hooks_on: None) -> None:
    mlp = labblocks.build("core/mlp@v1", in_dim=64, hidden_dim=8, out_dim=2)
    assert len(mlp._forward_pre_hooks) == 1 and len(mlp._forward_hooks) == 1
    assert mlp(torch.randn(5, 3, 64)).shape == (5, 3, 2)
    with pytest.raises(labblocks.ShapeError) as info:
        mlp(torch.randn(3, 32))
    assert str(info.value).startswith("core/mlp@v1 input x: dim 'in_dim' expected 64, got 32")


def test_hooks_check_keyword_and_optional_inputs(hooks_on: None) -> None:
    attn = labblocks.build("core/mhsa@v1", dim=8, num_heads=2)
    x = torch.randn(2, 5, 8)
    attn(x)  # optional mask left out
    attn(x, mask=torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(labblocks.ShapeError, match=r"core/mhsa@v1 input mask: dim 'n' expected 5, got 4"):
        attn(x, mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(labblocks.ShapeError, match=r"core/mhsa@v1 input mask: dim 'b' expected 2, got 3"):
        attn(x, torch.ones(3, 5, dtype=torch.bool))


class DropsAToken(nn.Module):
    """Declares `b n {dim}` out but returns one token fewer."""

    def __init__(self, dim: int = 4):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :-1]


class WrongChannels(nn.Module):
    def __init__(self, dim: int = 4):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], -1)


def test_named_dims_must_agree_between_inputs_and_outputs(
    registry: labblocks.Registry, hooks_on: None
) -> None:
    registry.register("t/drop@v1", summary="s", inputs={"x": "b n {dim}"}, outputs="b n {dim}")(DropsAToken)
    registry.register("t/wide@v1", summary="s", inputs={"x": "*b {dim}"}, outputs="*b {dim}")(WrongChannels)
    with pytest.raises(labblocks.ShapeError, match=r"^t/drop@v1 output: dim 'n' expected 5, got 4"):
        registry.build("t/drop@v1")(torch.randn(2, 5, 4))
    with pytest.raises(labblocks.ShapeError, match=r"^t/wide@v1 output: dim 'dim' expected 4, got 8"):
        registry.build("t/wide@v1")(torch.randn(2, 3, 4))


def test_hooks_check_every_output_of_a_list_contract(hooks_on: None) -> None:
    net = labblocks.build("timm/resnet@v1", variant="resnet10t", features_only=True, out_indices=(1, 2))
    assert len(net._forward_hooks) == 1
    feats = net(torch.randn(2, 3, 32, 32))
    assert [f.shape[1] for f in feats] == net.feature_info.channels()
    with pytest.raises(
        labblocks.ShapeError, match=r"timm/resnet@v1 input x: dim 'in_chans' expected 3, got 1"
    ):
        net(torch.randn(2, 1, 32, 32))


def test_env_var_turns_hooks_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABBLOCKS_SHAPE_CHECK", " Hooks ")
    assert labblocks.shape_check_mode() == "hooks"
    mlp = labblocks.build("core/mlp@v1", in_dim=4, hidden_dim=4, out_dim=4)
    assert _hook_count(mlp) == 2
    with pytest.raises(labblocks.ShapeError):
        mlp(torch.randn(2, 3))
    labblocks.set_shape_check("off")  # an explicit setting wins over the environment
    assert _hook_count(labblocks.build("core/mlp@v1", in_dim=4, hidden_dim=4, out_dim=4)) == 0


def test_env_var_off_and_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABBLOCKS_SHAPE_CHECK", "off")
    assert labblocks.shape_check_mode() == "off"
    monkeypatch.setenv("LABBLOCKS_SHAPE_CHECK", "loud")
    with pytest.raises(
        ValueError, match=r"LABBLOCKS_SHAPE_CHECK='loud' \(environment\) is not one of off, hooks"
    ):
        labblocks.build("core/mlp@v1", in_dim=4, hidden_dim=4, out_dim=4)


def test_invalid_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"shape-check mode 'strict' is not one of off, hooks"):
        labblocks.set_shape_check("strict")
    assert labblocks.shape_check_mode() == "off"


# -- torch.compile with hooks on -----------------------------------------------------------------------


def _example_module(key: str) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    module = labblocks.build(key, **labblocks.describe(key).example).eval()
    inputs = labblocks.contract(module).example_inputs({"h": 16, "w": 16})
    return module, inputs


@pytest.mark.parametrize("key", CORE_KEYS)
def test_core_block_compiles_fullgraph_with_hooks(key: str, hooks_on: None) -> None:
    module, inputs = _example_module(key)
    assert len(module._forward_pre_hooks) == 1
    torch._dynamo.reset()
    try:
        explanation = torch._dynamo.explain(module)(**inputs)
        assert explanation.graph_break_count == 0, explanation.break_reasons
        assert explanation.graph_count == 1
        torch._dynamo.reset()
        compiled = torch.compile(module, fullgraph=True, backend="eager")
        with torch.no_grad():
            torch.testing.assert_close(compiled(**inputs), module(**inputs))
    finally:
        torch._dynamo.reset()
