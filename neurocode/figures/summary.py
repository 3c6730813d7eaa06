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
  per configuration, theory in grey (:mod:`neurocode.figures.details`).

* ``summary_table``: rows the properties, columns local / sparse / dense, each cell the
  median, ``[min - max]`` and the number of runs, coloured by tiers within the row that never
  split two medians closer than the seed spread (:mod:`neurocode.figures.summary_table`).

What is compared, how runs group into configurations and which are kept apart:
:mod:`neurocode.figures.comparison`. Colours and markers per rule: :mod:`neurocode.figures.style`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurocode.figures.comparison import (
    _EXCLUDED_STYLE,
    PROPERTIES,
    Property,
    _excluded_handle,
    _excluded_legend,
    _Group,
    _groups,
    _measured,
    excluded_runs,
    false_match_at,
)
from neurocode.figures.details import DETAILS, _detail_figure
from neurocode.figures.style import AXIS_LABELS, rule_style, save_figures, short_reason
from neurocode.figures.summary_table import (
    SeedSpread,
    _table_figure,
    colour_tiers,
    seed_spreads,
    table_stats,
)
from neurocode.metrics.activity import DENSE_MIN_RATIO, LOCAL_MAX_AVR
from neurocode.results import RunResult, load_results
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


def _theory_curves(prop: Property,
                   n_values: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray, dict]]:
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
    says: dict[str | None, str] = {"higher": " (higher is better)",
                                   "lower": " (lower is better)"}
    better = says.get(prop.better, "")
    ax.set_title(prop.title + better, fontsize=10)
    ax.set_xlabel(AXIS_LABELS["activity_ratio"], fontsize=8)
    ax.set_ylabel(prop.ylabel, fontsize=8)
    handles = [h for h, lbl in zip(*ax.get_legend_handles_labels(), strict=True)
               if lbl.startswith(("random", "chance", "k·C"))]
    if handles:
        ax.legend(handles=handles, fontsize=6.5, frameon=False,
                  loc=_LEGEND_LOC.get(prop.key, "best"))
    if prop.key == "unions" and drawn:
        ax.set_ylim(max(ax.get_ylim()[0], 1e-9), 2)


def _legend_handles(groups: Sequence[_Group]) -> list[Line2D]:
    return [Line2D([], [], ls="none", marker=rule_style(g.rule).marker,
                   color=rule_style(g.rule).colour,
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
                  f"the verdicts ({', '.join(sorted({short_reason(w) for _, w in excluded}))}): "
                  f"hollow grey crosses, one per run, at their own values")
    fig.suptitle(title)
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


def draw_summary_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                         formats: str | Iterable[str] | None = None) -> list[Path]:
    """Write the figures of :func:`summary_figures` for the runs under ``results_dir`` (one
    folder or several) into ``out_dir`` as PNG (and SVG when ``formats`` says so, as
    :func:`~neurocode.figures.style.save_figures`); the written paths (``[]`` when no run was
    measured)."""
    return save_figures(summary_figures(load_results(results_dir, measured_only=True)), out_dir,
                        formats)
