"""The bars problem: ``size x size`` images made of horizontal and vertical bars.

Source: Földiák (1990), "Forming sparse representations by local anti-Hebbian learning",
Biological Cybernetics 64:165-170, section 4: on an 8x8 grid each of the 16 possible bars (8
horizontal, 8 vertical) is present independently with probability 1/8; a pixel is on (1) when
at least one bar through it is present, so crossing bars overlap (logical OR, not a sum).

A good sparse code of these images has one unit per bar: the bars are the independent causes
of the pixels, present on average ``2 * size * p`` at a time.

Bars are numbered ``0 .. size-1`` for the horizontal bars (rows, top to bottom) and
``size .. 2*size-1`` for the vertical bars (columns, left to right). Images are flattened row
by row: pixel ``(r, c)`` is column ``r * size + c`` of ``X``.

Examples
--------
>>> from neurocode.data.bars import make_bars
>>> X, bars = make_bars(1000, random_state=0)
>>> X.shape, bars.shape
((1000, 64), (1000, 16))
>>> print(round(float(bars.sum(axis=1).mean()), 2))  # bars per image; expected 16 * 1/8 = 2
2.02
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["bars_to_images", "make_bars", "single_bars"]


def _check_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be an integer >= 1 (the image is size x size), got {size!r}")
    return int(size)


def bars_to_images(bars: np.ndarray, size: int = 8) -> np.ndarray:
    """Images (float, 0/1, shape ``(n, size*size)``) drawn by the bars ``(n, 2*size)`` (bool).

    Pixel ``(r, c)`` is 1 when horizontal bar ``r`` or vertical bar ``c`` is present.
    """
    size = _check_size(size)
    bars = np.asarray(bars, dtype=bool)
    if bars.ndim != 2 or bars.shape[1] != 2 * size:
        raise ValueError(f"bars must have shape (n, {2 * size}), got {bars.shape}")
    rows = bars[:, :size, None]          # (n, size, 1): horizontal bar through row r
    cols = bars[:, None, size:]          # (n, 1, size): vertical bar through column c
    return (rows | cols).reshape(len(bars), size * size).astype(np.float64)


def single_bars(size: int = 8) -> np.ndarray:
    """The ``2*size`` images with exactly one bar each, in bar order.

    Shape ``(2*size, size*size)``.
    """
    size = _check_size(size)
    return bars_to_images(np.eye(2 * size, dtype=bool), size)


def make_bars(n_samples: int, size: int = 8, p: float = 1 / 8,
              random_state: int | np.random.Generator | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_samples`` images of the bars problem.

    Parameters
    ----------
    n_samples : int >= 1
        Number of images.
    size : int >= 1, default 8
        The images are ``size x size``; there are ``2 * size`` bars.
    p : float in [0, 1], default 1/8
        Probability that each bar is present, independently of the others.
    random_state : int, numpy Generator or None
        Seed (or generator) of the draw.

    Returns
    -------
    X : ndarray of float64, shape (n_samples, size * size)
        The images, flattened row by row; values in {0, 1}.
    bars : ndarray of bool, shape (n_samples, 2 * size)
        Which bars are present: horizontal bars (rows) first, then vertical bars (columns).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    size = _check_size(size)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    rng = np.random.default_rng(random_state)
    bars = rng.random((int(n_samples), 2 * size)) < float(p)
    return bars_to_images(bars, size), bars
