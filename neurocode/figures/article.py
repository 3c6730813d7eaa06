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
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from neurocode.figures.article_plots import (  # noqa: F401
    ARTICLE_CNN_REFERENCES,
    ARTICLE_FC_POINTS,
    ARTICLE_LABEL,
    DECODER_MARKERS,
    DECODER_STYLES,
    ArticleReference,
    _all_lambdas,
    _article_fc_point,
    _colour,
    _curves_figure,
    _lambda_close,
    _lambda_handles,
    _lambda_key,
    _outside_legend,
    _positive,
    _title,
    _tradeoff_figure,
    _zoom_accuracy,
    format_lambda,
    lambda_colours,
)
from neurocode.figures.article_runs import (  # noqa: F401
    ARTICLE_RULES,
    _experiment_kind,
    _experiment_units,
    _group,
    _guess_kind,
    _is_article_run,
    _Run,
    _sort_key,
    _to_run,
)
from neurocode.figures.style import (
    DPI,
    save_figures,
)
from neurocode.results import load_results

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

def _load_runs(results_dir: str | os.PathLike) -> list[_Run]:
    # in the order of the run files' paths first (as the store lists them), so runs whose
    # sort keys tie keep the order they always had
    found = sorted(load_results(results_dir), key=lambda r: r.path)
    runs = sorted((_to_run(rec) for rec in found if _is_article_run(rec)), key=_sort_key)
    if not runs:
        raise ValueError(f"no complete runs of the article's networks under {results_dir}: "
                         f"run `neurocode run experiments/article_fc.yaml` first")
    return runs


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
