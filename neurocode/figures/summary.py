r"""The comparison across coding rules: every measured run on one activity axis, beside the
closed forms for random k-of-N codes.

Drawn from stored results only (:func:`neurocode.results.load_results`), over every complete
run that ``neurocode measure`` gave a battery; other runs are skipped, and a property no run
measured draws an empty panel that says so.

Runs the ledger keeps out of every verdict (:func:`neurocode.design.exclusion`: a silent code,
or a supervised run that did not learn, e.g. the FC net at lambda = 2.7e-3 on a short budget)
stay visible but apart, as in :mod:`neurocode.figures.dose`: in ``summary_properties`` hollow
grey crosses at each run's own values (no configuration mean, error bar, family line or
per-configuration legend entry; one legend entry, ``excluded from the verdicts (n runs: did
not learn)``, that names their configurations); in the ``detail_*`` figures each run's own
curve, dotted grey with hollow grey crosses; in ``summary_table`` a grey row of their own,
each configuration with its reason shortened, and in no cell or count above it.

Figures (:func:`summary_figures`; :func:`draw_summary_figures` writes them as PNG and SVG):

* ``summary_properties``: the article's sum-up, one panel per property against the activity
  ratio ``a = AVR / N`` (log scale), so local, sparse and dense codes of every rule share one
  axis. The bands are :func:`neurocode.metrics.activity.code_type`'s: local ``AVR <= 1.5``
  (``a <= 1.5 / N``: it depends on ``N``; shaded for the reference ``N = 784``, dotted ticks
  mark the boundary of every other ``N`` among the runs), dense ``a >= 0.11``, sparse between.
  The runs of one configuration that differ only in their seed are one marker at their mean,
  with error bars of one standard deviation over the seeds (both axes); the configurations of
  one family (one experiment, one rule, one code width N: :mod:`neurocode.design`) are joined
  by a thin line in order of activity, never those of two experiments or two N; legends list
  the configurations by rule, then family (N by value), then activity. Grey curves: random
  k-of-N binary codes with ``N = 784`` (``k = a N``), each from a closed form:

  - memory capacity, Willshaw bits per synapse at capacity ``M*``:
    :func:`neurocode.theory.willshaw_theory` (Willshaw, Buneman & Longuet-Higgins
    1969; Palm 1980) for an autoassociative net with the battery's tolerance ``0.1 k / N``
    (``p1* = (0.1 k / (N - k))^(1/k)``, ``M* = 1 + ln(1 - p1*) / ln(1 - k(k-1)/(N(N-1)))``,
    bits ``= M* I(k/N, p1*^k) / N``);
  - fault tolerance, the area under the survival curve of an item over the silenced fraction
    ``f``, with the binomial tail of :func:`neurocode.theory.kofn_survival_theory`
    (Willshaw et al. 1969; Foldiak 2002)::

        AUC(k, theta) = int_0^1 P[Binomial(k, 1 - f) >= theta] df = (k - theta + 1) / (k + 1)

    (each ``P[Bin(k, p) = j]`` integrates to ``1 / (k + 1)`` over ``p``), drawn for an item
    that needs one surviving unit (``theta = 1``: ``k / (k + 1)``; a local code gets 1/2, its
    diagonal; the dotted line). A readout that needs a majority, ``theta = ceil(k / 2)``,
    stays near 1/2 for every k, so denser codes gain only with a lenient readout;
  - interference, false match of a random probe with a union of ``M = 10`` codes (Ahmad &
    Hawkins 2016, arXiv:1601.00720; :func:`neurocode.theory.ahmad_hawkins_false_match`)::

        P = sum_{b = k}^{k} C(s, b) C(N - s, k - b) / C(N, k) = C(s, k) / C(N, k),
        s = N (1 - (1 - k/N)^M)

  - decoding cost, the smallest fraction ``m / N`` of units that an observer must watch to see
    at least one of an item's ``k`` active units with probability 0.9 (hypergeometric)::

        P(m) = 1 - C(N - k, m) / C(N, m) >= 0.9

    (a local code needs ``m = ceil(0.9 N)``; a code with ``k`` units about ``1 - 0.1^(1/k)``);
  - computation and energy, active synapses per stimulus of a readout with fan-out ``C = 10``
    (one weight per class; :func:`neurocode.metrics.decoding.active_synapses`): the identity
    ``A = k C = a N C``, drawn for every ``N`` among the runs (solid: ``N = 784``);
  - activity, Treves-Rolls population sparseness of a binary k-of-N code: ``(k/N)^2 / (k/N)
    = a`` (Treves & Rolls 1991), the diagonal. Dead units have no curve (a random code's
    expected dead fraction ``(1 - a)^S`` is 0 for any battery's ``S`` stimuli).

  Superposition (top-2 accuracy of two digits shown at once) has no closed form; its grey
  line is chance (two classes of ten: 1/45).

* ``detail_capacity``, ``detail_fault``, ``detail_interference``, ``detail_decoding``: the
  curves behind four of those numbers, one panel per code type (local, sparse, dense), one line
  per configuration (mean over seeds when they share the x values), theory in grey:
  Willshaw recall error per active unit (``error N / k``: the battery's tolerance is 0.1,
  dotted) against patterns stored (theory: ``willshaw.theory_error``, random codes with the
  run's ``N`` and mean ``k``); normalised accuracy against the fraction
  silenced (theory: a local code's diagonal ``1 - f``, and ``1 - f^k`` for an item that needs
  any one of ``k = log2 N`` units); false-match probability against the number of codes in a
  union (theory: ``unions.theory_false_match``); normalised accuracy against the fraction of
  units observed (theory: ``P(m)`` above with the run's ``N`` and mean ``k``).

* ``summary_table``: rows the properties, columns local / sparse / dense (runs grouped by
  :attr:`RunResult.code_type`, every run one value, seeds included, excluded runs left out);
  each cell the median, ``[min - max]`` and the number of runs. Cells are coloured by
  **tiers** within the row (darkest best; :func:`colour_tiers`), never by bare rank: the
  row's seed spread ``s`` is the widest range (max - min) of the property over the seeds of
  one configuration (a level of :func:`neurocode.design.families`: one experiment, rule, N
  and config but for its seed; :func:`seed_spreads`), and, the medians in order, a new tier
  starts only where a median lies more than ``s`` from the one before. So two cells whose
  medians differ by less than what seeds alone produce always share a colour; a row whose
  medians all lie within ``s`` (or that has no configuration of two seeds) is not coloured.
  Fixed-edge bins were not used: an edge can split two values as close as one likes. Each row
  names its better direction and its ``s`` with the configuration that sets it.
  :func:`table_stats` returns the numbers.

Colours and markers per rule: :mod:`neurocode.figures.style`.
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurocode.design import exclusion, families
from neurocode.figures.article import save_figures
from neurocode.figures.style import (
    AXIS_LABELS,
    RANK_COLOURS,
    RULE_STYLES,
    rule_style,
    run_legend,
    value_sort_key,
)
from neurocode.metrics.activity import DENSE_MIN_RATIO, LOCAL_MAX_AVR
from neurocode.results import CODE_TYPES, RunResult, load_results
from neurocode.theory.random_kofn import (
    REFERENCE_N,
    UNION_M,
    theory_capacity_bits,
    theory_fault_auc,
    theory_m_fraction_90,
    theory_union_false_match,
)

__all__ = ["summary_figures", "draw_summary_figures", "table_stats", "seed_spreads",
           "colour_tiers", "excluded_runs", "SeedSpread", "PROPERTIES", "REFERENCE_N",
           "UNION_M", "FAN_OUT", "theory_capacity_bits", "theory_fault_auc",
           "theory_union_false_match", "theory_m_fraction_90", "false_match_at"]

#: Readout fan-out of the battery's active-synapse count (one weight per MNIST class).
FAN_OUT = 10

# The closed forms for random k-of-N codes drawn in grey (theory_capacity_bits,
# theory_fault_auc, theory_union_false_match, theory_m_fraction_90) and their defaults
# REFERENCE_N and UNION_M live in neurocode.theory.random_kofn; imported above, they keep
# their names here.


def _k_grid(N: int) -> np.ndarray:
    return np.unique(np.rint(np.geomspace(1, N / 2, 60))).astype(int)


# --------------------------------------------------------------------------------------------
# Reading runs
# --------------------------------------------------------------------------------------------


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
    # by rule (built-in order, then plugins by name), then by family (code width N by value,
    # then experiment), then by activity within the family: the configurations of one family
    # stay together in legends, in order of their dose (never interleaved with another N's)
    order = {name: i for i, name in enumerate(RULE_STYLES)}

    def sort_key(g: _Group) -> tuple:
        a = float(np.nanmean(g.values(lambda r: r.activity_ratio)))
        n = g.n_units
        return (order.get(g.rule, len(order)), g.rule, n if math.isfinite(n) else math.inf,
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

#: The grey of the excluded runs (as :mod:`neurocode.figures.dose`).
_EXCLUDED = "0.45"
#: Their look: hollow grey crosses, never a rule's colour or marker.
_EXCLUDED_STYLE = {"ls": "none", "marker": "X", "ms": 8, "mfc": "none", "mec": _EXCLUDED,
                   "mew": 1.2, "color": _EXCLUDED}


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


def _why_short(why: str) -> str:
    return "silent code" if why.startswith("silent") else "did not learn"


def _excluded_configs(excluded: Sequence[tuple[RunResult, str]]) -> list[tuple[str, list[tuple[RunResult, str]]]]:
    """The excluded runs by configuration (they differ only in their seed), in the order of
    the kept configurations (rule, then N, then activity): ``[(legend, [(run, why), ...])]``."""
    by: dict[tuple, list[tuple[RunResult, str]]] = {}
    for r, why in excluded:
        by.setdefault((r.experiment, r.rule, _config_key(r)), []).append((r, why))
    order = {name: i for i, name in enumerate(RULE_STYLES)}

    def key(item):
        r = item[0][0]
        a = float(np.nanmean([x.activity_ratio for x, _ in item]))
        return (order.get(r.rule, len(order)), r.rule, r.n_units, value_sort_key(r.experiment),
                a if math.isfinite(a) else math.inf)

    return [(_legend(items[0][0]), items) for items in sorted(by.values(), key=key)]


def _excluded_legend(excluded: Sequence[tuple[RunResult, str]]) -> str:
    """The excluded runs' one legend entry: how many, why, and which configurations."""
    whys = sorted({_why_short(w) for _, w in excluded})
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
    return "; ".join(sorted({_why_short(w) for w in whys}))


