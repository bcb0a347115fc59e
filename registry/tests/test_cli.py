"""The `labblocks` command, the manifest and catalog checks, cheap imports, and the version."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _hub_cache import offline_env, snapshot

import labblocks
from labblocks.registry.sources import MANIFEST_PATH
from labblocks.tools.manifest import dumps, generate_manifest

REGISTRY_DIR = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "timm", "transformers", "lightning")
Cli = Callable[..., subprocess.CompletedProcess]


# -- list and show -------------------------------------------------------------------------------------


def test_list_shows_every_key_with_its_summary(cli: Cli) -> None:
    result = cli("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == labblocks.list_blocks()
    mlp_line = next(line for line in lines if line.startswith("core/mlp@v1 "))
    assert labblocks.describe("core/mlp@v1").summary in mlp_line


def test_output_cut_short_by_the_reader_is_not_an_error() -> None:
    """`labblocks show KEY | head -1`: the reader closes the pipe early; no traceback, exit 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "labblocks", "show", "timm/resnet@v1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # like `head` that has already stopped reading: the write hits a closed pipe
    err = proc.stderr.read() if proc.stderr else b""
    proc.wait(timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()


def test_list_with_a_pattern_and_tags(cli: Cli) -> None:
    result = cli("list", "core/*", "--json")
    assert json.loads(result.stdout) == labblocks.list_blocks("core/*")
    result = cli("list", "*", "--tag", "vision", "--tag", "conv", "--json")
    keys = json.loads(result.stdout)
    assert keys == labblocks.list_blocks(tags=["vision", "conv"])
    assert "core/conv_norm_act@v1" in keys and "core/mlp@v1" not in keys
    text = cli("list", "*/resnet")
    assert text.returncode == 0 and text.stdout.split()[0] == "timm/resnet@v1"


def test_list_without_matches_exits_1(cli: Cli) -> None:
    result = cli("list", "nothing/*", "--tag", "x")
    assert result.returncode == 1
    assert "no keys match 'nothing/*' with tags ['x']" in result.stderr


def test_show_text_and_json(cli: Cli) -> None:
    text = cli("show", "core/mlp")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("core/mlp@v1  ")
    assert "signature: (in_dim: int, hidden_dim: int, out_dim: int, num_layers: int = 2" in text.stdout
    assert "x: float[*b {in_dim}]" in text.stdout
    assert "output: [*b {out_dim}]" in text.stdout
    data = json.loads(cli("show", "timm/resnet@v1", "--json").stdout)
    assert data["key"] == "timm/resnet@v1"
    assert data["target"] == "labblocks.adapters.timm_resnet:resnet"
    assert data["versions"] == ["v1"]
    assert Path(data["source"].rsplit(":", 1)[0]).is_file()
    assert [p["name"] for p in data["params"]][:3] == ["variant", "num_classes", "in_chans"]


def test_unknown_key_exits_2_with_a_message_on_stderr(cli: Cli) -> None:
    result = cli("show", "core/mpl@v1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("labblocks show: unknown block key 'core/mpl@v1'.")
    assert "did you mean: core/mlp@v1" in result.stderr
    invalid = cli("show", "Core/MLP")
    assert invalid.returncode == 2 and "invalid block key 'Core/MLP'" in invalid.stderr


def test_console_script_runs() -> None:
    script = Path(sys.executable).with_name("labblocks")
    if not script.exists():
        pytest.skip("the labblocks console script is not installed next to this interpreter")
    result = subprocess.run(
        [str(script), "list", "core/mlp", "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and json.loads(result.stdout) == ["core/mlp@v1"]


# -- archs and show --name: what timm/model@v1 accepts ---------------------------------------------------


def test_archs_timm_lists_names_with_parameters_size_and_tags(cli: Cli) -> None:
    import timm

    result = cli("archs", "timm", "convnext_[ap]*")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()}
    assert list(rows) == timm.list_models("convnext_[ap]*")
    atto = rows["convnext_atto"]
    net = timm.create_model("convnext_atto")
    assert atto[1] == f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f}M" and atto[2] == "224x224"
    assert atto[3:] == ["d2_in1k"]


def test_archs_timm_pretrained_lists_tagged_names(cli: Cli) -> None:
    result = cli("archs", "timm", "vit_tiny_patch16_224*", "--pretrained")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert "vit_tiny_patch16_224.augreg_in21k_ft_in1k" in names and all("." in n for n in names)
    assert all(line.split()[3] == "fixed" for line in result.stdout.splitlines())  # a ViT's input size is fixed


def test_archs_without_matches_exits_1(cli: Cli) -> None:
    result = cli("archs", "timm", "no_such_net*")
    assert result.returncode == 1 and "no timm names match 'no_such_net*'" in result.stderr


def test_show_a_timm_architecture(cli: Cli) -> None:
    result = cli("show", "timm/model@v1", "--name", "convnext_atto")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("convnext_atto: ConvNeXt (timm module convnext)")
    assert "(B, 320) with num_classes=0" in out and "channels [40, 80, 160, 320], reductions [4, 8, 16, 32]" in out
    assert "interpolation=bicubic, crop_pct=0.875" in out and "pretrained tags: d2_in1k" in out
    assert "any size (no img_size)" in out
    vit = cli("show", "timm/model", "--name", "vit_tiny_patch16_224").stdout
    assert "fixed: set img_size to change it" in vit


def test_show_name_errors(cli: Cli) -> None:
    unknown = cli("show", "timm/model@v1", "--name", "convnxt_atto")
    assert unknown.returncode == 2 and "did you mean convnext_atto" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    other = cli("show", "core/mlp@v1", "--name", "x")
    assert other.returncode == 2 and "--name is for timm/model@v1 and hf/model@v1, not core/mlp@v1" in other.stderr


# -- archs hf and show hf/model@v1 --name: what hf/model@v1 accepts ----------------------------------------


def test_archs_hf_lists_model_types_with_parameters_and_heads(cli: Cli) -> None:
    from transformers import AutoConfig, AutoModel

    result = cli("archs", "hf", "distil*")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split(maxsplit=3) for line in result.stdout.splitlines()}
    assert list(rows) == ["distilbert"]
    net = AutoModel.from_config(AutoConfig.for_model("distilbert"))
    assert rows["distilbert"][1:3] == [f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f}M", "text"]
    assert rows["distilbert"][3].split(", ") == ["none", "sequence_classification", "token_classification",
                                                  "masked_lm"]
    audio = cli("archs", "hf", "wav2vec2").stdout.split()
    assert audio[:3] == ["wav2vec2", audio[1], "input_values"]  # a model type hf/model@v1 does not take


def test_archs_hf_pretrained_lists_the_local_cache(cli: Cli, tmp_path: Path) -> None:
    from transformers import AutoConfig

    folder = snapshot(tmp_path / "hub", "lb-test-org/tiny-gpt2")
    AutoConfig.for_model("gpt2", n_layer=1).save_pretrained(folder)
    env = offline_env(tmp_path / "hub")
    result = cli("archs", "hf", "--pretrained", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["lb-test-org/tiny-gpt2", "gpt2", "none,", "sequence_classification,",
                                     "token_classification,", "causal_lm"]
    empty = cli("archs", "hf", "--pretrained", env={**env, "HF_HUB_CACHE": str(tmp_path / "none")})
    assert empty.returncode == 1 and "no pretrained hf names match '*'" in empty.stderr
    shown = cli("show", "hf/model@v1", "--name", "lb-test-org/tiny-gpt2", env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"({folder}, " in shown.stdout and "num_hidden_layers=1" in shown.stdout
    assert "model.net.pretrained=lb-test-org/tiny-gpt2" in shown.stdout


def test_show_a_hf_model_type(cli: Cli) -> None:
    result = cli("show", "hf/model@v1", "--name", "gpt2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("gpt2: GPT2Config (default size, 124.44M parameters without a head)")
    assert "input    input_ids (B, T), attention_mask (B, T)" in out
    assert "none -> (B, T, 768); sequence_classification -> (B, num_labels)" in out
    assert "causal_lm -> (B, T, 50257)" in out and "masked_lm" not in out
    vit = cli("show", "hf/model", "--name", "vit").stdout
    assert "pixel_values (B, C, H, W)" in vit and "image_classification -> (B, num_labels)" in vit
    typo = cli("show", "hf/model@v1", "--name", "lama")
    assert typo.returncode == 2 and "did you mean llama" in typo.stderr and "Traceback" not in typo.stderr


# -- cheap imports -------------------------------------------------------------------------------------

REPORT_HEAVY = (
    "import json, sys; "
    f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r})))"
)


