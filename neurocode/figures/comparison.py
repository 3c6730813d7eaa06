"""The runs of the comparison across coding rules (:mod:`neurocode.figures.summary`): the
properties it compares, the configurations it groups runs into, and the runs it keeps apart.

* :data:`PROPERTIES`: one panel of ``summary_properties`` and one row of ``summary_table``
  each: how the property reads from a run (:func:`false_match_at` for the unions), its axis
  label and its better direction;
* configurations (:class:`_Group`): the runs of one experiment, one rule and one config that
  differ only in their seed, in legend order (rule, then family, then activity), each named by
  :func:`~neurocode.figures.style.run_legend`;
* the runs the ledger keeps out of every verdict (:func:`excluded_runs`,
  :func:`neurocode.design.exclusion`): their one legend entry, their grey look and their table
  cells.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from neurocode.design import exclusion
from neurocode.figures.style import (
    AXIS_LABELS,
    EXCLUDED_GREY,
    rule_order,
    run_legend,
    short_reason,
    value_sort_key,
)
from neurocode.results import CODE_TYPES, RunResult
from neurocode.theory.random_kofn import UNION_M

__all__ = ["Property", "PROPERTIES", "false_match_at", "excluded_runs"]


def false_match_at(run: RunResult, M: float = UNION_M) -> float:
    """The run's union false-match probability at ``M`` codes in the union: linear in
    ``log M`` between the measured loads; past the largest load the last value when the curve
    has saturated (``>= 0.99``), else NaN."""
    loads, fm = run.get("unions.loads"), run.get("unions.false_match")
    if not isinstance(loads, np.ndarray) or not isinstance(fm, np.ndarray) or loads.size == 0:
        return float("nan")
    loads, fm = np.asarray(loads, float), np.asarray(fm, float)
    ok = np.isfinite(loads) & np.isfinite(fm) & (loads > 0)
    loads, fm = loads[ok], fm[ok]
    if loads.size == 0 or M < loads[0]:
        return float("nan")
    if M > loads[-1]:
        return float(fm[-1]) if fm[-1] >= 0.99 else float("nan")
    return float(np.interp(math.log(M), np.log(loads), fm))


def _scalar(key: str) -> Callable[[RunResult], float]:
    def get(run: RunResult) -> float:
        v = run.get(key)
        return float(v) if isinstance(v, (int, float)) else float("nan")
    return get


@dataclass(frozen=True)
class Property:
    """One row of the table, one panel of the sum-up."""

    key: str
    title: str
    ylabel: str
    value: Callable[[RunResult], float]
    better: str | None  # "higher", "lower" or None (descriptive)
    yscale: str = "linear"


PROPERTIES: tuple[Property, ...] = (
    Property("capacity", "memory capacity", AXIS_LABELS["capacity_bits"],
             _scalar("willshaw.bits_per_synapse_at_capacity"), "higher", "log"),
    Property("fault", "fault tolerance", AXIS_LABELS["fault_auc"], _scalar("fault.auc_random"),
             "higher"),
    Property("unions", f"interference: unions of M = {UNION_M}",
             f"false-match probability, union of {UNION_M} codes", false_match_at, "lower", "log"),
    Property("top2", "interference: two items at once", AXIS_LABELS["top2"],
             _scalar("superposition.top2_accuracy"), "higher"),
    Property("decoding", "decoding cost", AXIS_LABELS["m_fraction_90"],
             _scalar("decoding.m_fraction_90"), "lower", "log"),
    Property("energy", "computation / energy", AXIS_LABELS["active_synapses"],
             _scalar("decoding.active_synapses_mean"), "lower", "log"),
    Property("treves_rolls", "activity: population sparseness", AXIS_LABELS["treves_rolls"],
             _scalar("activity.treves_rolls"), None, "log"),
    Property("dead", "activity: dead units", AXIS_LABELS["dead_fraction"],
             _scalar("activity.dead_fraction"), "lower"),
)


@dataclass
class _Group:
    """The runs of one configuration (they differ only in their seed)."""

    rule: str
    legend: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def code_type(self) -> str:
        types = [r.code_type for r in self.runs]
        return max(set(types), key=types.count)

    @property
    def experiment(self) -> str:
        return self.runs[0].experiment

    @property
    def n_units(self) -> float:
        n = [r.n_units for r in self.runs if math.isfinite(r.n_units)]
        return float(np.median(n)) if n else float("nan")

    @property
    def family(self) -> tuple[str, str, int]:
        """The family the configuration belongs to (:mod:`neurocode.design`): one experiment,
        one rule, one code width N. Lines join configurations of one family only."""
        n = self.n_units
        return (self.experiment, self.rule, int(round(n)) if math.isfinite(n) else 0)

    def values(self, fn: Callable[[RunResult], float]) -> np.ndarray:
        return np.array([fn(r) for r in self.runs], dtype=float)


def _config_key(run: RunResult) -> str:
    cfg = {k: v for k, v in run.config.items() if k not in ("seed", "name", "description")}
    return json.dumps(cfg, sort_keys=True, default=str)


def _legend(r: RunResult) -> str:
    """:func:`~neurocode.figures.style.run_legend`; a k-of-N preset names its k
    (``kofn k=10 (sparse)``)."""
    model = r.config.get("model") or {}
    if model.get("preset") and math.isfinite(r.avr):
        return f"{r.rule} k={int(round(r.avr))} ({model['preset']})"
    return run_legend(r.rule, r.label, model)


def _groups(runs: Sequence[RunResult]) -> list[_Group]:
    groups: dict[tuple, _Group] = {}
    for r in runs:
        key = (r.experiment, r.rule, _config_key(r))
        if key not in groups:
            groups[key] = _Group(r.rule, _legend(r))
        groups[key].runs.append(r)
    # by rule (the rules' legend ranks, then the others by name), then by family (code width
    # N by value, then experiment), then by activity within the family: the configurations of
    # one family stay together in legends, in order of their dose (never interleaved with
    # another N's)
    def sort_key(g: _Group) -> tuple:
        a = float(np.nanmean(g.values(lambda r: r.activity_ratio)))
        n = g.n_units
        return (rule_order(g.rule), n if math.isfinite(n) else math.inf,
                value_sort_key(g.experiment), a if math.isfinite(a) else math.inf,
                value_sort_key(g.legend))

    out = sorted(groups.values(), key=sort_key)
    # a rule in several families (two experiments, two code widths): every configuration of
    # it names its family, by the code width when that tells them apart, else the experiment
    by_rule: dict[str, set[tuple[str, str, int]]] = {}
    for g in out:
        by_rule.setdefault(g.rule, set()).add(g.family)
    for g in out:
        fams = by_rule[g.rule]
        if len(fams) < 2:
            continue
        if len({n for _, _, n in fams}) == len(fams):
            g.legend = f"{g.legend}, N={g.family[2]:,}"
        else:
            g.legend = f"{g.legend} [{g.experiment}]"
    for g in out:
        if len(g.runs) > 1:
            g.legend = f"{g.legend} ({len(g.runs)} seeds)"
    return out


def _measured(runs: Sequence[RunResult]) -> list[RunResult]:
    return [r for r in runs if r.measured and math.isfinite(r.activity_ratio)
            and r.activity_ratio > 0]


# --------------------------------------------------------------------------------------------
# Runs kept out of the verdicts
# --------------------------------------------------------------------------------------------

#: The look of the excluded runs (grey as in :mod:`neurocode.figures.dose`,
#: :data:`~neurocode.figures.style.EXCLUDED_GREY`): hollow grey crosses, never a rule's
#: colour or marker.
_EXCLUDED_STYLE: dict[str, Any] = {"ls": "none", "marker": "X", "ms": 8, "mfc": "none", "mec": EXCLUDED_GREY,
                   "mew": 1.2, "color": EXCLUDED_GREY}


def excluded_runs(runs: Sequence[RunResult]) -> tuple[list[RunResult], list[tuple[RunResult, str]]]:
    """``(kept, excluded)``: the runs the verdicts use, and the others with the reason
    (:func:`neurocode.design.exclusion`: a silent code, or a supervised run that did not
    learn), in the order of ``runs``."""
    kept, out = [], []
    for r in runs:
        why = exclusion(r)
        if why:
            out.append((r, why))
        else:
            kept.append(r)
    return kept, out


def _excluded_configs(excluded: Sequence[tuple[RunResult, str]],
                      ) -> list[tuple[str, list[tuple[RunResult, str]]]]:
    """The excluded runs by configuration (they differ only in their seed), in the order of
    the kept configurations (rule, then N, then activity): ``[(legend, [(run, why), ...])]``."""
    by: dict[tuple, list[tuple[RunResult, str]]] = {}
    for r, why in excluded:
        by.setdefault((r.experiment, r.rule, _config_key(r)), []).append((r, why))
    def key(item):
        r = item[0][0]
        a = float(np.nanmean([x.activity_ratio for x, _ in item]))
        return (rule_order(r.rule), r.n_units, value_sort_key(r.experiment),
                a if math.isfinite(a) else math.inf)

    return [(_legend(items[0][0]), items) for items in sorted(by.values(), key=key)]


def _excluded_legend(excluded: Sequence[tuple[RunResult, str]]) -> str:
    """The excluded runs' one legend entry: how many, why, and which configurations."""
    whys = sorted({short_reason(w) for _, w in excluded})
    head = (f"excluded from the verdicts ({len(excluded)} run"
            f"{'s' if len(excluded) != 1 else ''}: {', '.join(whys)})")
    confs = [f"  {name}" + (f" ({len(items)} seeds)" if len(items) > 1 else "")
             for name, items in _excluded_configs(excluded)]
    return "\n".join([head] + confs)


