"""The search space of the `search` command: a W&B sweep file read as Optuna distributions (the project's
`configs/sweep.yaml` by default), checked against the project's config schema before training starts.

W&B's syntax, the same file as for `wandb sweep`: `parameters:` maps dotted config keys to `values` (one of
them), `value` (a constant) or a `distribution` with `min`/`max` (see SUPPORTED); `metric` (name, goal),
`method` (random, bayes, grid), `early_terminate` (hyperband) and `run_cap` give the search's defaults.
Imports no torch, Lightning or Optuna.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labblocks.run.config import Request
from labblocks.run.errors import ConfigError, RunError, shown
from labblocks.run.project import Project

# W&B sweep distributions the search samples, and how (W&B's names and meanings).
SUPPORTED = {
    "constant": "value",
    "categorical": "values: one of them, uniformly",
    "int_uniform": "min, max: an integer in [min, max]",
    "uniform": "min, max: a float in [min, max]",
    "q_uniform": "min, max, q: a multiple of q from min (integers when all three are)",
    "log_uniform_values": "min, max: log-uniform in [min, max]",
    "log_uniform": "min, max: exp(x) with x uniform in [min, max] (natural-log bounds)",
}
# W&B distributions with no bounded Optuna equivalent (the search refuses them with a message).
NOT_SAMPLED = {"normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta", "q_log_uniform"}
NOT_SAMPLED |= {"q_log_uniform_values", "inv_log_uniform", "inv_log_uniform_values"}
PARAM_FIELDS = {"distribution", "value", "values", "min", "max", "q", "probabilities", "mu", "sigma", "a", "b"}
# Top-level keys of a W&B sweep file; the search reads parameters, metric, method, early_terminate, run_cap.
SWEEP_KEYS = {"program", "method", "metric", "parameters", "command", "early_terminate", "name", "description"}
SWEEP_KEYS |= {"project", "entity", "run_cap"}
SAMPLERS = {"random": "random", "bayes": "tpe", "grid": "grid"}  # W&B method -> default sampler
GOALS = ("maximize", "minimize")


class SearchError(RunError):
    """A problem with the search's input (space file, storage, flags); every problem at once."""

    kind = "search error"


# -- the search space ----------------------------------------------------------------------------------


@dataclass
class Param:
    """One dotted config key and how to sample it."""

    key: str
    kind: str  # constant, categorical, int, float
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: list[Any] = field(default_factory=list)
    value: Any = None

    def corners(self) -> list[Any]:
        """The values that config validation tries: every choice, or both bounds."""
        if self.kind == "constant":
            return [self.value]
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]

    def labels(self) -> list[Any]:
        """Categorical choices as Optuna stores them: the values themselves, or their YAML text when a choice
        is not a plain scalar (a list, a mapping)."""
        if all(c is None or isinstance(c, (bool, int, float, str)) for c in self.choices):
            return list(self.choices)
        return [as_text(c) for c in self.choices]

    def suggest(self, trial: Any) -> Any:
        """This key's value for an Optuna trial (a categorical choice as the value itself, not its label)."""
        if self.kind == "constant":
            return self.value
        if self.kind == "categorical":
            labels = self.labels()
            return self.choices[labels.index(trial.suggest_categorical(self.key, labels))]
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), step=int(self.step or 1))
        return trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log)


@dataclass
class Space:
    """A search space read from a W&B sweep file."""

    path: str  # as shown in messages and config layer names
    params: list[Param]
    metric: str | None = None
    goal: str | None = None
    method: str = "random"
    early_terminate: dict[str, Any] = field(default_factory=dict)
    run_cap: int | None = None

    def grid(self) -> dict[str, list[Any]]:
        """Optuna's GridSampler space (every parameter must be categorical or constant)."""
        return {p.key: p.labels() for p in self.params if p.kind == "categorical"}

    def grid_size(self) -> int:
        """How many points the grid has."""
        return math.prod(len(p.choices) for p in self.params if p.kind == "categorical")


