r"""The comparison across coding rules: every measured run on one activity axis, beside the
closed forms for random k-of-N codes.

Drawn from stored results only (:func:`neurocode.results.load_results`), over every complete
run that ``neurocode measure`` gave a battery; other runs are skipped, and a property no run
measured draws an empty panel that says so.

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
    :func:`neurocode.metrics.capacity.willshaw_theory` (Willshaw, Buneman & Longuet-Higgins
    1969; Palm 1980) for an autoassociative net with the battery's tolerance ``0.1 k / N``
    (``p1* = (0.1 k / (N - k))^(1/k)``, ``M* = 1 + ln(1 - p1*) / ln(1 - k(k-1)/(N(N-1)))``,
    bits ``= M* I(k/N, p1*^k) / N``);
  - fault tolerance, the area under the survival curve of an item over the silenced fraction
    ``f``, with the binomial tail of :func:`neurocode.metrics.fault.kofn_survival_theory`
    (Willshaw et al. 1969; Foldiak 2002)::

        AUC(k, theta) = int_0^1 P[Binomial(k, 1 - f) >= theta] df = (k - theta + 1) / (k + 1)

    (each ``P[Bin(k, p) = j]`` integrates to ``1 / (k + 1)`` over ``p``), drawn for an item
    that needs one surviving unit (``theta = 1``: ``k / (k + 1)``; a local code gets 1/2, its
    diagonal; the dotted line). A readout that needs a majority, ``theta = ceil(k / 2)``,
    stays near 1/2 for every k, so denser codes gain only with a lenient readout;
  - interference, false match of a random probe with a union of ``M = 10`` codes (Ahmad &
    Hawkins 2016, arXiv:1601.00720; :func:`neurocode.metrics.interference.ahmad_hawkins_false_match`)::

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
  :attr:`RunResult.code_type`, every run one value, seeds included); each cell the median,
  ``[min - max]`` and the number of runs; cells coloured by rank within the row (darkest
  best), with each row's better direction in its name. :func:`table_stats` returns the numbers.

Colours and markers per rule: :mod:`neurocode.figures.style`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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

__all__ = ["summary_figures", "draw_summary_figures", "table_stats", "PROPERTIES",
           "REFERENCE_N", "UNION_M", "FAN_OUT", "theory_capacity_bits", "theory_fault_auc",
           "theory_union_false_match", "theory_m_fraction_90", "false_match_at"]

#: Units of the random k-of-N codes whose closed forms are drawn (the article's FC layer).
REFERENCE_N = 784
#: Codes in the union at which the interference panel reads the false-match curves.
UNION_M = 10
#: Readout fan-out of the battery's active-synapse count (one weight per MNIST class).
FAN_OUT = 10


# --------------------------------------------------------------------------------------------
# Closed forms for random k-of-N codes
# --------------------------------------------------------------------------------------------


def theory_capacity_bits(k: Sequence[float], N: int = REFERENCE_N) -> np.ndarray:
    """Willshaw bits per synapse at capacity (autoassociative, half cues of ``max(1,
    round(k/2))`` units, tolerance ``0.1 k / N``, as the battery measures) for each ``k``; NaN
    where undefined (``k < 2``: no synapse is set)."""
    from neurocode.metrics.capacity import willshaw_theory

    out = []
    for kk in np.atleast_1d(np.asarray(k, dtype=float)):
        if kk < 2 or kk >= N:
            out.append(np.nan)
            continue
        out.append(willshaw_theory(N, kk, 1, tolerance=min(0.1 * kk / N, 1.0),
                                   autoassociative=True,
                                   cue_units=max(1.0, float(np.rint(0.5 * kk))))
                   ["bits_per_synapse_at_capacity"])
    return np.asarray(out, dtype=float)


def theory_fault_auc(k: Sequence[int], theta: Sequence[int] | int = 1,
                     n_grid: int = 2001) -> np.ndarray:
    """Area under the binomial survival curve over the silenced fraction 0..1 (trapezoid on
    ``n_grid`` points of :func:`~neurocode.metrics.fault.kofn_survival_theory`)."""
    from neurocode.metrics.fault import kofn_survival_theory

    f = np.linspace(0.0, 1.0, n_grid)
    ks = np.atleast_1d(np.asarray(k, dtype=int))
    thetas = np.broadcast_to(np.atleast_1d(np.asarray(theta, dtype=int)), ks.shape)
    out = []
    for kk, th in zip(ks, thetas):
        p = kofn_survival_theory(int(kk), int(th), f)
        out.append(float(np.sum((p[1:] + p[:-1]) * np.diff(f)) / 2))
    return np.asarray(out)


def theory_union_false_match(k: Sequence[float], M: int = UNION_M,
                             N: int = REFERENCE_N) -> np.ndarray:
    """Ahmad & Hawkins' full-match false positive of a random k-of-N probe against the union
    of ``M`` random codes (expected union size ``s = N (1 - (1 - k/N)^M)``)."""
    from neurocode.metrics.interference import ahmad_hawkins_false_match

    ks = np.atleast_1d(np.asarray(k, dtype=float))
    out = []
    for kk in ks:
        w = int(round(kk))
        s = N * (1.0 - (1.0 - kk / N) ** M)
        out.append(float(ahmad_hawkins_false_match(N, w, min(s, N))))
    return np.asarray(out)


def theory_m_fraction_90(k: Sequence[float], N: int = REFERENCE_N,
                         level: float = 0.9) -> np.ndarray:
    """Smallest ``m / N`` with ``P(at least one of k active units among m observed) >= level``
    (hypergeometric: ``1 - C(N-k, m) / C(N, m)``)."""
    from scipy.stats import hypergeom

    m = np.arange(1, N + 1)
    out = []
    for kk in np.atleast_1d(np.asarray(k, dtype=float)):
        p = hypergeom.sf(0, N, int(round(kk)), m)
        hit = np.nonzero(p >= level - 1e-12)[0]
        out.append(m[hit[0]] / N if hit.size else np.nan)
    return np.asarray(out)


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
                 xlim: tuple[float, float]) -> None:
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
            ax.plot(*zip(*pts), color=rule_style(rule).colour, lw=0.7, alpha=0.6, zorder=2)
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
    handles = [h for h, lbl in zip(*ax.get_legend_handles_labels()) if lbl.startswith(("random", "chance", "k·C"))]
    if handles:
        ax.legend(handles=handles, fontsize=6.5, frameon=False, loc=_LEGEND_LOC.get(prop.key, "best"))
    if prop.key == "unions" and drawn:
        ax.set_ylim(max(ax.get_ylim()[0], 1e-9), 2)


def _legend_handles(groups: Sequence[_Group]) -> list[Line2D]:
    return [Line2D([], [], ls="none", marker=rule_style(g.rule).marker, color=rule_style(g.rule).colour,
                   ms=7, label=g.legend) for g in groups]


def _sumup_figure(groups: Sequence[_Group], runs: Sequence[RunResult]) -> Figure:
    n_values = sorted({int(r.n_units) for r in runs if math.isfinite(r.n_units)})
    xs = np.array([r.activity_ratio for r in runs], float)
    xs = xs[np.isfinite(xs) & (xs > 0)]  # silent codes (a = 0) have no place on a log axis
    lo = min(xs.min() if xs.size else 1.0, LOCAL_MAX_AVR / max(n_values + [REFERENCE_N])) / 2
    hi = max(0.75, 1.3 * xs.max()) if xs.size else 0.75  # signed codes reach a = 1
    fig = Figure(figsize=(19, 9.5), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    for ax, prop in zip(axes, PROPERTIES):
        _sumup_panel(ax, prop, groups, n_values, (lo, hi))
    fig.legend(handles=_legend_handles(groups), loc="outside right upper", frameon=False,
               title="rule and parameter", fontsize=8)
    fig.suptitle(f"Code properties against the activity ratio: {len(runs)} measured runs of "
                 f"{len({g.rule for g in groups})} rules (markers; mean ± sd over seeds) and "
                 f"random k-of-N codes, N = {REFERENCE_N} (grey)")
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


def _detail_figure(d: _Detail, groups: Sequence[_Group]) -> Figure:
    fig = Figure(figsize=(17, 5.6), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, ctype in zip(axes, CODE_TYPES):
        members = [g for g in groups if (g.code_type if g.code_type in CODE_TYPES else "local") == ctype]
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
        if not drawn:
            ax.text(0.5, 0.5, f"no {ctype} run measured {d.measure}", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
        ax.set_xscale(d.xscale)
        if d.yscale == "log" and drawn:
            ax.set_yscale("log")
            lo = ax.get_ylim()[0]
            ax.set_ylim(max(lo, 1e-6), 1.5)
        ax.set_title(f"{ctype} codes ({len(members)} configuration{'s' if len(members) != 1 else ''})",
                     fontsize=10)
        ax.set_xlabel(d.xlabel)
        if ax is axes[0]:
            ax.set_ylabel(d.ylabel)
        ax.tick_params(labelleft=True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(f"{d.title} (colour and marker: rule; line style and "
                 f"marker fill: its parameters; "
                 f"grey: theory)")
    return fig


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def table_stats(runs: Sequence[RunResult]) -> dict[str, dict[str, dict[str, float]]]:
    """``{property key: {code type: {median, min, max, n}}}`` over every measured run with a
    finite value of the property (each run one value; seeds counted as runs)."""
    runs = _measured(runs)
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


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def format_cell(s: Mapping[str, float] | None) -> str:
    """``median`` over ``[min – max], n = runs`` (two lines)."""
    if not s:
        return "no data"
    return f"{_fmt(s['median'])}\n[{_fmt(s['min'])} – {_fmt(s['max'])}], n = {s['n']}"


def _ranks(row: dict[str, dict[str, float]], better: str | None) -> dict[str, int]:
    if better is None:
        return {}
    items = sorted(row.items(), key=lambda kv: kv[1]["median"], reverse=(better == "higher"))
    return {ctype: i for i, (ctype, _) in enumerate(items)}


def _table_figure(runs: Sequence[RunResult]) -> Figure:
    stats = table_stats(runs)
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    rows, colours, row_labels = [], [], []
    for prop in PROPERTIES:
        row = stats[prop.key]
        ranks = _ranks(row, prop.better)
        rows.append([format_cell(row.get(c)) for c in CODE_TYPES])
        colours.append([RANK_COLOURS[min(ranks[c], len(RANK_COLOURS) - 1)] if c in ranks else "#ffffff"
                        for c in CODE_TYPES])
        arrow = {"higher": "↑ higher is better", "lower": "↓ lower is better"}.get(
            prop.better, "descriptive (not ranked)")
        row_labels.append(f"{prop.title}\n{prop.ylabel}\n{arrow}")
    n_by_type = {c: sum(1 for r in _measured(runs) if r.code_type == c) for c in CODE_TYPES}
    table = ax.table(cellText=rows, cellColours=colours, rowLabels=row_labels,
                     colLabels=[f"{c} codes ({n_by_type[c]} runs)" for c in CODE_TYPES],
                     cellLoc="center", rowLoc="right", loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 3.6)
    for (r, c), cell in table.get_celld().items():
        if r > 0 and c >= 0 and np.allclose(cell.get_facecolor()[:3], to_rgb(RANK_COLOURS[0])):
            cell.get_text().set_color("white")
        if r == 0:
            cell.get_text().set_fontweight("bold")
    ax.set_title("The sum-up, measured: median [min – max] over the runs of each code type\n"
                 "cell colour: rank within its row, darkest best (ColorBrewer YlGnBu); "
                 "white: not ranked or no data",
                 fontsize=11)
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
    groups = _groups(runs)
    figs = {"summary_properties": _sumup_figure(groups, runs)}
    for d in DETAILS:
        figs[d.stem] = _detail_figure(d, groups)
    figs["summary_table"] = _table_figure(runs)
    return figs


def draw_summary_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Write the figures of :func:`summary_figures` for the runs under ``results_dir`` (one
    folder or several) into ``out_dir`` as PNG and SVG; the written paths (``[]`` when no run
    was measured)."""
    return save_figures(summary_figures(load_results(results_dir, measured_only=True)), out_dir)