# --------------------------------------------------------------------------------------------
# The sum-up figure
# --------------------------------------------------------------------------------------------


def _bands(ax, n_values: Sequence[int]) -> None:
    """Shade local / sparse / dense; label them at the top of the panel."""
    xt = ax.get_xaxis_transform()
    local = LOCAL_MAX_AVR / REFERENCE_N
    ax.axvspan(1e-9, local, color="0.85", lw=0, zorder=0)
    ax.axvspan(DENSE_MIN_RATIO, 1.0, color="0.93", lw=0, zorder=0)
    for n in sorted(set(n_values) - {REFERENCE_N}):
        ax.axvline(LOCAL_MAX_AVR / n, color="0.55", lw=0.7, ls=":", zorder=0)
        ax.text(LOCAL_MAX_AVR / n, 0.02, f" local, N={n:,}", transform=xt, rotation=90,
                fontsize=6, color="0.4", va="bottom", ha="right")
    ax.text(local, 0.98, f"local\n(N={REFERENCE_N}) ", transform=xt, fontsize=6.5,
            color="0.3", va="top", ha="right")
    ax.text(math.sqrt(local * DENSE_MIN_RATIO), 0.98, "sparse", transform=xt, fontsize=6.5,
            color="0.3", va="top", ha="center")
    ax.text(DENSE_MIN_RATIO, 0.98, " dense", transform=xt, fontsize=6.5, color="0.3",
            va="top", ha="left")


