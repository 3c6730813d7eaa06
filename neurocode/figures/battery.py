"""Figures of the code-property battery: the measurements beside the theory.

* ``<experiment>_battery.png/.svg``, for every experiment with measured runs (``neurocode
  measure``), one colour per configuration (the runs that differ only in their seed share it
  and one legend entry; configurations in order of their values, ``k=4`` before ``k=16``,
  never as text):

  (a) fault tolerance: readout accuracy, normalised to its range ``(a - chance) / (a_0 -
      chance)``, against the fraction of units silenced (random: solid, mean over draws;
      most-active-first: dashed); the grey diagonal is a local code (``1 - f``);
  (b) associative memory: Willshaw recall error against the number of stored codes
      (measured: solid; closed form for random k-of-N codes with the same N and mean k:
      dashed);
  (c) unions: false-match probability of a code against the union of M stored codes
      (measured: solid; Ahmad and Hawkins 2016 with the same N and mean k: dashed);
  (d) decoding cost: readout accuracy observing m random units, against m (the ``m90``
      marker: 90 % of the full accuracy);
  (e) two items at once: top-2 accuracy of the superposed pair, and the fractions of the
      union of the two single codes lost and of spurious units, per run;
  (f) the sum-up: fault AUC, top-2 accuracy, decoding cost ``m90 / N`` and between-class
      Jaccard overlap against the activity ratio (a marker per run; the grey line through the
      configurations' means).

  Runs kept out of the verdicts (:func:`neurocode.design.exclusion`: a silent code, or a
  supervised run that did not learn) are drawn apart, as in :mod:`neurocode.figures.dose`:
  grey dotted curves with hollow grey crosses in (a)-(d) (no theory curve of their own),
  hollow hatched grey bars in (e), hollow grey markers in (f) outside the line through the
  configurations' means; no configuration colour, one legend entry ``excluded from the
  verdicts (n runs: did not learn)`` naming their configurations.

* ``theory_codes.png/.svg`` (:func:`theory_figure`), random k-of-N codes only, measured by
  Monte Carlo with the closed forms drawn over the markers: Willshaw capacity ``M*`` and bits
  per synapse against ``k`` at fixed ``N`` (the capacity peaks at sparse activity, ``k`` of
  order ``log N``); false matches against the size of a union; survival of an item under
  random unit deaths (binomial tail) for a local, a sparse and a dense code. The numbers are
  :func:`neurocode.metrics.theory_codes.theory_curves`' (computed outside the figures, stored
  by :func:`~neurocode.metrics.theory_codes.save_theory_curves`); the figure draws the stored
  file when there is one and computes them only when there is none.

Runs are read through :func:`neurocode.results.load_results`, the one reader of stored runs;
colours, labels and saving are :mod:`neurocode.figures.style`'s. Built on
:class:`matplotlib.figure.Figure` (no pyplot, no global state).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurocode.design import exclusion
from neurocode.figures.style import (
    EXCLUDED_GREY,
    OKABE_ITO,
    save_figures,
    sequence_colours,
    short_reason,
    value_sort_key,
)
from neurocode.results import RunResult, distinct_labels, load_results

__all__ = ["battery_figures", "draw_battery_figures", "theory_figure", "draw_theory_figure"]

_SEED = re.compile(r"(^|,)\s*seed=[^,]*")


def _measured(results_dir: str | os.PathLike) -> dict[str, list[tuple[str, dict, str, str]]]:
    """``{experiment: [(run label, battery, configuration, exclusion), ...]}`` for complete
    runs with a battery, in order of their configuration's values (decoder, then the model's
    parameters by value: ``k=4`` before ``k=16``, never as text), then seed.
    ``configuration`` names what the runs that differ only in their seed share (the label
    without its seed); ``exclusion`` why the run is kept out of the verdicts (``""`` when it
    is not: :func:`neurocode.design.exclusion`)."""
    out: dict[str, list[tuple[str, dict, RunResult]]] = {}
    # in the order of the run files' paths (as the store lists them) before sorting, so runs
    # whose sort keys tie keep the order they always had
    for rec in sorted(load_results(results_dir, measured_only=True), key=lambda r: r.path):
        label = rec.run_name or rec.path.stem
        out.setdefault(rec.experiment, []).append((label, rec.battery, rec))
    result: dict[str, list[tuple[str, dict, str, str]]] = {}
    for exp, runs in out.items():
        runs.sort(key=_order)
        labels = distinct_labels([r for _, _, r in runs])
        keys = [_config_key(rec) for _, _, rec in runs]
        names: dict[str, set[str]] = {}
        for label, key, (_, _, rec) in zip(labels, keys, runs, strict=True):
            rule = ((rec.config or {}).get("model") or {}).get("rule") or "run"
            names.setdefault(key, set()).add(_SEED.sub("", label).strip(", ") or str(rule))
        conf = {key: (next(iter(v)) if len(v) == 1 else min(v, key=value_sort_key))
                for key, v in names.items()}
        result[exp] = [(label, b, conf[key], exclusion(rec))
                       for label, (_, b, rec), key in zip(labels, runs, keys, strict=True)]
    return result


def _config_key(rec: RunResult) -> str:
    cfg = {k: v for k, v in (rec.config or {}).items() if k not in ("seed", "name", "description")}
    return json.dumps(cfg, sort_keys=True, default=str)


def _value(v: Any) -> tuple:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, float(v), "")
    return (1, 0.0, json.dumps(v, sort_keys=True, default=str))


def _order(item) -> tuple:
    label, _, rec = item
    cfg = rec.config or {}
    model = cfg.get("model") or {}
    params = tuple((k, _value(model[k])) for k in sorted(model) if k not in ("rule", "decoder"))
    return (str(model.get("decoder", "")), params, _value(cfg.get("seed", 0)),
            value_sort_key(label))


def _config_colours(confs: list[str], excluded: list[bool] | None = None) -> list[str]:
    """One colour per configuration (its seeds share it), in order of first appearance; the
    runs kept out of the verdicts are grey (:data:`EXCLUDED_GREY`) and take no colour."""
    excluded = excluded or [False] * len(confs)
    order = list(dict.fromkeys(c for c, ex in zip(confs, excluded, strict=True) if not ex))
    palette = dict(zip(order, sequence_colours(len(order)), strict=True))
    return [EXCLUDED_GREY if ex else palette[c] for c, ex in zip(confs, excluded, strict=True)]


#: The runs kept out of the verdicts (as :mod:`neurocode.figures.dose`): grey
#: (:data:`~neurocode.figures.style.EXCLUDED_GREY`), dotted, hollow crosses; never a
#: configuration's colour, line or legend entry.
_EXCLUDED_LINE: dict[str, Any] = {"color": EXCLUDED_GREY, "lw": 1.0, "ls": ":", "marker": "X", "ms": 5,
                  "mfc": "none", "mec": EXCLUDED_GREY, "mew": 1.0}


def _flags(runs, excluded) -> list[bool]:
    return list(excluded) if excluded is not None else [False] * len(runs)


def _plot(ax, x, y, colour, ex: bool, gid: str, **kw):
    """A run's curve: its configuration's colour, or the excluded runs' grey look."""
    if ex:
        line, = ax.plot(x, y, zorder=2.5, **{**_EXCLUDED_LINE, "lw": kw.get("lw", 1.8) * 0.6})
        line.set_gid(gid)
        return line
    return ax.plot(x, y, color=colour, **kw)[0]


