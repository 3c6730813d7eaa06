"""Figures that rules draw for themselves (:meth:`neurocode.rules.CodingRule.figures`).

A rule whose paper has a figure of its own (Diehl & Cook's accuracy against network size)
declares it on its class; :func:`draw_rule_figures` hands each experiment's complete runs of
that rule to it and saves what it returns, so the framework names no rule and a plugin's
figures are drawn the same way.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

__all__ = ["draw_rule_figures"]


def draw_rule_figures(results_dir: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Save the figures every rule draws of its own runs, per experiment.

    Parameters
    ----------
    results_dir : path-like
        The results folder (complete runs are read, nothing is trained).
    out_dir : path-like
        Where the figures go, as ``<experiment>_<stem>.png`` (and ``.svg`` when the current
        formats say so).

    Returns
    -------
    list of pathlib.Path
        The files written; empty when no rule draws a figure of its own.

    Warns
    -----
    UserWarning
        When a rule is not installed (its runs are skipped) or its ``figures`` fails: the
        warning names the rule, the experiment and the error, and the other figures are
        still drawn.
    """
    from neurocode.figures.style import save_figures
    from neurocode.results import load_results
    from neurocode.rules import UnknownRuleError, get_rule_class

    groups: dict[tuple[str, str], list] = {}
    for r in load_results(results_dir):
        groups.setdefault((r.experiment, r.rule), []).append(r)
    paths: list[Path] = []
    for (experiment, rule), runs in sorted(groups.items()):
        try:
            cls = get_rule_class(rule)
        except UnknownRuleError:
            continue  # not installed here: its built-in figures are drawn, nothing of its own
        try:
            figs = cls.figures(runs)
        except Exception as exc:  # a rule's own figure must not cost the others
            warnings.warn(f"rule {rule!r} could not draw its own figures of {experiment}: "
                          f"{type(exc).__name__}: {exc}", stacklevel=2)
            continue
        if figs:
            paths += save_figures({f"{experiment}_{stem}": fig for stem, fig in figs.items()},
                                  out_dir)
    return paths