def as_text(value: Any) -> str:
    """A value as one line of YAML text (an Optuna label for a list or mapping choice)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True).strip()
    return text.removesuffix("...").strip()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _distribution(spec: dict[str, Any], at: str) -> tuple[str | None, list[str]]:
    """The entry's W&B distribution, given or inferred as W&B does, or the problem with it."""
    dist = spec.get("distribution")
    if dist is None:
        if "values" in spec:
            return "categorical", []
        if "value" in spec:
            return "constant", []
        if "min" in spec and "max" in spec:
            whole = isinstance(spec["min"], int) and isinstance(spec["max"], int)
            return ("int_uniform" if whole else "uniform"), []
        return None, [f"{at}: needs values, value, or min and max (with a distribution)"]
    if dist in NOT_SAMPLED:
        return None, [
            f"{at}: distribution {dist!r} is a W&B sweep distribution the Optuna search does not sample; "
            f"use one of {', '.join(SUPPORTED)}"
        ]
    if dist not in SUPPORTED:
        close = difflib.get_close_matches(str(dist), [*SUPPORTED, *NOT_SAMPLED], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return None, [f"{at}: unknown distribution {dist!r}; {hint}supported: {', '.join(SUPPORTED)}"]
    return dist, []


def parse_param(key: str, spec: Any, where: str) -> tuple[Param | None, list[str]]:
    """One entry of `parameters:` in W&B's syntax, or the problems with it (each names the file and key)."""
    at = f"{where} (parameters): {key}"
    if not isinstance(spec, dict):
        return None, [f"{at}: expected a mapping with values, value, or min and max, got {spec!r}"]
    if "parameters" in spec:
        return None, [f"{at}: nested parameters are not supported; write dotted keys such as {key}.lr"]
    unknown = sorted(set(spec) - PARAM_FIELDS)
    if unknown:
        hints = [difflib.get_close_matches(u, sorted(PARAM_FIELDS), n=1) for u in unknown]
        said = ", ".join(
            f"{u!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for u, h in zip(unknown, hints, strict=True)
        )
        return None, [f"{at}: unknown field {said}; fields: {', '.join(sorted(PARAM_FIELDS))}"]
    dist, problems = _distribution(spec, at)
    if dist is None:
        return None, problems
    if "probabilities" in spec:
        return None, [f"{at}: probabilities are not supported by the Optuna search (it picks values uniformly)"]
    if dist == "constant":
        if "value" not in spec:
            return None, [f"{at}: distribution constant needs value"]
        return Param(key, "constant", value=spec["value"]), []
    if dist == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            return None, [f"{at}: values must be a non-empty list, got {values!r}"]
        return Param(key, "categorical", choices=values), []
    low, high, q = spec.get("min"), spec.get("max"), spec.get("q")
    if not (_number(low) and _number(high)):
        return None, [f"{at}: distribution {dist} needs numbers min and max, got min={low!r} max={high!r}"]
    if low >= high:
        return None, [f"{at}: min ({low}) must be below max ({high})"]
    if dist == "int_uniform":
        if not (isinstance(low, int) and isinstance(high, int)):
            return None, [f"{at}: int_uniform needs integer min and max, got {low!r} and {high!r}"]
        return Param(key, "int", low, high), []
    if dist == "q_uniform":
        if not _number(q) or q <= 0:
            return None, [f"{at}: q_uniform needs a number q > 0, got {q!r}"]
        kind = "int" if all(isinstance(v, int) for v in (low, high, q)) else "float"
        return Param(key, kind, low, high, step=q), []
    if dist == "log_uniform_values":
        if low <= 0:
            return None, [f"{at}: log_uniform_values needs min > 0, got {low}"]
        return Param(key, "float", float(low), float(high), log=True), []
    if dist == "log_uniform":
        return Param(key, "float", math.exp(low), math.exp(high), log=True), []
    return Param(key, "float", float(low), float(high)), []


def read_space(path: str | Path) -> tuple[Space, list[str]]:
    """A W&B sweep file's search space and the problems with its syntax (`check_space` checks the values)."""
    name = shown(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SearchError(f"--space {name}: no such file") from None
    except yaml.YAMLError as e:
        raise SearchError(f"{name}: not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict) or not doc["parameters"]:
        raise SearchError(f"{name}: expected a W&B sweep file with a `parameters:` mapping of dotted config keys")
    keys = ", ".join(sorted(SWEEP_KEYS))
    problems = [f"{name}: unknown key {k!r}; a sweep file has {keys}" for k in doc if k not in SWEEP_KEYS]
    params = []
    for key, spec in doc["parameters"].items():
        param, found = parse_param(str(key), spec, name)
        problems += found
        if param is not None:
            params.append(param)
    metric = doc.get("metric") or {}
    if not isinstance(metric, dict):
        problems.append(f"{name}: metric must be a mapping with name and goal, got {metric!r}")
        metric = {}
    goal = metric.get("goal")
    if goal is not None and goal not in GOALS:
        problems.append(f"{name}: metric.goal {goal!r} must be maximize or minimize")
    method = doc.get("method", "random")
    if method not in SAMPLERS:
        problems.append(f"{name}: method {method!r} must be one of {', '.join(SAMPLERS)}")
    early = doc.get("early_terminate") or {}
    if not isinstance(early, dict) or early.get("type", "hyperband") != "hyperband":
        problems.append(f"{name}: early_terminate must be a mapping with type: hyperband, got {early!r}")
        early = {}
    run_cap = doc.get("run_cap")
    if run_cap is not None and not (isinstance(run_cap, int) and run_cap >= 1):
        problems.append(f"{name}: run_cap must be an integer >= 1, got {run_cap!r}")
    return Space(name, params, metric.get("name"), goal, method, early, run_cap), problems


def check_space(space: Space, project: Project, request: Request) -> list[str]:
    """Every choice and both bounds of every range, validated against the project's config like any override
    (unknown keys, types, ranges); the problems, each naming the file and the key."""
    params = space.params
    rounds = max([2, *(len(p.corners()) for p in params)])
    problems: list[str] = []
    for i in range(rounds):
        values = {p.key: p.corners()[i % len(p.corners())] for p in params}
        try:
            project.load(request, extra=[(f"{space.path} (parameters)", values)])
        except ConfigError as e:
            problems += e.problems
    return list(dict.fromkeys(problems))


def load_space(path: str | Path, project: Project, request: Request) -> Space:
    """The search space of a W&B sweep file, checked in full against the config of `request`; raises
    SearchError with every problem."""
    space, problems = read_space(path)
    problems += check_space(space, project, request) if space.params else []
    if problems:
        raise SearchError(problems)
    return space
