"""Suites: one config that runs several experiments, each through the battery.

A suite is a config with ``parts``, each an ordinary experiment config (a file beside the
suite, or written inline) plus the overrides that make it part of the comparison::

    name: code_types
    budgets: [default, full]        # the budgets a user may pick: --set budget=full
    parts_in_turn: false            # true: each part its own sweep, one after the other
    budget: default                 # the one used when none is picked
    measure: {max_stimuli: 2000}    # battery options for every measured run (false: none);
                                    # per budget: {max_stimuli: 2000, budgets: {default: ...}}
    parts:
      - config: kofn_mnist.yaml     # relative to the suite's file
        set:                        # dotted overrides, as `neurocode run --set` takes them
          sweep.model.preset: [local, sparse, dense]
        budgets:                    # overrides per budget, applied after `set`
          default: {data.n_train: 10000}
      - config: article_cnn.yaml
        measure: false              # trained and stored, not measured

``neurocode run SUITE`` runs every part's runs into ``OUT/<part's experiment name>/``, each
under the name ``neurocode run PART`` gives it, and measures every complete run of a part that
has no battery yet (like ``neurocode measure``) once the part's runs have ended. On a local
pool of several workers all the parts' runs go through one pool, the longest first, and a
part's batteries are queued in that pool when its last run ends
(:func:`neurocode.schedule.run_parts`); with one worker, ``--vectorize``, the Dask executor
or ``parts_in_turn: true`` the parts run in turn, each like ``neurocode run PART`` followed by
its measuring. Either way every file and every number is the same. Finished runs and
batteries are skipped when the command runs again, so an interrupted suite resumes where it
stopped.

Command-line overrides of a suite: ``budget=NAME``; ``parts=[name, ...]`` (run only these
parts, by experiment name); ``<part>.<dotted key>=VALUE`` (one part's entry, e.g.
``article_fc.train.iterations=500``); ``seed=N`` (every part); and ``parts_in_turn=true``
(the parts one after the other, each its own sweep: the scheduling before one pool).
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurocode.config import ConfigError, RunSpec, load_yaml, resolve

__all__ = ["Part", "Suite", "is_suite", "resolve_suite", "MEASURE_OPTIONS"]

SUITE_KEYS = ("name", "description", "budgets", "budget", "measure", "parts_in_turn", "parts")
PART_KEYS = ("config", "experiment", "set", "budgets", "measure")
#: Battery options a suite's or a part's ``measure`` mapping may hold, with their defaults.
MEASURE_OPTIONS: dict[str, Any] = {"max_stimuli": 10_000, "threshold": 0.0}


def is_suite(raw: dict[str, Any]) -> bool:
    """Whether a loaded config is a suite (it has ``parts``)."""
    return isinstance(raw, dict) and "parts" in raw


@dataclass
class Part:
    """One experiment of a suite, resolved for the chosen budget."""

    name: str
    specs: list[RunSpec]
    measure: dict[str, Any] | None  # battery options, None: not measured


@dataclass
class Suite:
    """A suite resolved for one budget: its name, that budget, its parts in running order, and
    whether they run in turn (``parts_in_turn``) rather than through one pool."""

    name: str
    budget: str
    parts: list[Part] = field(default_factory=list)
    parts_in_turn: bool = False

    @property
    def n_runs(self) -> int:
        """The number of runs of all the parts together."""
        return sum(len(p.specs) for p in self.parts)


def _measure_opts(value: Any, where: str, base: dict[str, Any] | None,
                  budget: str | None = None) -> dict[str, Any] | None:
    if isinstance(value, dict) and "budgets" in value:
        value = dict(value)
        per = value.pop("budgets")
        if not isinstance(per, dict) or not all(isinstance(v, dict) for v in per.values()):
            raise ConfigError(f"suite key '{where}.budgets' must map budget names to battery "
                              f"options, got {per!r}")
        value.update(per.get(budget, {}) if budget is not None else {})
    if value is None:
        return None if base is None else dict(base)
    if value is False:
        return None
    if value is True:
        return dict(base or MEASURE_OPTIONS)
    if not isinstance(value, dict):
        raise ConfigError(f"suite key '{where}' must be true, false or a mapping of battery "
                          f"options ({', '.join(MEASURE_OPTIONS)}), got {value!r}")
    unknown = set(value) - set(MEASURE_OPTIONS)
    if unknown:
        raise ConfigError(f"suite key '{where}.{sorted(unknown)[0]}' is not a battery option; "
                          f"known: {', '.join(MEASURE_OPTIONS)}")
    opts = dict(base or MEASURE_OPTIONS)
    opts.update(value)
    if not (isinstance(opts["max_stimuli"], int) and opts["max_stimuli"] >= 1):
        raise ConfigError(f"suite key '{where}.max_stimuli' must be an integer >= 1, "
                          f"got {opts['max_stimuli']!r}")
    if not (isinstance(opts["threshold"], (int, float)) and 0 <= opts["threshold"] < float("inf")):
        raise ConfigError(f"suite key '{where}.threshold' must be a finite number >= 0, "
                          f"got {opts['threshold']!r}")
    return opts


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"suite key '{where}' must be a mapping of dotted keys to values, "
                          f"got {value!r}")
    return dict(value)


def _part_raw(entry: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    if ("config" in entry) == ("experiment" in entry):
        raise ConfigError(f"suite key '{where}' needs exactly one of 'config' (a config file, "
                          f"relative to the suite) or 'experiment' (a config written inline)")
    if "config" in entry:
        ref = entry["config"]
        if not isinstance(ref, str):
            raise ConfigError(f"suite key '{where}.config' must be a file name, got {ref!r}")
        path = Path(ref) if Path(ref).is_absolute() else base_dir / ref
        if not path.is_file():
            raise ConfigError(f"suite key '{where}.config': config file {path} does not exist")
        raw = load_yaml(path)
        if is_suite(raw):
            raise ConfigError(f"suite key '{where}.config': {path} is itself a suite; "
                              f"a part is one experiment")
        return raw
    raw = entry["experiment"]
    if not isinstance(raw, dict):
        raise ConfigError(f"suite key '{where}.experiment' must be a config mapping, got {raw!r}")
    return copy.deepcopy(raw)


def resolve_suite(raw: dict[str, Any], path: str | Path,
                  overrides: dict[str, Any] | None = None) -> Suite:
    """Validate a suite config (plus command-line overrides) and resolve every part's runs
    for the chosen budget. Raises :class:`ConfigError` naming the key before anything runs."""
    overrides = dict(overrides or {})
    base_dir = Path(path).resolve().parent
    unknown = set(raw) - set(SUITE_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, SUITE_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown suite key '{key}'{hint}; a suite has {', '.join(SUITE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("suite key 'name' is required (a string)")
    budgets = raw.get("budgets") or ["default"]
    if not (isinstance(budgets, list) and all(isinstance(b, str) for b in budgets)):
        raise ConfigError(f"suite key 'budgets' must be a list of names, got {budgets!r}")
    budget = overrides.pop("budget", raw.get("budget", budgets[0]))
    if budget not in budgets:
        raise ConfigError(f"budget {budget!r} is not one of this suite's budgets: "
                          f"{', '.join(budgets)} (e.g. --set budget={budgets[-1]})")
    only = overrides.pop("parts", None)
    if only is not None and not (isinstance(only, list) and all(isinstance(x, str) for x in only)):
        raise ConfigError(f"--set parts: expected a list of part names, got {only!r}")
    seed = overrides.pop("seed", None)
    in_turn = overrides.pop("parts_in_turn", raw.get("parts_in_turn", False))
    if not isinstance(in_turn, bool):
        raise ConfigError(f"suite key 'parts_in_turn' must be true or false (--set "
                          f"parts_in_turn=true runs the parts one after the other), "
                          f"got {in_turn!r}")
    measure = _measure_opts(raw.get("measure", True), "measure", None, budget)
    if isinstance(raw.get("measure"), dict) and isinstance(raw["measure"].get("budgets"), dict):
        for b in raw["measure"]["budgets"]:
            if b not in budgets:
                raise ConfigError(f"suite key 'measure.budgets.{b}': not one of the suite's "
                                  f"budgets ({', '.join(budgets)})")
    entries = raw.get("parts")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("suite key 'parts' must be a non-empty list of experiments")

    parts: list[Part] = []
    for i, entry in enumerate(entries):
        where = f"parts[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"suite key '{where}' must be a mapping, got {entry!r}")
        bad = set(entry) - set(PART_KEYS)
        if bad:
            raise ConfigError(f"unknown suite key '{where}.{sorted(bad)[0]}'; a part has "
                              f"{', '.join(PART_KEYS)}")
        part_raw = _part_raw(entry, where, base_dir)
        sets = _mapping(entry.get("set"), f"{where}.set")
        per_budget = _mapping(entry.get("budgets"), f"{where}.budgets")
        for b in per_budget:
            if b not in budgets:
                raise ConfigError(f"suite key '{where}.budgets.{b}': not one of the suite's "
                                  f"budgets ({', '.join(budgets)})")
        sets.update(_mapping(per_budget.get(budget), f"{where}.budgets.{budget}"))
        part_name = str(part_raw.get("name") or "")
        if seed is not None:
            sets["seed"] = seed
        prefix = f"{part_name}."
        for key in [k for k in overrides if k.startswith(prefix)]:
            sets[key[len(prefix):]] = overrides[key]
        try:
            specs = resolve(part_raw, sets)
        except ConfigError as exc:
            raise ConfigError(f"suite part {part_name or where}: {exc}") from None
        part = Part(specs[0].experiment, specs,
                    _measure_opts(entry.get("measure"), f"{where}.measure", measure, budget))
        if any(p.name == part.name for p in parts):
            raise ConfigError(f"suite key '{where}': two parts are named {part.name!r}; "
                              f"their runs would share OUT/{part.name}/")
        parts.append(part)
    names = [p.name for p in parts]
    for key in overrides:
        head = key.split(".", 1)[0]
        if head not in names or "." not in key:
            raise ConfigError(f"--set {key}: a suite takes budget=, parts=, seed=, "
                              f"parts_in_turn= or <part>.<key>= (parts: {', '.join(names)})")
    if only is not None:
        missing = [n for n in only if n not in names]
        if missing:
            raise ConfigError(f"--set parts: no part named {missing[0]!r} "
                              f"(parts: {', '.join(names)})")
        parts = [p for p in parts if p.name in only]
    return Suite(name, budget, parts, parts_in_turn=in_turn)
