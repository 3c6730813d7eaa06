"""The paper's size table: test accuracy against network size and training length.

Diehl & Cook (2015, Front. Comput. Neurosci. 9:99, Table 1 and Figure 3) report, for their
network trained by STDP with the excitatory neurons labelled afterwards, 82.9 % test accuracy
with 100 excitatory neurons, 87.0 % with 400, 91.9 % with 1,600 and 95.0 % with 6,400
(:data:`PAPER_ACCURACY`). Their published script trains three passes over the 60,000 training
images by default (``num_examples = 60000 * 3``); how many passes each size of the table used
is not settled here, so ``experiments/diehl_cook_sizes.yaml`` trains one and three.

:func:`size_table` groups the stored runs of such a sweep by (neurons, passes): accuracy mean,
standard deviation and range over seeds, and wall time; :func:`size_figure` draws accuracy
against network size, one line per training length, every seed a point, the paper's numbers
beside them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["PAPER_ACCURACY", "SizeCell", "size_table", "size_figure", "size_table_markdown"]

#: Test accuracy of Diehl & Cook (2015), Table 1, by number of excitatory neurons.
PAPER_ACCURACY: dict[int, float] = {100: 0.829, 400: 0.870, 1600: 0.919, 6400: 0.950}


#: Config entries that tell the cells of the table apart or do not change the model, so they
#: never make a variant: size, passes, seed, and where the data and caches live.
_NOT_VARIANT = {"model.n_e", "train.epochs", "seed", "name", "description", "data.data_dir",
                "model.brian2_cache_dir", "model.n_jobs"}


@dataclass(frozen=True)
class SizeCell:
    """The runs of one (variant, neurons, passes) cell of the table."""

    n_e: int
    epochs: int
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    wall_s: tuple[float, ...]
    spikes_per_sample: tuple[float, ...]
    #: the options that set these runs apart from the others given (``"refractoriness=brian1"``);
    #: empty for the runs of the sweep's own settings
    variant: str = ""

    @property
    def mean(self) -> float:
        """Mean test accuracy over the seeds."""
        return float(np.mean(self.accuracies))

    @property
    def sd(self) -> float:
        """Sample standard deviation over the seeds (NaN for one seed)."""
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else math.nan


def _is_size_run(r: Any) -> bool:
    return r.param("model.n_e") is not None and math.isfinite(r.get("final.accuracy"))


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def size_table(runs: Iterable[Any]) -> list[SizeCell]:
    """Group Diehl & Cook runs by variant, ``model.n_e`` and ``train.epochs``.

    A variant is a setting in which some of the runs differ from the others, other than size,
    passes and seed (``model.refractoriness: brian1``, ``model.delay_max: 10``): runs of
    different settings are never pooled into one cell. The runs of the most common setting
    are the variant ``""``.

    Parameters
    ----------
    runs : iterable of neurocode.results.RunResult
        Stored runs; those without ``model.n_e`` or a finite ``final.accuracy`` are left out.

    Returns
    -------
    list of SizeCell
        One cell per (variant, neurons, passes), the plain settings first, then by variant,
        neurons and passes; seeds sorted.
    """
    runs = [r for r in runs if _is_size_run(r)]
    flats = [_flat(r.config) for r in runs]
    keys = sorted({k for f in flats for k in f if k not in _NOT_VARIANT
                   and len({repr(g.get(k)) for g in flats}) > 1})
    settings = [tuple((k, f.get(k)) for k in keys) for f in flats]
    common = max(set(settings), key=settings.count) if settings else ()
    cells: dict[tuple[str, int, int], list[Any]] = {}
    for r, st in zip(runs, settings, strict=True):
        variant = ",".join(f"{k.split('.')[-1]}={v}" for (k, v), (_, c) in
                           zip(st, common, strict=True) if v != c)
        key = (variant, int(r.param("model.n_e")), int(r.param("train.epochs") or 1))
        cells.setdefault(key, []).append(r)
    out = []
    for (variant, n_e, epochs), rs in sorted(cells.items()):
        rs = sorted(rs, key=lambda r: r.seed)
        out.append(SizeCell(
            n_e, epochs, tuple(r.seed for r in rs),
            tuple(float(r.get("final.accuracy")) for r in rs),
            tuple(float(r.attrs.get("wall_time_s", math.nan)) for r in rs),
            tuple(float(r.get("final.spikes_per_sample")) for r in rs), variant))
    return out


def size_table_markdown(cells: Iterable[SizeCell]) -> str:
    """The table as Markdown: one row per cell, the paper's number beside it.

    Parameters
    ----------
    cells : iterable of SizeCell
        From :func:`size_table`.

    Returns
    -------
    str
        A Markdown table (accuracies in %, wall time in minutes).
    """
    lines = ["| excitatory neurons | passes | option | seeds | test accuracy, mean ± sd (range) "
             "| paper | spikes per training sample (last window) | wall time per run |",
             "|---:|---:|---|---:|---|---:|---:|---:|"]
    for c in cells:
        sd = f" ± {100 * c.sd:.1f}" if math.isfinite(c.sd) else ""
        rng = (f" ({100 * min(c.accuracies):.1f}-{100 * max(c.accuracies):.1f})"
               if len(c.accuracies) > 1 else "")
        paper = PAPER_ACCURACY.get(c.n_e)
        lines.append(f"| {c.n_e:,} | {c.epochs} | {c.variant or '-'} | {len(c.seeds)} "
                     f"| {100 * c.mean:.1f}{sd}{rng} "
                     f"| {'' if paper is None else f'{100 * paper:.1f}'} "
                     f"| {np.mean(c.spikes_per_sample):.1f} "
                     f"| {np.nanmean(c.wall_s) / 60:.1f} min |")
    return "\n".join(lines)


def size_figure(runs: Iterable[Any]) -> Figure:
    """Test accuracy against the number of excitatory neurons, by training length.

    Every seed is a point, each line joins the means of one training length (passes over the
    60,000 training images), and the paper's four numbers are black stars.

    Parameters
    ----------
    runs : iterable of neurocode.results.RunResult
        Stored runs of a Diehl & Cook size sweep.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (nothing is saved).

    Raises
    ------
    ValueError
        When no run has ``model.n_e`` and a finite test accuracy.
    """
    from neurocode.figures.style import sequence_colours

    cells = size_table(runs)
    if not cells:
        raise ValueError("no Diehl & Cook runs with model.n_e and a test accuracy: run "
                         "`neurocode run experiments/diehl_cook_sizes.yaml` first")
    fig = Figure(figsize=(5.2, 3.6), layout="constrained")
    ax = fig.subplots()
    lines = sorted({(c.variant, c.epochs) for c in cells})
    for colour, (variant, ep) in zip(sequence_colours(len(lines)), lines, strict=True):
        cs = [c for c in cells if c.epochs == ep and c.variant == variant]
        for c in cs:
            jitter = 1.0 + 0.04 * (np.arange(len(c.accuracies)) - (len(c.accuracies) - 1) / 2)
            ax.scatter(c.n_e * jitter, 100 * np.asarray(c.accuracies), s=14, color=colour,
                       alpha=0.6, linewidths=0)
        ax.plot([c.n_e for c in cs], [100 * c.mean for c in cs], "-o", color=colour, ms=4,
                label=f"{ep} pass{'es' if ep != 1 else ''}" + (f", {variant}" if variant else "")
                + " (mean of seeds)")
    sizes = sorted(PAPER_ACCURACY)
    ax.plot(sizes, [100 * PAPER_ACCURACY[n] for n in sizes], "*", color="black", ms=9,
            label="Diehl & Cook (2015)")
    ax.set_xscale("log")
    ticks = sorted({c.n_e for c in cells} | set(sizes))
    ax.set_xticks(ticks, [f"{n:,}" for n in ticks])
    ax.minorticks_off()
    ax.set_xlabel("excitatory neurons")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Diehl & Cook: accuracy against network size", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
