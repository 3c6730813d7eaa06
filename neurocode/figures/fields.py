"""Receptive fields drawn as a grid of small images, for any rule with a weight matrix.

:func:`field_grid` takes ``(n_units, n_features)`` weights (rows = fields, each a flattened
``image_shape`` image) and returns a :class:`matplotlib.figure.Figure` (no pyplot, no global
state); :func:`neurocode.figures.style.save_figures` writes it as PNG and SVG.
:func:`fields_figures` reads the stored runs through :func:`neurocode.results.load_results`
(the one reader of stored runs) and each run's fitted rule through
:func:`neurocode.rules.load_rule`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = ["field_grid", "field_mosaic", "fields_figures", "draw_fields_figures"]


def field_mosaic(weights, image_shape: Sequence[int], n_max: int | None = None,
                 cols: int | None = None, order=None, gap: int = 1) -> np.ndarray:
    """The fields tiled into one 2-D array, each scaled to [-1, 1] by its own largest |w|.

    Tiles are separated by ``gap`` pixels of NaN (drawn in the background colour). ``order``
    (indices) picks and orders the fields; otherwise the first ``n_max`` are shown.
    """
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"weights must be 2-D (n_units, n_features), got shape {W.shape}")
    h, w = (int(s) for s in image_shape)
    if h * w != W.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match {W.shape[1]} features")
    if not np.isfinite(W).all():
        raise ValueError("weights contain NaN or infinite values")
    if order is not None:
        W = W[np.asarray(order, dtype=np.intp)]
    if n_max is not None:
        if n_max < 1:
            raise ValueError(f"n_max must be >= 1, got {n_max}")
        W = W[:n_max]
    n = len(W)
    if n == 0:
        raise ValueError("no fields to draw")
    cols = int(cols) if cols else int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    scale = np.abs(W).max(axis=1, keepdims=True)
    W = W / np.where(scale > 0, scale, 1.0)
    mosaic = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        y0, x0 = gap + r * (h + gap), gap + c * (w + gap)
        mosaic[y0:y0 + h, x0:x0 + w] = W[k].reshape(h, w)
    return mosaic


def field_grid(weights, image_shape: Sequence[int], n_max: int | None = 256, *,
               title: str | None = None, cols: int | None = None, order=None,
               cmap: str = "gray", tile_inches: float = 0.45) -> Figure:
    """A figure of the receptive fields (rows of ``weights``) as a grid of images.

    Parameters
    ----------
    weights : (n_units, n_features) array
        One field per row, a flattened (row-major) image of ``image_shape``.
    image_shape : (height, width)
    n_max : int or None
        Draw at most this many fields (the first ones, or the first of ``order``).
    title : str or None
    cols : int or None
        Fields per row of the grid (default: a square grid).
    order : sequence of int or None
        Which fields to draw, in this order.
    cmap : str
        Colour map; each field is scaled to [-1, 1] by its own largest |w| (0 = mid grey).
    tile_inches : float
        Size of one field in the figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = field_grid(np.eye(16), (4, 4), title="pixels")
    >>> print(len(fig.axes))
    1
    """
    mosaic = field_mosaic(weights, image_shape, n_max=n_max, cols=cols, order=order)
    h, w = (int(s) for s in image_shape)
    ncols = (mosaic.shape[1] - 1) // (w + 1)
    nrows = (mosaic.shape[0] - 1) // (h + 1)
    aspect = h / w
    fig_w = max(2.0, ncols * tile_inches)
    if title:  # wrapped to the figure's width (about 12 characters per inch at 10 pt)
        import textwrap

        title = "\n".join(textwrap.wrap(title, width=max(20, int(fig_w * 12))))
    head = 0.2 + 0.18 * title.count("\n") + 0.15 if title else 0.0
    fig_h = max(1.5, nrows * tile_inches * aspect) + head
    fig = Figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - head / fig_h))
    import matplotlib as mpl

    cm = mpl.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(mosaic), cmap=cm, vmin=-1.0, vmax=1.0,
              interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, y=1.0 - 0.05 / fig_h, va="top", fontsize=10)
    return fig


def _image_shape(data: dict, n_features: int) -> tuple[int, int] | None:
    name = data.get("dataset", "mnist")
    if name == "bars":
        shape = (8, 8)
    elif name == "patches":
        size = int(data.get("patch_size") or 16)
        shape = (size, size)
    else:
        shape = (28, 28)
    return shape if shape[0] * shape[1] == n_features else None


def fields_figures(results_dir, n_max: int = 144) -> dict[str, Figure]:
    """``{"<experiment>_<run>_fields": Figure}``: the receptive fields of every complete run
    whose rule has them (of runs that differ only by their seed, the lowest seed's)
    (:meth:`neurocode.rules.CodingRule.receptive_fields`), on its data's image grid, the
    ``n_max`` most used units first (by the run's stored ``unit_activity`` when the battery
    measured it, else in unit order)."""
    import json
    import sys

    from neurocode.results import RunResult, distinct_labels, load_results
    from neurocode.rules import load_rule
    from neurocode.store import StoreError

    figs: dict[str, Figure] = {}
    # one figure per configuration: of runs that differ only by seed, the lowest seed's (of
    # two runs with the same seed, the first by path, as the store lists them)
    first: dict[str, RunResult] = {}
    for rec in sorted(load_results(results_dir), key=lambda r: r.path):
        cfg = {k: v for k, v in (rec.config or {}).items() if k != "seed"}
        key = json.dumps([rec.experiment, cfg], sort_keys=True, default=str)
        if key not in first or rec.config.get("seed", 0) < first[key].config.get("seed", 0):
            first[key] = rec
    recs = sorted(first.values(), key=lambda r: str(r.path))
    by_exp: dict[str, list] = {}
    for rec in recs:
        by_exp.setdefault(rec.experiment, []).append(rec)
    labels = {}
    for group in by_exp.values():
        # one seed per configuration here
        for r, lab in zip(group, distinct_labels(group), strict=True):
            labels[id(r)] = (",".join(t for t in lab.split(",") if not t.startswith("seed="))
                             or "run")
    for rec in recs:
        try:
            rule = load_rule(rec.path)
        except (StoreError, ValueError, KeyError, OSError) as exc:
            print(f"warning: no fields for {rec.path}: {exc}", file=sys.stderr)
            continue
        fields = rule.receptive_fields()
        if fields is None:
            continue
        shape = _image_shape(rec.config.get("data", {}), fields.shape[1])
        if shape is None:
            continue
        order = None
        use = rec.battery.get("activity", {}).get("unit_activity")
        if use is not None and len(use) == len(fields):
            order = np.argsort(-np.asarray(use), kind="stable")
        n = min(n_max, len(fields))
        label = labels[id(rec)]
        figs[f"{rec.experiment}_{label}_fields"] = field_grid(
            fields, shape, n, order=order,
            title=f"{rec.experiment} {label}: receptive fields of {rule.name} "
                  f"({n} of {len(fields)} units"
                  f"{', most active first' if order is not None else ''})")
    return figs


def draw_fields_figures(results_dir, out_dir, n_max: int = 144, *, formats=None):
    """Write ``<experiment>_<run>_fields.png`` (and ``.svg`` when ``formats`` says so, as
    :func:`~neurocode.figures.style.save_figures`; default PNG only) for every run with
    fields; the paths."""
    from neurocode.figures.style import save_figures

    return save_figures(fields_figures(results_dir, n_max), out_dir, formats)
