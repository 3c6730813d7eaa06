"""Experiment configs: YAML data checked against one schema before anything trains.

A config names an experiment, the model, the data, the training budget and a sweep::

    name: article_fc
    seed: 0
    model: {kind: fc, l1: 0.0}
    data: {dataset: mnist}
    train: {iterations: 20000, batch_size: 100, lr: 0.001, eval_every: 100}
    sweep:                      # grid over dotted keys: one run per combination
      model.l1: [0, 1.0e-5, 5.0e-5]

``--set key=value`` overrides any entry by its dotted key; the value is parsed as YAML.
Every key, type and range is declared once in :data:`SCHEMA`; a config that breaks it raises
:class:`ConfigError` naming the key, before any training starts.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A config is malformed: the message names the key and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One config entry: its type, default, and allowed values or range."""

    type: type | tuple[type, ...]
    default: Any
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    doc: str = ""

    def check(self, key: str, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"config key '{key}': a value is required ({self.describe()})")
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in types:
            raise ConfigError(f"config key '{key}': expected {self.describe()}, got {value!r}")
        if not isinstance(value, types):
            raise ConfigError(
                f"config key '{key}': expected {self.describe()}, got {type(value).__name__} {value!r}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key '{key}': must be a finite number, got {value!r}")
        if self.choices is not None and value not in self.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"config key '{key}': {value!r} is not one of {', '.join(map(repr, self.choices))}{hint}"
            )
        if self.low is not None and value < self.low:
            raise ConfigError(f"config key '{key}': {value!r} is out of range ({self.describe()})")
        if self.high is not None and value > self.high:
            raise ConfigError(f"config key '{key}': {value!r} is out of range ({self.describe()})")
        return value

    def describe(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        name = " or ".join(t.__name__ for t in types)
        if self.choices is not None:
            return f"one of {', '.join(map(repr, self.choices))}"
        if self.low is not None and self.high is not None:
            return f"{name} in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"{name} >= {self.low}"
        return name


# The schema, declared once. Dotted keys; a section is any prefix.
SCHEMA: dict[str, Param] = {
    "name": Param(str, None, doc="experiment name; run files go to OUT/<name>/"),
    "description": Param(str, "", doc="free text"),
    "seed": Param(int, 0, low=0, doc="seed for initialisation and batch order"),
    "model.kind": Param(str, None, choices=("fc", "cnn", "conv-ae"), doc="which network"),
    "model.l1": Param(float, 0.0, low=0.0, high=10.0, doc="lambda: weight of the L1 term"),
    "model.hidden": Param(int, 784, low=1, high=100_000, doc="hidden units of the fc net"),
    "model.feature_maps": Param(int, 200, low=1, high=4096, doc="conv feature maps"),
    "model.decoder": Param(str, None, choices=("subpixel", "transposed"), nullable=True,
                           doc="conv-ae decoder"),
    "data.dataset": Param(str, "mnist", choices=("mnist", "fashion-mnist"), doc="data set"),
    "data.data_dir": Param(str, None, nullable=True, doc="folder holding the IDX files"),
    "train.iterations": Param(int, 20000, low=1, high=10_000_000, doc="training iterations"),
    "train.batch_size": Param(int, 100, low=1, high=60000, doc="mini-batch size"),
    "train.lr": Param(float, 1e-3, low=0.0, high=10.0, doc="Adam learning rate"),
    "train.eval_every": Param(int, 100, low=1, doc="iterations between test-set evaluations"),
    "train.eval_batch": Param(int, 1000, low=1, high=10000, doc="test images per eval chunk"),
    "train.threads": Param(int, 0, low=0, high=256, doc="torch threads (0: torch's default)"),
}
SECTIONS = {k.split(".")[0] for k in SCHEMA if "." in k}
SWEEP_KEY = "sweep"


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if not isinstance(k, str):
            raise ConfigError(f"config key {k!r} under '{prefix or 'top level'}' is not a string")
        key = f"{prefix}{k}"
        if key in SECTIONS:
            if not isinstance(v, dict):
                raise ConfigError(f"config key '{key}' must be a mapping of settings, got {v!r}")
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in flat.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def _unknown(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(SCHEMA) + [SWEEP_KEY], n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"unknown config key '{key}'{hint}; known keys: {', '.join(SCHEMA)}, sweep")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-4`` as a float (YAML 1.2) instead of a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` items; values are YAML (``2000``, ``[0, 1e-4]``, ``null``)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.iterations=2000")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            out[key] = _yaml(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML ({exc})") from None
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = _yaml(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, got {type(data).__name__}")
    return data


@dataclass
class RunSpec:
    """One fully resolved point of a sweep."""

    experiment: str
    label: str  # e.g. "l1=1e-05,decoder=subpixel"
    config: dict[str, Any]  # nested, every schema key present

    @property
    def digest(self) -> str:
        """Hash of what determines the run's result (not where it is written)."""
        blob = json.dumps(self.config, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "=.,-_+" else "_" for c in self.label) or "run"
        return f"{safe}-{self.digest}.h5"

    def get(self, dotted: str) -> Any:
        node: Any = self.config
        for p in dotted.split("."):
            node = node[p]
        return node


def _check_flat(flat: dict[str, Any]) -> dict[str, Any]:
    checked = {}
    for key, value in flat.items():
        if key not in SCHEMA:
            raise _unknown(key)
        checked[key] = SCHEMA[key].check(key, value)
    return checked


def resolve(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[RunSpec]:
    """Validate a raw config (plus ``--set`` overrides) and expand its sweep into runs.

    Raises :class:`ConfigError` naming the offending key for an unknown key, a wrong type,
    an out-of-range value or an unknown model, before anything runs.
    """
    raw = copy.deepcopy(raw)
    sweep = raw.pop(SWEEP_KEY, None) or {}
    if not isinstance(sweep, dict):
        raise ConfigError(f"config key 'sweep' must map dotted keys to lists of values, got {sweep!r}")
    flat = _flatten(raw)
    for key, value in (overrides or {}).items():
        if key.startswith(SWEEP_KEY + "."):
            sweep[key[len(SWEEP_KEY) + 1:]] = value
        elif key in SCHEMA:
            flat[key] = value
            sweep.pop(key, None)  # an explicit --set of a swept key pins it
        else:
            raise _unknown(key)
    flat = _check_flat(flat)
    for key in SCHEMA:
        flat.setdefault(key, SCHEMA[key].default)
    for key, values in sweep.items():
        if key not in SCHEMA:
            raise _unknown(f"sweep.{key}" if key != SWEEP_KEY else key)
        if not isinstance(values, list) or not values:
            raise ConfigError(f"config key 'sweep.{key}': expected a non-empty list of values, got {values!r}")
        for v in values:
            SCHEMA[key].check(f"sweep.{key}", v)
    for key in ("name", "model.kind"):
        if flat[key] is None and key not in sweep:
            raise ConfigError(f"config key '{key}' is required ({SCHEMA[key].describe()})")

    keys = list(sweep)
    runs: list[RunSpec] = []
    for combo in itertools.product(*(sweep[k] for k in keys)) if keys else [()]:
        point = dict(flat)
        for k, v in zip(keys, combo):
            point[k] = SCHEMA[k].check(f"sweep.{k}", v)
        _check_cross(point)
        label = ",".join(f"{k.split('.')[-1]}={_fmt(v)}" for k, v in zip(keys, combo)) or "run"
        runs.append(RunSpec(point["name"], label, _unflatten(point)))
    return runs


def _check_cross(point: dict[str, Any]) -> None:
    if point["model.kind"] == "conv-ae":
        if point["model.decoder"] is None:
            point["model.decoder"] = "subpixel"
    elif point["model.decoder"] is not None:
        raise ConfigError(
            f"config key 'model.decoder': only the conv-ae model has a decoder "
            f"(model.kind is {point['model.kind']!r}); remove the key"
        )


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe_schema() -> list[tuple[str, str, Any, str]]:
    """(key, allowed, default, doc) rows for documentation and ``neurocode list``."""
    return [(k, p.describe(), p.default, p.doc) for k, p in SCHEMA.items()]

