"""A run's config: a dataclass schema, YAML layers and command-line values, merged once and validated.

Layers, each overriding the one before (`load` merges them, in this order, in one place):
  1. the schema's defaults (the only defaults: YAML files hold what differs);
  2. `configs/default.yaml` (or `--config FILE`, or the config recorded in a checkpoint);
  3. experiment files `configs/experiment/<name>.yaml`, in the order given;
  4. command-line flags (`--name`, `--max-epochs`, ...), as dotted keys;
  5. `KEY=VALUE` overrides;
  6. extra named layers: a W&B sweep's values, a search trial's values and settings.
Every problem is reported at once, each with its layer, its key and what would be right. Imports no torch.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from labblocks.run.errors import ConfigError

Checks = Callable[[DictConfig], list[tuple[str, str]]]  # (key, what is wrong and what would be right) pairs


class Choice(str, Enum):
    """A config choice. Members' values are what users type; `aliases()` adds other accepted spellings.
    Case does not matter, and a YAML boolean (`on`, `yes`, `true` unquoted) reads as on/off."""

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other spellings -> a member's value."""
        return {}

    @classmethod
    def _missing_(cls, value: object) -> Choice | None:
        text = ("on" if value else "off") if isinstance(value, bool) else str(value).strip().lower()
        for member in cls:
            if member.value.lower() == text:
                return member
        alias = cls.aliases().get(text)
        return cls(alias) if alias is not None else None

    @classmethod
    def spelled(cls) -> str:
        """The accepted values, for error messages."""
        aliases = cls.aliases()
        extra = f" (also accepted: {', '.join(aliases)})" if aliases else ""
        return ", ".join(m.value for m in cls) + extra


def value_of(choice: Any) -> Any:
    """A choice as the value users type; anything else unchanged."""
    return choice.value if isinstance(choice, Enum) else choice


@dataclass
class Request:
    """What the command line asks for: the layers 2 to 5 of the module docstring."""

    config: str | None = None  # base config file; None: configs/default.yaml
    experiments: list[str] = field(default_factory=list)  # names under configs/experiment/, or YAML paths
    flags: dict[str, Any] = field(default_factory=dict)  # dotted key -> value, from the command's flags
    overrides: list[str] = field(default_factory=list)  # KEY=VALUE
    base: dict[str, Any] | None = None  # a recorded config used instead of configs/default.yaml (or `config`)


def choice_fields(schema: type, prefix: str = "") -> dict[str, type[Choice]]:
    """Dotted key -> Choice enum, for every choice in the schema."""
    out: dict[str, type[Choice]] = {}
    for f in dataclasses.fields(schema):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out.update(choice_fields(type(default), f"{prefix}{f.name}."))
        elif isinstance(default, Choice):
            out[f"{prefix}{f.name}"] = type(default)
    return out


def load(
    schema: type,
    config_dir: Path,
    request: Request | None = None,
    extra: Sequence[tuple[str, dict[str, Any]]] = (),
    checks: Checks | None = None,
) -> DictConfig:
    """Merge the layers (module docstring) onto `schema`, then run `checks`. `extra` holds named layers of
    dotted keys, values kept as given. Raises ConfigError with every problem, each with its source."""
    problems: list[str] = []
    layers = _layers(config_dir, request or Request(), problems)
    layers += [(name, nested(values)) for name, values in extra]
    choices = choice_fields(schema)
    cfg = OmegaConf.structured(schema)
    sources: dict[str, str] = {}
    for source, layer in layers:
        if layer is None:
            continue
        cfg = _merge(cfg, layer, source, problems, choices)
        if isinstance(layer, dict):
            sources.update({key: source for key, _ in _leaves(cfg, layer)})
    if checks is not None:
        problems += [f"{_source_of(key, sources)}: {key}: {why}" for key, why in checks(cfg)]
    if problems:
        raise ConfigError(problems)
    key = id(cfg)
    _SOURCES[key] = (weakref.ref(cfg, lambda _: _SOURCES.pop(key, None)), sources)
    return cfg


# the layer that set each key, per config `load` returned (for errors found later, when the run is built)
_SOURCES: dict[int, tuple[weakref.ref, dict[str, str]]] = {}


def source_of(cfg: DictConfig, key: str) -> str:
    """The layer that set `key` (or the section holding it) in a config `load` returned; "defaults" if none did."""
    held = _SOURCES.get(id(cfg))
    return _source_of(key, held[1] if held is not None and held[0]() is cfg else {})


def _layers(config_dir: Path, request: Request, problems: list[str]) -> list[tuple[str, Any]]:
    """The request's layers as (source, plain mapping or None), every unreadable one added to `problems`."""
    if request.base is not None:  # copied: merging normalizes a layer's choices in place
        layers: list[tuple[str, Any]] = [("recorded config", copy.deepcopy(request.base))]
    else:
        base = Path(request.config) if request.config else config_dir / "default.yaml"
        layers = [(str(base), _read_yaml(base, "config file", problems))]
    known = experiment_names(config_dir)
    for name in request.experiments:
        path = experiment_path(config_dir, name)
        if path.is_file() or name.endswith((".yaml", ".yml")):
            layers.append((str(path), _read_yaml(path, "experiment file", problems)))
        else:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"--experiment {name!r}: no file {path}; {hint}experiments: {', '.join(known)}")
    if request.flags:
        layers.append(("command-line flags", nested(request.flags)))
    bad = [item for item in request.overrides if "=" not in item]
    problems += [f"command-line override {item!r}: expected key=value, e.g. optim.lr=3e-4" for item in bad]
    good = [item for item in request.overrides if "=" in item]
    if good:
        try:
            layers.append(("command-line overrides", OmegaConf.to_container(OmegaConf.from_dotlist(good))))
        except OmegaConfBaseException as e:
            problems.append(f"command-line overrides: {e}")
    return layers