def _positive(v: Any) -> np.ndarray:
    v = np.asarray(v, dtype=float).copy()
    v[~(v > 0)] = np.nan
    return v


def _get(b: Mapping[str, Mapping[str, Any]], measure: str, key: str) -> Any:
    return b.get(measure, {}).get(key)


def _fault_panel(ax, runs, colours, excluded=None) -> None:
    ax.plot([0, 1], [1, 0], color="0.6", lw=1.2, ls=":", label="local code (theory)")
    for i, ((_label, b), c, ex) in enumerate(zip(runs, colours, _flags(runs, excluded),
                                                 strict=True)):
        f = b.get("fault")
        if not f:
            continue
        a0, ch = f["accuracy_intact"], f["chance"]
        if not a0 > ch:
            continue
        # called inside the loop
        norm = lambda a: (np.asarray(a) - ch) / (a0 - ch)  # noqa: E731, B023
        if "accuracy_random" in f:
            _plot(ax, f["fractions"], norm(f["accuracy_random"]), c, ex,
                  f"excluded-fault-random-{i}", lw=1.8)
        if "accuracy_most_active" in f:
            _plot(ax, f["fractions"], norm(f["accuracy_most_active"]), c, ex,
                  f"excluded-fault-most-active-{i}", lw=1.2, ls="--")
    ax.set(xlabel="fraction of units silenced", ylabel="(accuracy - chance) / (intact - chance)",
           title="(a) fault tolerance", xlim=(0, 1), ylim=(-0.05, 1.05))
    ax.plot([], [], color="0.3", lw=1.8, label="random")
    ax.plot([], [], color="0.3", lw=1.2, ls="--", label="most active first")
    ax.legend(fontsize="small", frameon=False, loc="lower left")


