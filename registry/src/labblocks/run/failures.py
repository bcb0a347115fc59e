"""What a library's refusal means for the user. Values that only timm, torch, Hugging Face or Lightning can
judge fail while the run is built; `building` turns those errors into RunErrors that name the config key,
the layer its value came from, what is wrong and what would be right, so the command prints one message and
exits with 2 (`--traceback` still shows where it came from)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import torch
from lightning import LightningModule
from lightning.fabric.utilities.exceptions import MisconfigurationException
from omegaconf import DictConfig, OmegaConf

from labblocks.errors import LabblocksError
from labblocks.run.config import source_of, value_of
from labblocks.run.errors import ConfigError, DataError, RunError

# Lightning's words for a Trainer setting it refuses -> (the key, what would be right); first match wins
TRAINER_RULES = (
    (r"strategy `?fsdp`? requires a GPU", "trainer.strategy", "fsdp needs GPUs: use auto or ddp on this machine"),
    (r"strateg", "trainer.strategy", "use auto (one device) or ddp, which run on any accelerator"),
    (
        r"no supported gpu backend|CUDAAccelerator. can not run",
        "trainer.accelerator",
        "no GPU here: drop `-e gpu`, or set trainer.accelerator=cpu (or auto)",
    ),
    (r"MPSAccelerator. can not run", "trainer.accelerator", "no Apple GPU here: set trainer.accelerator=cpu"),
    (r"torch_xla|TPU", "trainer.accelerator", "no TPU here: set trainer.accelerator=cpu (or auto)"),
    (r"devices", "trainer.devices", "a count >= 1 (-1: all), or GPU ids such as [0, 1] (GPU only)"),
    (r"precision", "trainer.precision", "one this device supports (32-true always works)"),
)


def trainer_problem(cfg: DictConfig, error: BaseException) -> RunError:
    """A Trainer setting Lightning refused, as a config problem with its key, source and fix."""
    text = " ".join(str(error).split())
    for pattern, key, fix in TRAINER_RULES:
        if re.search(pattern, text, re.IGNORECASE):
            value = value_of(OmegaConf.select(cfg, key))
            shown = f" {value!r}" if value is not None else ""
            return ConfigError(f"{source_of(cfg, key)}: {key}{shown}: {fix} (Lightning: {text})")
    return ConfigError(f"{source_of(cfg, 'trainer')}: trainer: Lightning refused these settings: {text}")


def model_problem(cfg: DictConfig, error: BaseException) -> RunError:
    """The network could not be built from `model.net`: labblocks' own check, missing weights, or a value the
    block's library refused."""
    block = cfg.model.net.get("block", "?")
    text = " ".join(str(error).split())
    source = source_of(cfg, "model.net")
    if isinstance(error, LabblocksError):
        return ConfigError(f"{source}: {text}")
    if isinstance(error, FileNotFoundError):
        return ConfigError(f"{source}: model.net: weights not found: {text}")
    return ConfigError(
        f"{source}: model.net ({block}): the network could not be built from these arguments: "
        f"{type(error).__name__}: {text}. `labblocks show {block}` lists its arguments"
    )


def first_forward(cfg: DictConfig, module: LightningModule) -> None:
    """Run the module once on its `example_input_array` (eval mode, no gradients), so that a network that
    cannot take the data's inputs (e.g. images smaller than its downsampling) says so before the run starts."""
    example = module.example_input_array
    if example is None:
        return
    inputs = example if isinstance(example, tuple) else (example,)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            module(*inputs)
    except (RuntimeError, IndexError) as e:  # IndexError: an embedding lookup past its table
        text = " ".join(str(e).split())
        shapes = ", ".join(str(tuple(x.shape)) for x in inputs if isinstance(x, torch.Tensor))
        fix = ""
        if re.search(r"Kernel size can't be greater|Output size is too small|input size .* too small", text):
            fix = "; the input is smaller than the network's downsampling needs: larger inputs, or a network "
            fix += "that downsamples less"
        elif any(not x.is_floating_point() for x in inputs if isinstance(x, torch.Tensor)) and re.search(
            r"out of bounds|index out of range|expanded size of the tensor \(\d+\) must match the existing", text
        ):  # token ids past the position table
            fix = "; the sequence is longer than the network has positions for: shorter inputs (the data's "
            fix += "max_length), or a network with more positions"
        block = cfg.model.net.get("block", "?")
        raise ConfigError(
            f"{source_of(cfg, 'model.net')}: model.net ({block}) cannot run on this data's input {shapes}{fix} "
            f"(torch: {text})"
        ) from e
    finally:
        module.train(was_training)


def data_problem(cfg: DictConfig, error: ValueError) -> RunError:
    """The data could not be read or split as the config asks (e.g. a class too rare for a stratified split)."""
    text = " ".join(str(error).split())
    fix = ""
    if "least populated class" in text:
        fix = (
            "; a stratified split needs at least 2 examples of every class: add examples of the rare class or "
            "remove it (data.val_fraction and data.test_fraction decide how many each split needs)"
        )
    return DataError(f"data: {text}{fix}")


@contextlib.contextmanager
def building(cfg: DictConfig, part: str) -> Iterator[None]:
    """Report what the libraries refuse while building `part` ("data", "model" or "trainer") of the run."""
    try:
        yield
    except RunError:
        raise
    except LabblocksError as e:
        raise model_problem(cfg, e) from e
    except MisconfigurationException as e:
        raise trainer_problem(cfg, e) from e
    except (ValueError, TypeError, FileNotFoundError, ModuleNotFoundError) as e:
        if part == "model":
            raise model_problem(cfg, e) from e
        if part == "trainer":
            raise trainer_problem(cfg, e) from e
        if part == "data" and isinstance(e, ValueError):
            raise data_problem(cfg, e) from e
        raise
