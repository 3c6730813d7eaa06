r"""The table of the comparison across coding rules, ``summary_table``
(:mod:`neurocode.figures.summary`), and the numbers behind it.

Rows the properties (:data:`~neurocode.figures.comparison.PROPERTIES`), columns local /
sparse / dense (runs grouped by :attr:`RunResult.code_type`, every run one value, seeds
included, excluded runs left out); each cell the median, ``[min - max]`` and the number of
runs. Cells are coloured by **tiers** within the row (darkest best; :func:`colour_tiers`),
never by bare rank: the row's seed spread ``s`` is the widest range (max - min) of the
property over the seeds of one configuration (a level of :func:`neurocode.design.families`:
one experiment, rule, N and config but for its seed; :func:`seed_spreads`), and, the medians
in order, a new tier starts only where a median lies more than ``s`` from the one before. So
two cells whose medians differ by less than what seeds alone produce always share a colour; a
row whose medians all lie within ``s`` (or that has no configuration of two seeds) is not
coloured. Fixed-edge bins were not used: an edge can split two values as close as one likes.
Each row names its better direction and its ``s`` with the configuration that sets it.
:func:`table_stats` returns the numbers. The runs kept out of the verdicts get a grey row of
their own, each configuration with its reason shortened, and are in no cell or count above it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from neurocode.design import families
from neurocode.figures.comparison import (
    PROPERTIES,
    _excluded_configs,
    _fmt,
    _legend,
    _measured,
    _panel_type,
    _reason_cell,
    excluded_runs,
)
from neurocode.figures.style import RANK_COLOURS
from neurocode.results import CODE_TYPES, RunResult

__all__ = ["table_stats", "SeedSpread", "seed_spreads", "colour_tiers", "format_cell"]


def table_stats(runs: Sequence[RunResult]) -> dict[str, dict[str, dict[str, float]]]:
    """``{property key: {code type: {median, min, max, n}}}`` over every measured run with a
    finite value of the property (each run one value; seeds counted as runs), the runs kept
    out of the verdicts (:func:`excluded_runs`) left out."""
    runs, _ = excluded_runs(_measured(runs))
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


@dataclass(frozen=True)
class SeedSpread:
    """How far the seeds of one configuration spread a property: the widest range
    (max - min over its seeds) of any configuration with two or more seeds."""

    spread: float          # NaN when no configuration has two seeds with the property
    n_configs: int         # configurations with two or more seeds
    widest: str            # the configuration with the widest range, in words

    @property
    def defined(self) -> bool:
        """Whether there is a spread at all: False (``spread`` is NaN) when no configuration has two
        seeds with the property."""
        return math.isfinite(self.spread)


def seed_spreads(runs: Sequence[RunResult]) -> dict[str, SeedSpread]:
    """``{property key: SeedSpread}`` over the measured runs kept in the verdicts. A
    configuration is a level of :func:`neurocode.design.families` (one experiment, one rule,
    one N, one config but for its seed); its range is ``max - min`` of the property over its
    seeds."""
    kept, _ = excluded_runs(_measured(runs))
    fams = families(kept)
    out: dict[str, SeedSpread] = {}
    for prop in PROPERTIES:
        best, n, where = float("nan"), 0, ""
        for fam in fams:
            for lv in fam.levels:
                v = np.array([prop.value(r) for r in lv.runs], float)
                v = v[np.isfinite(v)]
                if v.size < 2:
                    continue
                n += 1
                span = float(v.max() - v.min())
                if not span <= best:  # NaN at first
                    best = span
                    where = f"{_legend(lv.runs[0])} ({fam.experiment})"
        out[prop.key] = SeedSpread(best, n, where)
    return out


def colour_tiers(medians: Mapping[str, float], spread: float,
                 better: str | None) -> dict[str, int]:
    """The colour tier of each cell of a row, ``0`` the best: the medians in order (best
    first), a new tier only where a median lies more than ``spread`` from the one before.
    So two cells whose medians differ by no more than ``spread`` always share a tier (sorted,
    every step between them is at most their difference). ``{}`` (no colour) when the row is
    descriptive, the spread is unknown, or every cell shares one tier."""
    if better is None or not (isinstance(spread, (int, float)) and math.isfinite(spread)):
        return {}
    items = sorted(((c, float(m)) for c, m in medians.items() if math.isfinite(m)),
                   key=lambda cm: cm[1], reverse=(better == "higher"))
    tiers: dict[str, int] = {}
    tier, prev = 0, None
    for c, m in items:
        if prev is not None and abs(m - prev) > spread:
            tier += 1
        tiers[c] = tier
        prev = m
    return tiers if tier > 0 else {}


def format_cell(s: Mapping[str, float] | None) -> str:
    """``median`` over ``[min – max], n = runs`` (two lines)."""
    if not s:
        return "no data"
    return f"{_fmt(s['median'])}\n[{_fmt(s['min'])} – {_fmt(s['max'])}], n = {s['n']}"


#: The excluded row's grey (background) and its text.
_EXCLUDED_ROW = "#e6e6e6"
_EXCLUDED_TEXT = "0.3"


def _excluded_cells(excluded: Sequence[tuple[RunResult, str]]) -> dict[str, str]:
    """The excluded row: per column, each configuration and why it is out, shortened."""
    cells: dict[str, list[str]] = {}
    for name, items in _excluded_configs(excluded):
        r = items[0][0]
        kind = _panel_type(r.code_type)
        note = "" if r.code_type == kind else f", {r.code_type} code"
        runs = f"{len(items)} run{'s' if len(items) != 1 else ''}"
        cells.setdefault(kind, []).append(f"{name} ({runs}{note})\n{_reason_cell(items)}")
    return {c: "\n".join(v) for c, v in cells.items()}


def _table_figure(runs: Sequence[RunResult]) -> Figure:
    measured = _measured(runs)
    kept, excluded = excluded_runs(measured)
    stats = table_stats(measured)
    spreads = seed_spreads(measured)
    ex_cells = _excluded_cells(excluded)
    ex_lines = max((t.count("\n") + 1 for t in ex_cells.values()), default=0)
    fig = Figure(figsize=(13, 8.6 + (0.35 * ex_lines if excluded else 0)), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    rows, colours, row_labels = [], [], []
    for prop in PROPERTIES:
        row = stats[prop.key]
        sp = spreads[prop.key]
        tiers = colour_tiers({c: v["median"] for c, v in row.items()}, sp.spread, prop.better)
        rows.append([format_cell(row.get(c)) for c in CODE_TYPES])
        colours.append([RANK_COLOURS[min(tiers[c], len(RANK_COLOURS) - 1)] if c in tiers
                        else "#ffffff" for c in CODE_TYPES])
        arrows: dict[str | None, str] = {"higher": "↑ higher is better",
                                         "lower": "↓ lower is better"}
        arrow = arrows.get(prop.better, "descriptive (not ranked)")
        if not sp.defined:
            spread = "seed spread unknown (no configuration has 2 seeds)"
            if prop.better:
                arrow += ", not ranked"
        else:
            spread = f"seed spread s = {_fmt(sp.spread)} (widest: {sp.widest})"
            if prop.better and not tiers and len(row) > 1:
                arrow += ", not ranked: medians within s"
        row_labels.append(f"{prop.title}\n{prop.ylabel}\n{arrow}\n{spread}")
    if excluded:
        rows.append([ex_cells.get(c, "") for c in CODE_TYPES])
        colours.append([_EXCLUDED_ROW] * len(CODE_TYPES))
        row_labels.append(f"excluded from the verdicts: {len(excluded)} run"
                          f"{'s' if len(excluded) != 1 else ''}\n(in no cell above; shown "
                          f"as grey crosses\nin the other figures)")
    n_by_type = {c: sum(1 for r in kept if r.code_type == c) for c in CODE_TYPES}
    table = ax.table(cellText=rows, cellColours=colours, rowLabels=row_labels,
                     colLabels=[f"{c} codes ({n_by_type[c]} runs)" for c in CODE_TYPES],
                     cellLoc="center", rowLoc="right", loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1.0, 4.4)
    cells = table.get_celld()
    n_rows = len(rows)
    for (r, c), cell in cells.items():
        if r > 0 and c >= 0 and np.allclose(cell.get_facecolor()[:3], to_rgb(RANK_COLOURS[0])):
            cell.get_text().set_color("white")
        if r == 0:
            cell.get_text().set_fontweight("bold")
        if excluded and r == n_rows:
            cell.get_text().set_color(_EXCLUDED_TEXT)
            cell.get_text().set_fontstyle("italic")
            cell.set_facecolor(_EXCLUDED_ROW)
    if excluded and ex_lines > 3:  # the excluded row grows with the configurations it lists
        h = cells[(1, 0)].get_height()
        for (r, _c), cell in cells.items():
            if r == n_rows:
                cell.set_height(h * ex_lines / 3)
    fig.suptitle("The sum-up, measured: median [min – max] over the runs of each code type",
                 fontsize=12)
    caption = ("Cell colour: tier within its row, darkest best (ColorBrewer YlGnBu). The row's "
               "medians in order, a new tier starts only where a median differs from the next "
               "by more than s, the row's seed spread (the widest max - min of the property "
               "over the seeds of one configuration, i.e. one experiment, rule, N and config "
               "but for its seed), so no two cells closer than what seeds alone produce get "
               "different colours. White: descriptive, every median within s, or no data.")
    if excluded:
        caption += (" Grey row: runs kept out of the verdicts (neurocode.design.exclusion), in "
                    "no cell and in no count above.")
    fig.supxlabel("\n".join(textwrap.wrap(caption, 170)), fontsize=8.5, color="0.25",
                  ha="left", x=0.01)
    return fig