def _willshaw_panel(ax, runs, colours, excluded=None) -> None:
    for i, ((_label, b), c, ex) in enumerate(zip(runs, colours, _flags(runs, excluded),
                                                 strict=True)):
        w = b.get("willshaw")
        if not w:
            continue
        _plot(ax, w["loads"], w["error"], c, ex, f"excluded-willshaw-{i}", lw=1.8)
        if "theory_error" in w and not ex:
            ax.plot(w["loads"], w["theory_error"], color=c, lw=1.0, ls="--")
    tol = next((b["willshaw"]["tolerance"] for _, b in runs if "willshaw" in b), None)
    if tol is not None:
        ax.axhline(tol, color="0.6", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set(xlabel="codes stored M", ylabel="recall error (wrong units / N)",
           title="(b) Willshaw memory (dashed: random k-of-N theory)")


def _unions_panel(ax, runs, colours, excluded=None) -> None:
    for i, ((_label, b), c, ex) in enumerate(zip(runs, colours, _flags(runs, excluded),
                                                 strict=True)):
        u = b.get("unions")
        if not u:
            continue
        _plot(ax, u["loads"], _positive(u["false_match"]), c, ex, f"excluded-unions-{i}", lw=1.8)
        if not ex:
            ax.plot(u["loads"], _positive(u["theory_false_match"]), color=c, lw=1.0, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="codes in the union M", ylabel="false-match probability",
           title="(c) unions (dashed: Ahmad & Hawkins 2016)")
    lo = ax.get_ylim()[0]
    ax.set_ylim(max(lo, 1e-8), 2)


def _decoding_panel(ax, runs, colours, excluded=None) -> None:
    for i, ((_label, b), c, ex) in enumerate(zip(runs, colours, _flags(runs, excluded),
                                                 strict=True)):
        d = b.get("decoding")
        if not d:
            continue
        if ex:
            _plot(ax, d["m_values"], d["accuracy"], c, ex, f"excluded-decoding-{i}", lw=1.8)
            continue
        ax.plot(d["m_values"], d["accuracy"], color=c, lw=1.8, marker=".", ms=4)
        m90 = d.get("m90")
        if m90 is not None and np.isfinite(m90):
            ax.plot([m90], [0.9 * d["accuracy_full"]], marker="v", color=c, ms=7, ls="none")
    ax.set_xscale("log")
    ax.set(xlabel="units observed m", ylabel="readout accuracy",
           title="(d) decoding cost (▼: 90 % of full accuracy)")


def _superposition_panel(ax, runs, colours, excluded=None) -> None:
    names = (("top2_accuracy", "both classes read (top-2)"), ("mean_lost_fraction", "units lost"),
             ("mean_spurious_fraction", "spurious units"))
    width = 0.8 / max(len(runs), 1)
    drawn = False
    for i, ((_label, b), c, ex) in enumerate(zip(runs, colours, _flags(runs, excluded),
                                                 strict=True)):
        s = b.get("superposition")
        if not s:
            continue
        vals = [s.get(k, np.nan) for k, _ in names]
        x = np.arange(len(names)) + (i - (len(runs) - 1) / 2) * width
        if ex:  # hollow, hatched grey bars: in the panel, apart from every configuration
            bars = ax.bar(x, vals, width, facecolor="none", edgecolor=EXCLUDED_GREY,
                          hatch="xxx", linewidth=0.6)
            for j, bar in enumerate(bars):
                bar.set_gid(f"excluded-superposition-{i}-{j}")
        else:
            ax.bar(x, vals, width, color=c)
        drawn = True
    ax.set_xticks(np.arange(len(names)), [n for _, n in names], fontsize="small")
    ax.set(ylabel="fraction", ylim=(0, 1), title="(e) two images at once (pixel-wise max)")
    if not drawn:
        ax.text(0.5, 0.5, "not measured (no image data)", ha="center", transform=ax.transAxes)


def _summary_panel(ax, runs, colours, confs=None, excluded=None) -> None:
    series = (("fault AUC (random)", "fault", "auc_random", "o"),
              ("top-2 accuracy of pairs", "superposition", "top2_accuracy", "s"),
              ("m90 / N (decoding cost)", "decoding", "m_fraction_90", "^"),
              ("Jaccard between classes", "overlap", "jaccard_between", "D"))
    confs = list(confs) if confs is not None else [label for label, _ in runs]
    flags = np.array(_flags(runs, excluded), dtype=bool)
    x = np.array([_get(b, "activity", "activity_ratio") or np.nan for _, b in runs], dtype=float)
    for name, measure, key, marker in series:
        y = np.array([_get(b, measure, key) if _get(b, measure, key) is not None else np.nan
                      for _, b in runs], dtype=float)
        if not np.isfinite(y).any():
            continue
        # the grey line joins the configurations' means (seeds of one configuration share
        # its point), in order of activity
        pts = []
        for conf in dict.fromkeys(confs):  # the runs kept out of the verdicts in no mean
            sel = (np.array([c == conf for c in confs]) & np.isfinite(x) & np.isfinite(y)
                   & ~flags)
            if sel.any():
                pts.append((float(x[sel].mean()), float(y[sel].mean())))
        pts.sort()
        line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], color="0.35", lw=0.8,
                        label=name, marker=marker, ms=0)
        for xi, yi, c, ex in zip(x, y, colours, flags, strict=True):
            if not ex:
                ax.plot([xi], [yi], marker=marker, color=c, ms=6, ls="none")
        if flags.any():  # hollow grey markers of the series, one per excluded run
            sel = flags & np.isfinite(x) & np.isfinite(y)
            if sel.any():
                pt, = ax.plot(x[sel], y[sel], ls="none", marker=marker, ms=6, mfc="none",
                              mec=EXCLUDED_GREY, mew=1.1, zorder=2.5)
                pt.set_gid(f"excluded-sumup-{key}")
        line.set_marker(marker)
        line.set_markersize(5)
        line.set_markerfacecolor("none")
    ax.set_xscale("log")
    finite = x[np.isfinite(x) & (x > 0)]
    if finite.size:  # at least a decade, so the log axis keeps readable ticks
        lo, hi = finite.min(), finite.max()
        if hi / lo < 10:
            mid = math.sqrt(lo * hi)
            lo, hi = mid / math.sqrt(10), mid * math.sqrt(10)
        ax.set_xlim(lo / 1.5, hi * 1.5)
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="activity ratio (AVR / N)", ylabel="score", ylim=(-0.02, 1.02),
           title="(f) sum-up against activity" + (" (hollow grey: excluded runs)"
                                                  if flags.any() else ""))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", frameon=False)
    else:
        ax.text(0.5, 0.5, "no labelled measures (unlabelled data)", ha="center",
                transform=ax.transAxes)