def _read_yaml(path: Path, what: str, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(f"{what} {path} does not exist")
        return None
    try:
        plain = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    except Exception as e:  # yaml's errors carry the line and column
        problems.append(f"{path}: not valid YAML: {e}")
        return None
    if not isinstance(plain, dict):
        problems.append(f"{path}: expected a mapping of config sections, got {type(plain).__name__}")
        return None
    return plain


def experiment_path(config_dir: Path, name: str) -> Path:
    """The file of `-e NAME`: a YAML path as given, else configs/experiment/NAME.yaml."""
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") else config_dir / "experiment" / f"{name}.yaml"


def experiment_names(config_dir: Path) -> list[str]:
    """Every experiment under configs/experiment, as -e takes it (e.g. `fast`, `debug/overfit`)."""
    root = config_dir / "experiment"
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys and their values as nested mappings; values kept as given."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


# -- merging one layer, every refused value reported ---------------------------------------------------


def _merge(cfg: DictConfig, layer: dict[str, Any], source: str, problems: list[str], choices: dict) -> DictConfig:
    """`cfg` with `layer` merged in. Each refused value adds a `source: key: why` line to `problems`; the
    others are still merged, so one run reports every problem."""
    _normalize_choices(layer, choices)
    _replace_changed_blocks(cfg, layer)
    try:
        return OmegaConf.merge(cfg, layer)
    except OmegaConfBaseException:
        pass  # find every refused value, one at a time
    for key, value in _leaves(cfg, layer):
        try:
            cfg = OmegaConf.merge(cfg, nested({key: value}))
        except OmegaConfBaseException as e:
            problems.append(f"{source}: {_problem(cfg, key, value, e, choices)}")
    return cfg


def _normalize_choices(layer: dict[str, Any], choices: dict[str, type[Choice]]) -> None:
    """YAML reads `on`/`off`/`yes` as booleans and `32` as a number; a choice wants the text."""
    for key in choices:
        *parents, name = key.split(".")
        node: Any = layer
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(name), (bool, int, float)):
            value = node[name]
            node[name] = ("on" if value else "off") if isinstance(value, bool) else str(value)


def _replace_changed_blocks(base: DictConfig, layer: dict[str, Any]) -> None:
    """A node whose `block` differs from the base's replaces it instead of merging into it, so that switching
    `model.net` to another block does not keep the old block's arguments."""
    for key, sub in layer.items():
        old = base.get(key) if isinstance(base, DictConfig) else None
        if isinstance(sub, dict) and isinstance(old, DictConfig):
            if "block" in sub and "block" in old and sub["block"] != old["block"]:
                base[key] = {}
            else:
                _replace_changed_blocks(old, sub)


def _leaves(cfg: Any, layer: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) for every value the layer sets, descending into the schema's sections only (a
    free-form node such as model.net is one value)."""
    for key, value in layer.items():
        node = cfg.get(key) if isinstance(cfg, DictConfig) and key in cfg else None
        structured = isinstance(node, DictConfig) and dataclasses.is_dataclass(OmegaConf.get_type(node))
        if isinstance(value, dict) and structured:
            yield from _leaves(node, value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _problem(cfg: DictConfig, key: str, value: Any, error: OmegaConfBaseException, choices: dict) -> str:
    """One line for a value OmegaConf refused: an unknown key with a close match, or a bad value with what is
    allowed."""
    if isinstance(error, ConfigKeyError):
        parent, _, name = key.rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else cfg
        valid = [str(k) for k in node] if isinstance(node, DictConfig) else []
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"; did you mean '{(parent + '.' if parent else '') + close[0]}'?" if close else ""
        return f"{key}: unknown key{hint} (valid keys here: {', '.join(valid)})"
    if key in choices:
        return f"{key}: {value!r} is not one of {choices[key].spelled()}"
    return f"{key}: {str(getattr(error, 'msg', error)).splitlines()[0]}"


def _source_of(key: str, sources: dict[str, str]) -> str:
    """The layer that set `key` (or the section holding it), for error messages."""
    while key:
        if key in sources:
            return sources[key]
        key = key.rpartition(".")[0]
    return "defaults"


# -- reading a config back -----------------------------------------------------------------------------


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain data, interpolations resolved and choices as the values users type."""
    return _plain(OmegaConf.to_container(cfg, resolve=True))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return value_of(node)


def run_dir(cfg: DictConfig) -> Path:
    """The run directory: `<run.output_dir>/<run.name>`."""
    return Path(cfg.run.output_dir) / cfg.run.name


def list_values(value: Any) -> Any:
    """An OmegaConf list as a plain list (e.g. `trainer.devices: [0, 1]`); anything else unchanged."""
    return list(value) if isinstance(value, ListConfig) else value
