"""Experiment configs: YAML data checked before anything trains.

A config names an experiment, the coding rule and its hyper-parameters, the data, and a
sweep::

    name: article_fc
    seed: 0
    model: {rule: relu-l1-fc, l1: 0.0}          # the rule and its "model" parameters
    train: {iterations: 20000, batch_size: 100}  # the rule's "train" parameters
    data: {dataset: mnist}
    sweep:                                       # grid over dotted keys: one run per combination
      seed: [0, 1, 2]                            # seeds are a key like any other
    zip:                                         # lists of one length, taken together
      model.l1: [0, 1.0e-5, 5.0e-5]              # (crossed with the grid: 3 x 3 = 9 runs)
      train.lr: [1.0e-3, 1.0e-3, 5.0e-4]

The keys under ``model`` and ``train`` are the rule's own hyper-parameters, declared once in
the rule (``neurocode list`` and the rule's docstring show them), each in its section. The
rest is declared in :data:`SCHEMA`. ``--set key=value`` overrides any entry by its dotted key
(the value is parsed as YAML); ``--set sweep={...}`` (or ``zip``) replaces the whole sweep
(``--set sweep={}``: no sweep, one run); ``seed`` becomes the rule's ``random_state`` and
is an int in ``[0, 2**32 - 1]``. A config that breaks a declaration raises
:class:`ConfigError` naming the key, before any training; so does a config file that is not
UTF-8 text or names a key twice in one mapping (YAML would keep the last silently).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurocode.params import Param, ParamError


class ConfigError(ParamError):
    """A config is malformed: the message names the key and what is allowed."""


#: the largest seed (numpy's legacy and scikit-learn's seeds are 32-bit)
MAX_SEED = 2**32 - 1

DATASETS = ("mnist", "fashion-mnist", "bars", "patches")
PREPROCESS = ("none", "center", "standardize", "binarize")

# What every config has, declared once. The rule's parameters come from the rule.
SCHEMA: dict[str, Param] = {
    "name": Param(str, None, doc="experiment name; run files go to OUT/<name>/"),
    "description": Param(str, "", doc="free text"),
    "seed": Param(int, 0, low=0, high=MAX_SEED,
                  doc="seed of the run: the rule's random_state and the data draws "
                      "(0 to 2**32 - 1)"),
    "model.rule": Param(str, None, doc="registered rule name (`neurocode list`)"),
    "data.dataset": Param(str, "mnist", choices=DATASETS, doc="data set"),
    "data.data_dir": Param(str, None, nullable=True, doc="folder holding the IDX files"),
    "data.preprocess": Param(str, "none", choices=PREPROCESS,
                             doc="center / standardize (fitted on the training split) or "
                                 "binarize (> 0.5); pixels are scaled to [0, 1] first"),
    "data.n_train": Param(int, None, low=1, nullable=True, doc="use only the first n training samples"),
    "data.n_test": Param(int, None, low=1, nullable=True, doc="use only the first n test samples"),
    "data.patch_size": Param(int, None, low=2, high=128, nullable=True, omit_if_unset=True,
                             doc="side in pixels of the square natural-image patches (dataset "
                                 "patches; 16 when unset; other data sets ignore it)"),
}
SECTIONS = ("model", "train", "data")
SWEEP_KEY = "sweep"
ZIP_KEY = "zip"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-4`` as a float (YAML 1.2) instead of a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class DuplicateKeyError(yaml.YAMLError):
    """A mapping of a YAML text names one key twice."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # '<<: *anchor' merges: explicit keys override merged ones
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the constructor below says so
            continue
        if first is not None:
            raise DuplicateKeyError(f"key {key!r} appears twice in one mapping: line {first} "
                                    f"and line {line} (YAML would keep the last silently); "
                                    f"keep one")
        seen[key] = line
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` items; values are YAML (``2000``, ``[0, 1e-4]``, ``null``)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.iterations=2000")
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = _yaml(raw)
        except DuplicateKeyError as exc:
            raise ConfigError(f"--set {key}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML ({exc})") from None
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file as a mapping (``1e-4`` is a float, as in YAML 1.2);
    :class:`ConfigError` when the file is missing, is not YAML or holds no mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist"
                          + (" (it is a folder)" if path.is_dir() else ""))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"config file {path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} "
                          f"at line {line} (offset {exc.start}); save it as UTF-8") from None
    try:
        data = _yaml(text)
    except DuplicateKeyError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
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
    config: dict[str, Any]  # nested; every key present, the rule's defaults filled in

    @property
    def digest(self) -> str:
        """Hash of what determines the run's result (not where it is written)."""
        blob = json.dumps(self.config, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:10]

    @property
    def filename(self) -> str:
        """The run file's name, ``<label>-<digest>.h5``: the label made safe for a path (characters
        other than letters, digits and ``=.,-_+`` become ``_``), then the config's hash."""
        safe = "".join(c if c.isalnum() or c in "=.,-_+" else "_" for c in self.label) or "run"
        return f"{safe}-{self.digest}.h5"

    def get(self, dotted: str) -> Any:
        """The config entry at a dotted key, e.g. ``spec.get("model.rule")``; KeyError when it is
        absent."""
        node: Any = self.config
        for p in dotted.split("."):
            node = node[p]
        return node

    @property
    def rule_params(self) -> dict[str, Any]:
        """The rule's hyper-parameters: ``model.*`` and ``train.*`` less ``rule``, plus the seed."""
        params = {k: v for k, v in self.config["model"].items() if k != "rule"}
        params.update(self.config.get("train", {}))
        params["random_state"] = self.config["seed"]
        return params


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
    out: dict[str, Any] = {s: {} for s in SECTIONS}
    for key, v in flat.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def _rule_schema(rule_name: str) -> tuple[type, dict[str, Param]]:
    from neurocode.rules import UnknownRuleError, get_rule_class

    try:
        cls = get_rule_class(rule_name)
    except UnknownRuleError as exc:
        raise ConfigError(f"config key 'model.rule': {exc}") from None
    keys = {f"{p.section}.{k}": p for k, p in cls.params.items() if k != "random_state"}
    return cls, keys


def _check(param: Param, key: str, value: Any) -> Any:
    try:
        return param.check(value, key, "config key")
    except ConfigError:
        raise
    except ParamError as exc:
        raise ConfigError(str(exc)) from None


def _unknown(key: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"unknown config key '{key}'{hint}; known keys: {', '.join(known)}, "
                       f"sweep, zip")


def resolve(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[RunSpec]:
    """Validate a raw config (plus ``--set`` overrides) and expand its sweep into runs.

    Raises :class:`ConfigError` naming the offending key for an unknown key, a wrong type, an
    out-of-range value, an unknown rule or parameters the rule refuses together, before
    anything runs.
    """
    raw = copy.deepcopy(raw)
    sweep = raw.pop(SWEEP_KEY, None) or {}
    zipped = raw.pop(ZIP_KEY, None) or {}
    for name, value in ((SWEEP_KEY, sweep), (ZIP_KEY, zipped)):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{name}' must map dotted keys to lists of values, "
                              f"got {value!r}")
    flat = _flatten(raw)
    for key, value in (overrides or {}).items():
        if key in (SWEEP_KEY, ZIP_KEY):  # --set sweep={...}: the whole sweep replaced
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"--set {key}: expected a mapping of dotted keys to lists of "
                                  f"values (e.g. {key}={{model.k: [1, 2]}}, or {key}={{}} for "
                                  f"none), got {value!r}")
            if key == SWEEP_KEY:
                sweep = dict(value)
            else:
                zipped = dict(value)
        elif key.startswith(SWEEP_KEY + "."):
            sweep[key[len(SWEEP_KEY) + 1:]] = value
        elif key.startswith(ZIP_KEY + "."):
            zipped[key[len(ZIP_KEY) + 1:]] = value
        else:
            flat[key] = value
            sweep.pop(key, None)  # an explicit --set of a swept key pins it
            zipped.pop(key, None)
    for name, group in ((SWEEP_KEY, sweep), (ZIP_KEY, zipped)):
        for key, values in group.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"config key '{name}.{key}': expected a non-empty list of "
                                  f"values, got {values!r}")
    both = set(sweep) & set(zipped)
    if both:
        raise ConfigError(f"config key '{ZIP_KEY}.{sorted(both)[0]}' is also under '{SWEEP_KEY}': "
                          f"a key is either crossed with the others (sweep) or zipped (zip)")
    lengths = {k: len(v) for k, v in zipped.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(f"config key '{ZIP_KEY}': every list must have the same length, got "
                          + ", ".join(f"{k}: {n}" for k, n in lengths.items()))

    keys, zkeys = list(sweep), list(zipped)
    rows = list(zip(*(zipped[k] for k in zkeys), strict=True)) if zkeys else [()]
    runs: list[RunSpec] = []
    for combo in itertools.product(*(sweep[k] for k in keys)) if keys else [()]:
        for row in rows:
            point = dict(flat)
            point.update(zip(keys, combo, strict=True))
            point.update(zip(zkeys, row, strict=True))
            checked = _resolve_point(point, swept=set(keys), zipped=set(zkeys))
            label = ",".join(f"{k.split('.')[-1]}={_fmt(checked[k])}" for k in keys + zkeys) or "run"
            runs.append(RunSpec(checked["name"], label, _unflatten(checked)))
    return runs


def _resolve_point(point: dict[str, Any], swept: set[str],
                   zipped: AbstractSet[str] = frozenset()) -> dict[str, Any]:
    def where(key: str) -> str:
        return f"sweep.{key}" if key in swept else f"zip.{key}" if key in zipped else key

    for key in ("name", "model.rule"):
        if point.get(key) is None:
            raise ConfigError(f"config key '{key}' is required ({SCHEMA[key].doc})")
    seed = point.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool) and not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"config key '{where('seed')}': {seed} is out of range: a seed is an "
                          f"int from 0 to 2**32 - 1 = {MAX_SEED}")
    rule_name = _check(SCHEMA["model.rule"], where("model.rule"), point["model.rule"])
    cls, rule_keys = _rule_schema(rule_name)
    schema = {**SCHEMA, **rule_keys}
    out: dict[str, Any] = {}
    for key, value in point.items():
        if key not in schema:
            raise _unknown(where(key), list(schema))
        out[key] = _check(schema[key], where(key), value)
    for key, p in schema.items():
        if key not in out and p.omit_if_unset:
            continue
        out.setdefault(key, p.default)
    rule = cls(**{k.split(".", 1)[1]: out[k] for k in rule_keys if k in out}, random_state=out["seed"])
    try:
        rule._validate_params()  # the rule's own checks, including those across parameters
    except ParamError as exc:
        raise ConfigError(f"rule '{rule_name}': {exc}") from None
    return out


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
