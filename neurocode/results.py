"""Stored results as one table: every complete run under a results folder, with its battery.

The figures (:mod:`neurocode.figures.summary`) and the report (:mod:`neurocode.report`) read
results through :func:`load_results` only, so both see the same runs and the same numbers::

    >>> runs = load_results("results")                       # doctest: +SKIP
    >>> [(r.rule, r.label, r.activity_ratio) for r in runs]   # doctest: +SKIP

A :class:`RunResult` carries the run's config, final scalars, learning curves and (when the
run was measured with ``neurocode measure``) its battery; :meth:`RunResult.get` reads any of
them by a dotted key (``"final.accuracy"``, ``"fault.auc_random"``, ``"model.l1"``), NaN when
absent. The activity of a run is the battery's (``activity.*``) when measured, else the run's
own summary (``final.avr``).

A run names its rule; what the rule is to the figures and the claims is in the rule's tags
(:class:`~neurocode.rules.Tags`), read through the registry by :func:`rule_tags`: whether its
runs are the random k-of-N null (:func:`is_random_null`), which of the article's networks
they are (:func:`article_network`, :func:`article_rules`), and which rule an old run file's
``model.kind`` names (:func:`rule_of_legacy_kind`). A rule that is not installed here has no
tags, so no such role: its runs are read as an ordinary rule's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.metrics.activity import code_type as _code_type
from neurocode.rules import BUILTIN_DISTRIBUTION, Tags, available_rules, rule_origin, tags_of
from neurocode.rules.tags import ARTICLE_NETWORKS
from neurocode.store import StoreError, iter_runs, read_battery

__all__ = ["RunResult", "Results", "load_results", "to_dataframe", "distinct_labels",
           "CODE_TYPES", "rule_tags", "is_random_null", "random_null_rules", "article_network",
           "article_rules", "rule_of_legacy_kind"]

#: The article's three kinds of code, in order of activity.
CODE_TYPES = ("local", "sparse", "dense")


def rule_tags(rule: Any) -> Tags | None:
    """The :class:`~neurocode.rules.Tags` of the installed rule named ``rule``.

    Parameters
    ----------
    rule : str
        A rule name, as a run stores it (``RunResult.rule``).

    Returns
    -------
    Tags or None
        The rule class's tags; None when no installed rule has that name (a plugin that is
        not installed here, ``"unknown"``): its runs then have no style, null or article role.

    Examples
    --------
    >>> rule_tags("kofn").random_null
    True
    >>> rule_tags("not-installed") is None
    True
    """
    cls = available_rules().get(str(rule))
    return tags_of(cls) if cls is not None else None


def is_random_null(rule: Any) -> bool:
    """Whether the runs of ``rule`` are the random k-of-N null (its ``tags.random_null``);
    False for a rule that is not installed.

    Examples
    --------
    >>> is_random_null("kofn"), is_random_null("kwta"), is_random_null("not-installed")
    (True, False, False)
    """
    tags = rule_tags(rule)
    return bool(tags is not None and tags.random_null)


def article_network(rule: Any) -> str | None:
    """Which of the article's networks (:data:`~neurocode.rules.tags.ARTICLE_NETWORKS`) the
    runs of ``rule`` are (its ``tags.article_network``); None for any other rule and for a rule
    that is not installed.

    Examples
    --------
    >>> article_network("relu-l1-cnn"), article_network("kwta")
    ('cnn', None)
    """
    tags = rule_tags(rule)
    return tags.article_network if tags is not None else None


def _builtin_first(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` with the built-in rules first, then by name."""
    return tuple(sorted(names, key=lambda n: (rule_origin(n)["package"] != BUILTIN_DISTRIBUTION,
                                              n)))


def random_null_rules() -> tuple[str, ...]:
    """The installed rules whose runs are the random k-of-N null (``tags.random_null``),
    built-in rules first, then by name.

    Examples
    --------
    >>> random_null_rules()
    ('kofn',)
    """
    return _builtin_first(name for name in available_rules() if is_random_null(name))


def article_rules(network: str) -> tuple[str, ...]:
    """The installed rules that reproduce the article's ``network``, built-in rules first,
    then by name (empty when none is installed).

    Parameters
    ----------
    network : str
        One of :data:`~neurocode.rules.tags.ARTICLE_NETWORKS`: ``"fc"``, ``"cnn"``,
        ``"conv-ae"``.

    Returns
    -------
    tuple of str
        Rule names.

    Raises
    ------
    ValueError
        When ``network`` is not one of the article's networks.

    Examples
    --------
    >>> article_rules("fc")
    ('relu-l1-fc',)
    """
    if network not in ARTICLE_NETWORKS:
        raise ValueError(f"unknown article network {network!r}: use one of "
                         f"{', '.join(map(repr, ARTICLE_NETWORKS))}")
    return _builtin_first(name for name, cls in available_rules().items()
                          if getattr(tags_of(cls), "article_network", None) == network)