def _mean_sd(v: np.ndarray) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _theory_curves(prop: Property, n_values: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    N = REFERENCE_N
    k = _k_grid(N)
    a = k / N
    grey = {"color": "0.45", "lw": 1.3, "zorder": 1}
    name = f"random k-of-N, N = {N}"
    if prop.key == "capacity":
        return [(a, theory_capacity_bits(k, N), {**grey, "label": name})]
    if prop.key == "fault":
        return [(a, theory_fault_auc(k, 1), {**grey, "label": f"{name}, needs 1 of k: k/(k+1)"})]
    if prop.key == "unions":
        return [(a, theory_union_false_match(k, UNION_M, N), {**grey, "label": name})]
    if prop.key == "top2":
        return [(np.array([1e-9, 1.0]), np.array([1 / 45, 1 / 45]),
                 {**grey, "ls": ":", "label": "chance (1/45)"})]
    if prop.key == "decoding":
        return [(a, theory_m_fraction_90(k, N), {**grey, "label": f"{name}: sees 1 of k, p = 0.9"})]
    if prop.key == "energy":
        out = [(a, k * FAN_OUT * 1.0, {**grey, "label": f"k·C, N = {N}, C = {FAN_OUT}"})]
        for n in sorted(set(n_values) - {N}):
            aa = np.geomspace(1.0 / n, 0.5, 50)
            out.append((aa, aa * n * FAN_OUT, {**grey, "lw": 0.8, "ls": ":",
                                              "label": f"k·C, N = {n:,}"}))
        return out
    if prop.key == "treves_rolls":
        return [(a, a, {**grey, "label": f"{name}: = a"})]
    return []


_LEGEND_LOC = {"capacity": "lower center", "fault": "lower right", "unions": "lower left",
               "top2": "center right", "decoding": "lower left", "energy": "lower right",
               "treves_rolls": "lower right"}


def _sumup_panel(ax, prop: Property, groups: Sequence[_Group], n_values: Sequence[int],
                 xlim: tuple[float, float],
                 excluded: Sequence[tuple[RunResult, str]] = ()) -> None:
    ax.set_xscale("log")
    ax.set_xlim(*xlim)
    if prop.yscale == "log":
        ax.set_yscale("log")
    drawn = 0
    by_family: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for g in groups:
        x, xs = _mean_sd(g.values(lambda r: r.activity_ratio))
        y, ys = _mean_sd(g.values(prop.value))
        if not (np.isfinite(x) and np.isfinite(y)) or (prop.yscale == "log" and y <= 0):
            continue
        st = rule_style(g.rule)
        if len(g.runs) > 1:
            ax.errorbar([x], [y], xerr=[xs], yerr=[ys], fmt="none", ecolor=st.colour, elinewidth=1,
                        capsize=2.5, zorder=3)
        ax.plot([x], [y], ls="none", marker=st.marker, color=st.colour, ms=7, mec="white",
                mew=0.6, label=g.legend, zorder=4)
        by_family.setdefault(g.family, []).append((x, y))
        drawn += 1
    for (_, rule, _), pts in by_family.items():  # never joins two experiments or two N
        if len(pts) > 1:
            pts.sort()
            ax.plot(*zip(*pts, strict=True), color=rule_style(rule).colour, lw=0.7, alpha=0.6,
                    zorder=2)
    # runs kept out of the verdicts: hollow grey crosses at their own values, one per run, in
    # no configuration's mean, line or legend entry
    ex = [(float(r.activity_ratio), prop.value(r)) for r, _ in excluded]
    ex = [(x, y) for x, y in ex if math.isfinite(x) and x > 0 and math.isfinite(y)
          and (prop.yscale != "log" or y > 0)]
    if ex:
        line, = ax.plot(*zip(*ex, strict=True), zorder=5, label="_nolegend_", **_EXCLUDED_STYLE)
        line.set_gid(f"excluded-{prop.key}")
        drawn += len(ex)
    if drawn:
        for xs_, ys_, kw in _theory_curves(prop, n_values):
            ok = np.isfinite(ys_) & ((ys_ > 0) if prop.yscale == "log" else True)
            ax.plot(xs_[ok], ys_[ok], **kw)
    else:
        ax.text(0.5, 0.5, "no measured run has this property", ha="center", va="center",
                transform=ax.transAxes, color="0.4")
    if prop.key in ("fault", "top2"):
        ax.set_ylim(-0.02, 1.02)
    if prop.key == "fault":
        ax.axhline(0.5, color="0.6", lw=0.6, ls=":")
    _bands(ax, n_values)
    better = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(prop.better, "")
    ax.set_title(prop.title + better, fontsize=10)
    ax.set_xlabel(AXIS_LABELS["activity_ratio"], fontsize=8)
    ax.set_ylabel(prop.ylabel, fontsize=8)
    handles = [h for h, lbl in zip(*ax.get_legend_handles_labels(), strict=True) if lbl.startswith(("random", "chance", "k·C"))]
    if handles:
        ax.legend(handles=handles, fontsize=6.5, frameon=False, loc=_LEGEND_LOC.get(prop.key, "best"))
    if prop.key == "unions" and drawn:
        ax.set_ylim(max(ax.get_ylim()[0], 1e-9), 2)


def _legend_handles(groups: Sequence[_Group]) -> list[Line2D]:
    return [Line2D([], [], ls="none", marker=rule_style(g.rule).marker, color=rule_style(g.rule).colour,
                   ms=7, label=g.legend) for g in groups]


def _sumup_figure(groups: Sequence[_Group], runs: Sequence[RunResult],
                  excluded: Sequence[tuple[RunResult, str]] = ()) -> Figure:
    """``runs``: every measured run drawn, the excluded ones included (they share the axes)."""
    n_values = sorted({int(r.n_units) for r in runs if math.isfinite(r.n_units)})
    xs = np.array([r.activity_ratio for r in runs], float)
    xs = xs[np.isfinite(xs) & (xs > 0)]  # silent codes (a = 0) have no place on a log axis
    lo = min(xs.min() if xs.size else 1.0, LOCAL_MAX_AVR / max(n_values + [REFERENCE_N])) / 2
    hi = max(0.75, 1.3 * xs.max()) if xs.size else 0.75  # signed codes reach a = 1
    fig = Figure(figsize=(19, 9.5), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    for ax, prop in zip(axes, PROPERTIES, strict=True):
        _sumup_panel(ax, prop, groups, n_values, (lo, hi), excluded)
    handles = _legend_handles(groups)
    if excluded:
        handles.append(_excluded_handle(_excluded_legend(excluded)))
    fig.legend(handles=handles, loc="outside right upper", frameon=False,
               title="rule and parameter", fontsize=8)
    n_kept = sum(len(g.runs) for g in groups)
    title = (f"Code properties against the activity ratio: {n_kept} measured runs of "
             f"{len({g.rule for g in groups})} rules (markers; mean ± sd over seeds) and "
             f"random k-of-N codes, N = {REFERENCE_N} (grey)")
    if excluded:
        title += (f"\n{len(excluded)} more run{'s' if len(excluded) != 1 else ''} kept out of "
                  f"the verdicts ({', '.join(sorted({_why_short(w) for _, w in excluded}))}): "
                  f"hollow grey crosses, one per run, at their own values")
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------
# Detail figures
# --------------------------------------------------------------------------------------------

_LINESTYLES = ("-", "--", "-.", ":")


def _mean_curve(g: _Group, x_key: str, y_fn: Callable[[RunResult], Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (x, y) curve per group: the seeds' mean when they share x, else each run's."""
    curves = []
    for r in g.runs:
        x = r.get(x_key)
        y = y_fn(r)
        if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.size and x.shape == y.shape:
            curves.append((np.asarray(x, float), np.asarray(y, float)))
    if len(curves) > 1 and all(c[0].shape == curves[0][0].shape and np.allclose(c[0], curves[0][0])
                               for c in curves):
        return [(curves[0][0], np.nanmean([c[1] for c in curves], axis=0))]
    return curves


def _normalised(measure: str, key: str, intact: str) -> Callable[[RunResult], Any]:
    def fn(r: RunResult) -> Any:
        y, a0, ch = r.get(f"{measure}.{key}"), r.get(f"{measure}.{intact}"), r.get(f"{measure}.chance")
        if not isinstance(y, np.ndarray) or not (isinstance(a0, float) and isinstance(ch, float)) \
                or not a0 > ch:
            return None
        return (y - ch) / (a0 - ch)
    return fn


def _array(key: str) -> Callable[[RunResult], Any]:
    return lambda r: r.get(key)


def _per_active(key: str) -> Callable[[RunResult], Any]:
    """A Willshaw error (wrong units / N) as wrong units per active unit: ``error N / k``."""
    def fn(r: RunResult) -> Any:
        y, k, n = r.get(key), r.get("willshaw.k_mean"), r.n_units
        if not isinstance(k, float) or not math.isfinite(k):
            k = r.avr
        if not isinstance(y, np.ndarray) or not (k > 0 and n > 0):
            return None
        return y * n / k
    return fn


@dataclass(frozen=True)
class _Detail:
    stem: str
    title: str
    measure: str
    x_key: str
    y_fn: Callable[[RunResult], Any]
    xlabel: str
    ylabel: str
    xscale: str = "linear"
    yscale: str = "linear"
    theory: Callable[[RunResult, np.ndarray], Any] | None = None
    x_scale_by_n: bool = False  # plot x / N


def _decoding_theory(r: RunResult, x: np.ndarray) -> np.ndarray | None:
    from scipy.stats import hypergeom

    N, k = int(r.n_units), int(round(r.avr))
    if not (N > 0 and 0 < k <= N):
        return None
    m = np.clip(np.rint(x * N), 0, N).astype(int)
    return hypergeom.sf(0, N, k, m)


DETAILS = (
    _Detail("detail_capacity", "Willshaw memory: recall error against patterns stored", "willshaw",
            "willshaw.loads", _per_active("willshaw.error"), AXIS_LABELS["stored"],
            "recall error per active unit (wrong units / k)", "log", "linear",
            lambda r, x: _per_active("willshaw.theory_error")(r)),
    _Detail("detail_fault", "fault tolerance: normalised accuracy against units silenced at random",
            "fault", "fault.fractions", _normalised("fault", "accuracy_random", "accuracy_intact"),
            AXIS_LABELS["silenced"], AXIS_LABELS["norm_accuracy"]),
    _Detail("detail_interference", "interference: false matches against a union of M codes",
            "unions", "unions.loads", _array("unions.false_match"), AXIS_LABELS["union_size"],
            AXIS_LABELS["false_match"], "log", "log",
            lambda r, x: r.get("unions.theory_false_match")),
    _Detail("detail_decoding", "decoding cost: normalised accuracy against units observed",
            "decoding", "decoding.m_values", _normalised("decoding", "accuracy", "accuracy_full"),
            AXIS_LABELS["observed"], AXIS_LABELS["norm_accuracy"], "log", "linear",
            _decoding_theory, x_scale_by_n=True),
)


def _panel_type(code_type: str) -> str:
    """The panel (table column) of a code type: a silent or unknown code goes with local."""
    return code_type if code_type in CODE_TYPES else "local"


def _detail_excluded(ax, d: _Detail, runs: Sequence[tuple[RunResult, str]], panel: str) -> int:
    """Each excluded run's own curve (never a mean with another run), dotted grey with hollow
    grey crosses; one legend entry for them all. The number of curves drawn."""
    n = 0
    for i, (r, _) in enumerate(runs):
        x, y = r.get(d.x_key), d.y_fn(r)
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.size
                and x.shape == y.shape):
            continue
        x = np.asarray(x, float) / (r.n_units if d.x_scale_by_n else 1.0)
        y = np.asarray(y, float)
        yy = np.where(y > 0, y, np.nan) if d.yscale == "log" else y
        line, = ax.plot(x, yy, lw=1.0, zorder=2.5, label="_nolegend_",
                        **{**_EXCLUDED_STYLE, "ls": ":", "ms": 5})
        line.set_gid(f"excluded-{d.measure}-{panel}-{i}")
        n += 1
    if n:
        ax.plot([], [], label=_excluded_legend(runs).split("\n")[0],
                **{**_EXCLUDED_STYLE, "ls": ":", "lw": 1.0})
    return n


def _detail_figure(d: _Detail, groups: Sequence[_Group],
                   excluded: Sequence[tuple[RunResult, str]] = ()) -> Figure:
    fig = Figure(figsize=(17, 5.6), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, ctype in zip(axes, CODE_TYPES, strict=True):
        members = [g for g in groups if _panel_type(g.code_type) == ctype]
        ex = [(r, w) for r, w in excluded if _panel_type(r.code_type) == ctype]
        n_style: dict[str, int] = {}
        drawn = 0
        theory_drawn = False
        for g in members:
            st = rule_style(g.rule)
            i_style = n_style.get(g.rule, 0)
            ls = _LINESTYLES[i_style % len(_LINESTYLES)]
            mfc = st.colour if (i_style // len(_LINESTYLES)) % 2 == 0 else "white"
            label = g.legend
            for x, y in _mean_curve(g, d.x_key, d.y_fn):
                if d.x_scale_by_n:
                    x = x / g.runs[0].n_units
                yy = np.where(y > 0, y, np.nan) if d.yscale == "log" else y
                ax.plot(x, yy, color=st.colour, ls=ls, lw=1.6, marker=st.marker, ms=4,
                        mfc=mfc, label=label, zorder=3)
                label = "_nolegend_"
                drawn += 1
                if d.theory is not None:
                    t = d.theory(g.runs[0], x if d.x_scale_by_n else g.runs[0].get(d.x_key))
                    if isinstance(t, np.ndarray) and t.shape == x.shape:
                        t = np.where(t > 0, t, np.nan) if d.yscale == "log" else t
                        ax.plot(x, t, color="0.55", lw=0.9, ls="--", zorder=2,
                                label="_nolegend_")
                        theory_drawn = True
            if label == "_nolegend_":
                n_style[g.rule] = n_style.get(g.rule, 0) + 1
        if d.stem == "detail_fault":
            ff = np.linspace(0, 1, 101)
            k = int(round(math.log2(REFERENCE_N)))
            ax.plot([0, 1], [1, 0], color="0.45", lw=1.1, ls=":", zorder=1,
                    label="local code: 1 - f")
            ax.plot(ff, 1 - ff ** k, color="0.45", lw=1.1, ls="--", zorder=1,
                    label=f"k-of-N, needs 1 of k = {k}: 1 - f^k")
            ax.set_xlim(0, 1)
            ax.set_ylim(-0.05, 1.1)
        elif theory_drawn:
            ax.plot([], [], color="0.55", lw=0.9, ls="--", label="random k-of-N, same N and k")
        if d.stem == "detail_capacity":
            ax.axhline(0.1, color="0.3", lw=0.8, ls=":", label="battery's tolerance (0.1 k)")
            ax.set_ylim(-0.03, 1.2)
        if d.stem == "detail_decoding" and theory_drawn:
            ax.lines[-1].set_label("random k-of-N: sees 1 of k units")
        n_ex = _detail_excluded(ax, d, ex, ctype)
        drawn += n_ex
        if not drawn:
            ax.text(0.5, 0.5, f"no {ctype} run measured {d.measure}", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
        ax.set_xscale(d.xscale)
        if d.yscale == "log" and drawn:
            ax.set_yscale("log")
            lo = ax.get_ylim()[0]
            ax.set_ylim(max(lo, 1e-6), 1.5)
        title = f"{ctype} codes ({len(members)} configuration{'s' if len(members) != 1 else ''}"
        if ex:
            title += f"; {len(ex)} excluded run{'s' if len(ex) != 1 else ''}, grey"
        ax.set_title(title + ")", fontsize=10)
        ax.set_xlabel(d.xlabel)
        if ax is axes[0]:
            ax.set_ylabel(d.ylabel)
        ax.tick_params(labelleft=True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False, loc="best")
    title = (f"{d.title} (colour and marker: rule; line style and marker fill: its "
             f"parameters; grey lines without markers: theory)")
    if excluded:
        title += ("\ndotted grey lines with hollow grey crosses: runs kept out of the verdicts "
                  f"({', '.join(sorted({_why_short(w) for _, w in excluded}))}), one curve per "
                  "run")
    fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def table_stats(runs: Sequence[RunResult]) -> dict[str, dict[str, dict[str, float]]]:
    """``{property key: {code type: {median, min, max, n}}}`` over every measured run with a
    finite value of the property (each run one value; seeds counted as runs), the runs kept
    out of the verdicts (:func:`excluded_runs`) left out."""
    runs, _ = excluded_runs(_measured(runs))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for prop in PROPERTIES:
        row: dict[str, dict[str, float]] = {}
        for ctype in CODE_TYPES:
            v = np.array([prop.value(r) for r in runs if r.code_type == ctype], float)
            v = v[np.isfinite(v)]
            if v.size:
                row[ctype] = {"median": float(np.median(v)), "min": float(v.min()),
                              "max": float(v.max()), "n": int(v.size)}
        out[prop.key] = row
    return out


@dataclass(frozen=True)
class SeedSpread:
    """How far the seeds of one configuration spread a property: the widest range
    (max - min over its seeds) of any configuration with two or more seeds."""

    spread: float          # NaN when no configuration has two seeds with the property
    n_configs: int         # configurations with two or more seeds
    widest: str            # the configuration with the widest range, in words

    @property
    def defined(self) -> bool:
        """Whether there is a spread at all: False (``spread`` is NaN) when no configuration has two
        seeds with the property."""
        return math.isfinite(self.spread)


def seed_spreads(runs: Sequence[RunResult]) -> dict[str, SeedSpread]:
    """``{property key: SeedSpread}`` over the measured runs kept in the verdicts. A
    configuration is a level of :func:`neurocode.design.families` (one experiment, one rule,
    one N, one config but for its seed); its range is ``max - min`` of the property over its
    seeds."""
    kept, _ = excluded_runs(_measured(runs))
    fams = families(kept)
    out: dict[str, SeedSpread] = {}
    for prop in PROPERTIES:
        best, n, where = float("nan"), 0, ""
        for fam in fams:
            for lv in fam.levels:
                v = np.array([prop.value(r) for r in lv.runs], float)
                v = v[np.isfinite(v)]
                if v.size < 2:
                    continue
                n += 1
                span = float(v.max() - v.min())
                if not span <= best:  # NaN at first
                    best = span
                    where = f"{_legend(lv.runs[0])} ({fam.experiment})"
        out[prop.key] = SeedSpread(best, n, where)
    return out


def colour_tiers(medians: Mapping[str, float], spread: float,
                 better: str | None) -> dict[str, int]:
    """The colour tier of each cell of a row, ``0`` the best: the medians in order (best
    first), a new tier only where a median lies more than ``spread`` from the one before.
    So two cells whose medians differ by no more than ``spread`` always share a tier (sorted,
    every step between them is at most their difference). ``{}`` (no colour) when the row is
    descriptive, the spread is unknown, or every cell shares one tier."""
    if better is None or not (isinstance(spread, (int, float)) and math.isfinite(spread)):
        return {}
    items = sorted(((c, float(m)) for c, m in medians.items() if math.isfinite(m)),
                   key=lambda cm: cm[1], reverse=(better == "higher"))
    tiers: dict[str, int] = {}
    tier, prev = 0, None
    for c, m in items:
        if prev is not None and abs(m - prev) > spread:
            tier += 1
        tiers[c] = tier
        prev = m
    return tiers if tier > 0 else {}


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def format_cell(s: Mapping[str, float] | None) -> str:
    """``median`` over ``[min – max], n = runs`` (two lines)."""
    if not s:
        return "no data"
    return f"{_fmt(s['median'])}\n[{_fmt(s['min'])} – {_fmt(s['max'])}], n = {s['n']}"


#: The excluded row's grey (background) and its text.
_EXCLUDED_ROW = "#e6e6e6"
_EXCLUDED_TEXT = "0.3"


def _excluded_cells(excluded: Sequence[tuple[RunResult, str]]) -> dict[str, str]:
    """The excluded row: per column, each configuration and why it is out, shortened."""
    cells: dict[str, list[str]] = {}
    for name, items in _excluded_configs(excluded):
        r = items[0][0]
        kind = _panel_type(r.code_type)
        note = "" if r.code_type == kind else f", {r.code_type} code"
        runs = f"{len(items)} run{'s' if len(items) != 1 else ''}"
        cells.setdefault(kind, []).append(f"{name} ({runs}{note})\n{_reason_cell(items)}")
    return {c: "\n".join(v) for c, v in cells.items()}


def _table_figure(runs: Sequence[RunResult]) -> Figure:
    measured = _measured(runs)
    kept, excluded = excluded_runs(measured)
    stats = table_stats(measured)
    spreads = seed_spreads(measured)
    ex_cells = _excluded_cells(excluded)
    ex_lines = max((t.count("\n") + 1 for t in ex_cells.values()), default=0)
    fig = Figure(figsize=(13, 8.6 + (0.35 * ex_lines if excluded else 0)), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    rows, colours, row_labels = [], [], []
    for prop in PROPERTIES:
        row = stats[prop.key]
        sp = spreads[prop.key]
        tiers = colour_tiers({c: v["median"] for c, v in row.items()}, sp.spread, prop.better)
        rows.append([format_cell(row.get(c)) for c in CODE_TYPES])
        colours.append([RANK_COLOURS[min(tiers[c], len(RANK_COLOURS) - 1)] if c in tiers
                        else "#ffffff" for c in CODE_TYPES])
        arrow = {"higher": "↑ higher is better", "lower": "↓ lower is better"}.get(
            prop.better, "descriptive (not ranked)")
        if not sp.defined:
            spread = "seed spread unknown (no configuration has 2 seeds)"
            if prop.better:
                arrow += ", not ranked"
        else:
            spread = f"seed spread s = {_fmt(sp.spread)} (widest: {sp.widest})"
            if prop.better and not tiers and len(row) > 1:
                arrow += ", not ranked: medians within s"
        row_labels.append(f"{prop.title}\n{prop.ylabel}\n{arrow}\n{spread}")
    if excluded:
        rows.append([ex_cells.get(c, "") for c in CODE_TYPES])
        colours.append([_EXCLUDED_ROW] * len(CODE_TYPES))
        row_labels.append(f"excluded from the verdicts: {len(excluded)} run"
                          f"{'s' if len(excluded) != 1 else ''}\n(in no cell above; shown "
                          f"as grey crosses\nin the other figures)")
    n_by_type = {c: sum(1 for r in kept if r.code_type == c) for c in CODE_TYPES}
    table = ax.table(cellText=rows, cellColours=colours, rowLabels=row_labels,
                     colLabels=[f"{c} codes ({n_by_type[c]} runs)" for c in CODE_TYPES],
                     cellLoc="center", rowLoc="right", loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 4.4)
    cells = table.get_celld()
    n_rows = len(rows)
    for (r, c), cell in cells.items():
        if r > 0 and c >= 0 and np.allclose(cell.get_facecolor()[:3], to_rgb(RANK_COLOURS[0])):
            cell.get_text().set_color("white")
        if r == 0:
            cell.get_text().set_fontweight("bold")
        if excluded and r == n_rows:
            cell.get_text().set_color(_EXCLUDED_TEXT)
            cell.get_text().set_fontstyle("italic")
            cell.set_facecolor(_EXCLUDED_ROW)
    if excluded and ex_lines > 3:  # the excluded row grows with the configurations it lists
        h = cells[(1, 0)].get_height()
        for (r, _c), cell in cells.items():
            if r == n_rows:
                cell.set_height(h * ex_lines / 3)
    fig.suptitle("The sum-up, measured: median [min – max] over the runs of each code type",
                 fontsize=12)
    caption = ("Cell colour: tier within its row, darkest best (ColorBrewer YlGnBu). The row's "
               "medians in order, a new tier starts only where a median differs from the next "
               "by more than s, the row's seed spread (the widest max - min of the property "
               "over the seeds of one configuration, i.e. one experiment, rule, N and config "
               "but for its seed), so no two cells closer than what seeds alone produce get "
               "different colours. White: descriptive, every median within s, or no data.")
    if excluded:
        caption += (" Grey row: runs kept out of the verdicts (neurocode.design.exclusion), in "
                    "no cell and in no count above.")
    fig.supxlabel("\n".join(textwrap.wrap(caption, 170)), fontsize=8.5, color="0.25",
                  ha="left", x=0.01)
    return fig


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def summary_figures(runs: Sequence[RunResult]) -> dict[str, Figure]:
    """``{stem: Figure}``: ``summary_properties``, the four ``detail_*`` and ``summary_table``,
    over the measured runs among ``runs``; ``{}`` when none was measured."""
    runs = _measured(runs)
    if not runs:
        return {}
    kept, excluded = excluded_runs(runs)
    groups = _groups(kept)
    figs = {"summary_properties": _sumup_figure(groups, runs, excluded)}
    for d in DETAILS:
        figs[d.stem] = _detail_figure(d, groups, excluded)
    figs["summary_table"] = _table_figure(runs)
    return figs


def draw_summary_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Write the figures of :func:`summary_figures` for the runs under ``results_dir`` (one
    folder or several) into ``out_dir`` as PNG and SVG; the written paths (``[]`` when no run
    was measured)."""
    return save_figures(summary_figures(load_results(results_dir, measured_only=True)), out_dir)