def _excluded_handle(label: str) -> Line2D:
    return Line2D([], [], label=label, **_EXCLUDED_STYLE)


def _reason_cell(items: Sequence[tuple[RunResult, str]]) -> str:
    """A configuration's excluded runs in a table cell, the reason shortened:
    ``did not learn: accuracy 0.212 – 0.359`` over ``(needs >= 0.544 – 0.553)``."""
    whys = [w for _, w in items]
    if all(w.startswith("did not learn") for w in whys):
        acc = [float(r.final["accuracy"]) for r, _ in items]
        need = sorted({m.group(1) for w in whys for m in [re.search(r"< ([0-9.eE+-]+)", w)] if m},
                      key=float)
        lo, hi = min(acc), max(acc)
        span = _fmt(lo) if lo == hi else f"{_fmt(lo)} – {_fmt(hi)}"
        if not need:
            return f"did not learn: accuracy {span}"
        needs = need[0] if len(need) == 1 else f"{need[0]} – {need[-1]}"
        return f"did not learn: accuracy {span}\n(needs >= {needs})"
    return "; ".join(sorted({short_reason(w) for w in whys}))


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _panel_type(code_type: str) -> str:
    """The panel (table column) of a code type: a silent or unknown code goes with local."""
    return code_type if code_type in CODE_TYPES else "local"