def battery_figures(results_dir: str | os.PathLike) -> dict[str, Figure]:
    """``{"<experiment>_battery": Figure}`` for every experiment with measured runs ({} if none).

    One colour per configuration (the runs that differ only in their seed share it), one
    legend entry per configuration, in order of its values (``k=4`` before ``k=16``)."""
    figs: dict[str, Figure] = {}
    for experiment, quads in sorted(_measured(results_dir).items()):
        runs = [(label, b) for label, b, _, _ in quads]
        confs = [c for _, _, c, _ in quads]
        whys = [w for _, _, _, w in quads]
        excluded = [bool(w) for w in whys]
        colours = _config_colours(confs, excluded)
        fig = Figure(figsize=(16, 9.5), layout="constrained")
        axes = fig.subplots(2, 3)
        _fault_panel(axes[0, 0], runs, colours, excluded)
        _willshaw_panel(axes[0, 1], runs, colours, excluded)
        _unions_panel(axes[0, 2], runs, colours, excluded)
        _decoding_panel(axes[1, 0], runs, colours, excluded)
        _superposition_panel(axes[1, 1], runs, colours, excluded)
        _summary_panel(axes[1, 2], runs, colours, confs, excluded)
        for ax in axes.ravel():  # neighbouring titles never run into each other
            ax.title.set_fontsize(10.5)
        n_units = {int(b["activity"]["n_units"]) for _, b in runs if "activity" in b}
        n_stim = {int(b["_meta"]["n_stimuli"]) for _, b in runs if "_meta" in b}
        title = (f"{experiment}: the code-property battery "
                 f"(N = {'/'.join(f'{n:,}' for n in sorted(n_units))} units, "
                 f"{'/'.join(f'{n:,}' for n in sorted(n_stim))} test stimuli)")
        reasons = sorted({short_reason(w) for w in whys if w})
        if reasons:
            n_ex = sum(excluded)
            title += (f"\n{n_ex} run{'s' if n_ex != 1 else ''} kept out of the verdicts "
                      f"({', '.join(reasons)}): dotted grey, hollow markers, hatched bars")
        fig.suptitle(title)
        handles = []
        for conf in dict.fromkeys(confs):
            members = [b for (_, b), c, ex in zip(runs, confs, excluded, strict=True)
                       if c == conf and "activity" in b and not ex]
            if not members:
                continue
            avr = float(np.mean([b["activity"]["avr"] for b in members]))
            seeds = f"{len(members)} seeds, " if len(members) > 1 else ""
            first = next(i for i, (c, ex) in enumerate(zip(confs, excluded, strict=True))
                         if c == conf and not ex)
            handles.append(Line2D([], [], color=colours[first], lw=2.2,
                                  label=f"{conf}  ({seeds}AVR {avr:.3g})"))
        if any(excluded):
            handles.append(Line2D([], [], label=_excluded_label(confs, whys), **_EXCLUDED_LINE))
        fig.legend(handles=handles, loc="outside right upper", frameon=False,
                   title="configuration")
        figs[f"{experiment}_battery"] = fig
    return figs


