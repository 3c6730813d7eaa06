"""The article's two figures per experiment: learning curves and the sparsity/accuracy
trade-off, with their lambda labels and colours (see :mod:`neurocode.figures.article`,
which reads the runs and saves the figures).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurocode import article as _article
from neurocode.figures.article_runs import _experiment_kind, _experiment_units, _Run
from neurocode.figures.style import (
    LAMBDA_COLOURS,
    RECON_LABELS,
    sequence_colours,
)

# --------------------------------------------------------------------------------------------
# What the article reports
# --------------------------------------------------------------------------------------------

# the article's numbers live in neurocode.article; the names here are kept for the figures
# and for code that imported them from this module
ARTICLE_FC_POINTS = _article.FC_POINTS
ArticleReference = _article.ArticleReference
ARTICLE_CNN_REFERENCES = _article.CNN_REFERENCES

ARTICLE_LABEL = "article (2016)"

DECODER_STYLES: dict[str | None, str] = {None: "-", "subpixel": "-", "transposed": "--",
                                       "original-473bc3f": ":"}
DECODER_MARKERS: dict[str | None, str] = {None: "o", "subpixel": "o", "transposed": "s",
                                        "original-473bc3f": "^"}


# --------------------------------------------------------------------------------------------
# Labels and colours
# --------------------------------------------------------------------------------------------


def format_lambda(l1: float) -> str:
    """Lambda as the legends write it: 0, 1e-05, 5e-04, 2.7e-03."""
    if l1 == 0:
        return "0"
    mantissa, exponent = f"{l1:e}".split("e")
    return f"{float(mantissa):g}e{exponent}"


def _lambda_key(l1: float) -> float:
    # lambdas read back from JSON can differ in the last bits; key colours on 12 significant digits
    return float(f"{l1:.12g}")


def _lambda_close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-15)


def lambda_colours(lambdas: Iterable[float]) -> dict[float, str]:
    """A fixed colour per lambda: the sorted distinct lambdas mapped onto
    :data:`~neurocode.figures.style.LAMBDA_COLOURS` (Okabe-Ito, black first).

    More than eight lambdas fall back to viridis (also colour-blind safe), in lambda order
    (:func:`~neurocode.figures.style.sequence_colours`).
    """
    keys = sorted({_lambda_key(x) for x in lambdas})
    return dict(zip(keys, sequence_colours(len(keys), LAMBDA_COLOURS), strict=True))


def _colour(colours: Mapping[float, str], l1: float) -> str:
    return colours.get(_lambda_key(l1), "#777777")


def _all_lambdas(runs: Sequence[_Run]) -> list[float]:
    lambdas = {r.l1 for r in runs}
    if any(r.kind == "fc" for r in runs):
        lambdas |= set(ARTICLE_FC_POINTS)
    return sorted(lambdas)


def _title(experiment: str, kind: str, n_units: int | None, what: str) -> str:
    parts = [p for p in (kind, f"N = {n_units:,} hidden units" if n_units else "") if p]
    return f"{experiment}: {what}" + (f" ({', '.join(parts)})" if parts else "")


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _positive(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float).copy()
    v[~(v > 0)] = np.nan  # log axes: drop zeros/negatives instead of warning
    return v


def _lambda_handles(lambdas: Sequence[float], colours: Mapping[float, str]) -> list[Line2D]:
    return [
        Line2D([], [], color=_colour(colours, l1), lw=2.2, label=f"λ={format_lambda(l1)}")
        for l1 in lambdas
    ]


def _outside_legend(ax, handles: Sequence[Line2D]) -> None:
    """The legend right of ``ax`` (the top-right axes), inside the constrained layout."""
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              title="L1 penalty", frameon=False)


def _zoom_accuracy(ax, runs: Sequence[_Run]) -> None:
    """Zoom the accuracy axis onto where the runs end (the first iterations fall below it)."""
    finals = [v for v in (r.final_value("accuracy") for r in runs)
              if v is not None and np.isfinite(v)]
    if not finals:
        return
    lo, hi = min(finals), max(finals)
    spread = hi - lo
    bottom = max(0.0, lo - max(0.04, 1.0 * spread))
    top = min(1.0, hi + max(0.01, 0.25 * spread))
    if top > bottom:
        ax.set_ylim(bottom, top)


def _curves_figure(experiment: str, runs: Sequence[_Run], colours: Mapping[float, str]) -> Figure:
    kind = _experiment_kind(runs)
    n_units = _experiment_units(runs)
    is_ae = kind == "conv-ae" or any(r.decoder for r in runs)
    panels: list[tuple[str, str, bool]] = [
        ("accuracy", "test accuracy", False),
        ("loss", "test loss", True),
        ("avr", "AVR (active units per image)", True),
    ]
    if is_ae:
        panels.append(("recon_error", "reconstruction error (recon_error):\n"
                       + RECON_LABELS["recon_error"].replace(", after", ",\nafter"), True))
        fig = Figure(figsize=(12.5, 8.2), layout="constrained")
        axes = list(fig.subplots(2, 2).ravel())
    else:
        fig = Figure(figsize=(16, 4.8), layout="constrained")
        axes = list(fig.subplots(1, 3).ravel())

    decoders = sorted({r.decoder for r in runs if r.decoder})
    for ax, (name, ylabel, log) in zip(axes, panels, strict=True):
        for r in runs:
            if name not in r.curves or "step" not in r.curves:
                continue
            y = r.curves[name]
            ax.plot(
                r.curves["step"],
                _positive(y) if log else y,
                color=_colour(colours, r.l1),
                ls=DECODER_STYLES.get(r.decoder, "-"),
                lw=1.6,
                alpha=0.9,
            )
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.set_title({"accuracy": "test accuracy (y zoomed on the final values)",
                      "loss": "test loss (cross-entropy + λ·L1"
                      + (" + reconstruction,\nits " + RECON_LABELS["loss_recon"] if is_ae else "")
                      + ")",
                      "avr": "AVR (log scale)",
                      "recon_error": "test reconstruction error, after quantising to 0..255 "
                                     "(log scale)"}[name],
                     fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.margins(x=0.01)

    _zoom_accuracy(axes[0], runs)
    if kind == "cnn":
        avr_ax = axes[2]
        for ref in ARTICLE_CNN_REFERENCES:
            avr_ax.axhline(ref.avr, color="0.45", ls=":", lw=1.2, zorder=0)
            avr_ax.annotate(
                f"{ref.label}: AVR {ref.avr:g}", xy=(0.99, ref.avr),
                xycoords=("axes fraction", "data"),
                xytext=(0, 3), textcoords="offset points", ha="right", va="bottom", fontsize=8,
                color="0.25", bbox=dict(fc="white", ec="none", alpha=0.75, pad=1.0), zorder=5,
            )

    lambdas = sorted({r.l1 for r in runs})
    handles = _lambda_handles(lambdas, colours)
    if decoders:
        handles.append(Line2D([], [], color="none", label=" "))
        handles += [
            Line2D([], [], color="0.2", lw=1.6, ls=DECODER_STYLES.get(d, "-"),
                   label=f"decoder: {d}")
            for d in decoders
        ]
    if kind == "cnn":
        handles.append(Line2D([], [], color="0.45", ls=":", lw=1.2, label="article AVR (text)"))
    _outside_legend(axes[1] if is_ae else axes[-1], handles)  # right of the top-right panel
    fig.suptitle(_title(experiment, kind, n_units, "training curves"), fontsize=13)
    return fig


def _tradeoff_figure(experiment: str, runs: Sequence[_Run], colours: Mapping[float, str]) -> Figure:
    kind = _experiment_kind(runs)
    n_units = _experiment_units(runs)
    fig = Figure(figsize=(9.5, 6.2), layout="constrained")
    ax = fig.subplots()

    decoders = sorted({r.decoder for r in runs if r.decoder})
    # one label per configuration (decoder and lambda), at its seeds' mean: seeds of one
    # configuration would otherwise print the same label on top of each other
    configs: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for r in runs:
        acc, avr = r.final_value("accuracy"), r.final_value("avr")
        if acc is None or avr is None or not avr > 0:
            continue
        colour = _colour(colours, r.l1)
        ax.scatter([avr], [acc], s=70, marker=DECODER_MARKERS.get(r.decoder, "o"), color=colour,
                   edgecolors="white", linewidths=0.8, zorder=3)
        configs.setdefault((r.decoder or "", _lambda_key(r.l1)), []).append((avr, acc))
    for (_, l1), pts in configs.items():
        avr = float(np.exp(np.mean(np.log([p[0] for p in pts]))))  # log axis: geometric mean
        acc = float(np.mean([p[1] for p in pts]))
        dx, dy, ha, va = 6, 4, "left", "bottom"
        point = _article_fc_point(l1) if kind == "fc" else None
        if point is not None:  # put the label on the side away from the article's point
            a_acc, a_avr = point
            if a_avr > avr:
                dx, ha = -6, "right"
            if a_acc > acc:
                dy, va = -4, "top"
        ax.annotate(f"λ={format_lambda(l1)}", (avr, acc), xytext=(dx, dy),
                    textcoords="offset points",
                    ha=ha, va=va, fontsize=8.5, color="0.15", zorder=4)

    handles: list[Line2D] = []
    if kind == "fc":
        ours_by_l1: dict[float, list[tuple[float, float]]] = {}
        for r in runs:
            acc, avr = r.final_value("accuracy"), r.final_value("avr")
            if acc is not None and avr is not None and avr > 0:
                ours_by_l1.setdefault(_lambda_key(r.l1), []).append((avr, acc))
        for l1, (a_acc, a_avr) in sorted(ARTICLE_FC_POINTS.items()):
            colour = _colour(colours, l1)
            for avr, acc in ours_by_l1.get(_lambda_key(l1), []):
                ax.plot([avr, a_avr], [acc, a_acc], color=colour, lw=0.8, alpha=0.6, zorder=1)
            ax.scatter([a_avr], [a_acc], s=70, marker="o", facecolors="none", edgecolors=colour,
                       linewidths=1.6, zorder=2)
            if _lambda_key(l1) not in ours_by_l1:  # only the article's point: label it too
                ax.annotate(f"λ={format_lambda(l1)}", (a_avr, a_acc), xytext=(7, -11),
                            textcoords="offset points", fontsize=8.5, color="0.4")
        handles += [
            Line2D([], [], ls="none", marker="o", ms=8, color="0.3", label="this reproduction"),
            Line2D([], [], ls="none", marker="o", ms=8, mfc="none", mec="0.3", mew=1.6,
                   label=ARTICLE_LABEL),
        ]
        lambdas = sorted(set(ours_by_l1) | {_lambda_key(x) for x in ARTICLE_FC_POINTS})
    else:
        lambdas = sorted({_lambda_key(r.l1) for r in runs})

    if kind == "cnn":
        for ref in ARTICLE_CNN_REFERENCES:
            ax.axvline(ref.avr, color="0.45", ls=":", lw=1.2, zorder=0)
            ax.annotate(f"{ref.label}: AVR {ref.avr:g}", xy=(ref.avr, 0.02),
                        xycoords=("data", "axes fraction"), rotation=90, ha="right", va="bottom",
                        fontsize=8, color="0.25", xytext=(-3, 0), textcoords="offset points",
                        bbox=dict(fc="white", ec="none", alpha=0.75, pad=1.0))
        handles.append(Line2D([], [], color="0.45", ls=":", lw=1.2,
                              label="article AVR (text only)"))
    if decoders:
        handles += [
            Line2D([], [], ls="none", marker=DECODER_MARKERS.get(d, "o"), ms=8, color="0.3",
                   label=f"decoder: {d}")
            for d in decoders
        ]

    ax.set_xscale("log")
    ax.set_xlabel("AVR (active units per image, log scale)")
    ax.set_ylabel("test accuracy")
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", axis="x", alpha=0.1)
    ax.margins(x=0.12, y=0.08)
    lam_handles = _lambda_handles(lambdas, colours)
    for h in lam_handles:
        h.set_linestyle("none")
        h.set_marker("o")
        h.set_markersize(8)
    if handles:
        handles = lam_handles + [Line2D([], [], color="none", label=" ")] + handles
    else:
        handles = lam_handles
    _outside_legend(ax, handles)
    fig.suptitle(_title(experiment, kind, n_units, "accuracy vs. activity"), fontsize=13)
    n_seeds = max((len(p) for p in configs.values()), default=1)
    ax.set_title("final test accuracy against final AVR; upper left is better"
                 + (f"\none marker per run (up to {n_seeds} seeds per λ), one label per λ at "
                    f"its seeds' mean" if n_seeds > 1 else ""), fontsize=10)
    return fig


def _article_fc_point(l1: float) -> tuple[float, float] | None:
    for k, v in ARTICLE_FC_POINTS.items():
        if _lambda_close(k, l1):
            return v
    return None
