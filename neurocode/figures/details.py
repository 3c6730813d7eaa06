"""The detail figures of the comparison across coding rules: the curves behind four numbers
of ``summary_properties`` (:mod:`neurocode.figures.summary`).

``detail_capacity``, ``detail_fault``, ``detail_interference``, ``detail_decoding``: one
panel per code type (local, sparse, dense), one line per configuration (mean over seeds when
they share the x values), theory in grey: Willshaw recall error per active unit (``error N /
k``: the battery's tolerance is 0.1, dotted) against patterns stored (theory:
``willshaw.theory_error``, random codes with the run's ``N`` and mean ``k``); normalised
accuracy against the fraction silenced (theory: a local code's diagonal ``1 - f``, and ``1 -
f^k`` for an item that needs any one of ``k = log2 N`` units); false-match probability
against the number of codes in a union (theory: ``unions.theory_false_match``); normalised
accuracy against the fraction of units observed (theory: the hypergeometric ``P(m) = 1 - C(N
- k, m) / C(N, m)`` with the run's ``N`` and mean ``k``). Each run kept out of the verdicts is
its own dotted grey curve with hollow grey crosses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from neurocode.figures.comparison import (
    _EXCLUDED_STYLE,
    _excluded_legend,
    _Group,
    _panel_type,
)
from neurocode.figures.style import AXIS_LABELS, rule_style, short_reason
from neurocode.results import CODE_TYPES, RunResult
from neurocode.theory.random_kofn import REFERENCE_N

__all__ = ["DETAILS"]


_LINESTYLES = ("-", "--", "-.", ":")


def _mean_curve(g: _Group, x_key: str,
                y_fn: Callable[[RunResult], Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (x, y) curve per group: the seeds' mean when they share x, else each run's."""
    curves = []
    for r in g.runs:
        x = r.get(x_key)
        y = y_fn(r)
        if (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.size
                and x.shape == y.shape):
            curves.append((np.asarray(x, float), np.asarray(y, float)))
    if len(curves) > 1 and all(c[0].shape == curves[0][0].shape and np.allclose(c[0], curves[0][0])
                               for c in curves):
        return [(curves[0][0], np.nanmean([c[1] for c in curves], axis=0))]
    return curves


def _normalised(measure: str, key: str, intact: str) -> Callable[[RunResult], Any]:
    def fn(r: RunResult) -> Any:
        y, a0 = r.get(f"{measure}.{key}"), r.get(f"{measure}.{intact}")
        ch = r.get(f"{measure}.chance")
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
                  f"({', '.join(sorted({short_reason(w) for _, w in excluded}))}), one curve per "
                  "run")
    fig.suptitle(title)
    return fig

