"""Dose-response figures: each property the claims ledger judges, against the activity ratio,
within families of runs, read against the random k-of-N null of the same code width.

The unit is the ledger's (:mod:`neurocode.design`): a **family** is the runs of one
experiment, one rule and one code width ``N``; its **levels** are its configurations (lambda
of the FC net, k of a k-of-N or k-WTA code), each with its seeds, in order of their mean
activity ratio (the dose). One figure per property (stem ``dose_<name>``, see
:data:`DOSE_PROPERTIES`), one axes, x the activity ratio (log scale), y the property:

* each family is **one line** through its level means (colour and marker: the rule,
  :mod:`neurocode.figures.style`; line style: ``N``, so families of different ``N`` are told
  apart and never joined by one line);
* each level has its seeds' spread as an **error bar**: the 95 % bootstrap interval of the
  level mean (:func:`neurocode.stats.mean_interval`, expanded percentile, the interval the
  ledger uses) when the level has at least three seeds; the min-max over its seeds (dotted
  bar) when it has two; none with one;
* the **null** of each ``N`` (the runs at that ``N`` of the rule whose tags declare
  ``random_null``, :func:`neurocode.results.is_random_null`: the built-in ``kofn``, a fixed
  random projection, top-k) is a grey band through its levels' intervals, with its level
  means as a thin line in the null rule's colour (black), so a learned code is read against
  a random code of the same width and activity;
* runs the ledger keeps out of every verdict (:func:`neurocode.design.exclusion`: a silent
  code, or a supervised run that did not learn) are hollow grey crosses at their own values,
  in no line, band or per-run legend entry;
* the legend has one entry per family (never one per run or seed): its rule, ``N``,
  experiment and levels, the level values sorted by value (``k = 1, 4, 16, 64, 128``, not as
  text), families ordered by rule (:func:`~neurocode.figures.style.rule_order`), then ``N``,
  then experiment; the nulls first.

A property no run has gives no figure (never an empty one). Figures only read stored results.

    >>> from neurocode.results import load_results                    # doctest: +SKIP
    >>> figs = dose_figures(load_results("results"))                   # doctest: +SKIP
    >>> sorted(figs)                                                   # doctest: +SKIP
    ['dose_dead', 'dose_fault', 'dose_hopfield', ...]
"""

from __future__ import annotations

import json
import math
import os
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from neurocode.design import Family, families
from neurocode.figures.style import (
    AXIS_LABELS,
    EXCLUDED_GREY,
    format_number,
    param_name,
    rule_order,
    rule_style,
    save_figures,
    short_reason,
    sort_by_value,
    value_sort_key,
)
from neurocode.results import RunResult, is_random_null, load_results

__all__ = ["DoseProperty", "DOSE_PROPERTIES", "MIN_BOOTSTRAP_SEEDS",
           "dose_figures", "draw_dose_figures", "family_gid", "family_label", "level_values",
           "level_interval"]

#: Seeds a level needs for a bootstrap interval of its mean; with fewer, its min-max.
MIN_BOOTSTRAP_SEEDS = 3

#: Line styles of the code widths N: solid first, then ever sparser dashes.
_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)))
_BAND = "0.55"          # the null band's grey


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _scalar(key: str) -> Callable[[RunResult], float]:
    def get(r: RunResult) -> float:
        v = r.get(key)
        return float(v) if _finite(v) else float("nan")
    return get


def _interference(r: RunResult) -> float:
    v = r.get("superposition.top2_accuracy")
    return 1.0 - float(v) if _finite(v) else float("nan")


def _dead(r: RunResult) -> float:
    # as the ledger reads it (claims._dead): the battery's, else the run's own count
    v = r.get("activity.dead_fraction")
    if _finite(v):
        return float(v)
    v = r.final.get("dead_fraction")
    return float(v) if v is not None and _finite(v) else float("nan")