def _heavy_modules_after(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code + "\n" + REPORT_HEAVY],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REGISTRY_DIR,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_listing_describing_pinning_and_validating_import_no_heavy_library() -> None:
    code = """
import labblocks
assert labblocks.list_blocks()
labblocks.describe("timm/resnet@v1")
labblocks.describe("hf/encoder@v1")
labblocks.pin({"model": {"block": "core/mlp", "in_dim": 2, "hidden_dim": 3, "out_dim": 1},
               "backbone": {"block": "timm/resnet", "variant": "resnet18"}})
labblocks.validate({"block": "hf/encoder@v1", "config": {"hidden_size": 8}})
"""
    assert _heavy_modules_after(code) == []


def test_the_check_itself_sees_a_heavy_import() -> None:
    assert "torch" in _heavy_modules_after("import torch.nn")


@pytest.mark.parametrize("argv", [["list"], ["show", "timm/resnet@v1"], ["show", "hf/encoder@v1", "--json"]])
def test_cli_imports_no_heavy_library(argv: list[str]) -> None:
    code = f"""
import contextlib, io
from labblocks.tools.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main({argv!r}) == 0
"""
    assert _heavy_modules_after(code) == []


# -- manifest, catalog, version ------------------------------------------------------------------------


def test_manifest_check_passes(cli: Cli) -> None:
    result = cli("manifest")
    assert result.returncode == 0, result.stderr
    assert "matches the registered code" in result.stdout


