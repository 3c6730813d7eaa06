"""Figures and tables for the reproduction of "Sparse coding: a simple exploration" (2016).

Reads the stored runs through :func:`neurocode.results.load_results` (the one reader of run
files, as every figure) and draws, per experiment:

* ``<experiment>_curves.png/.svg``: test accuracy, test loss and AVR (log scale) against the
  training iteration, one line per lambda (per lambda and decoder for ``conv-ae``: the colour
  names lambda, solid = subpixel decoder, dashed = transposed), plus the test reconstruction
  error for ``conv-ae`` (``recon_error``: mean squared error per pixel on the 0-255 scale,
  after quantising the reconstruction to integers, :data:`~neurocode.figures.style.RECON_LABELS`);
* ``<experiment>_tradeoff.png/.svg``: final test accuracy against final AVR (log scale), one
  marker per run, one label per lambda (and decoder) at its seeds' mean (seeds never print one
  label on top of another); for ``fc`` the article's reported points are drawn beside ours
  (hollow markers, linked to ours by a thin line for the same lambda); for ``cnn`` the two
  AVRs the article states in its text are drawn as reference lines.

Every lambda keeps one colour (:data:`~neurocode.figures.style.LAMBDA_COLOURS`, the one
palette of :mod:`neurocode.figures.style`, colour-blind safe) in every figure of a call.
Figures are built on :class:`matplotlib.figure.Figure` directly: no pyplot, no global state;
:func:`~neurocode.figures.style.save_figures` writes them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from neurocode import article as _article
from neurocode.figures.style import (
    DPI,
    LAMBDA_COLOURS,
    RECON_LABELS,
    save_figures,
    sequence_colours,
)
from neurocode.results import RunResult, load_results

__all__ = [
    "ARTICLE_FC_POINTS",
    "ARTICLE_CNN_REFERENCES",
    "ArticleReference",
    "draw_article_figures",
    "make_figures",
    "save_figures",
    "summary_table",
    "format_markdown_table",
    "lambda_colours",
    "format_lambda",
    "RECON_HEADER",
    "DPI",
]

#: The Markdown table's column of the stored ``recon_error`` (what the number is, not just
#: "reconstruction error": :data:`neurocode.figures.style.RECON_LABELS`).
RECON_HEADER = "recon error (mean squared error per pixel, 0-255 scale, after quantisation)"

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
# Reading runs
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    experiment: str
    kind: str
    decoder: str | None
    l1: float
    seed: int
    n_units: int | None
    iterations: int | None
    run_name: str
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    wall_time_s: float = 0.0

    def final_value(self, name: str) -> float | None:
        if name in self.final:
            return float(self.final[name])
        c = self.curves.get(name)
        if c is not None and len(c):
            return float(c[-1])
        return None


def _guess_kind(experiment: str) -> str:
    name = experiment.lower()
    for kind in ("conv-ae", "cnn", "fc"):
        if kind in name or kind.replace("-", "_") in name:
            return kind
    return ""


def _to_run(rec: RunResult) -> _Run:
    cfg = rec.config or {}
    model = cfg.get("model") or {}
    train = cfg.get("train") or {}
    experiment = rec.experiment or str(cfg.get("name", "")) or rec.path.stem
    kind = str(model.get("kind") or ARTICLE_RULES.get(model.get("rule", ""))
               or _guess_kind(experiment))
    decoder = model.get("decoder")
    decoder = str(decoder) if decoder else None
    l1 = float(model.get("l1", model.get("lambda", 0.0)) or 0.0)
    seed = rec.seed
    final = dict(rec.final)
    n_units: Any = final.get("n_units")
    if n_units is None and kind == "fc":
        n_units = model.get("hidden")
    if n_units is None and final.get("avr") and final.get("activity_ratio"):
        n_units = round(final["avr"] / final["activity_ratio"])
    iterations = train.get("iterations")
    if iterations is None and len(rec.curves.get("step", [])):
        iterations = int(rec.curves["step"][-1])
    return _Run(
        experiment=experiment,
        kind=kind,
        decoder=decoder,
        l1=l1,
        seed=int(seed) if seed is not None else 0,
        n_units=int(n_units) if n_units is not None else None,
        iterations=int(iterations) if iterations is not None else None,
        run_name=rec.run_name,
        wall_time_s=float(rec.attrs.get("wall_time_s", 0.0) or 0.0),
        curves={k: np.asarray(v, dtype=float) for k, v in rec.curves.items()},
        final=final,
        path=rec.path,
    )


def _sort_key(r: _Run) -> tuple:
    return (r.experiment, r.decoder or "", r.l1, r.seed, r.run_name)


#: the article's networks, by rule name (runs of other rules have no article panels)
ARTICLE_RULES = {"relu-l1-fc": "fc", "relu-l1-cnn": "cnn", "relu-l1-conv-ae": "conv-ae"}


def _is_article_run(rec: RunResult) -> bool:
    model = (rec.config or {}).get("model") or {}
    return model.get("rule") in ARTICLE_RULES or "kind" in model


def _load_runs(results_dir: str | os.PathLike) -> list[_Run]:
    # in the order of the run files' paths first (as the store lists them), so runs whose
    # sort keys tie keep the order they always had
    found = sorted(load_results(results_dir), key=lambda r: r.path)
    runs = sorted((_to_run(rec) for rec in found if _is_article_run(rec)), key=_sort_key)
    if not runs:
        raise ValueError(f"no complete runs of the article's networks under {results_dir}: "
                         f"run `neurocode run experiments/article_fc.yaml` first")
    return runs


def _group(runs: Iterable[_Run]) -> dict[str, list[_Run]]:
    out: dict[str, list[_Run]] = {}
    for r in runs:
        out.setdefault(r.experiment, []).append(r)
    return out


def _experiment_kind(runs: Sequence[_Run]) -> str:
    kinds = {r.kind for r in runs if r.kind}
    return kinds.pop() if len(kinds) == 1 else ("/".join(sorted(kinds)) if kinds else "")


def _experiment_units(runs: Sequence[_Run]) -> int | None:
    units = [r.n_units for r in runs if r.n_units]
    return max(units) if units else None


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


def _make_figures_from_runs(runs: Sequence[_Run]) -> dict[str, Figure]:
    colours = lambda_colours(_all_lambdas(runs))
    figs: dict[str, Figure] = {}
    for experiment, ex_runs in sorted(_group(runs).items()):
        figs[f"{experiment}_curves"] = _curves_figure(experiment, ex_runs, colours)
        figs[f"{experiment}_tradeoff"] = _tradeoff_figure(experiment, ex_runs, colours)
    return figs


def make_figures(results_dir: str | os.PathLike) -> dict[str, Figure]:
    """Build (without saving) the figures for every experiment under ``results_dir``.

    Returns ``{"<experiment>_curves": Figure, "<experiment>_tradeoff": Figure, ...}``.
    Raises ``ValueError`` when there is no complete run.
    """
    return _make_figures_from_runs(_load_runs(results_dir))


def draw_article_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                         formats: str | Iterable[str] | None = None) -> list[Path]:
    """Draw every figure for the complete runs under ``results_dir`` into ``out_dir``.

    Writes ``<experiment>_curves.png`` and ``<experiment>_tradeoff.png`` per experiment (PNG at
    150 dpi), and the same as SVG (text kept as text) when ``formats`` asks for it (as
    :func:`~neurocode.figures.style.save_figures`; default PNG only); returns the written
    paths. Raises ``ValueError`` when ``results_dir`` holds no complete run.
    """
    return save_figures(make_figures(results_dir), out_dir, formats)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _article_fc_point(l1: float) -> tuple[float, float] | None:
    for k, v in ARTICLE_FC_POINTS.items():
        if _lambda_close(k, l1):
            return v
    return None


def summary_table(results_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """One row per complete run, sorted by experiment, decoder and lambda (then seed).

    Keys: experiment, kind, decoder, lambda, seed, iterations, n_units, accuracy, avr,
    activity_ratio, avr_train, recon_error (None without a decoder), wall_time_s, run_name,
    path. Raises ``ValueError`` when there is no complete run.
    """
    rows = []
    for r in _load_runs(results_dir):
        avr = r.final_value("avr")
        ratio = r.final_value("activity_ratio")
        if ratio is None and avr is not None and r.n_units:
            ratio = avr / r.n_units
        rows.append({
            "experiment": r.experiment,
            "kind": r.kind,
            "decoder": r.decoder,
            "lambda": r.l1,
            "seed": r.seed,
            "iterations": r.iterations,
            "n_units": r.n_units,
            "accuracy": r.final_value("accuracy"),
            "avr": avr,
            "activity_ratio": ratio,
            "avr_train": r.final_value("avr_train"),
            "recon_error": r.final_value("recon_error"),
            "wall_time_s": r.wall_time_s,
            "run_name": r.run_name,
            "path": str(r.path) if r.path else None,
        })
    rows.sort(key=lambda d: (d["experiment"], d["decoder"] or "", d["lambda"], d["seed"]))
    return rows


def _fmt(x: Any, spec: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return format(x, spec)


def _fmt_avr(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.2f}"


def _fmt_ratio(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{100 * x:#.3g} %"


def format_markdown_table(rows: Sequence[Mapping[str, Any]], article: bool = True) -> str:
    """Render :func:`summary_table` rows as a Markdown table (for the README).

    Columns: [experiment] [decoder] [seed] lambda, accuracy, AVR on the test set, AVR on the
    last training batch (the article's reading), activity ratio,
    [recon error: :data:`RECON_HEADER`, the stored ``recon_error``], wall time s, and, with
    ``article=True`` when there are fc runs, the article's accuracy and AVR for the same lambda
    beside ours. The bracketed columns appear only when they carry information (several
    experiments, decoders, seeds). For cnn runs the article's AVR at lambda 0 is filled in (its
    accuracy is not reported) and a note below the table gives the AVR of its sparse run.
    """
    rows = list(rows)
    if not rows:
        return ""
    experiments = {r.get("experiment") for r in rows}
    show_exp = len(experiments) > 1
    show_dec = any(r.get("decoder") for r in rows)
    per_cell: dict[tuple, int] = {}
    for r in rows:
        key = (r.get("experiment"), r.get("decoder"), _lambda_key(float(r.get("lambda") or 0.0)))
        per_cell[key] = per_cell.get(key, 0) + 1
    show_seed = any(n > 1 for n in per_cell.values())
    show_recon = any(r.get("recon_error") is not None for r in rows)
    kinds = {r.get("kind") or _guess_kind(str(r.get("experiment", ""))) for r in rows}
    show_article = article and bool(kinds & {"fc", "cnn"})

    header: list[str] = []
    if show_exp:
        header.append("experiment")
    if show_dec:
        header.append("decoder")
    if show_seed:
        header.append("seed")
    header += ["λ", "accuracy", "AVR (test)", "AVR (train batch)", "activity ratio"]
    if show_recon:
        header.append(RECON_HEADER)
    header.append("wall time s")
    if show_article:
        header += ["article accuracy", "article AVR"]

    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i < (show_exp + show_dec) else "---:"
                            for i in range(len(header))) + "|"]
    cnn_note = False
    for r in rows:
        kind = r.get("kind") or _guess_kind(str(r.get("experiment", "")))
        l1 = float(r.get("lambda") or 0.0)
        cells: list[str] = []
        if show_exp:
            cells.append(str(r.get("experiment", "")))
        if show_dec:
            cells.append(str(r.get("decoder") or "—"))
        if show_seed:
            cells.append(str(r.get("seed", "")))
        cells += [
            format_lambda(l1),
            _fmt(r.get("accuracy"), ".4f"),
            _fmt_avr(r.get("avr")),
            _fmt_avr(r.get("avr_train")),
            _fmt_ratio(r.get("activity_ratio")),
        ]
        if show_recon:
            cells.append(_fmt(r.get("recon_error"), ".2f"))
        cells.append(_fmt(r.get("wall_time_s"), ".0f"))
        if show_article:
            a_acc: float | None = None
            a_avr: float | None = None
            if kind == "fc":
                point = _article_fc_point(l1)
                if point:
                    a_acc, a_avr = point
            elif kind == "cnn":
                cnn_note = True
                for ref in ARTICLE_CNN_REFERENCES:
                    if ref.l1 is not None and _lambda_close(ref.l1, l1):
                        a_acc, a_avr = ref.accuracy, ref.avr
            cells += [_fmt(a_acc, ".4f"), _fmt_avr(a_avr)]
        lines.append("| " + " | ".join(cells) + " |")

    if cnn_note:
        refs = "; ".join(f"{ref.label}: AVR {ref.avr:g}" for ref in ARTICLE_CNN_REFERENCES)
        lines += ["", f"CNN numbers the article states in its text (AVR only, no accuracy): "
                      f"{refs}."]
    return "\n".join(lines) + "\n"