def _excluded_label(confs: list[str], whys: list[str]) -> str:
    """The excluded runs' one legend entry: how many, why, and their configurations."""
    out = [(c, w) for c, w in zip(confs, whys, strict=True) if w]
    reasons = sorted({short_reason(w) for _, w in out})
    lines = [f"excluded from the verdicts ({len(out)} run{'s' if len(out) != 1 else ''}: "
             f"{', '.join(reasons)})"]
    for conf in dict.fromkeys(c for c, _ in out):
        n = sum(1 for c, _ in out if c == conf)
        lines.append(f"  {conf}" + (f" ({n} seeds)" if n > 1 else ""))
    return "\n".join(lines)


def theory_figure(n_units: int = 1024, random_state: int = 0, *,
                  curves: Mapping[str, Any] | None = None) -> Figure:
    """Random k-of-N codes: Monte Carlo measurements over the closed forms (see module doc).

    Parameters
    ----------
    n_units, random_state : int
        The codes' units ``N`` and the seed of their measurements.
    curves : mapping, optional
        The measurements, as :func:`neurocode.metrics.theory_codes.theory_curves` returns them
        (or :func:`~neurocode.metrics.theory_codes.load_theory_curves` reads them back); they
        must be of ``n_units`` and ``random_state``. Default: computed here by
        :func:`~neurocode.metrics.theory_codes.theory_curves`.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: capacity over ``k``, unions, survival.

    Raises
    ------
    ValueError
        When ``curves`` are of another ``N`` or seed.
    """
    if curves is None:
        from neurocode.metrics.theory_codes import theory_curves

        curves = theory_curves(n_units, random_state)
    elif (curves["n_units"], curves["random_state"]) != (n_units, random_state):
        raise ValueError(f"the theory curves are of N = {curves['n_units']}, seed "
                         f"{curves['random_state']}, not N = {n_units}, seed {random_state}: "
                         f"compute them for this N and seed, or draw them with theirs")
    N = int(curves["n_units"])
    fig = Figure(figsize=(16, 4.8), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)

    cap = curves["capacity"]
    k = cap["k_values"]
    ax1.plot(k, cap["theory_capacity"], color=OKABE_ITO[0], lw=1.5, label="M* theory")
    ax1.plot(k, cap["capacity"], "o", color=OKABE_ITO[0], ms=5, label="M* measured")
    ax1.axvline(math.log2(N), color="0.6", ls=":", lw=1)
    ax1.text(math.log2(N) * 1.05, 0.97, "k = log2 N", transform=ax1.get_xaxis_transform(),
             fontsize="small", color="0.4", va="top")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set(xlabel="active units k", ylabel="patterns stored at tolerance M*",
            title=f"Willshaw capacity, N = {N:,} (error <= 1/N)")
    ax1b = ax1.twinx()
    ax1b.plot(k, cap["theory_bits_per_synapse"], color=OKABE_ITO[3], lw=1.2, ls="--",
              label="bits/synapse theory")
    ax1b.plot(k, cap["bits_per_synapse"], "s", color=OKABE_ITO[3], ms=4, mfc="none",
              label="bits/synapse measured")
    ax1b.set_ylabel("bits per synapse at M*", color=OKABE_ITO[3])
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = ax1b.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, fontsize="small", frameon=False, loc="lower left")

    for i, (name, c) in enumerate(curves["codes"].items()):
        colour = OKABE_ITO[i]
        ax2.plot(c["loads"], _positive(c["theory_false_match"]), color=colour, lw=1.5)
        ax2.plot(c["loads"], _positive(c["false_match"]), "o", color=colour, ms=4,
                 label=f"{name} (k = {c['k']})")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set(xlabel="codes in the union M", ylabel="false-match probability",
            title="Unions: full-match false positives (lines: Ahmad & Hawkins)",
            ylim=(1e-6, 2))
    ax2.legend(fontsize="small", frameon=False)

    for i, (name, c) in enumerate(curves["codes"].items()):
        colour = OKABE_ITO[i]
        ax3.plot(c["fractions"], c["theory_survival"], color=colour, lw=1.5)
        ax3.plot(c["fractions"], c["survival"], "o", color=colour, ms=4,
                 label=f"{name}: k = {c['k']}, needs {c['theta']}")
    ax3.set(xlabel="fraction of units dead", ylabel="items still recognised",
            title="Survival under random deaths (lines: binomial tail)", xlim=(0, 1))
    ax3.legend(fontsize="small", frameon=False)
    fig.suptitle(f"Random k-of-N codes, N = {N:,}: measured (markers) against closed forms "
                 f"(lines)")
    return fig