@dataclass(frozen=True)
class DoseProperty:
    """One dose-response figure: the property, how it reads from a run, what is claimed."""

    name: str                               # the stem is ``dose_<name>``
    key: str                                # the dotted key, or what it is derived from
    title: str
    ylabel: str
    value: Callable[[RunResult], float]
    claim: str                              # what the ledger asks of it, in words

    @property
    def stem(self) -> str:
        """The figure's file stem, ``dose_<name>``."""
        return f"dose_{self.name}"


#: The properties the ledger judges, in the order of the claims.
DOSE_PROPERTIES: tuple[DoseProperty, ...] = (
    DoseProperty("fault", "fault.auc_random", "Fault tolerance", AXIS_LABELS["fault_auc"],
                 _scalar("fault.auc_random"),
                 "claim 9: rises with activity (dense codes recover)"),
    DoseProperty("interference", "1 - superposition.top2_accuracy", "Functional interference",
                 "interference: 1 - top-2 accuracy of two superposed digits",
                 _interference, "claim 7: rises with activity (dense codes interfere)"),
    DoseProperty("willshaw", "willshaw.bits_per_synapse_at_capacity",
                 "Willshaw information per synapse", AXIS_LABELS["capacity_bits"],
                 _scalar("willshaw.bits_per_synapse_at_capacity"),
                 "claim 10: peaks at an interior (sparse) level"),
    DoseProperty("hopfield", "hopfield.capacity_per_unit", "Sparse Hopfield capacity per unit",
                 "sparse Hopfield capacity per unit M* / N (patterns per unit)",
                 _scalar("hopfield.capacity_per_unit"),
                 "memory capacity (claim 10 is judged on Willshaw): shown, not a verdict"),
    DoseProperty("redundancy", "decoding.m_fraction_90", "Redundancy",
                 AXIS_LABELS["m_fraction_90"], _scalar("decoding.m_fraction_90"),
                 "claim 11: shown, not a verdict (falls as codes grow denser)"),
    DoseProperty("dead", "activity.dead_fraction", "Dead units", AXIS_LABELS["dead_fraction"],
                 _dead, "claim 6: every neuron is used (dead fraction about 0)"),
    DoseProperty("support", "decoding.support_fraction", "Sparse-readout support",
                 "support of a sparse readout per class (fraction of N)",
                 _scalar("decoding.support_fraction"),
                 "claim 11: units one must observe to detect a class"),
    DoseProperty("sync_async", "sync_async.fraction_different", "Parallel against serial recall",
                 "recalls that differ, synchronous vs asynchronous (fraction)",
                 _scalar("sync_async.fraction_different"),
                 "claim 8: rises with activity (dense codes cannot be updated in parallel)"),
    DoseProperty("compute", "compute.relative_cost", "Computation per stimulus",
                 "encoder + readout time per stimulus (reference units)",
                 _scalar("compute.relative_cost"),
                 "claim 12: rises with activity (sparse codes compute less)"),
)


# --------------------------------------------------------------------------------------------
# Families, levels, intervals
# --------------------------------------------------------------------------------------------


def family_gid(fam: Family) -> str:
    """The ``gid`` of the family's line (and of its error bars and band): letters, digits,
    ``_``, ``-`` and ``.`` only, so it is a valid SVG id."""
    raw = f"family-{fam.experiment}-{fam.rule}-N{fam.n_units}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)


def level_values(fam: Family) -> str:
    """The family's levels in words, each varied entry's values sorted by value:
    ``k = 1, 4, 16, 64, 128``; ``decoder = subpixel, transposed; λ = 0, 1e-5, 1e-4``."""
    parts = []
    for key in fam.varied:
        dumped = {json.dumps(r.param(key), sort_keys=True, default=str)
                  for lv in fam.levels for r in lv.runs}
        vals = [json.loads(v) for v in dumped]
        words = [format_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else str(v) for v in sort_by_value(vals)]
        parts.append(f"{param_name(key)} = {', '.join(words)}")
    return "; ".join(parts) if parts else "one configuration"