def rule_of_legacy_kind(kind: Any) -> str | None:
    """The installed rule whose runs an old run file stored as ``model.kind`` = ``kind``: the
    rule that declares it among its ``tags.legacy_kinds`` (a built-in rule before a plugin,
    then by name, should two declare it); None when none does.

    Examples
    --------
    >>> rule_of_legacy_kind("ae"), rule_of_legacy_kind("no-such-kind")
    ('relu-l1-conv-ae', None)
    """
    found = _builtin_first(name for name, cls in available_rules().items()
                           if str(kind) in getattr(tags_of(cls), "legacy_kinds", ()))
    return found[0] if found else None


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@dataclass
class RunResult:
    """One complete run: what configured it, what it ended with, what the battery measured."""

    path: Path
    experiment: str
    run_name: str
    config: dict[str, Any]
    final: dict[str, float]
    curves: dict[str, np.ndarray]
    battery: dict[str, dict[str, Any]] = field(default_factory=dict)
    label: str = ""  # tells the runs of one experiment apart (see :func:`load_results`)
    #: the run file's attributes (``status``, ``wall_time_s``, versions, ...)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        """The registered name of the rule that made the run (``model.rule``); for a run file
        stored before rules were named, the installed rule that declares its ``model.kind``
        among its ``tags.legacy_kinds`` (:func:`rule_of_legacy_kind`), else ``"unknown"``."""
        model = self.config.get("model") or {}
        if model.get("rule"):
            return str(model["rule"])
        # runs stored before rules were named carry the architecture as model.kind, which
        # the rule declares among its tags.legacy_kinds (resolved once per kind: the rule
        # property is read in every filter of the figures and the claims)
        kind = str(model.get("kind"))
        known = self.__dict__.get("_legacy_rule")
        if known is None or known[0] != kind:
            known = self.__dict__["_legacy_rule"] = (kind, rule_of_legacy_kind(kind) or "unknown")
        return known[1]

    @property
    def seed(self) -> int:
        """The run's seed (0 when the config names none)."""
        return int(self.config.get("seed", 0) or 0)

    @property
    def measured(self) -> bool:
        """Whether the run carries a battery (``neurocode measure`` ran on it)."""
        return bool(self.battery)

    def _activity(self, key: str) -> float:
        """The battery's ``activity.<key>`` when measured, else the run's ``final.<key>``."""
        v = self.get(f"activity.{key}")
        return v if math.isfinite(v) else self.get(f"final.{key}")

    @property
    def n_units(self) -> float:
        """The code's width N (the battery's, else the run's own summary)."""
        return self._activity("n_units")

    @property
    def avr(self) -> float:
        """Mean number of active units per stimulus (the battery's, else the run's)."""
        return self._activity("avr")

    @property
    def activity_ratio(self) -> float:
        """AVR / N: the fraction of units active per stimulus."""
        return self._activity("activity_ratio")

    @property
    def code_type(self) -> str:
        """``local``, ``sparse``, ``dense`` (or ``silent``) by :func:`~neurocode.metrics.activity.code_type`."""
        avr, n = self.avr, self.n_units
        if not (math.isfinite(avr) and math.isfinite(n) and n > 0):
            return "unknown"
        return _code_type(min(avr, n), int(n))

    def param(self, dotted: str, default: Any = None) -> Any:
        """A config entry by dotted key (``"model.l1"``), ``default`` when absent."""
        node: Any = self.config
        for p in dotted.split("."):
            if not isinstance(node, Mapping) or p not in node:
                return default
            node = node[p]
        return node

    def get(self, key: str) -> Any:
        """A number (or curve) by dotted key: ``final.<name>``, ``curves.<name>``,
        ``<measure>.<name>`` of the battery, or a config entry; NaN when absent."""
        head, _, rest = key.partition(".")
        v: Any
        if head == "final":
            v = self.final.get(rest)
        elif head == "curves":
            v = self.curves.get(rest)
        elif head in self.battery:
            v = self.battery[head].get(rest)
        else:
            v = self.param(key)
        if v is None:
            return float("nan")
        if isinstance(v, np.ndarray):
            return v
        try:
            return float(v)
        except (TypeError, ValueError):
            return v

    def describe(self) -> str:
        """``rule label`` for legends and tables, e.g. ``relu-l1-fc l1=0.0001``."""
        return f"{self.rule} {self.label}".strip()

    def to_record(self) -> dict[str, Any]:
        """The run as one flat row: who it is, its config (``config.<dotted key>``), its final
        scalars (``final.<name>``) and every scalar of its battery (``<measure>.<name>``).

        Arrays (learning curves, battery curves) are left out: a row holds numbers and
        words. Read them from the run itself (:meth:`get`)."""
        row: dict[str, Any] = {
            "experiment": self.experiment, "run_name": self.run_name, "label": self.label,
            "rule": self.rule, "seed": self.seed, "code_type": self.code_type,
            "n_units": self.n_units, "activity_ratio": self.activity_ratio, "avr": self.avr,
            "measured": self.measured, "path": str(self.path)}
        row.update({f"config.{k}": _cell(v) for k, v in _flat(self.config or {}).items()})
        row.update({f"final.{k}": v for k, v in self.final.items()})
        for measure, values in sorted(self.battery.items()):
            if not isinstance(values, Mapping):
                continue
            for k, v in values.items():
                cell = _cell(v)
                if cell is not _SKIP:
                    row[f"{measure}.{k}"] = cell
        return {k: v for k, v in row.items() if v is not _SKIP}