def test_manifest_file_equals_the_generated_manifest() -> None:
    assert MANIFEST_PATH.read_text(encoding="utf-8") == dumps(generate_manifest())


def test_catalog_check_passes_on_the_committed_catalog(cli: Cli) -> None:
    assert (REGISTRY_DIR / "CATALOG.md").is_file()
    result = cli("catalog", "--check")
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


def test_catalog_check_fails_on_a_stale_copy(cli: Cli, tmp_path: Path) -> None:
    stale = tmp_path / "CATALOG.md"
    stale.write_text(
        (REGISTRY_DIR / "CATALOG.md").read_text(encoding="utf-8").replace("core/mlp@v1", "core/mlp@v0")
    )
    result = cli("catalog", "--check", "--output", str(stale))
    assert result.returncode == 1
    assert f"{stale} is stale" in result.stderr
    missing = cli("catalog", "--check", "--output", str(tmp_path / "absent.md"))
    assert missing.returncode == 1


def test_catalog_writes_every_key(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "catalog.md"
    result = cli("catalog", "--output", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    for key in labblocks.list_blocks():
        assert f"### `{key}`" in text
    assert cli("catalog", "--check", "--output", str(out)).returncode == 0


def test_version_matches_pyproject() -> None:
    pyproject = (REGISTRY_DIR / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[project\]$.*?^version = "([^"]+)"$', pyproject, re.MULTILINE | re.DOTALL)
    assert found, "no version in the [project] table of pyproject.toml"
    version = found.group(1)
    assert labblocks.__version__ == version
    assert json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["labblocks_version"] == version