def draw_battery_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                         formats: str | Iterable[str] | None = None) -> list[Path]:
    """Write ``<experiment>_battery.png`` (and ``.svg`` when ``formats`` says so) for every
    measured experiment; the paths. ``formats``: as :func:`~neurocode.figures.style.save_figures`
    (default PNG only)."""
    return save_figures(battery_figures(results_dir), out_dir, formats)


def draw_theory_figure(out_dir: str | os.PathLike, n_units: int = 1024,
                       random_state: int = 0, *,
                       curves_file: str | os.PathLike | None = None,
                       formats: str | Iterable[str] | None = None) -> list[Path]:
    """Write ``theory_codes.png`` (and ``.svg`` when ``formats`` says so) into ``out_dir``; the
    paths. ``formats``: as :func:`~neurocode.figures.style.save_figures` (default PNG only).

    ``curves_file``: stored theory curves
    (:func:`~neurocode.metrics.theory_codes.save_theory_curves`, e.g. at
    :func:`~neurocode.metrics.theory_codes.theory_curves_path`), drawn when the file exists;
    when it does not (or is ``None``) the curves are computed here and not stored. A file of
    another ``N`` or seed, or one that is not theory curves, raises a ``ValueError`` that
    names it.
    """
    curves = None
    if curves_file is not None and Path(curves_file).is_file():
        from neurocode.metrics.theory_codes import load_theory_curves

        curves = load_theory_curves(curves_file)
        if (curves["n_units"], curves["random_state"]) != (n_units, random_state):
            raise ValueError(f"{curves_file}: theory curves of N = {curves['n_units']}, seed "
                             f"{curves['random_state']}, not N = {n_units}, seed "
                             f"{random_state}; delete it or store the curves of this N")
    fig = theory_figure(n_units, random_state, curves=curves)
    return save_figures({"theory_codes": fig}, out_dir, formats)