_SKIP = object()


def _cell(v: Any) -> Any:
    """A table cell: numbers and words as they are, 0-d arrays as numbers, short lists of
    scalars as text; longer arrays are not cells (``_SKIP``)."""
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return v.item()
        return _SKIP
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        if len(v) <= 16 and all(isinstance(x, (int, float, str, bool)) for x in v):
            return repr(list(v))
        return _SKIP
    if isinstance(v, Mapping):
        return _SKIP
    return v


class Results(list):
    """The runs :func:`load_results` found: a plain list of :class:`RunResult`, which can
    also become one table (:meth:`to_dataframe`)."""

    def to_dataframe(self) -> Any:
        """Every run as one row of a :class:`pandas.DataFrame` (see :func:`to_dataframe`)."""
        return to_dataframe(self)


def to_dataframe(runs: Iterable[RunResult]) -> Any:
    """Stored runs as one :class:`pandas.DataFrame`: one row per run, its config flattened.

    Columns: ``experiment``, ``run_name``, ``label``, ``rule``, ``seed``, ``code_type``,
    ``n_units``, ``activity_ratio``, ``avr``, ``measured``, ``path``, then
    ``config.<dotted key>``, ``final.<name>`` and ``<measure>.<name>`` for every scalar of
    the battery (``fault.auc_random``, ``capacity.bits_per_synapse``, ...). A value a run
    lacks is NaN. Codes measured with ``neurocode measure --codes`` are rows like any other
    (rule ``given-codes``).

    >>> to_dataframe([]).shape
    (0, 0)
    """
    import pandas as pd

    return pd.DataFrame.from_records([r.to_record() for r in runs])


def distinct_labels(runs: list) -> list[str]:
    """The run names, unless two runs of one experiment share one; then the config entries
    that differ between them (``epochs=3``); then the file names."""
    names = [r.run_name or r.path.stem for r in runs]
    if len(set(names)) == len(names):
        return names
    flats = [_flat(r.config or {}) for r in runs]
    keys = sorted({k for f in flats for k in f if len({repr(g.get(k)) for g in flats}) > 1})
    labels = [",".join(f"{k.split('.')[-1]}={f.get(k)}" for k in keys) or n
              for f, n in zip(flats, names, strict=True)]
    if len(set(labels)) < len(labels):
        labels = [r.path.stem for r in runs]
    return labels


def load_results(results_dir: str | os.PathLike | Iterable[str | os.PathLike], *,
                 measured_only: bool = False) -> Results:
    """Every complete run under ``results_dir`` (one folder or several), sorted by
    experiment, then rule parameters, then seed. Unreadable files are skipped with a
    warning (by :func:`neurocode.store.iter_runs`); a run whose battery cannot be read is
    kept without one."""
    dirs = [results_dir] if isinstance(results_dir, (str, os.PathLike)) else list(results_dir)
    runs: list[RunResult] = []
    for d in dirs:
        for rec in iter_runs(d, status="complete"):
            try:
                battery = read_battery(rec.path)
            except StoreError:
                battery = {}
            if measured_only and not battery:
                continue
            runs.append(RunResult(path=Path(rec.path), experiment=rec.experiment or Path(rec.path).parent.name,
                                  run_name=rec.run_name or "", config=dict(rec.config or {}),
                                  final={k: float(v) for k, v in (rec.final or {}).items()},
                                  curves=dict(rec.curves or {}), battery=battery,
                                  attrs=dict(rec.attrs or {})))
    by_exp: dict[str, list[RunResult]] = {}
    for r in runs:
        by_exp.setdefault(r.experiment, []).append(r)
    for group in by_exp.values():
        for r, label in zip(group, distinct_labels(group), strict=True):
            r.label = label
    runs.sort(key=_sort_key)
    return Results(runs)


def _num(v: Any) -> tuple[int, float | str]:
    return (0, float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, str(v))


def _sort_key(r: RunResult) -> tuple:
    model = r.config.get("model") or {}
    params = tuple(_num(model[k]) for k in sorted(model) if k != "rule")
    return (r.experiment, params, r.seed, r.label)