def _seed_words(fam: Family) -> str:
    n = [len(lv.seeds) for lv in fam.levels]
    lo, hi = min(n), max(n)
    return f"{lo if lo == hi else f'{lo}-{hi}'} seed{'s' if hi != 1 else ''}"


def family_label(fam: Family, width: int | None = 44) -> str:
    """The family's one legend entry: rule, ``N`` and experiment; its levels sorted by value;
    levels x seeds. Lines of at most ``width`` characters (``None``: one line)."""
    head = (f"random k-of-N null, N = {fam.n_units:,}" if is_random_null(fam.rule)
            else f"{fam.rule}, N = {fam.n_units:,}")
    size = (f"{len(fam.levels)} level{'s' if len(fam.levels) != 1 else ''} x "
            f"{_seed_words(fam)}")
    if width is None:
        return f"{head} ({fam.experiment}): {level_values(fam)} [{size}]"
    lines = [f"{head} ({fam.experiment})"]
    lines += textwrap.wrap(level_values(fam), width, initial_indent="  ",
                           subsequent_indent="    ", break_on_hyphens=False)
    lines.append(f"  {size}")
    return "\n".join(lines)


def level_interval(values: Sequence[float]) -> tuple[float, float, float, str]:
    """``(mean, low, high, kind)`` of a level's seed values: ``kind`` is ``"bootstrap"``
    (95 % bootstrap interval of the mean, :func:`neurocode.stats.mean_interval`, with
    :data:`MIN_BOOTSTRAP_SEEDS` or more values), ``"minmax"`` (two values) or ``"none"``
    (one value: low = high = the value); NaNs when there is no finite value."""
    from neurocode import stats

    v = np.asarray([x for x in values if _finite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan"), "none"
    m = float(v.mean())
    if v.size >= MIN_BOOTSTRAP_SEEDS:
        iv = stats.mean_interval(v.tolist(), random_state=0)
        if iv.defined:
            return m, float(iv.low), float(iv.high), "bootstrap"
    if v.size >= 2:
        return m, float(v.min()), float(v.max()), "minmax"
    return m, m, m, "none"


@dataclass
class _Drawn:
    """One family as drawn: its level points and intervals."""

    fam: Family
    x: np.ndarray
    y: np.ndarray
    low: np.ndarray
    high: np.ndarray
    kinds: list[str]


def _levels(fam: Family, prop: DoseProperty) -> _Drawn:
    xs, ys, lo, hi, kinds = [], [], [], [], []
    for lv in fam.levels:
        x = lv.activity
        if not (_finite(x) and x > 0):  # a silent level has no place on a log axis
            continue
        m, low, high, kind = level_interval([prop.value(r) for r in lv.runs])
        if not _finite(m):
            continue
        xs.append(x)
        ys.append(m)
        lo.append(low)
        hi.append(high)
        kinds.append(kind)
    return _Drawn(fam, np.array(xs, float), np.array(ys, float), np.array(lo, float),
                  np.array(hi, float), kinds)


def _family_order(fam: Family) -> tuple:
    return (not is_random_null(fam.rule), rule_order(fam.rule), fam.n_units,
            value_sort_key(fam.experiment))


# --------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------


def _linestyles(drawn: Sequence[_Drawn]) -> dict[int, Any]:
    """A line style per code width N: the widths with most families drawn as lines (two
    levels or more) get the first styles, ties by N; a width none of whose families is a line
    comes last (its points have no line to style)."""
    lines: dict[int, int] = {}
    for d in drawn:
        lines[d.fam.n_units] = lines.get(d.fam.n_units, 0) + (d.x.size > 1)
    order = sorted(lines, key=lambda n: (-lines[n], n))
    return {n: _LINESTYLES[i % len(_LINESTYLES)] for i, n in enumerate(order)}


def _caption(prop: DoseProperty, kinds: set[str], nulls: Sequence[str],
             n_excluded: int) -> str:
    bars = []
    if "bootstrap" in kinds:
        bars.append(f"Solid bars: 95 % bootstrap interval of the level mean over its seeds "
                    f"(expanded percentile; levels of >= {MIN_BOOTSTRAP_SEEDS} seeds)")
    if "minmax" in kinds:
        bars.append("Dotted bars: min-max over the seeds (levels of 2 seeds)")
    if "none" in kinds:
        bars.append("No bar: one seed")
    text = ("One line per family (one experiment, one rule, one N), through its level means "
            "in order of activity; colour and marker: the rule; line style: N (families of "
            "different N are never joined). " + ". ".join(bars) + ".")
    if nulls:
        text += (f" Grey band: the random k-of-N null (rule{'s' if len(nulls) > 1 else ''} "
                 f"{', '.join(nulls)}) of the same N, through its levels' intervals.")
    else:
        text += " No random k-of-N null in these results."
    if n_excluded:
        text += (" Hollow grey crosses: runs kept out of every verdict (silent code, or did "
                 "not learn), at their own values.")
    return "\n".join(textwrap.wrap(text, 140))


def _dose_figure(prop: DoseProperty, fams: Sequence[Family]) -> Figure | None:
    drawn = [d for d in (_levels(f, prop) for f in sorted(fams, key=_family_order)) if d.x.size]
    if not drawn:
        return None
    excluded = [(r, why) for f in fams for r, why in f.excluded
                if _finite(prop.value(r)) and _finite(r.activity_ratio) and r.activity_ratio > 0]
    ls_of = _linestyles(drawn)
    fig = Figure(figsize=(12, 6.4), layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    handles: list[Any] = []
    labels: list[str] = []
    kinds: set[str] = set()
    seen_style: dict[tuple[str, int], int] = {}
    nulls: list[str] = []  # the null rules drawn, in the order drawn
    for d in drawn:
        fam = d.fam
        gid = family_gid(fam)
        ls = ls_of[fam.n_units]
        kinds.update(d.kinds)
        if is_random_null(fam.rule):
            if fam.rule not in nulls:
                nulls.append(fam.rule)
            band = ax.fill_between(d.x, d.low, d.high, facecolor=_BAND, alpha=0.3,
                                   edgecolor=_BAND, linestyle=ls, linewidth=0.8, zorder=1)
            band.set_gid(gid + "-band")
            line, = ax.plot(d.x, d.y, color=rule_style(fam.rule).colour, lw=1.0, ls=ls,
                            marker=rule_style(fam.rule).marker, ms=5, zorder=2,
                            label="_nolegend_")
            line.set_gid(gid)
            handles.append((Patch(facecolor=_BAND, alpha=0.3, edgecolor=_BAND, linestyle=ls),
                            Line2D([], [], color=line.get_color(), lw=1.0, ls=ls,
                                   marker=line.get_marker(), ms=5)))
            labels.append(family_label(fam))
            err_colour = "0.25"
        else:
            st = rule_style(fam.rule)
            # a second family of one rule and one N (another experiment): hollow markers
            i = seen_style.get((fam.rule, fam.n_units), 0)
            seen_style[(fam.rule, fam.n_units)] = i + 1
            mfc, mec, mew = ((st.colour, "white", 0.6) if i % 2 == 0
                             else ("white", st.colour, 1.4))
            line, = ax.plot(d.x, d.y, color=st.colour, lw=1.6, ls=ls, marker=st.marker, ms=7,
                            mfc=mfc, mec=mec, mew=mew, zorder=4, label="_nolegend_")
            line.set_gid(gid)
            handles.append(Line2D([], [], color=st.colour, lw=1.6, ls=ls, marker=st.marker,
                                  ms=7, mfc=mfc, mec=mec, mew=mew))
            labels.append(family_label(fam))
            err_colour = st.colour
        styles: tuple[tuple[str, Literal["-", ":"]], ...] = (("bootstrap", "-"), ("minmax", ":"))
        for kind, style in styles:
            sel = np.array([k == kind for k in d.kinds])
            if not sel.any():
                continue
            yerr = np.vstack([d.y[sel] - d.low[sel], d.high[sel] - d.y[sel]])
            cont = ax.errorbar(d.x[sel], d.y[sel], yerr=np.clip(yerr, 0, None), fmt="none",
                               ecolor=err_colour, elinewidth=1.1, capsize=3, zorder=3)
            for art in cont.lines[2]:
                art.set_linestyle(style)
                art.set_gid(f"{gid}-{kind}")
            for end, cap in zip(("low", "high"), cont.lines[1], strict=True):  # SVG ids are unique
                cap.set_gid(f"{gid}-{kind}-{end}-cap")
    if excluded:
        ex = ax.plot([r.activity_ratio for r, _ in excluded], [prop.value(r) for r, _ in excluded],
                     ls="none", marker="X", ms=9, mfc="none", mec=EXCLUDED_GREY, mew=1.3,
                     zorder=5, label="_nolegend_")[0]
        ex.set_gid("excluded")
        whys = sorted({short_reason(why) for _, why in excluded})
        handles.append(Line2D([], [], ls="none", marker="X", ms=9, mfc="none", mec=EXCLUDED_GREY,
                              mew=1.3))
        labels.append(f"excluded from the verdicts ({len(excluded)} run"
                      f"{'s' if len(excluded) != 1 else ''}: {', '.join(whys)})")
    xs = np.concatenate([d.x for d in drawn] + [np.array([r.activity_ratio
                                                          for r, _ in excluded], float)])
    lo, hi = float(xs.min()), float(xs.max())
    if hi / lo < 10:  # at least a decade, so the log axis keeps readable ticks
        mid = math.sqrt(lo * hi)
        lo, hi = mid / math.sqrt(10), mid * math.sqrt(10)
    ax.set_xlim(lo / 1.6, hi * 1.6)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xlabel(AXIS_LABELS["activity_ratio"])
    ax.set_ylabel(prop.ylabel)
    ax.set_title(f"{prop.title} ({prop.key}) against the activity ratio, within families\n"
                 f"{prop.claim}", fontsize=11)
    fig.legend(handles, labels, loc="outside right upper", frameon=False, fontsize=8,
               title="family (levels sorted by value)", title_fontsize=8.5,
               handler_map={tuple: HandlerTuple(ndivide=None, pad=0.0)},
               handlelength=3.0)
    fig.supxlabel(_caption(prop, kinds, nulls, len(excluded)), fontsize=7.5, color="0.25",
                  ha="left", x=0.01)
    return fig


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def dose_figures(runs: Sequence[RunResult],
                 properties: Sequence[DoseProperty] = DOSE_PROPERTIES) -> dict[str, Figure]:
    """``{stem: Figure}``, one per property some run has (``dose_fault``, ...); a property no
    run has gives no figure. Families as :func:`neurocode.design.families` makes them from
    the runs with a finite value of the property (as the ledger does)."""
    figs: dict[str, Figure] = {}
    for prop in properties:
        have = [r for r in runs if _finite(prop.value(r))]
        if not have:
            continue
        fig = _dose_figure(prop, families(have))
        if fig is not None:
            figs[prop.stem] = fig
    return figs


def draw_dose_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                      formats: str | Iterable[str] | None = None) -> list[Path]:
    """Write the figures of :func:`dose_figures` for the complete runs under ``results_dir``
    into ``out_dir`` as PNG (and SVG when ``formats`` says so, as
    :func:`~neurocode.figures.style.save_figures`); the written paths (``[]`` when no run has
    any property)."""
    return save_figures(dose_figures(load_results(results_dir)), out_dir, formats)
