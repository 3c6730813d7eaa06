"""Figures, drawn from stored results only (never by training anything).

:func:`draw_all` is what ``neurocode figures`` and ``neurocode report`` call: every figure the
stored runs under a results folder allow, written as PNG (and SVG on request:
``formats=("png", "svg")``, ``neurocode figures --svg``) into one folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["draw_all"]


def draw_all(results_dir: str | os.PathLike, out_dir: str | os.PathLike, *, theory: bool = True,
             fields: bool = True, theory_units: int = 1024,
             formats: str | Iterable[str] | None = None) -> list[Path]:
    """Draw every figure the complete runs under ``results_dir`` allow into ``out_dir``.

    * the article's figures per experiment with learning curves (``<experiment>_curves``,
      ``<experiment>_tradeoff``; :mod:`neurocode.figures.article`);
    * the battery's figures per measured experiment (``<experiment>_battery``;
      :mod:`neurocode.figures.battery`);
    * the comparison across rules (``summary_properties``, ``summary_table``,
      ``detail_capacity``, ``detail_fault``, ``detail_interference``, ``detail_decoding``;
      :mod:`neurocode.figures.summary`) when some run was measured;
    * the dose-response figures, one per property the claims ledger judges (``dose_fault``,
      ``dose_interference``, ``dose_willshaw``, ``dose_hopfield``, ``dose_redundancy``,
      ``dose_dead``, ``dose_support``; :mod:`neurocode.figures.dose`): each family of runs (one
      experiment, rule and N) a line through its levels against the activity ratio, read
      against the random k-of-N null of the same N; only the properties some run has;
    * the figures a rule draws of its own runs (``<experiment>_<stem>``;
      :meth:`neurocode.rules.CodingRule.figures`, :mod:`neurocode.figures.rule_figures`),
      e.g. Diehl & Cook's accuracy against network size;
    * receptive fields of every run whose rule has them (``fields=True``);
    * random k-of-N codes against the closed forms (``theory_codes``, ``theory=True``, when
      some other figure was drawn): the theory curves stored in the results folder
      (:func:`neurocode.metrics.theory_codes.theory_curves_path` of ``theory_units``, seed 0)
      when they are there, else computed for the figure (not stored).

    ``formats``: the files of each figure, ``("png",)`` or ``("png", "svg")`` (SVG keeps its
    text as text; it is most of the time of drawing); ``None`` (default): the current default
    of :func:`neurocode.figures.style.current_formats`, PNG only unless a
    :func:`~neurocode.figures.style.figure_formats` block says more. An unknown format raises
    :class:`~neurocode.figures.style.FigureFormatError` (a ``ValueError``) before anything is
    drawn.

    Returns the written paths (the files of each figure, PNG first); an empty list when the
    folder holds nothing to draw. Every figure is written atomically
    (:func:`neurocode.figures.style.save_figures`); a file that cannot be written raises
    :class:`~neurocode.figures.style.FigureWriteError` (an ``OSError``) naming it and the cause.
    """
    from neurocode.figures.article import draw_article_figures
    from neurocode.figures.battery import draw_battery_figures, draw_theory_figure
    from neurocode.figures.style import check_formats, figure_formats

    paths: list[Path] = []
    # checked once, before anything is drawn; every figure module's save_figures reads it
    with figure_formats(check_formats(formats)):
        try:
            paths += draw_article_figures(results_dir, out_dir)
        except ValueError:  # no run with learning curves
            pass
        paths += draw_battery_figures(results_dir, out_dir)
        from neurocode.figures.summary import draw_summary_figures

        paths += draw_summary_figures(results_dir, out_dir)
        from neurocode.figures.dose import draw_dose_figures

        paths += draw_dose_figures(results_dir, out_dir)
        from neurocode.figures.rule_figures import draw_rule_figures

        paths += draw_rule_figures(results_dir, out_dir)
        if fields:
            from neurocode.figures.fields import draw_fields_figures

            paths += draw_fields_figures(results_dir, out_dir)
        if theory and paths:
            from neurocode.metrics.theory_codes import theory_curves_path

            paths += draw_theory_figure(out_dir, n_units=theory_units,
                                        curves_file=theory_curves_path(results_dir,
                                                                       theory_units))
    return paths
